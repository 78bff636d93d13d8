"""Statements per request, pinned (issue 27): each endpoint the till, the
kitchen and the board call at service costs a fixed number of SQL
statements, whatever the number of lines or orders (a few fewer on
PostgreSQL, which can write two tables in one statement). Counted in-process with
the request's on_commit callbacks run (the events' notifications), as in
production; in a test the transactions are savepoints, so a count here is
the production count with SAVEPOINT/RELEASE in place of BEGIN/COMMIT."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from events.outbox import storage
from orders.models import Order
from orders.services import LineInput
from orders.tests.helpers import CASH

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_log_trim_now(monkeypatch):
    # The event log's trim runs at most once a minute per process, whichever
    # request comes first (events/outbox/storage.py): not a cost of these requests.
    monkeypatch.setattr(storage, "_last_trim", time.monotonic())


@pytest.fixture
def count(django_capture_on_commit_callbacks):
    """`count(call)`: (statements run by `call()` and its on_commit callbacks, its result)."""

    def count(call):
        with CaptureQueriesContext(connection) as captured:
            with django_capture_on_commit_callbacks(execute=True):
                result = call()
        return len(captured.captured_queries), result

    return count


def lines_of(menu, n: int) -> list[dict]:
    foods = [menu["margherita"].id, menu["lemonade"].id]
    return [{"foodId": foods[i % 2], "quantity": 1 + i % 3, "notes": "n"} for i in range(n)]


def post(client, path: str, body: dict):
    response = client.post(path, body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def get(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def warm_up(client, menu) -> None:
    # First-use costs (the day's counters, the channels' counter rows) are not per request.
    post(
        client,
        "/v1/orders",
        {"table": "W", "customer": "W", "orderItems": lines_of(menu, 1), "confirm": {"paymentMethod": "CASH"}},
    )


@pytest.mark.parametrize("n", [1, 3])
def test_a_create_costs_the_same_statements_whatever_its_lines(operator_client, menu, stations, count, n):
    warm_up(operator_client, menu)
    body = {"table": "1", "customer": "C", "orderItems": lines_of(menu, n)}
    statements, _ = count(lambda: post(operator_client, "/v1/orders", body))
    assert statements == CREATE


@pytest.mark.parametrize("n", [1, 3])
def test_a_confirm_costs_the_same_statements_whatever_its_lines(operator_client, menu, stations, count, n):
    warm_up(operator_client, menu)
    order = post(operator_client, "/v1/orders", {"table": "1", "customer": "C", "orderItems": lines_of(menu, n)})
    statements, _ = count(lambda: post(operator_client, f"/v1/orders/{order['id']}/confirm", {"paymentMethod": "CASH"}))
    assert statements == CONFIRM


@pytest.mark.parametrize("n", [1, 3])
def test_a_create_and_confirm_costs_the_same_statements_whatever_its_lines(operator_client, menu, stations, count, n):
    warm_up(operator_client, menu)
    body = {"table": "1", "customer": "C", "orderItems": lines_of(menu, n), "confirm": {"paymentMethod": "CASH"}}
    statements, _ = count(lambda: post(operator_client, "/v1/orders", body))
    assert statements == CREATE_AND_CONFIRM


@pytest.fixture
def orders_placed(place_order, menu, stations):
    """`orders_placed(n)`: n confirmed orders of three lines each (both stations)."""

    def place(n: int) -> list[Order]:
        three = [
            LineInput(food_id=menu["margherita"].id, quantity=1),
            LineInput(food_id=menu["lemonade"].id, quantity=2),
            LineInput(food_id=menu["margherita"].id, quantity=3, notes="n"),
        ]
        return [place_order(lines=three, confirm=CASH) for _ in range(n)]

    return place


@pytest.mark.parametrize("n", [10, 100])
def test_the_list_of_orders_costs_the_same_statements_whatever_their_number(operator_client, orders_placed, count, n):
    orders_placed(n)
    statements, listed = count(lambda: get(operator_client, "/v1/orders?limit=100"))
    assert len(listed["data"]) == n
    assert statements == LIST


@pytest.mark.parametrize("n", [1, 3])
def test_the_detail_costs_the_same_statements_whatever_its_lines(
    operator_client, place_order, menu, stations, count, n
):
    order = place_order(lines=[LineInput(food_id=menu["margherita"].id, quantity=1)] * n, confirm=CASH)
    statements, detail = count(lambda: get(operator_client, f"/v1/orders/{order.id}"))
    assert detail["id"] in (order.id, str(order.id))
    assert statements == DETAIL


@pytest.mark.parametrize("n", [10, 100])
@pytest.mark.parametrize("path", ["/kitchen/state", "/display/state"])
def test_a_screens_first_load_costs_the_same_statements_whatever_the_orders(operator, orders_placed, count, n, path):
    orders_placed(n)
    client = Client()
    client.force_login(operator)
    statements, state = count(lambda: get(client, path))
    assert len(state.get("orders", state.get("preparing"))) == n
    assert statements == SCREEN[path]


# The counts; before issue 27: create 21, confirm 24, create-and-confirm 26
# (both databases); before the one-statement writes: 12, 12, 12. PostgreSQL
# writes a new order's lines and stations' states in one statement, and an
# event's id and row in one (a data-modifying WITH, which SQLite lacks).
ON_POSTGRESQL = connection.vendor == "postgresql"
CREATE = 8 if ON_POSTGRESQL else 10
CONFIRM = 11 if ON_POSTGRESQL else 12
CREATE_AND_CONFIRM = 8 if ON_POSTGRESQL else 10
LIST = 7
DETAIL = 5
SCREEN = {"/kitchen/state": 7, "/display/state": 5}
