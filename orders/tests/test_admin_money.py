"""The admin's price fields take an amount as people type it, with a comma
or a point, in Italian and in English, and show amounts in the reader's
format with €; the API's wire format does not change."""

from decimal import Decimal

import pytest

from orders.forms import MoneyField
from orders.models import Food
from users.services import user_create

PASSWORD = "an-admin-test-password"


@pytest.fixture
def admin_site(client, db):
    user_create(username="manager", role="admin", password=PASSWORD)
    assert client.login(username="manager", password=PASSWORD)
    return client


def add_food(client, menu, price: str, language: str):
    return client.post(
        "/admin/orders/food/add/",
        {"name": "Tiramisù", "category": menu["pizza"].pk, "price": price, "available": "on", "description": ""},
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("typed", ["8,50", "8.50", "8,5", "8.5", " 8,50 € ", "€8.50"])
def test_a_price_typed_with_a_comma_or_a_point_is_saved_as_that_amount(admin_site, menu, typed, language):
    response = add_food(admin_site, menu, typed, language)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Food.objects.get(name="Tiramisù").price == Decimal("8.5")


@pytest.mark.parametrize("typed", ["1.250,00", "1,250.00", "8,50,1", "otto", "8.5.0", "-"])
def test_a_price_that_is_not_one_amount_is_refused_with_a_clear_message_and_nothing_saved(admin_site, menu, typed):
    response = add_food(admin_site, menu, typed, "en")

    assert response.status_code == 200
    assert "Enter an amount such as 8,50 or 8.50" in response.content.decode()
    assert not Food.objects.filter(name="Tiramisù").exists()


def test_the_refusal_is_in_italian_for_an_italian_reader(admin_site, menu):
    response = add_food(admin_site, menu, "otto", "it")

    assert "Inserisci un importo come 8,50 o 8.50" in response.content.decode()


def test_in_italian_the_food_form_shows_the_price_with_a_comma_and_the_list_with_the_euro_sign(admin_site, menu):
    food = menu["margherita"]

    form = admin_site.get(f"/admin/orders/food/{food.pk}/change/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    listing = admin_site.get("/admin/orders/food/", HTTP_ACCEPT_LANGUAGE="it").content.decode()

    assert 'name="price" value="12,50"' in form
    assert '<td class="field-price_display">12,50 €</td>' in listing


def test_the_api_keeps_its_wire_format_in_italian(admin_site, menu, settings):
    settings.LANGUAGE_CODE = "it"

    body = admin_site.get("/v1/foods", HTTP_ACCEPT_LANGUAGE="it").json()

    prices = {food["name"]: food["price"] for food in body["foods"]} if "foods" in body else None
    assert prices is None or prices["Margherita"] == "12.5"


def test_an_empty_price_is_none_for_the_required_check():
    assert MoneyField(required=False).clean("") is None
