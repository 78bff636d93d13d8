import re
from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, OrderStatus, Reprint
from orders.services import LineInput
from orders.tests.helpers import CASH, api_client_for, events_since, make_staff, snapshot
from testsupport.contract import utc_millis

AUTH_REQUIRED = {"message": "Authentication required"}
FORBIDDEN = {"message": "Insufficient permissions"}
ORDER_NOT_FOUND = {"message": "Order not found"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

CONFIRMED_EVENTS = [("cashier", "confirmed-order"), ("display", "confirmed-order"), ("printer", "confirmed-order")]
STATUS_EVENTS = [("cashier", "order-status-update"), ("display", "order-status-update")]


@pytest.fixture
def client_as(request):
    """`client_as("waiter")`: the API client of a role, or "anon"."""
    return lambda role: request.getfixturevalue(f"{role}_client")


def order_body(menu, **overrides) -> dict:
    body = {
        "table": "3",
        "customer": "John Doe",
        "orderItems": [{"foodId": menu["margherita"].id, "quantity": 2, "notes": "No onions"}],
    }
    body.update(overrides)
    return body


def line(menu, **overrides) -> dict:
    return {"foodId": menu["margherita"].id, "quantity": 2, **overrides}


def margherita_as_shown(menu) -> dict:
    """The Margherita as `categorizedItems` shows it: its printer is its category's."""
    return {
        "id": menu["margherita"].id,
        "name": "Margherita",
        "description": "",
        "price": "12.5",
        "available": True,
        "printerId": menu["kitchen"].id,
        "ingredients": [],
    }


def confirmed(place_order, operator, **fields) -> Order:
    order = place_order(**fields)
    return services.order_confirm(order_id=order.id, by=operator, confirmation=CASH)


def assert_validation_error(response, *fields: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert [error["field"] for error in body["errors"]] == list(fields)
    # One problem is named in the message (what a cashier's screen shows); several keep the general one.
    assert body["message"] == (body["errors"][0]["message"] if len(fields) == 1 else "Validation error")
    assert all(isinstance(error["message"], str) and error["message"] for error in body["errors"])


# --- POST /v1/orders --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["waiter", "operator", "admin"])
def test_any_staff_member_can_create_an_order(client_as, send, menu, stations, role):
    before = snapshot()

    response = send(client_as(role), "post", "/v1/orders", order_body(menu))

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    item = order.items.get()
    state = order.station_states.get()
    assert body == {
        "id": order.id,
        "displayCode": "A01",
        "table": "3",
        "customer": "John Doe",
        "createdAt": utc_millis(order.created_at),
        "confirmedAt": None,
        "ticketNumber": None,
        "status": "PENDING",
        "paymentMethod": None,
        "subTotal": "25",
        "discount": "0",
        "surcharge": "0",
        "total": "25",
        "userId": None,
        "cashRegisterId": None,
        "orderItems": [
            {
                "id": item.id,
                "quantity": 2,
                "orderId": order.id,
                "foodId": menu["margherita"].id,
                "unitPrice": "12.5",
                "unitSurcharge": "0",
                "total": "25",
                "notes": "No onions",
            }
        ],
        "categorizedItems": [
            {
                "category": {"id": menu["pizza"].id, "name": "Pizza"},
                "items": [
                    {
                        "id": item.id,
                        "quantity": 2,
                        "notes": "No onions",
                        "unitPrice": "12.5",
                        "unitSurcharge": "0",
                        "total": "25",
                        "food": margherita_as_shown(menu),
                    }
                ],
            }
        ],
        # The stations' states (clients-heads.md S4) and the kitchen pages' view of them.
        "orderStationStates": [
            {
                "id": state.id,
                "orderId": order.id,
                "stationId": stations["kitchen"].id,
                "status": "PENDING",
                "updatedAt": utc_millis(state.updated_at),
                "station": {"id": stations["kitchen"].id, "name": "Kitchen"},
            }
        ],
        "stations": [
            {"stationId": stations["kitchen"].id, "name": "Kitchen", "status": "PENDING", "done": False, "doneAt": None}
        ],
        "completedAt": None,
        "user": None,
        "cashRegister": None,
    }
    assert TIMESTAMP.match(body["createdAt"])
    assert order.created_by.role == role
    assert events_since(before) == [("cashier", "new-order")]


def test_creating_an_order_anonymously_is_refused(anon_client, send, menu):
    before = snapshot()
    response = send(anon_client, "post", "/v1/orders", order_body(menu))
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
    assert snapshot() == before


def test_line_surcharges_are_priced_by_the_server(operator_client, send, menu):
    body = order_body(
        menu,
        orderItems=[
            line(menu, surcharge=1, unitPrice="0.01", total="0"),
            line(menu, foodId=menu["lemonade"].id, quantity=3, surcharge="1"),
        ],
    )
    response = send(operator_client, "post", "/v1/orders", body)

    assert response.status_code == 201, response.content
    body = response.json()
    assert [(item["unitPrice"], item["unitSurcharge"], item["total"]) for item in body["orderItems"]] == [
        ("12.5", "0.5", "26"),
        ("3.5", "0.33", "11.5"),
    ]
    assert (body["subTotal"], body["surcharge"], body["discount"], body["total"]) == ("35.5", "2", "0", "37.5")


def test_creating_with_a_confirmation_confirms_at_once_and_sends_no_new_order(operator_client, operator, send, menu):
    before = snapshot()
    body = order_body(
        menu,
        orderItems=[line(menu, surcharge=1)],
        confirm={"paymentMethod": "CASH", "cashRegisterId": menu["till"].id, "discount": 2},
    )

    response = send(operator_client, "post", "/v1/orders", body)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "CONFIRMED"
    assert body["ticketNumber"] == 1
    assert body["userId"] == operator.id
    assert body["cashRegisterId"] == menu["till"].id
    assert body["paymentMethod"] == "CASH"
    assert (body["subTotal"], body["surcharge"], body["discount"], body["total"]) == ("25", "1", "2", "24")
    assert TIMESTAMP.match(body["confirmedAt"])
    assert events_since(before) == CONFIRMED_EVENTS


def test_a_waiter_cannot_confirm_while_creating(waiter_client, send, menu):
    before = snapshot()
    response = send(waiter_client, "post", "/v1/orders", order_body(menu, confirm={"paymentMethod": "CASH"}))
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("discount", "expected"),
    [(2, "2"), ("2", "2"), ("2.50", "2.5"), (Decimal("2.5"), "2.5"), ("0.05", "0.05"), (0, "0")],
)
def test_money_in_a_request_may_be_a_number_or_a_string(operator_client, send, menu, discount, expected):
    body = order_body(menu, confirm={"paymentMethod": "CARD", "discount": discount})
    response = send(operator_client, "post", "/v1/orders", body)
    assert response.status_code == 201, response.content
    assert response.json()["discount"] == expected


def test_a_json_number_with_a_fraction_stays_exact(operator_client, send, menu):
    response = send(
        operator_client,
        "post",
        "/v1/orders",
        raw='{"table": "1", "customer": "A", "confirm": {"paymentMethod": "CASH", "discount": 0.3},'
        f' "orderItems": [{{"foodId": "{menu["lemonade"].id}", "quantity": 1, "surcharge": 0.1}}]}}',
    )
    assert response.status_code == 201, response.content
    body = response.json()
    # 3.5 + 0.1 - 0.3: with floats this would not come out as 3.3.
    assert (body["surcharge"], body["discount"], body["total"]) == ("0.1", "0.3", "3.3")


def too_long(length: int) -> str:
    return "x" * length


# (description, body builder, expected error fields)
BAD_CREATE_BODIES = [
    ("unknown food", lambda m: order_body(m, orderItems=[line(m, foodId="nope")]), ["orderItems.0.foodId"]),
    (
        "unavailable food",
        lambda m: order_body(m, orderItems=[line(m), line(m, foodId=m["sold_out"].id)]),
        ["orderItems.1.foodId"],
    ),
    ("quantity 0", lambda m: order_body(m, orderItems=[line(m, quantity=0)]), ["orderItems.0.quantity"]),
    ("quantity 1000", lambda m: order_body(m, orderItems=[line(m, quantity=1000)]), ["orderItems.0.quantity"]),
    ("quantity 1.5", lambda m: order_body(m, orderItems=[line(m, quantity=Decimal("1.5"))]), ["orderItems.0.quantity"]),
    (
        "quantity missing",
        lambda m: order_body(m, orderItems=[{"foodId": m["margherita"].id}]),
        ["orderItems.0.quantity"],
    ),
    ("table too long", lambda m: order_body(m, table=too_long(101)), ["table"]),
    ("table empty", lambda m: order_body(m, table=""), ["table"]),
    ("table blank", lambda m: order_body(m, table="   "), ["table"]),
    ("table a number", lambda m: order_body(m, table=3), ["table"]),
    ("customer too long", lambda m: order_body(m, customer=too_long(101)), ["customer"]),
    ("customer empty", lambda m: order_body(m, customer=""), ["customer"]),
    ("customer missing", lambda m: {k: v for k, v in order_body(m).items() if k != "customer"}, ["customer"]),
    ("notes too long", lambda m: order_body(m, orderItems=[line(m, notes=too_long(251))]), ["orderItems.0.notes"]),
    ("no lines", lambda m: order_body(m, orderItems=[]), ["orderItems"]),
    ("101 lines", lambda m: order_body(m, orderItems=[line(m, quantity=1)] * 101), ["orderItems"]),
    ("lines not a list", lambda m: order_body(m, orderItems="pizza"), ["orderItems"]),
    ("a line not an object", lambda m: order_body(m, orderItems=[line(m), 5]), ["orderItems.1"]),
    ("negative surcharge", lambda m: order_body(m, orderItems=[line(m, surcharge=-1)]), ["orderItems.0.surcharge"]),
    (
        "surcharge with 3 decimals",
        lambda m: order_body(m, orderItems=[line(m, surcharge="0.125")]),
        ["orderItems.0.surcharge"],
    ),
    (
        "negative discount",
        lambda m: order_body(m, confirm={"paymentMethod": "CASH", "discount": -1}),
        ["confirm.discount"],
    ),
    (
        "discount with 3 decimals",
        lambda m: order_body(m, confirm={"paymentMethod": "CASH", "discount": "1.005"}),
        ["confirm.discount"],
    ),
    (
        "absurd discount",
        lambda m: order_body(m, confirm={"paymentMethod": "CASH", "discount": "1e30"}),
        ["confirm.discount"],
    ),
    (
        "unknown cash register",
        lambda m: order_body(m, confirm={"paymentMethod": "CASH", "cashRegisterId": "nope"}),
        ["confirm.cashRegisterId"],
    ),
    (
        "unknown payment method",
        lambda m: order_body(m, confirm={"paymentMethod": "BITCOIN"}),
        ["confirm.paymentMethod"],
    ),
    (
        "unknown food in the confirmation's lines",
        lambda m: order_body(m, confirm={"paymentMethod": "CASH", "orderItems": [line(m, foodId="nope")]}),
        ["confirm.orderItems.0.foodId"],
    ),
    (
        "a line total past the money limit",
        lambda m: order_body(m, orderItems=[line(m), line(m, quantity=999, surcharge="99999999.99")]),
        ["orderItems.1"],
    ),
    (
        "an order total past the money limit",
        lambda m: order_body(m, orderItems=[line(m, surcharge="60000000"), line(m, surcharge="60000000")]),
        ["orderItems"],
    ),
    ("not an object", lambda m: [order_body(m)], [""]),
]


@pytest.mark.parametrize(
    ("build", "fields"), [case[1:] for case in BAD_CREATE_BODIES], ids=[case[0] for case in BAD_CREATE_BODIES]
)
def test_a_bad_order_is_a_400_naming_the_field_and_writes_nothing(
    operator_client, send, place_order, menu, build, fields
):
    # Both counters (display codes, tickets) exist already, so "not advanced"
    # compares values and not merely the absence of a row.
    place_order(confirm=CASH)
    before = snapshot()

    response = send(operator_client, "post", "/v1/orders", build(menu))

    assert_validation_error(response, *fields)
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    ['{"table": "3",', "not json", '{"table": NaN}', b'{"table": "\xff"}', "[" * 100_000 + "]" * 100_000],
    ids=["truncated", "not json", "NaN", "not utf-8", "nested too deeply"],
)
def test_a_malformed_json_body_is_a_400_and_writes_nothing(operator_client, send, menu, raw):
    before = snapshot()
    response = send(operator_client, "post", "/v1/orders", raw=raw)
    assert_validation_error(response, "body")
    assert snapshot() == before


def test_an_empty_body_is_a_400_naming_the_required_fields(operator_client, send, menu):
    before = snapshot()
    response = send(operator_client, "post", "/v1/orders", raw="")
    assert_validation_error(response, "table", "customer", "orderItems")
    assert snapshot() == before


# --- GET /v1/orders -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN), ("operator", 200, None), ("admin", 200, None)],
)
def test_only_cashiers_and_admins_list_orders(client_as, place_order, role, status, body):
    order = place_order()
    response = client_as(role).get("/v1/orders")
    assert response.status_code == status
    if body is not None:
        assert response.json() == body
    else:
        assert [row["id"] for row in response.json()["data"]] == [order.id]


def test_the_order_list_is_paginated_newest_first(operator_client, place_order):
    ids = [place_order(customer=f"Guest {n}").id for n in range(5)]

    first = operator_client.get("/v1/orders?limit=2").json()
    last = operator_client.get("/v1/orders?limit=2&page=3").json()
    beyond = operator_client.get("/v1/orders?limit=2&page=4").json()

    assert first["pagination"] == {"totalItems": 5, "currentPage": 1, "totalPages": 3}
    assert [row["id"] for row in first["data"]] == [ids[4], ids[3]]
    assert last["pagination"] == {"totalItems": 5, "currentPage": 3, "totalPages": 3}
    assert [row["id"] for row in last["data"]] == [ids[0]]
    assert beyond == {"data": [], "pagination": {"totalItems": 5, "currentPage": 4, "totalPages": 3}}
    assert set(first) == {"data", "pagination"}
    assert first["data"][0]["orderItems"][0]["unitPrice"] == "12.5"


def test_a_page_far_past_the_end_is_empty_not_an_error(operator_client, place_order):
    place_order()
    response = operator_client.get("/v1/orders?page=100000000000000000000&limit=100")
    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "pagination": {"totalItems": 1, "currentPage": 100000000000000000000, "totalPages": 1},
    }


def test_the_order_list_defaults_to_twenty_a_page(operator_client, place_order):
    for _ in range(21):
        place_order()
    body = operator_client.get("/v1/orders").json()
    assert len(body["data"]) == 20
    assert body["pagination"] == {"totalItems": 21, "currentPage": 1, "totalPages": 2}


def test_the_order_list_filters_by_repeated_status(operator_client, operator, place_order):
    pending = place_order()
    done = confirmed(place_order, operator)
    cancelled = services.order_set_status(order_id=place_order().id, by=operator, status="CANCELLED")

    def ids(query):
        response = operator_client.get(f"/v1/orders{query}")
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["data"])

    assert ids("?status=PENDING") == [pending.id]
    assert ids("?status=PENDING&status=CANCELLED") == sorted([pending.id, cancelled.id])
    assert ids("?status=CONFIRMED") == [done.id]
    assert ids("?status=PICKED_UP") == []


def test_the_order_list_searches_display_code_table_and_customer(operator_client, place_order):
    a01 = place_order(table="Terrace 4", customer="Ada")
    a02 = place_order(table="7", customer="Grace Hopper")
    a03 = place_order(table="8", customer="Linus")

    def ids(query):
        return sorted(row["id"] for row in operator_client.get("/v1/orders", query).json()["data"])

    assert ids({"search": "a02"}) == [a02.id]
    assert ids({"search": "terrace"}) == [a01.id]
    assert ids({"search": "hopper"}) == [a02.id]
    assert ids({"search": "8"}) == [a03.id]
    assert ids({"search": "nobody"}) == []
    assert ids({"displayCode": "A03"}) == [a03.id]
    assert ids({"displayCode": "a01"}) == [a01.id]
    assert ids({"displayCode": "A0"}) == []  # exact, unlike search


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("status=LOST", "status.0"),
        ("status=PENDING&status=pending", "status.1"),
    ],
)
def test_a_bad_order_list_query_is_a_400(operator_client, send, place_order, query, field):
    place_order()
    before = snapshot()
    response = send(operator_client, "get", f"/v1/orders?{query}")
    assert_validation_error(response, field)
    assert snapshot() == before


# --- GET /v1/orders/{id} ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "body"),
    [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN), ("operator", 200, None), ("admin", 200, None)],
)
def test_only_cashiers_and_admins_read_an_order(client_as, place_order, role, status, body):
    order = place_order()
    response = client_as(role).get(f"/v1/orders/{order.id}")
    assert response.status_code == status
    if body is not None:
        assert response.json() == body
    else:
        assert response.json()["id"] == order.id
        assert response.json()["displayCode"] == order.display_code


@pytest.mark.parametrize("order_id", ["999", "0", "-1", "abc", "99999999999999999999999", "１２"])
def test_reading_a_missing_order_is_a_404(operator_client, place_order, order_id):
    place_order()
    response = operator_client.get(f"/v1/orders/{order_id}")
    assert (response.status_code, response.json()) == (404, ORDER_NOT_FOUND)


def test_a_missing_order_is_a_401_before_it_is_a_404(anon_client, waiter_client, db):
    assert anon_client.get("/v1/orders/999").status_code == 401
    assert waiter_client.get("/v1/orders/999").status_code == 403


# --- POST /v1/orders/{id}/confirm ----------------------------------------------------------------


@pytest.mark.parametrize(("role", "status", "body"), [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN)])
def test_only_cashiers_and_admins_confirm(client_as, send, place_order, role, status, body):
    order = place_order()
    before = snapshot()
    response = send(client_as(role), "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CASH"})
    assert (response.status_code, response.json()) == (status, body)
    assert snapshot() == before


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_confirming_returns_the_confirmed_order_and_tells_everyone(
    client_as, send, request, place_order, menu, stations, role
):
    user = request.getfixturevalue("operator" if role == "operator" else "admin_user")
    order = place_order(lines=[LineInput(food_id=menu["margherita"].id, quantity=2, surcharge=Decimal("1"))])
    before = snapshot()

    response = send(
        client_as(role),
        "post",
        f"/v1/orders/{order.id}/confirm",
        {"paymentMethod": "CASH", "cashRegisterId": menu["till"].id, "discount": "2"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    order.refresh_from_db()
    item = order.items.get()
    state = order.station_states.get()
    assert body == {
        "id": order.id,
        "displayCode": "A01",
        "table": "3",
        "customer": "John Doe",
        "createdAt": utc_millis(order.created_at),
        "confirmedAt": utc_millis(order.confirmed_at),
        "ticketNumber": 1,
        "status": "CONFIRMED",
        "paymentMethod": "CASH",
        "subTotal": "25",
        "discount": "2",
        "surcharge": "1",
        "total": "24",
        "userId": user.id,
        "cashRegisterId": menu["till"].id,
        "orderItems": [
            {
                "id": item.id,
                "quantity": 2,
                "orderId": order.id,
                "foodId": menu["margherita"].id,
                "unitPrice": "12.5",
                "unitSurcharge": "0.5",
                "total": "26",
                "notes": "",
            }
        ],
        "categorizedItems": [
            {
                "category": {"id": menu["pizza"].id, "name": "Pizza"},
                "items": [
                    {
                        "id": item.id,
                        "quantity": 2,
                        "notes": "",
                        "unitPrice": "12.5",
                        "unitSurcharge": "0.5",
                        "total": "26",
                        "food": margherita_as_shown(menu),
                    }
                ],
            }
        ],
        "orderStationStates": [
            {
                "id": state.id,
                "orderId": order.id,
                "stationId": stations["kitchen"].id,
                "status": "CONFIRMED",
                "updatedAt": utc_millis(state.updated_at),
                "station": {"id": stations["kitchen"].id, "name": "Kitchen"},
            }
        ],
        "stations": [
            {
                "stationId": stations["kitchen"].id,
                "name": "Kitchen",
                "status": "CONFIRMED",
                "done": False,
                "doneAt": None,
            }
        ],
        "completedAt": None,
        "user": {"id": user.id, "username": user.username, "role": user.effective_role},
        "cashRegister": {
            "id": menu["till"].id,
            "name": "Till 1",
            "defaultPrinterId": menu["bar"].id,
            "enabled": True,
        },
    }
    assert TIMESTAMP.match(body["confirmedAt"])
    assert events_since(before) == CONFIRMED_EVENTS


def test_confirming_may_replace_the_lines_and_the_customer(operator_client, send, place_order, menu):
    order = place_order()
    response = send(
        operator_client,
        "post",
        f"/v1/orders/{order.id}/confirm",
        {
            "paymentMethod": "CARD",
            "customer": "Jane",
            "orderItems": [line(menu, foodId=menu["lemonade"].id, quantity=4)],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"] == "Jane"
    assert [(row["foodId"], row["quantity"], row["total"]) for row in body["orderItems"]] == [
        (menu["lemonade"].id, 4, "14")
    ]
    assert body["total"] == "14"


def test_confirming_twice_is_a_conflict_and_prints_nothing(operator_client, send, place_order):
    order = place_order()
    assert send(operator_client, "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CASH"}).status_code == 200
    before = snapshot()

    response = send(operator_client, "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CARD"})

    assert response.status_code == 409
    assert set(response.json()) == {"message"}
    assert "CONFIRMED" in response.json()["message"]
    assert snapshot() == before
    assert Order.objects.get(pk=order.pk).payment_method == "CASH"


def test_confirming_a_missing_order_is_a_404(operator_client, send, db):
    before = snapshot()
    response = send(operator_client, "post", "/v1/orders/999/confirm", {"paymentMethod": "CASH"})
    assert (response.status_code, response.json()) == (404, ORDER_NOT_FOUND)
    assert snapshot() == before


BAD_CONFIRM_BODIES = [
    ("no payment method", lambda m: {}, ["paymentMethod"]),
    ("unknown payment method", lambda m: {"paymentMethod": "cash"}, ["paymentMethod"]),
    ("negative discount", lambda m: {"paymentMethod": "CASH", "discount": "-0.01"}, ["discount"]),
    ("discount with 3 decimals", lambda m: {"paymentMethod": "CASH", "discount": Decimal("0.001")}, ["discount"]),
    ("discount not a number", lambda m: {"paymentMethod": "CASH", "discount": "two"}, ["discount"]),
    ("unknown cash register", lambda m: {"paymentMethod": "CASH", "cashRegisterId": "nope"}, ["cashRegisterId"]),
    ("customer too long", lambda m: {"paymentMethod": "CASH", "customer": too_long(101)}, ["customer"]),
    ("customer empty", lambda m: {"paymentMethod": "CASH", "customer": ""}, ["customer"]),
    ("no lines", lambda m: {"paymentMethod": "CASH", "orderItems": []}, ["orderItems"]),
    (
        "unknown replacement food",
        lambda m: {"paymentMethod": "CASH", "orderItems": [line(m), line(m, foodId="nope")]},
        ["orderItems.1.foodId"],
    ),
    (
        "replacement lines past the money limit",
        lambda m: {"paymentMethod": "CASH", "orderItems": [line(m, surcharge="99999999.99")]},
        ["orderItems.0"],
    ),
    (
        "replacement quantity 1000",
        lambda m: {"paymentMethod": "CASH", "orderItems": [line(m, quantity=1000)]},
        ["orderItems.0.quantity"],
    ),
]


@pytest.mark.parametrize(
    ("build", "fields"), [case[1:] for case in BAD_CONFIRM_BODIES], ids=[case[0] for case in BAD_CONFIRM_BODIES]
)
def test_a_bad_confirmation_is_a_400_and_leaves_the_order_pending(
    operator_client, send, place_order, menu, build, fields
):
    order = place_order()
    item_ids = list(order.items.values_list("id", flat=True))
    before = snapshot()

    response = send(operator_client, "post", f"/v1/orders/{order.id}/confirm", build(menu))

    assert_validation_error(response, *fields)
    assert snapshot() == before
    order.refresh_from_db()
    assert (order.status, order.ticket_number) == (OrderStatus.PENDING, None)
    assert list(order.items.values_list("id", flat=True)) == item_ids


def test_a_disabled_cash_register_cannot_confirm(operator_client, send, place_order, menu):
    menu["till"].enabled = False
    menu["till"].save()
    order = place_order()
    before = snapshot()
    response = send(
        operator_client,
        "post",
        f"/v1/orders/{order.id}/confirm",
        {"paymentMethod": "CASH", "cashRegisterId": menu["till"].id},
    )
    assert_validation_error(response, "cashRegisterId")
    assert snapshot() == before


def test_a_malformed_confirmation_is_a_400(operator_client, send, place_order):
    order = place_order()
    before = snapshot()
    response = send(operator_client, "post", f"/v1/orders/{order.id}/confirm", raw='{"paymentMethod": ')
    assert_validation_error(response, "body")
    assert snapshot() == before


# --- POST /v1/orders/{id}/reprint ----------------------------------------------------------------


@pytest.mark.parametrize(("role", "status", "body"), [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN)])
def test_only_cashiers_and_admins_reprint(client_as, send, place_order, operator, role, status, body):
    order = confirmed(place_order, operator)
    before = snapshot()
    response = send(client_as(role), "post", f"/v1/orders/{order.id}/reprint", {"reprintReceipt": True})
    assert (response.status_code, response.json()) == (status, body)
    assert snapshot() == before


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_a_reprint_returns_the_reprint_payload_and_tells_the_printers(
    client_as, send, request, place_order, menu, operator, role
):
    user = request.getfixturevalue("operator" if role == "operator" else "admin_user")
    order = confirmed(
        place_order,
        operator,
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=2, notes="Extra spicy"),
            LineInput(food_id=menu["lemonade"].id, quantity=1),
        ],
    )
    pizza, drink = order.items.order_by("position")
    before = snapshot()

    response = send(
        client_as(role), "post", f"/v1/orders/{order.id}/reprint", {"orderItems": [drink.id], "reprintReceipt": False}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    pizza_line = {
        "id": pizza.id,
        "quantity": 2,
        "orderId": order.id,
        "foodId": menu["margherita"].id,
        "unitPrice": "12.5",
        "unitSurcharge": "0",
        "total": "25",
        "notes": "Extra spicy",
        # No printer of its own: its category's.
        # With its category and the category's station (clients-heads.md P2).
        "food": {
            "id": menu["margherita"].id,
            "name": "Margherita",
            "printerId": menu["kitchen"].id,
            "categoryId": menu["pizza"].id,
            "category": {"id": menu["pizza"].id, "name": "Pizza", "station": None},
        },
    }
    drink_line = {
        "id": drink.id,
        "quantity": 1,
        "orderId": order.id,
        "foodId": menu["lemonade"].id,
        "unitPrice": "3.5",
        "unitSurcharge": "0",
        "total": "3.5",
        "notes": "",
        "food": {
            "id": menu["lemonade"].id,
            "name": "Lemonade",
            "printerId": menu["bar"].id,
            "categoryId": menu["drinks"].id,
            "category": {"id": menu["drinks"].id, "name": "Drinks", "station": None},
        },
    }
    assert body["reprintReceipt"] is False
    assert body["reprintOrderItems"] == [drink_line]
    assert body["orderItems"] == [pizza_line, drink_line]
    assert (body["id"], body["status"], body["ticketNumber"], body["total"]) == (order.id, "CONFIRMED", 1, "28.5")
    reprint = Reprint.objects.get()
    assert (reprint.requested_by, reprint.item_ids, reprint.receipt) == (user, [drink.id], False)
    assert events_since(before) == [("printer", "reprint-order")]


def test_a_reprint_of_the_receipt_alone_is_fine(operator_client, send, place_order, operator):
    order = confirmed(place_order, operator)
    response = send(operator_client, "post", f"/v1/orders/{order.id}/reprint", {"reprintReceipt": True})
    assert response.status_code == 200, response.content
    assert (response.json()["reprintReceipt"], response.json()["reprintOrderItems"]) == (True, [])


def test_a_pending_order_cannot_be_reprinted(operator_client, send, place_order):
    order = place_order()
    before = snapshot()
    response = send(
        operator_client,
        "post",
        f"/v1/orders/{order.id}/reprint",
        {"orderItems": [order.items.get().id], "reprintReceipt": True},
    )
    assert (response.status_code, response.json()) == (
        400,
        {"message": "Pending orders can't be reprinted", "errors": []},
    )
    assert snapshot() == before


def test_a_reprint_of_an_item_not_in_the_order_is_a_400(operator_client, send, place_order, operator):
    order = confirmed(place_order, operator)
    other = place_order()
    before = snapshot()
    response = send(
        operator_client,
        "post",
        f"/v1/orders/{order.id}/reprint",
        {"orderItems": [order.items.get().id, other.items.get().id], "reprintReceipt": True},
    )
    assert_validation_error(response, "orderItems.1")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"orderItems": [], "reprintReceipt": False}, "orderItems"),
        ({"reprintReceipt": False}, "orderItems"),
        ({"orderItems": []}, "reprintReceipt"),
        ({"orderItems": "all", "reprintReceipt": True}, "orderItems"),
    ],
    ids=["nothing asked", "no items and no receipt", "receipt missing", "items not a list"],
)
def test_a_reprint_asking_for_nothing_is_a_400(operator_client, send, place_order, operator, body, field):
    order = confirmed(place_order, operator)
    before = snapshot()
    response = send(operator_client, "post", f"/v1/orders/{order.id}/reprint", body)
    assert_validation_error(response, field)
    assert snapshot() == before


def test_a_reprint_of_a_missing_order_is_a_404(operator_client, send, db):
    before = snapshot()
    response = send(operator_client, "post", "/v1/orders/999/reprint", {"reprintReceipt": True})
    assert (response.status_code, response.json()) == (404, ORDER_NOT_FOUND)
    assert snapshot() == before


def test_a_malformed_reprint_is_a_400(operator_client, send, place_order, operator):
    order = confirmed(place_order, operator)
    before = snapshot()
    response = send(operator_client, "post", f"/v1/orders/{order.id}/reprint", raw="{")
    assert_validation_error(response, "body")
    assert snapshot() == before


# --- PATCH /v1/orders/{id} -------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status", "body"), [("anon", 401, AUTH_REQUIRED), ("waiter", 403, FORBIDDEN)])
def test_only_cashiers_and_admins_change_a_status(client_as, send, place_order, operator, role, status, body):
    order = confirmed(place_order, operator)
    before = snapshot()
    response = send(client_as(role), "patch", f"/v1/orders/{order.id}", {"status": "COMPLETED"})
    assert (response.status_code, response.json()) == (status, body)
    assert snapshot() == before
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_a_status_change_returns_the_order_and_tells_cashiers_and_displays(
    client_as, send, place_order, operator, role
):
    order = confirmed(place_order, operator)
    client = client_as(role)
    before = snapshot()

    completed = send(client, "patch", f"/v1/orders/{order.id}", {"status": "COMPLETED"})
    picked_up = send(client, "patch", f"/v1/orders/{order.id}", {"status": "PICKED_UP"})

    assert (completed.status_code, completed.json()["status"]) == (200, "COMPLETED")
    assert (picked_up.status_code, picked_up.json()["status"]) == (200, "PICKED_UP")
    assert picked_up.json()["ticketNumber"] == 1
    assert events_since(before) == STATUS_EVENTS * 2


def test_a_pending_order_can_be_cancelled(operator_client, send, place_order):
    order = place_order()
    response = send(operator_client, "patch", f"/v1/orders/{order.id}", {"status": "CANCELLED"})
    assert (response.status_code, response.json()["status"]) == (200, "CANCELLED")


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("PENDING", "CONFIRMED"),
        ("PENDING", "COMPLETED"),
        ("CONFIRMED", "PICKED_UP"),
        ("CONFIRMED", "PENDING"),
        ("CANCELLED", "CANCELLED"),
        ("CANCELLED", "CONFIRMED"),
    ],
)
def test_a_status_change_the_rules_forbid_is_a_409_and_sends_nothing(
    operator_client, send, place_order, operator, start, target
):
    order = place_order()
    if start != "PENDING":
        if start == "CANCELLED":
            services.order_set_status(order_id=order.id, by=operator, status="CANCELLED")
        else:
            services.order_confirm(order_id=order.id, by=operator, confirmation=CASH)
        if start == "PICKED_UP":
            services.order_set_status(order_id=order.id, by=operator, status="COMPLETED")
            services.order_set_status(order_id=order.id, by=operator, status="PICKED_UP")
    before = snapshot()

    response = send(operator_client, "patch", f"/v1/orders/{order.id}", {"status": target})

    assert response.status_code == 409, response.content
    assert set(response.json()) == {"message"}
    assert snapshot() == before
    assert Order.objects.get(pk=order.pk).status == start


@pytest.mark.parametrize(
    ("body", "raw"),
    [({"status": "DONE"}, None), ({}, None), ({"status": None}, None), (None, '{"status": ')],
    ids=["unknown status", "no status", "null status", "malformed"],
)
def test_a_bad_status_change_is_a_400(operator_client, send, place_order, operator, body, raw):
    order = confirmed(place_order, operator)
    before = snapshot()
    response = send(operator_client, "patch", f"/v1/orders/{order.id}", body, raw=raw)
    assert_validation_error(response, "body" if raw else "status")
    assert snapshot() == before


def test_a_status_change_of_a_missing_order_is_a_404(operator_client, send, db):
    response = send(operator_client, "patch", "/v1/orders/999", {"status": "CANCELLED"})
    assert (response.status_code, response.json()) == (404, ORDER_NOT_FOUND)


# --- roles beyond the role field ------------------------------------------------------------------------


def test_a_superuser_with_the_waiter_role_counts_as_admin(send, place_order):
    boss = make_staff("boss", "waiter", is_superuser=True, is_staff=True)
    client = api_client_for(boss)
    order = place_order()

    assert client.get("/v1/orders").status_code == 200
    response = send(client, "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CASH"})
    assert (response.status_code, response.json()["userId"]) == (200, boss.id)


def test_an_order_a_waiter_created_shows_who_confirmed_it_not_who_took_it(
    waiter_client, operator_client, operator, send, menu
):
    created = send(waiter_client, "post", "/v1/orders", order_body(menu)).json()
    assert created["userId"] is None
    confirmed_body = send(operator_client, "post", f"/v1/orders/{created['id']}/confirm", {"paymentMethod": "CASH"})
    assert confirmed_body.json()["userId"] == operator.id
