from decimal import Decimal

import pytest

from orders.models import CashRegister, Category, Food, Ingredient, Printer
from orders.services import LineInput
from orders.tests.helpers import events_since, snapshot

AUTH_REQUIRED = {"message": "Authentication required"}
FORBIDDEN = {"message": "Insufficient permissions"}


@pytest.fixture
def client_as(request):
    return lambda role: request.getfixturevalue(f"{role}_client")


def menu_rows() -> dict[str, int]:
    return {
        "foods": Food.objects.count(),
        "categories": Category.objects.count(),
        "printers": Printer.objects.count(),
        "registers": CashRegister.objects.count(),
    }


# --- reading the menu -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anon", "waiter", "operator", "admin"])
def test_anyone_reads_the_foods(client_as, menu, role):
    response = client_as(role).get("/v1/foods")
    assert response.status_code == 200
    foods = {food["name"]: food for food in response.json()}
    assert set(foods) == {"Margherita", "Lemonade", "Calzone"}
    assert foods["Margherita"] == {
        "id": menu["margherita"].id,
        "name": "Margherita",
        "price": "12.5",
        "categoryId": menu["pizza"].id,
        "printerId": None,
        "description": "",
        "available": True,
        "ingredients": [],
        # Its category, as GET /v1/categories shows it (clients-heads.md M3).
        "category": {
            "id": menu["pizza"].id,
            "name": "Pizza",
            "printerId": menu["kitchen"].id,
            "stationId": None,
            "available": True,
            "position": 1,
        },
    }
    assert foods["Lemonade"]["price"] == "3.5"
    assert foods["Lemonade"]["printerId"] == menu["bar"].id
    assert foods["Calzone"]["price"] == "14"


@pytest.mark.parametrize("role", ["anon", "waiter", "operator", "admin"])
def test_anyone_reads_the_categories_in_menu_order(client_as, menu, role):
    response = client_as(role).get("/v1/categories")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": menu["pizza"].id,
            "name": "Pizza",
            "printerId": menu["kitchen"].id,
            "stationId": None,
            "available": True,
            "position": 1,
        },
        {
            "id": menu["drinks"].id,
            "name": "Drinks",
            "printerId": None,
            "stationId": None,
            "available": True,
            "position": 2,
        },
    ]


def test_anyone_reads_one_food(anon_client, menu):
    response = anon_client.get(f"/v1/foods/{menu['lemonade'].id}")
    assert (response.status_code, response.json()["name"]) == (200, "Lemonade")


def test_foods_filter_by_availability(anon_client, menu):
    menu["drinks"].available = False
    menu["drinks"].save()

    available = {food["name"] for food in anon_client.get("/v1/foods?available=true").json()}
    unavailable = {food["name"] for food in anon_client.get("/v1/foods?available=false").json()}

    # A food in an unavailable category cannot be ordered either.
    assert available == {"Margherita"}
    assert unavailable == {"Calzone", "Lemonade"}


def test_foods_filter_by_category(anon_client, menu):
    pizzas = anon_client.get("/v1/foods", {"categoryId": menu["pizza"].id}).json()
    both = anon_client.get("/v1/foods", {"categoryId": menu["pizza"].id, "available": "true"}).json()
    assert sorted(food["name"] for food in pizzas) == ["Calzone", "Margherita"]
    assert [food["name"] for food in both] == ["Margherita"]
    assert anon_client.get("/v1/foods", {"categoryId": "nope"}).json() == []


def test_an_unreadable_availability_filter_is_a_400(anon_client, menu):
    response = anon_client.get("/v1/foods?available=maybe")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "available"


def test_a_missing_food_is_a_404_naming_it(anon_client, db):
    response = anon_client.get("/v1/foods/nope")
    assert (response.status_code, response.json()) == (404, {"message": "Food not found"})


# --- changing the menu ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN), ("operator", 403, FORBIDDEN)],
)
def test_only_an_admin_changes_the_menu(client_as, menu, role, status, body):
    client = client_as(role)
    food = menu["margherita"]
    before = menu_rows()

    attempts = [
        client.post("/v1/foods", {"name": "Soup", "price": "5", "categoryId": menu["pizza"].id}, format="json"),
        client.patch(f"/v1/foods/{food.id}", {"price": "1"}, format="json"),
        client.delete(f"/v1/foods/{menu['lemonade'].id}"),
        client.post("/v1/categories", {"name": "Soups"}, format="json"),
        client.patch(f"/v1/categories/{menu['pizza'].id}", {"name": "Pies"}, format="json"),
        client.delete(f"/v1/categories/{menu['drinks'].id}"),
    ]

    assert [(response.status_code, response.json()) for response in attempts] == [(status, body)] * len(attempts)
    assert menu_rows() == before
    food.refresh_from_db()
    assert food.price == Decimal("12.5")
    assert Category.objects.get(pk=menu["pizza"].id).name == "Pizza"


def test_an_admin_creates_a_food(admin_client, menu):
    response = admin_client.post(
        "/v1/foods",
        {"name": "Soup", "price": "5.50", "categoryId": menu["pizza"].id, "printerId": menu["bar"].id},
        format="json",
    )
    assert response.status_code == 201, response.content
    food = Food.objects.get(name="Soup")
    assert response.json() == {
        "id": food.id,
        "name": "Soup",
        "price": "5.5",
        "categoryId": menu["pizza"].id,
        "printerId": menu["bar"].id,
        "description": "",
        "available": True,
        "ingredients": [],
        "category": {
            "id": menu["pizza"].id,
            "name": "Pizza",
            "printerId": menu["kitchen"].id,
            "stationId": None,
            "available": True,
            "position": 1,
        },
    }
    assert food.price == Decimal("5.5")


def test_an_admin_changes_a_food(admin_client, menu):
    food = menu["margherita"]
    response = admin_client.patch(f"/v1/foods/{food.id}", {"price": 13, "available": False}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["price"], response.json()["available"]) == ("13", False)
    food.refresh_from_db()
    assert (food.price, food.available, food.name) == (Decimal("13"), False, "Margherita")


def test_an_admin_deletes_an_unused_food(admin_client, menu):
    response = admin_client.delete(f"/v1/foods/{menu['lemonade'].id}")
    assert response.status_code == 204
    assert not Food.objects.filter(pk=menu["lemonade"].id).exists()


def test_deleting_a_food_used_by_an_order_is_a_409(admin_client, place_order, menu):
    place_order(lines=[LineInput(food_id=menu["lemonade"].id, quantity=1)])
    response = admin_client.delete(f"/v1/foods/{menu['lemonade'].id}")
    assert response.status_code == 409
    assert set(response.json()) == {"message"}
    assert response.json()["message"].startswith("Food is still in use")
    assert Food.objects.filter(pk=menu["lemonade"].id).exists()


def test_deleting_a_category_with_foods_is_a_409(admin_client, menu):
    response = admin_client.delete(f"/v1/categories/{menu['pizza'].id}")
    assert response.status_code == 409
    assert Category.objects.filter(pk=menu["pizza"].id).exists()


def test_an_admin_creates_changes_and_deletes_a_category(admin_client, menu):
    created = admin_client.post("/v1/categories", {"name": "Soups", "printerId": menu["kitchen"].id}, format="json")
    assert created.status_code == 201, created.content
    category_id = created.json()["id"]
    assert created.json() == {
        "id": category_id,
        "name": "Soups",
        "printerId": menu["kitchen"].id,
        "stationId": None,
        "available": True,
        "position": 0,
    }

    changed = admin_client.patch(f"/v1/categories/{category_id}", {"position": 3, "printerId": None}, format="json")
    assert (changed.status_code, changed.json()["position"], changed.json()["printerId"]) == (200, 3, None)

    assert admin_client.delete(f"/v1/categories/{category_id}").status_code == 204
    assert not Category.objects.filter(pk=category_id).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Soup", "price": "-1"}, "price"),
        ({"name": "Soup", "price": "1.005"}, "price"),
        ({"name": "Soup", "price": "cheap"}, "price"),
        ({"name": "Soup"}, "price"),
        ({"name": "x" * 101, "price": "5"}, "name"),
        ({"name": "", "price": "5"}, "name"),
        ({"name": "Soup", "price": "5", "categoryId": "nope"}, "categoryId"),
        ({"name": "Soup", "price": "5", "printerId": "nope"}, "printerId"),
    ],
)
def test_a_bad_food_is_a_400_and_writes_nothing(admin_client, menu, body, field):
    body = {"categoryId": menu["pizza"].id, **body}
    before = menu_rows()
    response = admin_client.post("/v1/foods", body, format="json")
    assert response.status_code == 400, response.content
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert response.json()["message"] == response.json()["errors"][0]["message"]
    assert menu_rows() == before


def test_a_malformed_menu_change_is_a_400(admin_client, menu):
    response = admin_client.patch(f"/v1/foods/{menu['margherita'].id}", data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


def test_put_is_not_offered(admin_client, menu):
    response = admin_client.put(f"/v1/foods/{menu['margherita'].id}", {"name": "X"}, format="json")
    assert response.status_code == 405


# --- printers and cash registers ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/printers", "/v1/cash-registers"])
@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN), ("operator", 200, None), ("admin", 200, None)],
)
def test_cashiers_and_admins_list_the_devices(client_as, menu, path, role, status, body):
    response = client_as(role).get(path)
    assert response.status_code == status
    if body is not None:
        assert response.json() == body
    else:
        assert len(response.json()) == (2 if path == "/v1/printers" else 1)


def unreported_printer(printer: Printer) -> dict:
    """A printer's JSON before any agent reported on it."""
    fields = {"ip": "", "port": 9100, "mac": "", "description": ""}
    return {"id": printer.id, "name": printer.name, **fields, "status": "UNKNOWN", "statusChangedAt": None}


def test_the_device_lists_have_the_contract_fields(operator_client, menu):
    printers = operator_client.get("/v1/printers").json()
    registers = operator_client.get("/v1/cash-registers").json()
    assert printers == [unreported_printer(menu["bar"]), unreported_printer(menu["kitchen"])]
    assert registers == [
        {"id": menu["till"].id, "name": "Till 1", "defaultPrinterId": menu["bar"].id, "enabled": True},
    ]


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN), ("operator", 403, FORBIDDEN)],
)
def test_only_an_admin_changes_the_devices(client_as, menu, role, status, body):
    client = client_as(role)
    before = menu_rows()

    attempts = [
        client.post("/v1/printers", {"name": "Grill"}, format="json"),
        client.patch(f"/v1/printers/{menu['bar'].id}", {"port": 9101}, format="json"),
        client.delete(f"/v1/printers/{menu['bar'].id}"),
        client.post("/v1/cash-registers", {"name": "Till 2"}, format="json"),
        client.patch(f"/v1/cash-registers/{menu['till'].id}", {"enabled": False}, format="json"),
        client.delete(f"/v1/cash-registers/{menu['till'].id}"),
    ]

    assert [(response.status_code, response.json()) for response in attempts] == [(status, body)] * len(attempts)
    assert menu_rows() == before
    assert Printer.objects.get(pk=menu["bar"].id).port == 9100
    assert CashRegister.objects.get(pk=menu["till"].id).enabled is True


def test_an_admin_manages_printers(admin_client, menu):
    created = admin_client.post("/v1/printers", {"name": "Grill", "ip": "10.0.0.7"}, format="json")
    assert created.status_code == 201, created.content
    printer_id = created.json()["id"]
    assert created.json() == {
        "id": printer_id,
        "name": "Grill",
        "ip": "10.0.0.7",
        "port": 9100,
        "mac": "",
        "description": "",
        "status": "UNKNOWN",
        "statusChangedAt": None,
    }

    changed = admin_client.patch(f"/v1/printers/{printer_id}", {"port": 9101}, format="json")
    assert (changed.status_code, changed.json()["port"]) == (200, 9101)

    assert admin_client.delete(f"/v1/printers/{printer_id}").status_code == 204
    assert not Printer.objects.filter(pk=printer_id).exists()


def test_deleting_a_printer_in_use_unlinks_it(admin_client, menu):
    response = admin_client.delete(f"/v1/printers/{menu['kitchen'].id}")
    assert response.status_code == 204
    assert Category.objects.get(pk=menu["pizza"].id).printer_id is None


def test_an_admin_manages_cash_registers(admin_client, menu):
    created = admin_client.post(
        "/v1/cash-registers", {"name": "Till 2", "defaultPrinterId": menu["kitchen"].id}, format="json"
    )
    assert created.status_code == 201, created.content
    register_id = created.json()["id"]
    assert created.json() == {
        "id": register_id,
        "name": "Till 2",
        "defaultPrinterId": menu["kitchen"].id,
        "enabled": True,
    }

    changed = admin_client.patch(f"/v1/cash-registers/{register_id}", {"enabled": False}, format="json")
    assert (changed.status_code, changed.json()["enabled"]) == (200, False)

    assert admin_client.delete(f"/v1/cash-registers/{register_id}").status_code == 204
    assert not CashRegister.objects.filter(pk=register_id).exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/printers", {"name": "Grill", "port": 0}, "port"),
        ("/v1/printers", {"name": "Grill", "port": 70000}, "port"),
        ("/v1/printers", {"name": ""}, "name"),
        ("/v1/cash-registers", {"name": "Till 2", "defaultPrinterId": "nope"}, "defaultPrinterId"),
        ("/v1/cash-registers", {}, "name"),
    ],
)
def test_a_bad_device_is_a_400_and_writes_nothing(admin_client, menu, path, body, field):
    before = menu_rows()
    response = admin_client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert menu_rows() == before


@pytest.mark.parametrize(
    ("path", "name"), [("/v1/printers/nope", "Printer"), ("/v1/cash-registers/nope", "Cash register")]
)
def test_a_missing_device_is_a_404_naming_it(admin_client, db, path, name):
    response = admin_client.patch(path, {"name": "X"}, format="json")
    assert (response.status_code, response.json()) == (404, {"message": f"{name} not found"})


def test_menu_changes_write_no_order_and_only_an_availability_change_sends_an_event(admin_client, send, menu):
    before = snapshot()
    response = send(admin_client, "patch", f"/v1/foods/{menu['margherita'].id}", {"name": "Pizza Margherita"})
    assert response.status_code == 200
    assert snapshot() == before
    response = send(admin_client, "patch", f"/v1/foods/{menu['margherita'].id}", {"available": False})
    assert response.status_code == 200
    assert events_since(before) == [("cashier", "food-availability-changed")]
    assert {key: value for key, value in snapshot().items() if key != "events"} == {
        key: value for key, value in before.items() if key != "events"
    }


# --- availability filters and nesting ------------------------------------------------------


def test_categories_filter_by_availability(anon_client, menu):
    menu["drinks"].available = False
    menu["drinks"].save()

    available = anon_client.get("/v1/categories?available=true")
    unavailable = anon_client.get("/v1/categories?available=false")

    assert [category["name"] for category in available.json()] == ["Pizza"]
    assert [category["name"] for category in unavailable.json()] == ["Drinks"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/categories?available=maybe", "available"),
        ("/v1/categories?available=True", "available"),
        ("/v1/categories?available=", "available"),
        ("/v1/foods?available=1", "available"),
        ("/v1/categories?include=food", "include"),
    ],
)
def test_an_unreadable_menu_query_is_a_400_naming_the_parameter(anon_client, menu, path, field):
    response = anon_client.get(path)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert response.json()["message"] == response.json()["errors"][0]["message"]


def test_categories_with_their_foods_nest_every_food_with_its_availability(anon_client, menu):
    # What the cashier SPA asks for its menu.
    response = anon_client.get("/v1/categories?available=true&include=foods")

    assert response.status_code == 200
    pizza, drinks = response.json()
    assert {key: pizza[key] for key in ("id", "name", "available", "position")} == {
        "id": menu["pizza"].id,
        "name": "Pizza",
        "available": True,
        "position": 1,
    }
    # All the foods, the unavailable Calzone too, each as /v1/foods shows it.
    assert [(food["name"], food["price"], food["available"]) for food in pizza["foods"]] == [
        ("Calzone", "14", False),
        ("Margherita", "12.5", True),
    ]
    assert pizza["foods"][1] == anon_client.get(f"/v1/foods/{menu['margherita'].id}").json()
    assert [food["name"] for food in drinks["foods"]] == ["Lemonade"]


def test_categories_without_include_carry_no_foods(anon_client, menu):
    assert all("foods" not in category for category in anon_client.get("/v1/categories").json())


def test_nesting_the_foods_costs_the_same_queries_whatever_the_menu(anon_client, menu, django_assert_max_num_queries):
    for number in range(10):
        food = Food.objects.create(name=f"Pizza {number}", price=Decimal("9"), category=menu["pizza"])
        food.ingredients.add(Ingredient.objects.create(name=f"Topping {number}"))
    with django_assert_max_num_queries(3):
        response = anon_client.get("/v1/categories?include=foods")
    assert len(response.json()[0]["foods"]) == 12


# --- ingredients -------------------------------------------------------------------------------


@pytest.fixture
def basil(db) -> Ingredient:
    return Ingredient.objects.create(name="Basil")


@pytest.mark.parametrize("role", ["anon", "waiter", "operator", "admin"])
def test_anyone_reads_the_ingredients_by_name(client_as, basil, role):
    Ingredient.objects.create(name="Anchovies")
    response = client_as(role).get("/v1/ingredients")
    assert response.status_code == 200
    assert [item["name"] for item in response.json()] == ["Anchovies", "Basil"]
    assert response.json()[1] == {"id": basil.id, "name": "Basil", "surcharge": "0"}


def test_an_admin_creates_renames_and_deletes_an_ingredient(admin_client, db):
    created = admin_client.post("/v1/ingredients", {"name": " Oregano "}, format="json")
    assert created.status_code == 201, created.content
    ingredient_id = created.json()["id"]
    assert created.json() == {"id": ingredient_id, "name": "Oregano", "surcharge": "0"}

    renamed = admin_client.patch(f"/v1/ingredients/{ingredient_id}", {"name": "Wild oregano"}, format="json")
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Wild oregano")

    assert admin_client.delete(f"/v1/ingredients/{ingredient_id}").status_code == 204
    assert not Ingredient.objects.exists()


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN), ("operator", 403, FORBIDDEN)],
)
def test_only_an_admin_changes_the_ingredients(client_as, basil, role, status, body):
    client = client_as(role)
    attempts = [
        client.post("/v1/ingredients", {"name": "Garlic"}, format="json"),
        client.patch(f"/v1/ingredients/{basil.id}", {"name": "Mint"}, format="json"),
        client.delete(f"/v1/ingredients/{basil.id}"),
    ]
    assert [(response.status_code, response.json()) for response in attempts] == [(status, body)] * 3
    assert list(Ingredient.objects.values_list("name", flat=True)) == ["Basil"]


@pytest.mark.parametrize(("body", "field"), [({}, "name"), ({"name": ""}, "name"), ({"name": 7}, "name")])
def test_a_bad_ingredient_is_a_400_and_writes_nothing(admin_client, db, body, field):
    response = admin_client.post("/v1/ingredients", body, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Ingredient.objects.exists()


def test_a_missing_ingredient_is_a_404_naming_it(admin_client, db):
    response = admin_client.patch("/v1/ingredients/nope", {"name": "X"}, format="json")
    assert (response.status_code, response.json()) == (404, {"message": "Ingredient not found"})


def test_an_admin_gives_a_food_its_ingredients(admin_client, menu, basil):
    tomato = Ingredient.objects.create(name="Tomato")
    food = menu["margherita"]

    response = admin_client.patch(f"/v1/foods/{food.id}", {"ingredientIds": [tomato.id, basil.id]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["ingredients"] == [
        {"id": basil.id, "name": "Basil", "surcharge": "0"},
        {"id": tomato.id, "name": "Tomato", "surcharge": "0"},
    ]
    assert set(food.ingredients.values_list("name", flat=True)) == {"Basil", "Tomato"}
    listed = {item["name"]: item for item in admin_client.get("/v1/foods").json()}
    assert listed["Margherita"]["ingredients"] == response.json()["ingredients"]

    cleared = admin_client.patch(f"/v1/foods/{food.id}", {"ingredientIds": []}, format="json")
    assert (cleared.status_code, cleared.json()["ingredients"]) == (200, [])


def test_a_new_food_may_come_with_its_ingredients(admin_client, menu, basil):
    response = admin_client.post(
        "/v1/foods",
        {"name": "Pesto", "price": "9", "categoryId": menu["pizza"].id, "ingredientIds": [basil.id]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["ingredients"] == [{"id": basil.id, "name": "Basil", "surcharge": "0"}]


def test_an_unknown_ingredient_on_a_food_is_a_400_and_changes_nothing(admin_client, menu, basil):
    food = menu["margherita"]
    food.ingredients.add(basil)
    response = admin_client.patch(
        f"/v1/foods/{food.id}", {"ingredientIds": ["nope"], "name": "Marinara"}, format="json"
    )
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["ingredientIds"]
    food.refresh_from_db()
    assert (food.name, list(food.ingredients.all())) == ("Margherita", [basil])


def test_deleting_an_ingredient_takes_it_off_its_foods(admin_client, menu, basil):
    menu["margherita"].ingredients.add(basil)
    assert admin_client.delete(f"/v1/ingredients/{basil.id}").status_code == 204
    assert Food.objects.filter(pk=menu["margherita"].id).exists()
    assert not menu["margherita"].ingredients.exists()


# --- booleans are JSON booleans ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None])
@pytest.mark.parametrize(
    ("resource", "path", "field"),
    [("margherita", "foods", "available"), ("pizza", "categories", "available"), ("till", "cash-registers", "enabled")],
)
def test_a_boolean_that_is_not_a_json_boolean_is_a_400(admin_client, menu, resource, path, field, value):
    item = menu[resource]
    response = admin_client.patch(f"/v1/{path}/{item.pk}", {field: value}, format="json")
    assert response.status_code == 400, response.content
    assert [error["field"] for error in response.json()["errors"]] == [field]
    item.refresh_from_db()
    assert getattr(item, field) is True
