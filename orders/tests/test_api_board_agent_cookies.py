"""The order board (mynumeri 0b1672c) and the printer agent's config page
(mystampa d9f71fe) against the REST API exactly as their servers call it
(clients-heads.md A2, A3, S2, S4, S5, S7, M1, P4): the login's Set-Cookie
read with their own regular expressions, then only `Cookie:
mysagra_token=<C>` (the board) or `mysagra_session=<C>` (the agent's page),
never an Authorization header or a CSRF token, with their query strings."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from orders import services
from orders.models import Order
from orders.services import ConfirmInput, LineInput
from testsupport.contract import utc_millis
from users.models import Role, User
from users.tests.helpers import JSON, credential_set_by, sign_in, staff


def forwarding(cookie: str) -> Client:
    """A server-side fetch that forwards that one cookie (CSRF checks on, as
    any caller without Django's session meets them)."""
    return Client(enforce_csrf_checks=True, headers={"Cookie": cookie})


def board(username: str = "olga") -> Client:
    """mynumeri: `/mysagra_token=([^;]+)/` on the joined Set-Cookie header,
    kept as its own cookie and forwarded as `mysagra_token=<C>`."""
    return forwarding(f"mysagra_token={credential_set_by(sign_in(username), 'mysagra_token')}")


@pytest.fixture
def olga(db) -> User:
    return staff("olga", Role.OPERATOR)


@pytest.fixture
def order(menu, stations, olga) -> Order:
    """A pizza and a lemonade, confirmed at the till: the kitchen's and the bar's."""
    return services.order_create(
        table="4",
        customer="Ada",
        lines=[LineInput(food_id=menu[food].id, quantity=1) for food in ("margherita", "lemonade")],
        created_by=olga,
        confirmation=ConfirmInput(payment_method="CASH", cash_register_id=menu["till"].id),
    )


def test_the_board_lists_the_workdays_orders_with_station_states_by_its_cookie(order, stations):
    # getWorkdayBounds(): 07:00 local time until now, toISOString(), encodeURIComponent.
    now = timezone.now()
    since, until = quote(utc_millis(now - timedelta(hours=3)), safe=""), quote(utc_millis(now), safe="")
    query = f"limit=100&page=1&dateFrom={since}&dateTo={until}&include=ordersStationsStates"

    response = board().get(f"/v1/orders?{query}")

    assert response.status_code == 200
    body = response.json()
    assert (body["pagination"]["currentPage"], body["pagination"]["totalPages"]) == (1, 1)
    [listed] = body["data"]
    assert (listed["id"], listed["displayCode"], listed["status"]) == (str(order.id), order.display_code, "CONFIRMED")
    states = {(s["stationId"], s["status"], s["orderId"]) for s in listed["orderStationStates"]}
    assert states == {
        (stations["kitchen"].id, "CONFIRMED", str(order.id)),
        (stations["bar"].id, "CONFIRMED", str(order.id)),
    }


def test_the_board_reads_its_columns_from_the_stations_by_its_cookie(olga, stations):
    response = board().get("/v1/stations")
    assert response.status_code == 200
    assert [(s["id"], s["name"]) for s in response.json()] == [
        (stations["kitchen"].id, "Kitchen"),
        (stations["bar"].id, "Bar"),
    ]


def test_the_board_moves_a_station_and_then_the_order_by_its_cookie_without_a_csrf_token(order, stations):
    client = board()
    kitchen = f"/v1/orders/{order.id}/stations/{stations['kitchen'].id}"

    done = client.patch(kitchen, {"status": "COMPLETED"}, content_type=JSON)

    assert done.status_code == 200
    assert {key: done.json()[key] for key in ("orderId", "stationId", "status")} == {
        "orderId": str(order.id),
        "stationId": stations["kitchen"].id,
        "status": "COMPLETED",
    }
    order.refresh_from_db()
    assert order.status == "CONFIRMED"  # the bar is not done yet
    # The picked-up sheet: an order-level move, every station follows.
    moved = client.patch(f"/v1/orders/{order.id}", {"status": "COMPLETED"}, content_type=JSON)
    assert moved.status_code == 200
    assert moved.json()["id"] == str(order.id)
    detail = client.get(f"/v1/orders/{order.id}").json()
    assert {s["status"] for s in detail["orderStationStates"]} == {"COMPLETED"}


def test_the_boards_sign_out_sends_no_credential_and_is_a_401_that_ends_nothing(order):
    client = board()
    # api-client.ts logout(): fetch(…, {method: "POST", credentials: "include"}) on the server: no cookie.
    assert Client().post("/auth/logout").status_code == 401
    assert client.get("/v1/stations").status_code == 200


def test_the_agents_config_page_signs_in_a_maintainer_and_lists_the_menu_by_its_cookie(menu):
    staff("mona", Role.MAINTAINER)
    response = sign_in("mona")
    assert response.json()["role"] == "maintainer"  # resp.data.role, admin or maintainer only
    # mystampa: each Set-Cookie line, /(?:^|;)\s*mysagra_session\s*=\s*([^;]*)/, then its Max-Age.
    lines = [morsel.OutputString() for morsel in response.cookies.values()]
    line = next(line for line in lines if re.search(r"(?:^|;)\s*mysagra_session\s*=", line))
    credential = re.search(r"(?:^|;)\s*mysagra_session\s*=\s*([^;]*)", line)[1].strip()
    assert int(re.search(r"(?:^|;)\s*Max-Age\s*=\s*(\d+)", line, re.IGNORECASE)[1]) > 0

    categories = forwarding(f"mysagra_session={credential}").get("/v1/categories?include=foods")

    assert categories.status_code == 200
    menu_seen = {c["name"]: sorted(f["name"] for f in c["foods"]) for c in categories.json()}
    assert menu_seen == {"Pizza": ["Calzone", "Margherita"], "Drinks": ["Lemonade"]}
    assert all(isinstance(c["id"], str) for c in categories.json())
