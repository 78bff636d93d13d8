"""Today's MySagra apps (mycassa, mynumeri, mystampa heads) against the REST
API: one test per point of clients-heads.md this branch implements, each
sending what the app sends and reading what the app reads. The apps' servers
sign in with POST /auth/login, take the credential from its Set-Cookie and
then send only that cookie: `mysagra_session=<C>` (mycassa, the till, and
mystampa's config page) or `mysagra_token=<C>` (mynumeri, the board), never
an Authorization header or a CSRF token, with their own query strings and
bodies. So they read order ids as strings (O1). The printer agent sends its
key (X-Api-Key) as it does. Staff calls no head makes (station and
ingredient writes by an admin) are made by cookie as well. One test keeps a
Bearer caller: the integer order id of a station move, which no other file
sends by Bearer (seed-era callers keep integer ids)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from orders import services
from orders.models import Category, Food, Ingredient, Order, OrderStationState, OrderStatus, Station
from orders.services import ConfirmInput, LineInput
from orders.tests.helpers import events_since, snapshot
from testsupport.contract import utc_millis
from users.apikeys import create_key
from users.models import ApiKeyKind, User
from users.tests.helpers import credential_set_by, sign_in

FORBIDDEN = {"message": "Insufficient permissions"}
TILL = "mysagra_session"  # mycassa's cookie (and mystampa's config page's)
BOARD = "mysagra_token"  # mynumeri's cookie
# mynumeri's display and manager: the work day's bounds through encodeURIComponent.
BOARD_DAY = "limit=100&dateFrom=2000-01-01T00%3A00%3A00.000Z&dateTo=2100-01-01T00%3A00%3A00.000Z"


def signed_in(user: User, cookie: str) -> APIClient:
    """An app's server once `user` has signed in: only `Cookie: <cookie>=<C>`,
    with CSRF checks on, as a caller without Django's session meets them."""
    credential = credential_set_by(sign_in(user.username), cookie)
    return APIClient(enforce_csrf_checks=True, headers={"Cookie": f"{cookie}={credential}"})


@pytest.fixture
def till(operator) -> APIClient:
    """mycassa signed in as an operator."""
    return signed_in(operator, TILL)


@pytest.fixture
def board(operator) -> APIClient:
    """mynumeri signed in as an operator."""
    return signed_in(operator, BOARD)


@pytest.fixture
def admin(admin_user) -> APIClient:
    return signed_in(admin_user, TILL)


@pytest.fixture
def app_as(request):
    """`app_as("waiter")`: an app signed in as the user of that role's
    fixture (with the till's cookie unless told), or "anon": no cookie."""

    def app(role: str, cookie: str = TILL) -> APIClient:
        if role == "anon":
            return APIClient(enforce_csrf_checks=True)
        return signed_in(request.getfixturevalue(role), cookie)

    return app


@pytest.fixture
def agent(db) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)[1])
    return client


def confirmed_order(menu, operator, *foods: str) -> Order:
    return services.order_create(
        table="4",
        customer="Ada",
        lines=[LineInput(food_id=menu[food].id, quantity=1) for food in foods],
        created_by=operator,
        confirmation=ConfirmInput(payment_method="CASH", cash_register_id=menu["till"].id),
    )


# --- S2: GET /v1/stations ------------------------------------------------------------------


def test_the_till_and_the_board_read_the_stations_as_a_bare_array_in_their_order(till, board, stations):
    # mycassa loads the menu and the stations together; mynumeri makes a column per station.
    for app in (till, board):
        response = app.get("/v1/stations")
        assert response.status_code == 200
        assert response.json() == [
            {"id": stations["kitchen"].id, "name": "Kitchen", "position": 1},
            {"id": stations["bar"].id, "name": "Bar", "position": 2},
        ]


def test_stations_nest_their_categories_and_foods_when_asked(agent, menu, stations):
    # mystampa's (dead) stations cache: ?include=categories.foods with its key.
    response = agent.get("/v1/stations?include=categories.foods")
    assert response.status_code == 200
    kitchen = response.json()[0]
    assert [category["id"] for category in kitchen["categories"]] == [menu["pizza"].id]
    assert kitchen["categories"][0]["stationId"] == stations["kitchen"].id
    assert [food["name"] for food in kitchen["categories"][0]["foods"]] == ["Calzone", "Margherita"]
    with_ingredients = agent.get("/v1/stations?include=categories.foods.ingredients").json()
    assert with_ingredients == response.json()
    only_categories = agent.get(f"/v1/stations/{stations['bar'].id}?include=categories").json()
    assert [(c["name"], "foods" in c) for c in only_categories["categories"]] == [("Drinks", False)]


def test_stations_with_nested_foods_cost_the_same_queries_whatever_the_menu(
    agent, menu, stations, django_assert_max_num_queries
):
    for number in range(8):
        food = Food.objects.create(name=f"Pizza {number}", price=Decimal("9"), category=menu["pizza"])
        food.ingredients.add(Ingredient.objects.create(name=f"Topping {number}"))
    with django_assert_max_num_queries(7):  # the caller's key, then the stations, categories, foods, ingredients
        response = agent.get("/v1/stations?include=categories.foods")
    assert len(response.json()[0]["categories"][0]["foods"]) == 10


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/v1/stations?include=foods", 400, None),
        ("/v1/stations/nope", 404, {"message": "Station not found"}),
    ],
)
def test_a_bad_include_or_an_unknown_station_is_a_clear_error(till, stations, path, status, body):
    response = till.get(path)
    assert response.status_code == status
    if body is None:
        assert [error["field"] for error in response.json()["errors"]] == ["include"]
    else:
        assert response.json() == body


@pytest.mark.parametrize(("role", "status"), [("anon", 401), ("waiter", 403)])
def test_stations_are_not_for_everyone(app_as, stations, role, status):
    assert app_as(role).get("/v1/stations").status_code == status
    assert app_as(role, BOARD).get("/v1/stations").status_code == status


# --- S3: station CRUD and category assignment ------------------------------------------------


def test_an_admin_creates_renames_assigns_and_deletes_a_station(admin, menu):
    created = admin.post("/v1/stations", {"name": "Grill"}, format="json")
    assert created.status_code == 201, created.content
    grill = created.json()
    assert grill == {"id": grill["id"], "name": "Grill", "position": 0}
    renamed = admin.patch(f"/v1/stations/{grill['id']}", {"name": "Griglia"}, format="json")
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Griglia")

    assigned = admin.patch(f"/v1/categories/{menu['pizza'].id}", {"stationId": grill["id"]}, format="json")
    assert (assigned.status_code, assigned.json()["stationId"]) == (200, grill["id"])
    new = admin.post("/v1/categories", {"name": "Soups", "stationId": grill["id"]}, format="json")
    assert (new.status_code, new.json()["stationId"]) == (201, grill["id"])

    assert admin.delete(f"/v1/stations/{grill['id']}").status_code == 204
    assert Category.objects.get(pk=menu["pizza"].id).station is None  # the category stays


def test_station_names_are_unique_whatever_their_case(admin, stations):
    response = admin.post("/v1/stations", {"name": "BAR"}, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["name"]
    assert Station.objects.count() == 2


def test_an_unknown_station_on_a_category_is_a_400_and_changes_nothing(admin, menu):
    response = admin.patch(f"/v1/categories/{menu['pizza'].id}", {"stationId": "nope"}, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["stationId"]
    assert Category.objects.get(pk=menu["pizza"].id).station is None


def test_a_station_live_orders_wait_on_cannot_be_deleted(admin, menu, stations, operator):
    order = confirmed_order(menu, operator, "margherita")
    before = snapshot()
    response = admin.delete(f"/v1/stations/{stations['kitchen'].id}")
    assert response.status_code == 409
    assert "Live orders" in response.json()["message"]
    assert snapshot() == before
    # Once the order is picked up, the station may go (with the order's state).
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.PICKED_UP)
    assert admin.delete(f"/v1/stations/{stations['kitchen'].id}").status_code == 204
    assert not OrderStationState.objects.filter(order=order).exists()


@pytest.mark.parametrize("role", ["operator", "waiter"])
def test_only_an_admin_writes_stations(app_as, stations, role):
    client = app_as(role)
    assert client.post("/v1/stations", {"name": "Grill"}, format="json").json() == FORBIDDEN
    assert client.patch(f"/v1/stations/{stations['bar'].id}", {"name": "X"}, format="json").status_code == 403
    assert client.delete(f"/v1/stations/{stations['bar'].id}").status_code == 403
    assert sorted(Station.objects.values_list("name", flat=True)) == ["Bar", "Kitchen"]


# --- S4: orderStationStates ----------------------------------------------------------------


def test_the_board_lists_orders_with_their_station_states(board, menu, stations, operator):
    order = confirmed_order(menu, operator, "lemonade", "margherita")
    # mynumeri's manager: no status filter, include=ordersStationsStates.
    response = board.get(f"/v1/orders?{BOARD_DAY}&page=1&include=ordersStationsStates")
    assert response.status_code == 200, response.content
    [listed] = response.json()["data"]
    states = {state.station_id: state for state in order.station_states.all()}
    assert listed["orderStationStates"] == [
        {
            "id": states[station.id].id,
            "orderId": str(order.id),
            "stationId": station.id,
            "status": "CONFIRMED",
            "updatedAt": utc_millis(states[station.id].updated_at),
            "station": {"id": station.id, "name": station.name},
        }
        for station in (stations["kitchen"], stations["bar"])
    ]
    assert response.json()["pagination"] == {"totalItems": 1, "currentPage": 1, "totalPages": 1}
    assert board.get("/v1/orders?include=nonsense").status_code == 400


def test_an_order_without_stations_has_an_empty_list(till, menu, operator):
    order = confirmed_order(menu, operator, "margherita")
    assert till.get(f"/v1/orders/{order.id}").json()["orderStationStates"] == []


def test_the_order_list_costs_the_same_queries_whatever_the_orders(
    board, menu, stations, operator, django_assert_max_num_queries
):
    for _ in range(6):
        confirmed_order(menu, operator, "lemonade", "margherita")
    with django_assert_max_num_queries(8):
        response = board.get(f"/v1/orders?{BOARD_DAY}&include=ordersStationsStates")
    assert len(response.json()["data"]) == 6


# --- S5/S6: PATCH /v1/orders/{id}/stations/{stationId} ---------------------------------------


def test_stations_finishing_one_by_one_complete_the_order_and_undo_reopens_it(board, send, menu, stations, operator):
    order = confirmed_order(menu, operator, "lemonade", "margherita")
    bar, kitchen = (f"/v1/orders/{order.id}/stations/{stations[name].id}" for name in ("bar", "kitchen"))

    done = send(board, "patch", bar, {"status": "COMPLETED"})
    assert done.status_code == 200, done.content
    state = OrderStationState.objects.get(order=order, station=stations["bar"])
    assert done.json() == {
        "id": state.id,
        "orderId": str(order.id),
        "stationId": stations["bar"].id,
        "status": "COMPLETED",
        "updatedAt": utc_millis(state.updated_at),
    }
    assert Order.objects.get(pk=order.id).status == "CONFIRMED"  # the kitchen is still at it

    assert send(board, "patch", kitchen, {"status": "COMPLETED"}).status_code == 200
    completed = Order.objects.get(pk=order.id)
    assert (completed.status, completed.completed_at is not None) == ("COMPLETED", True)

    assert send(board, "patch", bar, {"status": "PICKED_UP"}).status_code == 200
    assert Order.objects.get(pk=order.id).status == "COMPLETED"  # the lowest of COMPLETED and PICKED_UP
    assert send(board, "patch", kitchen, {"status": "PICKED_UP"}).status_code == 200
    picked_up = Order.objects.get(pk=order.id)
    assert (picked_up.status, picked_up.completed_at) == ("PICKED_UP", completed.completed_at)

    assert send(board, "patch", kitchen, {"status": "CONFIRMED"}).status_code == 200  # undo
    reopened = Order.objects.get(pk=order.id)
    assert (reopened.status, reopened.completed_at) == ("CONFIRMED", None)  # never PARTIAL


def test_a_bearer_caller_still_reads_the_order_id_of_a_station_move_as_an_integer(
    operator_client, send, menu, stations, operator
):
    # Seed-era clients and every credential but the cookie keep integer ids (O1).
    order = confirmed_order(menu, operator, "margherita")
    path = f"/v1/orders/{order.id}/stations/{stations['kitchen'].id}"
    response = send(operator_client, "patch", path, {"status": "COMPLETED"})
    assert (response.status_code, response.json()["orderId"]) == (200, order.id)


def test_setting_the_status_a_station_already_has_announces_nothing(board, send, menu, stations, operator):
    order = confirmed_order(menu, operator, "margherita")
    before = snapshot()
    response = send(board, "patch", f"/v1/orders/{order.id}/stations/{stations['kitchen'].id}", {"status": "CONFIRMED"})
    assert (response.status_code, response.json()["status"]) == (200, "CONFIRMED")
    assert events_since(before) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "PENDING"}, 400),
        ({"status": "CANCELLED"}, 400),
        ({"status": "PARTIAL"}, 400),
        ({}, 400),
        ([], 400),
    ],
)
def test_a_station_status_other_than_confirmed_completed_or_picked_up_is_a_400(
    board, send, menu, stations, operator, body, status
):
    order = confirmed_order(menu, operator, "margherita")
    before = snapshot()
    response = send(board, "patch", f"/v1/orders/{order.id}/stations/{stations['kitchen'].id}", body)
    assert response.status_code == status
    assert snapshot() == before
    assert set(order.station_states.values_list("status", flat=True)) == {"CONFIRMED"}


def test_an_order_without_that_station_is_a_404_and_a_pending_or_cancelled_one_a_409(
    board, send, menu, stations, operator
):
    order = confirmed_order(menu, operator, "margherita")
    body = {"status": "COMPLETED"}
    cases = [
        (f"/v1/orders/{order.id}/stations/{stations['bar'].id}", 404),
        (f"/v1/orders/{order.id}/stations/nope", 404),
        (f"/v1/orders/999999/stations/{stations['kitchen'].id}", 404),
        (f"/v1/orders/abc/stations/{stations['kitchen'].id}", 404),
    ]
    pending = services.order_create(
        table="1", customer="B", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    cancelled = confirmed_order(menu, operator, "margherita")
    services.order_set_status(order_id=cancelled.id, by=operator, status=OrderStatus.CANCELLED)
    cases += [(f"/v1/orders/{o.id}/stations/{stations['kitchen'].id}", 409) for o in (pending, cancelled)]
    before = snapshot()
    states = list(OrderStationState.objects.order_by("id").values_list("id", "status"))
    for path, status in cases:
        response = send(board, "patch", path, body)
        assert response.status_code == status, path
        assert response.json()["message"]
    assert snapshot() == before
    assert list(OrderStationState.objects.order_by("id").values_list("id", "status")) == states
    assert board.patch(cases[0][0], body, format="json").json() == {"message": "Order not found"}


def test_keys_and_waiters_cannot_move_a_station(app_as, agent, menu, stations, operator):
    order = confirmed_order(menu, operator, "margherita")
    path = f"/v1/orders/{order.id}/stations/{stations['kitchen'].id}"
    assert agent.patch(path, {"status": "COMPLETED"}, format="json").json() == FORBIDDEN
    assert app_as("waiter", BOARD).patch(path, {"status": "COMPLETED"}, format="json").status_code == 403
    assert app_as("anon").patch(path, {"status": "COMPLETED"}, format="json").status_code == 401
    assert set(order.station_states.values_list("status", flat=True)) == {"CONFIRMED"}


# --- S7: order-level moves move every station ------------------------------------------------


def test_the_boards_order_level_moves_take_every_station_along(board, till, send, menu, stations, operator):
    order = confirmed_order(menu, operator, "lemonade", "margherita")
    # mynumeri's header sheet: PATCH /v1/orders/{id} {"status": "COMPLETED"} without a station.
    assert send(board, "patch", f"/v1/orders/{order.id}", {"status": "COMPLETED"}).status_code == 200
    listed = board.get(f"/v1/orders?{BOARD_DAY}&include=ordersStationsStates").json()["data"][0]
    assert {state["status"] for state in listed["orderStationStates"]} == {"COMPLETED"}
    # mycassa cancels a picked-up order (O8): every station is cancelled with it.
    send(board, "patch", f"/v1/orders/{order.id}", {"status": "PICKED_UP"})
    cancelled = send(till, "delete", f"/v1/orders/{order.id}", raw="")  # JSON content type, no body
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED")
    assert {state["status"] for state in cancelled.json()["orderStationStates"]} == {"CANCELLED"}


# --- M1-M4: the menu as the till reads it ---------------------------------------------------


def test_the_till_loads_the_menu_with_foods_and_their_ingredients(till, menu, stations):
    basil = Ingredient.objects.create(name="Basil", surcharge=Decimal("0.3"))
    menu["margherita"].ingredients.add(basil)
    response = till.get("/v1/categories?include=foods.ingredients&foodsAvailable=all")
    assert response.status_code == 200, response.content
    pizza, drinks = response.json()
    assert (pizza["id"], pizza["name"], pizza["available"], pizza["position"]) == (menu["pizza"].id, "Pizza", True, 1)
    assert pizza["stationId"] == stations["kitchen"].id
    margherita = next(food for food in pizza["foods"] if food["name"] == "Margherita")
    assert margherita["ingredients"] == [{"id": basil.id, "name": "Basil", "surcharge": "0.3"}]
    assert {key: margherita[key] for key in ("price", "categoryId", "available", "description")} == {
        "price": "12.5",
        "categoryId": menu["pizza"].id,
        "available": True,
        "description": "",
    }
    assert [food["name"] for food in pizza["foods"]] == ["Calzone", "Margherita"]  # all, the unavailable too
    # The settings card: without foodsAvailable.
    assert till.get("/v1/categories?include=foods.ingredients").json() == response.json()


@pytest.mark.parametrize(("value", "names"), [("true", ["Margherita"]), ("false", ["Calzone"]), ("all", None)])
def test_foods_available_filters_the_nested_foods(till, menu, value, names):
    pizza = till.get(f"/v1/categories?include=foods.ingredients&foodsAvailable={value}").json()[0]
    assert [food["name"] for food in pizza["foods"]] == (names or ["Calzone", "Margherita"])


def test_a_foods_available_other_than_true_false_or_all_is_a_400(till, menu):
    response = till.get("/v1/categories?include=foods.ingredients&foodsAvailable=yes")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["foodsAvailable"]


def test_an_admin_sets_an_ingredients_surcharge_and_a_negative_one_is_refused(admin):
    created = admin.post("/v1/ingredients", {"name": "Bacon", "surcharge": 0.5}, format="json")
    assert (created.status_code, created.json()["surcharge"]) == (201, "0.5")
    ingredient_id = created.json()["id"]
    changed = admin.patch(f"/v1/ingredients/{ingredient_id}", {"surcharge": "1.20"}, format="json")
    assert (changed.status_code, changed.json()["surcharge"]) == (200, "1.2")
    refused = admin.patch(f"/v1/ingredients/{ingredient_id}", {"surcharge": -1}, format="json")
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["surcharge"]
    assert Ingredient.objects.get(pk=ingredient_id).surcharge == Decimal("1.2")


def test_a_surcharge_is_never_added_by_the_server(till, send, menu):
    # The till prices extras itself and sends them as the line's surcharge.
    menu["margherita"].ingredients.add(Ingredient.objects.create(name="Basil", surcharge=Decimal("0.5")))
    line = {"foodId": menu["margherita"].id, "quantity": 1, "surcharge": 0}  # no extras chosen
    response = send(till, "post", "/v1/orders", {"table": "1", "customer": "A", "orderItems": [line]})
    assert (response.status_code, response.json()["total"], response.json()["surcharge"]) == (201, "12.5", "0")


def test_a_food_comes_with_its_category_for_the_till_and_the_printer_agent(till, agent, menu, stations):
    body = till.get(f"/v1/foods/{menu['margherita'].id}").json()
    assert body["category"] == {
        "id": menu["pizza"].id,
        "name": "Pizza",
        "printerId": menu["kitchen"].id,
        "stationId": stations["kitchen"].id,
        "available": True,
        "position": 1,
    }
    printed = agent.get(f"/v1/foods/{menu['lemonade'].id}").json()
    assert (printed["name"], printed["printerId"], printed["categoryId"]) == (
        "Lemonade",
        menu["bar"].id,
        menu["drinks"].id,
    )


# --- O2-O8: orders as the till sends and reads them ----------------------------------------------


def test_the_order_detail_names_the_cashier_the_till_and_the_completion(till, menu, stations, operator):
    order = confirmed_order(menu, operator, "margherita")
    body = till.get(f"/v1/orders/{order.id}").json()
    assert body["id"] == str(order.id)  # what the till opens and matches events by (O1)
    assert body["user"] == {"id": operator.id, "username": "olga", "role": "operator"}
    assert body["cashRegister"] == {
        "id": menu["till"].id,
        "name": "Till 1",
        "defaultPrinterId": menu["bar"].id,
        "enabled": True,
    }
    assert body["completedAt"] is None
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    completed = till.get(f"/v1/orders/{order.id}").json()
    assert completed["completedAt"] == utc_millis(Order.objects.get(pk=order.id).completed_at)
    pending = services.order_create(
        table="1", customer="B", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    assert {key: till.get(f"/v1/orders/{pending.id}").json()[key] for key in ("user", "cashRegister")} == {
        "user": None,
        "cashRegister": None,
    }


def test_the_tills_day_list_is_newest_first_and_finds_ticket_numbers(till, menu, operator):
    first = confirmed_order(menu, operator, "margherita")
    second = confirmed_order(menu, operator, "lemonade")
    query = "page=1&limit=20&sortBy=createdAt&dateFrom=2000-01-01T07%3A59%3A00Z&dateTo=2100-01-02T08%3A00%3A00Z"
    listed = till.get(f"/v1/orders?{query}").json()["data"]
    assert [order["id"] for order in listed] == [str(second.id), str(first.id)]
    found = till.get(f"/v1/orders?{query}&search={second.ticket_number}").json()["data"]
    assert [order["id"] for order in found] == [str(second.id)]
    # A search that is no number still matches codes, tables and customers only.
    assert till.get(f"/v1/orders?{query}&search=%D9%A3").json()["data"] == []


def test_confirming_with_a_changed_table_and_the_tills_user_id_stores_the_table_and_the_caller(
    till, send, menu, operator
):
    pending = services.order_create(
        table="3", customer="A", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    body = {
        "paymentMethod": "CASH",
        "userId": "",
        "cashRegisterId": menu["till"].id,
        "discount": 0,
        "table": "12",
        "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1, "surcharge": 0}],
    }
    response = send(till, "post", f"/v1/orders/{pending.id}/confirm", body)
    assert response.status_code == 200, response.content
    assert (response.json()["table"], response.json()["userId"]) == ("12", operator.id)


def test_a_table_that_is_empty_or_too_long_is_refused_on_confirm(till, send, menu):
    pending = services.order_create(
        table="3", customer="A", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    for table in ("", "x" * 101, 12):
        response = send(till, "post", f"/v1/orders/{pending.id}/confirm", {"paymentMethod": "CASH", "table": table})
        assert response.status_code == 400
        assert [error["field"] for error in response.json()["errors"]] == ["table"]
    assert Order.objects.get(pk=pending.id).status == "PENDING"


def test_float_noise_in_a_surcharge_or_a_discount_is_rounded_to_cents(till, send, menu):
    # Three extras at 0.30 added in binary floats, and a discount capped to a float total.
    body = {
        "table": "NO_TABLE_PRESET",
        "customer": "NO CUSTOMER",
        "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1, "surcharge": 0.8999999999999999}],
        "confirm": {
            "paymentMethod": "CASH",
            "userId": "u1",
            "cashRegisterId": menu["till"].id,
            "discount": 1.1000000000000001,
        },
    }
    response = send(till, "post", "/v1/orders", body)
    assert response.status_code == 201, response.content
    assert (response.json()["surcharge"], response.json()["discount"], response.json()["total"]) == (
        "0.9",
        "1.1",
        "12.3",
    )


@pytest.mark.parametrize("amount", [0.123, "0.8999999999999999", 0.005])
def test_a_real_sub_cent_amount_is_still_refused(till, send, menu, amount):
    body = {
        "table": "1",
        "customer": "A",
        "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1, "surcharge": amount}],
    }
    before = snapshot()
    response = send(till, "post", "/v1/orders", body)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["orderItems.0.surcharge"]
    assert snapshot() == before


def test_staff_may_sell_an_unavailable_food_when_they_confirm(till, send, menu):
    # "Vuoi creare l'ordine comunque?" → "Crea ordine": create with confirm.
    body = {
        "table": "1",
        "customer": "A",
        "orderItems": [{"foodId": menu["sold_out"].id, "quantity": 1, "surcharge": 0}],
        "confirm": {"paymentMethod": "CARD", "userId": "", "cashRegisterId": menu["till"].id, "discount": 0},
    }
    response = send(till, "post", "/v1/orders", body)
    assert (response.status_code, response.json()["status"]) == (201, "CONFIRMED")
    # A pending order (a waiter's) keeps the rule.
    pending = send(till, "post", "/v1/orders", {k: v for k, v in body.items() if k != "confirm"})
    assert pending.status_code == 400
    assert "error" not in pending.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body, menu: body["confirm"].update(cashRegisterId="gone"), "confirm.cashRegisterId"),
        (lambda body, menu: body["orderItems"][0].update(foodId="gone"), "orderItems.0.foodId"),
        (lambda body, menu: (setattr(menu["till"], "enabled", False), menu["till"].save()), "confirm.cashRegisterId"),
    ],
    ids=["unknown till", "unknown food", "disabled till"],
)
def test_a_missing_till_or_food_is_a_foreign_key_constraint_violation(till, send, menu, change, field):
    body = {
        "table": "1",
        "customer": "A",
        "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1, "surcharge": 0}],
        "confirm": {"paymentMethod": "CASH", "userId": "", "cashRegisterId": menu["till"].id, "discount": 0},
    }
    change(body, menu)
    before = snapshot()
    response = send(till, "post", "/v1/orders", body)
    assert response.status_code == 400
    # mycassa reads body.type ?? body.code ?? body.error.
    assert (response.json()["error"], response.json()["type"]) == ("ForeignKeyConstraintViolation",) * 2
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert response.json()["message"]
    assert snapshot() == before


def test_confirming_a_pending_order_with_a_gone_till_names_the_error_too(till, send, menu):
    pending = services.order_create(
        table="3", customer="A", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    response = send(
        till, "post", f"/v1/orders/{pending.id}/confirm", {"paymentMethod": "CASH", "cashRegisterId": "gone"}
    )
    assert (response.status_code, response.json()["error"]) == (400, "ForeignKeyConstraintViolation")


def test_the_till_cancels_a_picked_up_order_and_everyone_hears_it(till, send, menu, operator):
    order = confirmed_order(menu, operator, "margherita")
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.PICKED_UP)
    before = snapshot()
    response = send(till, "delete", f"/v1/orders/{order.id}", raw="")  # JSON content type, no body
    assert (response.status_code, response.json()["status"]) == (200, "CANCELLED")
    assert events_since(before) == [
        ("cashier", "order-cancelled"),
        ("display", "order-cancelled"),
        ("printer", "order-cancelled"),
    ]


def test_completed_at_sorts_the_latest_completion_first_and_the_unfinished_last(till, menu, operator):
    first, second, unfinished = (confirmed_order(menu, operator, "margherita") for _ in range(3))
    for order in (second, first):
        services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    listed = till.get("/v1/orders?sortBy=completedAt").json()["data"]
    assert [order["id"] for order in listed] == [str(first.id), str(second.id), str(unfinished.id)]
