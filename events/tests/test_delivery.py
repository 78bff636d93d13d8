"""Nothing lost, nothing twice: replay, the starting position, bursts, and
ids older than the log, against a real Daphne."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django_eventstream.models import Event as StoredEvent

from conftest import bearer
from testsupport import SSEStream


@pytest.fixture
def server(daphne):
    # Keep-alives every second: a check that nothing more arrives must see
    # one, or the stream may simply be dead.
    return daphne(EVENTS_KEEPALIVE_SECONDS="1")


def stream(server, user, channel: str, last_event_id: str | None = None) -> SSEStream:
    headers = bearer(user)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    opened = SSEStream(f"{server.url}/events/{channel}", headers=headers)
    assert opened.status_code == 200
    return opened


def test_a_reconnecting_client_gets_exactly_what_it_missed_in_order_then_the_live_stream(
    server, operator, menu, api_for
):
    api = api_for(server, operator)
    food = menu["margherita"].id
    with stream(server, operator, "cashier") as first:
        assert first.next().id == "cashier:0"
        seen = [api.create_order(food, customer=f"live {n}")["id"] for n in range(3)]
        received = first.collect(3)
        assert [m.json()["id"] for m in received] == seen
        last_id = received[-1].id
    missed = [api.create_order(food, customer=f"missed {n}")["id"] for n in range(4)]

    with stream(server, operator, "cashier", last_event_id=last_id) as second:
        opening = second.next()
        assert (opening.is_position, opening.id) == (True, last_id)
        replayed = second.collect(4)
        assert [m.json()["id"] for m in replayed] == missed
        assert [m.id for m in replayed] == ["cashier:4", "cashier:5", "cashier:6", "cashier:7"]
        assert {m.event for m in replayed} == {"new-order"}
        live = api.create_order(food, customer="after")["id"]
        after = second.next()
        assert (after.id, after.json()["id"]) == ("cashier:8", live)
        # Exactly once: nothing but keep-alives follows.
        second.assert_quiet(2.5)


def test_a_plain_numeric_last_event_id_is_understood_too(server, operator, menu, api_for):
    api = api_for(server, operator)
    orders = [api.create_order(menu["margherita"].id)["id"] for _ in range(2)]
    with stream(server, operator, "cashier", last_event_id="1") as reconnected:
        assert reconnected.next().is_position
        assert reconnected.next().json()["id"] == orders[1]


def test_the_first_message_gives_the_position_so_a_drop_before_any_event_loses_nothing(server, operator, menu, api_for):
    api = api_for(server, operator)
    api.create_order(menu["margherita"].id)
    with stream(server, operator, "cashier") as first:
        opening = first.next()
    assert (opening.is_position, opening.id) == (True, "cashier:1")
    # The client dropped before its first event; one order is placed meanwhile.
    placed = api.create_order(menu["margherita"].id)["id"]
    with stream(server, operator, "cashier", last_event_id=opening.id) as again:
        assert again.next().is_position
        caught_up = again.next()
        assert (caught_up.event, caught_up.json()["id"]) == ("new-order", placed)


def test_a_burst_of_confirmations_from_six_threads_reaches_two_printers_complete_in_order_once(
    server, operator, menu, api_for
):
    api = api_for(server, operator)
    pending = [api.create_order(menu["margherita"].id, quantity=n % 3 + 1)["id"] for n in range(60)]
    printers = [stream(server, operator, "printer") for _ in range(2)]
    try:
        for printer in printers:
            assert printer.next().is_position
        cashiers = [api_for(server, operator) for _ in range(6)]

        def confirm_share(index: int) -> list[int]:
            statuses = [cashiers[index].confirm(order_id).status_code for order_id in pending[index::6]]
            return statuses

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = [code for share in pool.map(confirm_share, range(6)) for code in share]
        assert statuses == [200] * 60

        for printer in printers:
            received = printer.collect(60, timeout=60)
            assert {m.event for m in received} == {"confirmed-order"}
            assert [m.id for m in received] == [f"printer:{n}" for n in range(1, 61)]
            assert sorted(m.json()["id"] for m in received) == sorted(pending)
            assert sorted(m.json()["ticketNumber"] for m in received) == list(range(1, 61))
            printer.assert_quiet(1.5)
    finally:
        for printer in printers:
            printer.close()


def test_an_id_older_than_the_log_gets_an_explicit_reset(server, operator, menu, api_for):
    api = api_for(server, operator)
    for _ in range(5):
        api.create_order(menu["margherita"].id)
    # Retention trimmed the first three events.
    StoredEvent.objects.filter(channel="cashier", eid__lte=3).delete()
    with stream(server, operator, "cashier", last_event_id="cashier:1") as reconnected:
        reset = reconnected.next()
        assert reset.event == "stream-reset"
        assert reset.id == "cashier:5"
        assert reset.json()["lastEventId"] == "cashier:5"
        assert reset.json()["requestedLastEventId"] == "cashier:1"
    # The log still has everything after 3: that client needs no reset.
    with stream(server, operator, "cashier", last_event_id="cashier:3") as fine:
        assert fine.next().is_position
        assert [m.id for m in fine.collect(2)] == ["cashier:4", "cashier:5"]


@pytest.mark.parametrize("last_event_id", ["cashier:99", "printer:1", "nonsense"])
def test_an_id_from_the_future_another_channel_or_nowhere_gets_a_reset(server, operator, last_event_id):
    with stream(server, operator, "cashier", last_event_id=last_event_id) as reconnected:
        reset = reconnected.next()
        assert (reset.event, reset.id) == ("stream-reset", "cashier:0")


def test_a_refused_request_sends_nothing_and_burns_no_id(server, operator, menu, api_for):
    api = api_for(server, operator)
    with stream(server, operator, "cashier") as cashier:
        assert cashier.next().is_position
        order = api.create_order(menu["margherita"].id)
        assert cashier.next().id == "cashier:1"
        assert api.confirm(order["id"]).status_code == 200
        assert cashier.next().id == "cashier:2"
        # A second confirmation is a conflict; an unknown food is a 400.
        assert api.confirm(order["id"]).status_code == 409
        bad = api.client.post(
            "/v1/orders", json={"table": "1", "customer": "A", "orderItems": [{"foodId": "nope", "quantity": 1}]}
        )
        assert bad.status_code == 400
        next_order = api.create_order(menu["margherita"].id)
        following = cashier.next()
        assert (following.id, following.json()["id"]) == ("cashier:3", next_order["id"])
