"""A cashier (operator) marks a food or a category sold out, and back, by
the API (a PATCH of `available` alone) and in the admin (the `available`
column and box only); the rest of the menu stays an admin's."""

import re
from decimal import Decimal

import pytest

from conftest import PASSWORD
from orders.models import Category, Food
from orders.tests.helpers import events_since, snapshot

FORBIDDEN = {"message": "Insufficient permissions"}


@pytest.mark.parametrize(("path", "key"), [("/v1/foods/{}", "margherita"), ("/v1/categories/{}", "pizza")])
def test_an_operator_marks_a_food_or_category_sold_out_and_back_by_the_api(operator_client, menu, path, key):
    item = menu[key]
    mark = snapshot()

    def told() -> int:
        return sum(kind.endswith("availability-changed") for _channel, kind in events_since(mark))

    gone = operator_client.patch(path.format(item.id), {"available": False}, format="json")
    after_gone = told()
    back = operator_client.patch(path.format(item.id), {"available": True}, format="json")

    assert (gone.status_code, gone.json()["available"]) == (200, False)
    assert (back.status_code, back.json()["available"]) == (200, True)
    # Each change is told to the tills like an admin's.
    assert after_gone > 0 and told() == 2 * after_gone


@pytest.mark.parametrize(
    "body",
    [{"available": False, "price": "1"}, {"price": "1"}, {"name": "Pies"}, {}, ["available"], {"available": "x"}],
)
def test_an_operator_changes_nothing_else_of_the_menu(operator_client, menu, body):
    food = menu["margherita"]

    response = operator_client.patch(f"/v1/foods/{food.id}", body, format="json")

    if body == {"available": "x"}:
        assert response.status_code == 400  # allowed, but not a boolean
    else:
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
    food.refresh_from_db()
    assert (food.available, food.price, food.name) == (True, Decimal("12.5"), "Margherita")


def test_a_waiter_may_not_mark_sold_out(waiter_client, menu):
    response = waiter_client.patch(f"/v1/foods/{menu['margherita'].id}", {"available": False}, format="json")

    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert Food.objects.get(pk=menu["margherita"].id).available


def test_an_operator_may_still_not_add_or_delete_foods(operator_client, menu):
    created = operator_client.post(
        "/v1/foods", {"name": "Soup", "price": "5", "categoryId": menu["pizza"].id, "available": True}, format="json"
    )
    deleted = operator_client.delete(f"/v1/foods/{menu['lemonade'].id}")

    assert [created.status_code, deleted.status_code] == [403, 403]


# --- the admin ----------------------------------------------------------------------------


@pytest.fixture
def cashier_admin(client, operator):
    from users.services import user_apply_role

    user_apply_role(user=operator)  # the admin-site access of the role
    assert client.login(username=operator.username, password=PASSWORD)
    return client


def test_an_operator_ticks_sold_out_in_the_food_list(cashier_admin, menu):
    food = menu["margherita"]
    page = cashier_admin.get("/admin/orders/food/").content.decode()
    assert "form-0-available" in page
    assert "form-0-price" not in page

    count = Food.objects.count()
    data = {"form-TOTAL_FORMS": str(count), "form-INITIAL_FORMS": str(count), "_save": "Save"}
    html_ids = re.findall(r'<input type="hidden" name="form-\d+-id" value="([^"]+)"', page)
    assert len(html_ids) == count, re.findall(r"<input[^>]*form-0-id[^>]*>", page)
    for index, food_id in enumerate(html_ids):
        data[f"form-{index}-id"] = str(food_id)
        if food_id != str(food.id) and Food.objects.get(pk=food_id).available:
            data[f"form-{index}-available"] = "on"

    response = cashier_admin.post("/admin/orders/food/", data)

    assert response.status_code == 302, (data, response.context["cl"].formset.errors if response.context else None)
    assert not Food.objects.get(pk=food.id).available
    assert Food.objects.get(pk=menu["lemonade"].id).available


def test_an_operators_food_form_changes_only_available(cashier_admin, menu):
    food = menu["margherita"]

    response = cashier_admin.post(
        f"/admin/orders/food/{food.id}/change/",
        {"name": "Hacked", "price": "1", "category": menu["drinks"].id, "_save": "Save"},
    )

    assert response.status_code == 302
    food.refresh_from_db()
    assert (food.available, food.name, food.price, food.category_id) == (
        False,
        "Margherita",
        Decimal("12.5"),
        menu["pizza"].id,
    )


def test_an_operator_marks_a_category_sold_out_but_not_its_position(cashier_admin, menu):
    pizza = menu["pizza"]

    cashier_admin.post(f"/admin/orders/category/{pizza.id}/change/", {"name": "Pies", "position": "9", "_save": "1"})

    pizza.refresh_from_db()
    assert (pizza.available, pizza.name, pizza.position) == (False, "Pizza", 1)
    assert "form-0-position" not in cashier_admin.get("/admin/orders/category/").content.decode()


def test_an_operator_may_not_add_or_delete_in_the_admin(cashier_admin, menu):
    assert cashier_admin.get("/admin/orders/food/add/").status_code == 403
    assert cashier_admin.post(f"/admin/orders/food/{menu['lemonade'].id}/delete/", {"post": "yes"}).status_code == 403
    assert Category.objects.filter(pk=menu["drinks"].id).exists()
