"""The transactional outbox (events/outbox/publisher.py): an event is written by the
transaction that causes it, numbered without gaps in commit order, and
announced only after the commit; a failed announcement loses nothing."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter

from conftest import bearer
from events.core.channels import CATALOGUE
from events.outbox import publisher
from events.outbox.publisher import EventNotInCatalogue, record
from orders import services
from orders.models import Order, OrderStatus
from orders.services import ConfirmInput, LineInput
from testsupport import SSEStream


def logged(channel: str) -> list[tuple[int, str, dict]]:
    rows = StoredEvent.objects.filter(channel=channel, eid__gt=0).order_by("eid").values_list("eid", "type", "data")
    return [(eid, kind, json.loads(json.loads(data))) for eid, kind, data in rows]


def head(channel: str) -> int:
    return EventCounter.objects.filter(name=channel).values_list("value", flat=True).first() or 0


class Abort(Exception):
    pass


def pending_orders(menu, count: int) -> list[int]:
    lines = [LineInput(food_id=menu["margherita"].id, quantity=1)]
    return [services.order_create(table=str(n), customer=f"Guest {n}", lines=lines).id for n in range(count)]


# --- in one process --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused_and_writes_nothing():
    with pytest.raises(TransactionManagementError):
        record("cashier", "new-order", {"id": 1})
    assert logged("cashier") == [] and head("cashier") == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channel", "event_type"),
    [
        ("printer", "new-order"),
        ("display", "reprint-order"),
        ("display", "food-availability-changed"),
        ("cashier", "open-drawer"),
        ("cashier", "stream-reset"),
        ("cashier", "stream-open"),
        ("kitchen", "new-order"),
    ],
)
def test_an_event_outside_its_channels_catalogue_is_refused_and_writes_nothing(channel, event_type):
    with pytest.raises(EventNotInCatalogue):
        record(channel, event_type, {"id": 1})
    assert StoredEvent.objects.count() == 0 and EventCounter.objects.count() == 0


@pytest.mark.django_db
def test_every_catalogued_event_can_be_recorded_on_its_channel():
    for channel, events in CATALOGUE.items():
        for event_type in events:
            record(channel, event_type, {"kind": event_type})
        assert [(kind, data["kind"]) for _, kind, data in logged(channel)] == [(e, e) for e in events]


@pytest.mark.django_db
def test_a_confirmation_and_its_three_events_are_written_by_one_transaction(
    menu, operator, django_capture_on_commit_callbacks
):
    [order_id] = pending_orders(menu, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.order_confirm(order_id=order_id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
        # Still inside the test's transaction, nothing has been announced, and
        # the log already holds the events.
        assert [kind for _, kind, _ in logged("printer")] == ["confirmed-order"]
        assert [kind for _, kind, _ in logged("display")] == ["confirmed-order"]
        assert [kind for _, kind, _ in logged("cashier")] == ["new-order", "confirmed-order"]
    # What waits for the commit is only the announcement of each.
    assert [callback.__qualname__ for callback in callbacks if "notify" in callback.__qualname__] == [
        "notify(cashier:2 confirmed-order)",
        "notify(display:1 confirmed-order)",
        "notify(printer:1 confirmed-order)",
    ]


@pytest.mark.django_db
def test_a_rolled_back_confirmation_leaves_no_event_and_burns_no_id(menu, operator):
    first, second = pending_orders(menu, 2)
    with pytest.raises(Abort), transaction.atomic():
        services.order_confirm(order_id=first, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
        assert head("printer") == 1  # recorded inside …
        raise Abort  # … and gone with the rollback
    assert Order.objects.get(pk=first).status == OrderStatus.PENDING
    assert logged("printer") == [] and logged("display") == [] and head("printer") == 0
    assert [kind for _, kind, _ in logged("cashier")] == ["new-order", "new-order"]

    services.order_confirm(order_id=second, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    assert [(eid, data["id"]) for eid, _, data in logged("printer")] == [(1, second)]
    assert [eid for eid, _, _ in logged("cashier")] == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_commit_gap_free_ids_in_commit_order_and_readers_never_see_a_hole():
    writers, per_writer = 6, 10
    done = threading.Event()
    holes: list[list[int]] = []
    reads = 0

    def write(writer: int) -> list[tuple[int, int]]:
        taken = []
        try:
            for n in range(per_writer):
                with transaction.atomic():
                    # Two channels per transaction, in the canonical order.
                    on_cashier = record("cashier", "new-order", {"w": writer, "n": n})
                    on_printer = record("printer", "reprint-order", {"w": writer, "n": n})
                taken.append((on_cashier, on_printer))
            return taken
        finally:
            connection.close()

    def read() -> None:
        nonlocal reads
        try:
            while not done.is_set() and reads < 100_000:
                visible = list(
                    StoredEvent.objects.filter(channel="printer", eid__gt=0)
                    .order_by("eid")
                    .values_list("eid", flat=True)
                )
                reads += 1
                if visible != list(range(1, len(visible) + 1)):
                    holes.append(visible)
        finally:
            connection.close()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        taken = [pair for share in pool.map(write, range(writers)) for pair in share]
    done.set()
    reader.join(timeout=60)

    total = writers * per_writer
    assert holes == [], "a reader saw an id before an earlier one was committed"
    assert reads > 1
    assert sorted(cashier for cashier, _ in taken) == list(range(1, total + 1))
    # Both counters were held to the commit: the k-th transaction to commit
    # took the k-th id on both channels.
    assert all(cashier == printer for cashier, printer in taken)
    assert [eid for eid, _, _ in logged("printer")] == list(range(1, total + 1))


@pytest.mark.django_db(transaction=True)
def test_with_redis_unreachable_the_commit_stands_and_the_events_are_in_the_log(
    menu, operator, monkeypatch, caplog, closed_port
):
    from django_eventstream import eventstream

    # A real client, aimed at a port nothing listens on: every publish fails.
    unreachable = redis.Redis(host="127.0.0.1", port=closed_port, socket_connect_timeout=1)
    monkeypatch.setattr(eventstream, "redis_client", unreachable)
    [order_id] = pending_orders(menu, 1)
    order = services.order_confirm(order_id=order_id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    assert Order.objects.get(pk=order.id).status == OrderStatus.CONFIRMED
    assert [data["id"] for _, _, data in logged("printer")] == [order.id]
    assert "event(s) printer:1: in the log, not announced on Redis" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_failing_announcement_does_not_stop_the_others_nor_the_request(menu, operator, monkeypatch, caplog):
    announced: list[str] = []
    real_notify = publisher.notify

    def notify(event):
        if event.channel == "display":
            raise RuntimeError("display announcement broke")
        announced.append(f"{event.channel}:{event.id}")
        real_notify(event)

    monkeypatch.setattr(publisher, "notify", notify)
    [order_id] = pending_orders(menu, 1)
    services.order_confirm(order_id=order_id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    assert announced == ["cashier:1", "cashier:2", "printer:1"]
    assert "display announcement broke" in caplog.text
    assert [kind for _, kind, _ in logged("display")] == ["confirmed-order"]


# --- across processes, against real Daphne servers -------------------------------------------


def replay(server, user, channel: str, count: int) -> list:
    """Every event of the channel, from a stream opened with `<channel>:0`."""
    with SSEStream(f"{server.url}/events/{channel}", headers={**bearer(user), "Last-Event-ID": f"{channel}:0"}) as s:
        assert s.status_code == 200
        received = []
        while len(received) < count:
            message = s.next(timeout=30)
            if message.event in CATALOGUE[channel]:
                received.append(message)
    return received


def test_two_processes_confirming_at_once_number_events_in_commit_order_and_both_deliver_them(
    daphne, operator, menu, api_for
):
    # Without REDIS_URL only each hub's poll of the log carries the other
    # process's events; with it (the PostgreSQL + Redis run), Redis does.
    a, b = daphne(EVENTS_POLL_SECONDS="0.5"), daphne(EVENTS_POLL_SECONDS="0.5")
    pending = pending_orders(menu, 40)
    streams = [SSEStream(f"{server.url}/events/printer", headers=bearer(operator)) for server in (a, b)]
    try:
        assert [s.status_code for s in streams] == [200, 200]
        cashiers = [api_for(server, operator) for server in (a, b, a, b, a, b)]

        def confirm_share(index: int) -> list[int]:
            return [cashiers[index].confirm(order_id).status_code for order_id in pending[index::6]]

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = [code for share in pool.map(confirm_share, range(6)) for code in share]
        assert statuses == [200] * 40

        for live in streams:
            received = live.collect(40, timeout=60, event="confirmed-order")
            assert [m.id for m in received] == [f"printer:{n}" for n in range(1, 41)]
            assert sorted(m.json()["id"] for m in received) == sorted(pending)
            # Commit order: the ticket numbered k-th was committed k-th.
            assert [m.json()["ticketNumber"] for m in received] == list(range(1, 41))
    finally:
        for live in streams:
            live.close()
    for server in (a, b):
        assert [m.id for m in replay(server, operator, "display", 40)] == [f"display:{n}" for n in range(1, 41)]


@pytest.mark.django_db(transaction=True)
def test_two_cashiers_marking_a_food_sold_out_at_once_send_one_availability_change(menu):
    from orders.models import Food

    food_id = menu["margherita"].id
    barrier = threading.Barrier(4)

    def sold_out(_: int) -> None:
        try:
            food = Food.objects.get(pk=food_id)  # each saw it available
            barrier.wait(timeout=30)
            with transaction.atomic():
                food.available = False
                food.save()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(sold_out, range(4)))
    assert [(kind, data) for _, kind, data in logged("cashier")] == [
        ("food-availability-changed", {"id": food_id, "available": False})
    ]


def test_a_cancellation_over_http_reaches_each_channel_as_order_cancelled_after_its_commit(
    daphne, operator, menu, api_for
):
    server = daphne()
    api = api_for(server, operator)
    order = api.create_order(menu["margherita"].id)
    assert api.confirm(order["id"]).status_code == 200
    streams = {
        channel: SSEStream(
            f"{server.url}/events/{channel}",
            headers={**bearer(operator), "Last-Event-ID": f"{channel}:{head(channel)}"},
        )
        for channel in ("cashier", "display", "printer")
    }
    try:
        response = api.client.patch(f"/v1/orders/{order['id']}", json={"status": "CANCELLED"})
        assert response.status_code == 200
        received = {channel: s.collect(1, event="order-cancelled")[0] for channel, s in streams.items()}
    finally:
        for s in streams.values():
            s.close()
    # The whole order, as REST returns it (less the REST-only keys: the
    # grouping of lines, the stations, completedAt, who confirmed it and where).
    rest_only = ("categorizedItems", "stations", "orderStationStates", "completedAt", "user", "cashRegister")
    rest = {key: value for key, value in response.json().items() if key not in rest_only}
    assert received["cashier"].json() == rest
    assert rest["status"] == "CANCELLED" and len(rest["orderItems"]) == 1
    assert received["display"].json() == {
        "id": order["id"],
        "ticketNumber": 1,
        "displayCode": order["displayCode"],
        "status": "CANCELLED",
    }
    assert received["printer"].json()["printers"] == [menu["kitchen"].id]
    assert [m.id for m in received.values()] == ["cashier:3", "display:2", "printer:2"]
