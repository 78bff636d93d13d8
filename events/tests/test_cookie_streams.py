"""Event streams of today's MySagra clients (clients-heads.md A4, E1, E2, E7),
against real Daphne servers, sent as the clients send them: `GET
/events/cashier` with `Cookie: mysagra_session=<C>` and `Accept:
text/event-stream` (mycassa HEAD), `GET /events/display` with `Cookie:
mysagra_token=<C>` (mynumeri HEAD); never an Authorization header or
?events=. Revocation is shown by order, as in test_revocation.py: an event
committed after the right ended never reaches a closed stream, and reaches
a bystander's."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from conftest import PASSWORD, bearer, make_user
from events.core.channels import CATEGORY_AVAILABILITY_CHANGED, NEW_ORDER, PRINTER_STATUS_CHANGED
from events.outbox.publisher import publish
from events.tests import test_pushpin
from events.tests.test_revocation import assert_closed_and_deaf
from testsupport import SSEStream
from users.models import Role

ACCEPT = {"Accept": "text/event-stream"}
# Pushpin in front of the workers, as test_pushpin.py starts it.
pushpin = test_pushpin.pushpin
behind_pushpin = test_pushpin.behind_pushpin


@pytest.fixture
def server(daphne):
    return daphne(EVENTS_POLL_SECONDS="0.2")


def sign_in(server, user) -> tuple[str, dict]:
    """mycassa's login action: the credential from the joined Set-Cookie
    header (/mysagra_session=([^;]+)/), and the body."""
    answer = httpx.post(f"{server.url}/auth/login", json={"username": user.username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    joined = ", ".join(answer.headers.get_list("set-cookie"))
    return re.search(r"mysagra_session=([^;]+)", joined)[1], answer.json()


def cookie(credential: str, name: str = "mysagra_session") -> dict[str, str]:
    return {"Cookie": f"{name}={credential}", **ACCEPT}


def listen(server, channel: str, headers: dict[str, str], query: str = "") -> SSEStream:
    stream = SSEStream(f"{server.url}/events/{channel}{query}", headers=headers)
    assert stream.status_code == 200, getattr(stream, "body", b"")
    assert stream.next().is_position
    return stream


def next_named(stream: SSEStream):
    """The next event (keep-alives and id-only messages skipped)."""
    while True:
        message = stream.next()
        if message.data:
            return message


def test_the_login_over_http_sets_both_cookies_first_the_session_one(server, operator):
    answer = httpx.post(f"{server.url}/auth/login", json={"username": "olga", "password": PASSWORD})
    lines = answer.headers.get_list("set-cookie")
    assert [line.split("=", 1)[0] for line in lines] == ["mysagra_session", "mysagra_token"]
    for line in lines:
        attributes = {part.strip().split("=")[0].lower() for part in line.split(";")[1:]}
        assert {"httponly", "max-age", "expires", "path", "samesite"} <= attributes
        assert "samesite=lax" in line.lower()


def test_either_cookie_opens_a_stream_and_only_a_listeners_cookie(server, operator, waiter):
    credential, _ = sign_in(server, operator)
    with (
        listen(server, "cashier", cookie(credential)),
        listen(server, "display", cookie(credential, "mysagra_token")),
    ):
        pass
    with SSEStream(f"{server.url}/events/cashier", headers=cookie("not-a-token")) as refused:
        assert (refused.status_code, json.loads(refused.body)) == (401, {"message": "Authentication required"})
    with SSEStream(f"{server.url}/events/cashier", headers=cookie(sign_in(server, waiter)[0])) as refused:
        assert (refused.status_code, json.loads(refused.body)) == (403, {"message": "Insufficient permissions"})
    with SSEStream(f"{server.url}/events/kitchen", headers=cookie(credential)) as refused:
        assert refused.status_code == 400


def test_a_maintainer_listens_like_an_operator(server):
    credential, _ = sign_in(server, make_user("mona", Role.MAINTAINER))
    with listen(server, "cashier", cookie(credential)) as stream:
        publish("cashier", NEW_ORDER, {"id": 7})
        assert next_named(stream).event == NEW_ORDER


# --- E2: a cookie cashier stream gets every cashier event by default ------------------------


def test_a_cookie_cashier_stream_gets_the_opt_in_events_and_a_bearer_one_does_not(server, operator):
    credential, _ = sign_in(server, operator)
    with (
        listen(server, "cashier", cookie(credential)) as head,
        listen(server, "cashier", bearer(operator)) as seed_era,
        listen(server, "cashier", cookie(credential), "?events=new-order") as chosen,
    ):
        publish("cashier", CATEGORY_AVAILABILITY_CHANGED, {"id": "c1", "available": False})
        publish("cashier", PRINTER_STATUS_CHANGED, {"id": "p1", "status": "OFFLINE"})
        publish("cashier", NEW_ORDER, {"id": 1})

        assert [next_named(head).event for _ in range(3)] == [
            CATEGORY_AVAILABILITY_CHANGED,
            PRINTER_STATUS_CHANGED,
            NEW_ORDER,
        ]
        # The opt-in events were committed first: the next the others get is new-order.
        assert next_named(seed_era).event == NEW_ORDER
        assert next_named(chosen).event == NEW_ORDER


# --- E7: string order ids on cookie streams, live and replayed -------------------------------


def test_order_events_carry_string_ids_on_cookie_streams_and_integers_on_others(server, operator, menu):
    credential, body = sign_in(server, operator)
    seed_era = bearer(operator)
    order = {"table": "3", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 2}]}
    with (
        listen(server, "cashier", cookie(credential)) as mycassa,
        listen(server, "display", cookie(credential, "mysagra_token")) as mynumeri,
        listen(server, "cashier", seed_era) as old_till,
        listen(server, "display", seed_era) as old_board,
    ):
        created = httpx.post(f"{server.url}/v1/orders", json=order, headers=seed_era).json()
        order_id = created["id"]
        confirm = {"paymentMethod": "CASH", "cashRegisterId": menu["till"].id}
        assert httpx.post(f"{server.url}/v1/orders/{order_id}/confirm", json=confirm, headers=seed_era).is_success

        new_order = next_named(mycassa)
        assert (new_order.event, new_order.json()["id"]) == ("new-order", str(order_id))
        assert [line["orderId"] for line in new_order.json()["orderItems"]] == [str(order_id)]
        assert next_named(mycassa).json()["id"] == str(order_id)  # confirmed-order
        shown = next_named(mynumeri)
        assert (shown.event, shown.json()["id"]) == ("confirmed-order", str(order_id))
        assert isinstance(shown.json()["ticketNumber"], int)

        assert next_named(old_till).json()["id"] == order_id
        assert next_named(old_till).json()["id"] == order_id
        assert next_named(old_board).json()["id"] == order_id

        # A reconnect with Last-Event-ID replays them from the log, as strings.
        replay = {**cookie(credential), "Last-Event-ID": "cashier:0"}
        with SSEStream(f"{server.url}/events/cashier", headers=replay) as again:
            assert again.status_code == 200
            assert [next_named(again).json()["id"] for _ in range(2)] == [str(order_id)] * 2


def heard_by_the_board(stream: SSEStream):
    """The next event mynumeri has a listener for (it has none for this
    project's own `station-progress`)."""
    listened = {"confirmed-order", "order-status-update", "order-station-status-update", "order-cancelled"}
    while (message := next_named(stream)).event not in listened:
        pass
    return message


def test_the_boards_station_moves_reach_its_cookie_stream_as_station_events_only(server, operator, menu, stations):
    # mynumeri in stations mode: its display stream and its PATCHes, all by mysagra_token.
    credential, _ = sign_in(server, operator)
    board = {"Cookie": f"mysagra_token={credential}", "Content-Type": "application/json"}
    order = {
        "table": "3",
        "customer": "Ann",
        "orderItems": [{"foodId": menu[food].id, "quantity": 1} for food in ("margherita", "lemonade")],
        "confirm": {"paymentMethod": "CASH", "cashRegisterId": menu["till"].id},
    }
    with listen(server, "display", cookie(credential, "mysagra_token")) as mynumeri:
        order_id = httpx.post(f"{server.url}/v1/orders", json=order, headers=bearer(operator)).json()["id"]
        shown = heard_by_the_board(mynumeri)
        assert (shown.event, sorted(shown.json()["ordersStations"])) == (
            "confirmed-order",
            sorted([stations["kitchen"].id, stations["bar"].id]),
        )
        for station in ("kitchen", "bar"):
            path = f"{server.url}/v1/orders/{order_id}/stations/{stations[station].id}"
            assert httpx.patch(path, json={"status": "COMPLETED"}, headers=board).status_code == 200
            moved = heard_by_the_board(mynumeri)
            assert (moved.event, moved.json()) == (
                "order-station-status-update",
                {"orderId": str(order_id), "stationId": stations[station].id, "status": "COMPLETED"},
            )
        # The last station made the order COMPLETED, unannounced on display:
        # the next event there is the board's own order-level move.
        path = f"{server.url}/v1/orders/{order_id}"
        assert httpx.patch(path, json={"status": "PICKED_UP"}, headers=board).status_code == 200
        picked = heard_by_the_board(mynumeri)
        assert (picked.event, picked.json()["id"], picked.json()["status"]) == (
            "order-status-update",
            str(order_id),
            "PICKED_UP",
        )


# --- A4/A5: a cookie stream is revoked as a Bearer one ---------------------------------------


@pytest.fixture
def workers(daphne):
    # Two workers on one database: a logout through one ends streams on both.
    return daphne(EVENTS_POLL_SECONDS="0.2"), daphne(EVENTS_POLL_SECONDS="0.2")


def test_a_logout_by_cookie_closes_that_logins_streams_on_every_worker_and_no_other(workers, operator):
    first, second = workers
    leaving, _ = sign_in(first, operator)
    staying, _ = sign_in(second, operator)
    with (
        listen(first, "cashier", cookie(leaving)) as on_first,
        listen(second, "display", cookie(leaving, "mysagra_token")) as on_second,
        listen(first, "cashier", cookie(staying)) as bystander,
        listen(second, "display", cookie(staying, "mysagra_token")) as display_bystander,
    ):
        answer = httpx.post(f"{second.url}/auth/logout", headers={"Cookie": f"mysagra_session={leaving}"})
        logged_out = time.monotonic()
        assert answer.status_code == 200
        cleared = answer.headers.get_list("set-cookie")
        assert [line.split("=", 1)[0] for line in cleared] == ["mysagra_session", "mysagra_token"]
        assert all("max-age=0" in line.lower() for line in cleared)

        # Each bystander gets the event the closed stream never saw.
        assert_closed_and_deaf(on_first, bystander, logged_out)
        assert_closed_and_deaf(on_second, display_bystander, time.monotonic(), channel="display")
        for server in workers:
            with SSEStream(f"{server.url}/events/cashier", headers=cookie(leaving)) as again:
                assert again.status_code == 401


@pytest.mark.parametrize("change", ["deactivated", "demoted", "password changed"])
def test_a_cookie_stream_closes_when_its_users_right_ends(server, operator, change):
    colleague = make_user("carla", Role.OPERATOR)
    credential, _ = sign_in(server, operator)
    with (
        listen(server, "cashier", cookie(credential)) as stream,
        listen(server, "cashier", cookie(sign_in(server, colleague)[0])) as bystander,
    ):
        if change == "deactivated":
            operator.is_active = False
        elif change == "demoted":
            operator.role = Role.WAITER
        else:
            operator.set_password("an-entirely-new-password")
        operator.save()
        assert_closed_and_deaf(stream, bystander, time.monotonic())


# --- behind Pushpin --------------------------------------------------------------------------


def test_behind_pushpin_a_cookie_stream_is_relayed_with_string_ids_and_closed_by_a_logout(
    behind_pushpin,
    pushpin,
    operator,
    menu,
):
    (worker,) = behind_pushpin(EVENTS_POLL_SECONDS="0.2")
    leaving, _ = sign_in(pushpin, operator)
    staying, _ = sign_in(pushpin, operator)
    with (
        listen(pushpin, "cashier", cookie(leaving)) as mycassa,
        listen(pushpin, "cashier", cookie(staying)) as bystander,
        listen(pushpin, "cashier", bearer(operator)) as held,
    ):
        order = {"table": "3", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1}]}
        order_id = httpx.post(f"{worker.url}/v1/orders", json=order, headers=bearer(operator)).json()["id"]
        assert next_named(mycassa).json()["id"] == str(order_id)
        assert next_named(bystander).json()["id"] == str(order_id)
        assert next_named(held).json()["id"] == order_id  # held by Pushpin, as published

        assert httpx.post(f"{pushpin.url}/auth/logout", headers={"Cookie": f"mysagra_session={leaving}"}).is_success
        assert_closed_and_deaf(mycassa, bystander, time.monotonic())
