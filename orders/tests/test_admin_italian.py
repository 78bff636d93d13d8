"""The admin in Italian names the festival's things in Italian: models,
roles and key kinds come from the catalogue, not from the English code."""

from __future__ import annotations

import pytest
from django.utils import translation

from users.models import ApiKeyKind, Role
from users.services import user_create

PASSWORD = "an-italian-test-password"


@pytest.fixture
def italian_admin(client, db):
    user_create(username="organizzatrice", role=Role.ADMIN, password=PASSWORD)
    assert client.login(username="organizzatrice", password=PASSWORD)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "it"
    return client


def test_adding_a_food_reads_aggiungi_piatto(italian_admin):
    page = italian_admin.get("/admin/orders/food/add/").content.decode()
    assert "Aggiungi piatto" in page
    assert "Aggiungi food" not in page


def test_the_index_names_the_set_up_in_italian(italian_admin):
    page = italian_admin.get("/admin/").content.decode()
    for name in ("Piatti", "Categorie", "Ingredienti", "Postazioni", "Stampanti", "Casse", "Staff", "Chiavi API"):
        assert f">{name}<" in page, name


def test_a_new_staff_member_gets_a_role_named_in_italian(italian_admin):
    page = italian_admin.get("/admin/users/user/add/").content.decode()
    assert "Aggiungi membro dello staff" in page
    assert ">Cameriere<" in page
    assert ">Operatore (cassiere)<" in page


def test_roles_and_key_kinds_read_in_italian():
    with translation.override("it"):
        assert str(Role.ADMIN.label) == "Amministratore"
        assert str(Role.KITCHEN.label) == "Cucina (cuoco)"
        assert str(ApiKeyKind.DISPLAY.label) == "Tabellone"
        assert str(ApiKeyKind.KITCHEN.label) == "Schermo cucina"
    with translation.override("en"):
        assert str(Role.ADMIN.label) == "Admin"


def test_the_admins_change_links_read_modifica_not_the_tills_resto(italian_admin):
    page = italian_admin.get("/admin/").content.decode()
    assert "Modifica" in page
    assert "Resto" not in page
