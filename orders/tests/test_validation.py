"""The menu's and devices' rules hold in one place (the models) and speak the
same words in the REST API, in every ModelForm (the admin's) and, for a write
that bypasses both, as a database constraint."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms
from django.db import IntegrityError, transaction
from django.test import Client

from orders.exceptions import Conflict
from orders.models import CashRegister, Category, Food, Ingredient, Printer
from orders.serializers import CategorySerializer
from orders.validators import validate_host
from orders.views import CategoryViewSet
from users.models import Role
from users.models import User as Staff

PORT = "Enter a port between 1 and 65535"
HOST = "Enter an IP address (such as 192.168.1.50) or a host name (such as kitchen-printer.local)"


def form_errors(model, data: dict, instance=None) -> dict[str, list[str]]:
    """The errors a ModelForm of all the model's editable fields gives."""
    form_class = forms.modelform_factory(model, fields="__all__")
    form = form_class(data=data, instance=instance)
    assert not form.is_valid()
    return {field: list(messages) for field, messages in form.errors.items()}


def api_problem(response) -> tuple[int, str, list[str]]:
    body = response.json()
    return response.status_code, body["message"], [error["field"] for error in body["errors"]]


# --- unique names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/categories", {"name": "pizza"}, "A category named “Pizza” already exists"),
        ("/v1/printers", {"name": "KITCHEN"}, "A printer named “Kitchen” already exists"),
        ("/v1/cash-registers", {"name": "till 1"}, "A cash register named “Till 1” already exists"),
        ("/v1/ingredients", {"name": "basil"}, "An ingredient named “Basil” already exists"),
    ],
)
def test_a_name_taken_in_another_case_is_a_400_that_says_so(admin_client, menu, path, body, message):
    Ingredient.objects.create(name="Basil")
    before = [model.objects.count() for model in (Category, Printer, CashRegister, Ingredient)]

    response = admin_client.post(path, body, format="json")

    assert api_problem(response) == (400, message, ["name"])
    assert response.json()["errors"][0]["message"] == message
    assert [model.objects.count() for model in (Category, Printer, CashRegister, Ingredient)] == before


def test_a_food_name_is_unique_within_its_category_only(admin_client, menu):
    clash = admin_client.post(
        "/v1/foods", {"name": "MARGHERITA", "price": "9", "categoryId": menu["pizza"].id}, format="json"
    )
    elsewhere = admin_client.post(
        "/v1/foods", {"name": "Margherita", "price": "9", "categoryId": menu["drinks"].id}, format="json"
    )

    assert api_problem(clash) == (400, "A food named “Margherita” already exists in Pizza", ["name"])
    assert elsewhere.status_code == 201, elsewhere.content
    assert Food.objects.filter(name__iexact="margherita").count() == 2


def test_moving_a_food_into_a_category_that_has_its_name_is_refused(admin_client, menu):
    Food.objects.create(name="Lemonade", price=Decimal("3"), category=menu["pizza"])
    response = admin_client.patch(f"/v1/foods/{menu['lemonade'].id}", {"categoryId": menu["pizza"].id}, format="json")
    assert api_problem(response) == (400, "A food named “Lemonade” already exists in Pizza", ["name"])
    assert Food.objects.get(pk=menu["lemonade"].id).category_id == menu["drinks"].id


def test_renaming_to_the_same_name_in_another_case_is_fine(admin_client, menu):
    response = admin_client.patch(f"/v1/categories/{menu['pizza'].id}", {"name": "PIZZA"}, format="json")
    assert (response.status_code, response.json()["name"]) == (200, "PIZZA")


def test_renaming_onto_another_name_is_refused(admin_client, menu):
    response = admin_client.patch(f"/v1/categories/{menu['pizza'].id}", {"name": "drinks"}, format="json")
    assert api_problem(response) == (400, "A category named “Drinks” already exists", ["name"])
    assert Category.objects.get(pk=menu["pizza"].id).name == "Pizza"


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (Category, {"name": "PIZZA", "position": 0}, "A category named “Pizza” already exists"),
        (Printer, {"name": "bar", "port": 9100, "status": "UNKNOWN"}, "A printer named “Bar” already exists"),
        (CashRegister, {"name": "TILL 1"}, "A cash register named “Till 1” already exists"),
        (Ingredient, {"name": "BASIL"}, "An ingredient named “Basil” already exists"),
    ],
)
def test_a_model_form_gives_the_same_message_for_a_taken_name(menu, model, data, message):
    Ingredient.objects.create(name="Basil")
    assert form_errors(model, data) == {"name": [message]}


def test_a_food_form_refuses_a_name_taken_in_its_category(menu):
    data = {"name": "margherita", "price": "5", "category": menu["pizza"].id}
    assert form_errors(Food, data) == {"name": ["A food named “Margherita” already exists in Pizza"]}


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Category, {"name": "Pizza"}),
        (Printer, {"name": "Kitchen"}),
        (CashRegister, {"name": "Till 1"}),
        (Ingredient, {"name": "Basil"}),
    ],
)
def test_the_database_refuses_a_taken_name_that_bypasses_validation(menu, model, fields):
    Ingredient.objects.create(name="Basil")
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**{key: value.upper() for key, value in fields.items()})


def test_the_database_refuses_a_food_name_taken_in_its_category(menu):
    with pytest.raises(IntegrityError), transaction.atomic():
        Food.objects.create(name="margherita", price=Decimal("1"), category=menu["pizza"])


# --- printers' addresses and ports -----------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["192.168.1.50", "10.0.0.7", "fe80::1", "::1", "kitchen", "kitchen-printer.local", "printer1.example.org."],
)
def test_an_address_or_a_host_name_is_a_valid_printer_ip(admin_client, db, host):
    response = admin_client.post("/v1/printers", {"name": "Grill", "ip": host}, format="json")
    assert (response.status_code, response.json()["ip"]) == (201, host)


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.300",
        "192.168.1",
        "kitchen printer",
        "-kitchen",
        "kitchen-.local",
        "http://10.0.0.7",
        "10.0.0.7:9100",
        "a..b",
        "x" * 64,
        "١٠.٠.٠.٧",
    ],
)
def test_anything_else_is_refused_as_a_printer_ip(admin_client, db, host):
    response = admin_client.post("/v1/printers", {"name": "Grill", "ip": host}, format="json")
    assert api_problem(response) == (400, HOST, ["ip"])
    assert form_errors(Printer, {"name": "Grill", "ip": host, "port": 9100, "status": "UNKNOWN"}) == {"ip": [HOST]}
    assert not Printer.objects.exists()


@pytest.mark.parametrize("port", [0, -1, 65536, 10**12])
def test_a_port_out_of_range_is_refused_in_the_api_and_the_forms_alike(admin_client, menu, port):
    response = admin_client.patch(f"/v1/printers/{menu['bar'].id}", {"port": port}, format="json")
    assert api_problem(response) == (400, PORT, ["port"])
    assert form_errors(Printer, {"name": "Grill", "port": port, "status": "UNKNOWN"}) == {"port": [PORT]}
    assert Printer.objects.get(pk=menu["bar"].id).port == 9100


@pytest.mark.parametrize("port", [1, 65535])
def test_the_ends_of_the_port_range_are_fine(admin_client, menu, port):
    response = admin_client.patch(f"/v1/printers/{menu['bar'].id}", {"port": port}, format="json")
    assert (response.status_code, response.json()["port"]) == (200, port)


def test_the_database_refuses_a_port_out_of_range(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Printer.objects.create(name="Grill", port=0)


def test_validate_host_accepts_the_longest_host_name():
    validate_host(".".join(["a" * 63] * 3) + "." + "b" * 61)  # 253 characters


# --- prices ------------------------------------------------------------------------------------


def test_a_negative_price_is_refused_by_the_forms_and_the_database(menu):
    data = {"name": "Soup", "price": "-1", "category": menu["pizza"].id}
    assert form_errors(Food, data) == {"price": ["A price cannot be negative"]}
    with pytest.raises(IntegrityError), transaction.atomic():
        Food.objects.create(name="Soup", price=Decimal("-1"), category=menu["pizza"])


# --- the admin itself ----------------------------------------------------------------------------


def test_the_admin_add_page_shows_the_message_and_saves_nothing(menu):
    staff = Staff.objects.create(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)

    response = browser.post("/admin/orders/category/add/", {"name": "pizza", "position": 0, "available": "on"})

    assert response.status_code == 200  # the form again, with its errors
    assert "A category named “Pizza” already exists" in response.content.decode()
    assert Category.objects.filter(name__iexact="pizza").count() == 1


def test_the_admin_registers_ingredients(menu):
    staff = Staff.objects.create(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)

    response = browser.post("/admin/orders/ingredient/add/", {"name": "Rocket"})

    assert response.status_code == 302
    assert Ingredient.objects.filter(name="Rocket").exists()


def test_a_clash_saved_between_validation_and_saving_is_a_409_not_a_crash(menu):
    serializer = CategorySerializer(data={"name": "Soups"})
    assert serializer.is_valid(), serializer.errors
    Category.objects.create(name="SOUPS")  # another request, in between

    with pytest.raises(Conflict):
        CategoryViewSet()._save(serializer)
    assert Category.objects.filter(name__iexact="soups").count() == 1
