"""Kitchen stations: each station (a printer, the effective printer of a
line) marks its own lines of an order done; the order is COMPLETED when the
last station with lines in it is done; a station's undo takes only its mark
back. Every step is one `station-progress` event on display."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django_eventstream.models import Event as StoredEvent

from orders import services
from orders.exceptions import Conflict, NotFound
from orders.models import Food, Order, OrderStatus, StationMark
from orders.services import ConfirmInput, LineInput
from testsupport.contract import utc_millis


def display_events(after: int = 0) -> list[tuple[str, dict]]:
    # The library stores the payload's JSON text JSON-encoded once more.
    return [
        (event.type, json.loads(json.loads(event.data)))
        for event in StoredEvent.objects.filter(channel="display", eid__gt=after).order_by("eid")
    ]


def last_eid() -> int:
    return StoredEvent.objects.filter(channel="display").order_by("-eid").values_list("eid", flat=True).first() or 0


@pytest.fixture
def pizza_and_lemonade(menu, operator, django_capture_on_commit_callbacks) -> Order:
    """A confirmed order with lines for two stations: the kitchen (pizza,
    through its category) and the bar (lemonade, its own printer)."""
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_create(
            table="5",
            customer="Mia",
            lines=[
                LineInput(food_id=menu["margherita"].id, quantity=2),
                LineInput(food_id=menu["lemonade"].id, quantity=1),
            ],
            confirmation=ConfirmInput(payment_method="CASH"),
        )
    return order


def stations_of(order_id: int) -> list[tuple[str, bool]]:
    from orders.representations import order_stations_repr
    from orders.selectors import order_with_items

    return [(station["name"], station["done"]) for station in order_stations_repr(order_with_items(order_id))]


def test_the_bar_finishing_first_leaves_the_order_preparing_and_tells_the_screens(
    pizza_and_lemonade, menu, operator, django_capture_on_commit_callbacks
):
    order = pizza_and_lemonade
    before = last_eid()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_station_done(order_id=order.id, printer_id=menu["bar"].id, by=operator)

    assert Order.objects.get(pk=order.id).status == OrderStatus.CONFIRMED
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", True)]
    [(kind, payload)] = display_events(before)
    mark = StationMark.objects.get(order=order, printer=menu["bar"])
    assert kind == "station-progress"
    assert payload == {
        "id": order.id,
        "displayCode": "A01",
        "ticketNumber": 1,
        "status": "CONFIRMED",
        "stations": [
            {"printerId": menu["kitchen"].id, "name": "Kitchen", "done": False, "doneAt": None},
            {
                "printerId": menu["bar"].id,
                "name": "Bar",
                "done": True,
                "doneAt": mark.done_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{mark.done_at.microsecond // 1000:03d}Z",
            },
        ],
    }


def test_the_stations_are_those_of_the_lines_each_once_and_a_line_without_a_printer_has_none(
    menu, operator, django_capture_on_commit_callbacks
):
    water = Food.objects.create(name="Water", price=Decimal("1"), category=menu["drinks"])  # no printer at all
    order = services.order_create(
        table="2",
        customer="Noor",
        lines=[
            LineInput(food_id=water.id, quantity=1),
            LineInput(food_id=menu["margherita"].id, quantity=1),
            LineInput(food_id=menu["lemonade"].id, quantity=1),
            LineInput(food_id=menu["margherita"].id, quantity=2),  # the kitchen again
        ],
        confirmation=ConfirmInput(payment_method="CASH"),
        created_by=operator,
    )
    before = last_eid()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_station_done(order_id=order.id, printer_id=menu["kitchen"].id, by=operator)
    mark = StationMark.objects.get(order=order, printer=menu["kitchen"])
    assert display_events(before) == [
        (
            "station-progress",
            {
                "id": order.id,
                "displayCode": "A01",
                "ticketNumber": 1,
                "status": "CONFIRMED",
                "stations": [
                    {
                        "printerId": menu["kitchen"].id,
                        "name": "Kitchen",
                        "done": True,
                        "doneAt": utc_millis(mark.done_at),
                    },
                    {"printerId": menu["bar"].id, "name": "Bar", "done": False, "doneAt": None},
                ],
            },
        )
    ]


def test_the_last_station_done_completes_the_order_and_the_board_hears_it_after_the_progress(
    pizza_and_lemonade, menu, operator, django_capture_on_commit_callbacks
):
    order = pizza_and_lemonade
    services.order_station_done(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    before = last_eid()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_station_done(order_id=order.id, printer_id=menu["kitchen"].id, by=operator)

    assert Order.objects.get(pk=order.id).status == OrderStatus.COMPLETED
    events = display_events(before)
    assert [kind for kind, _ in events] == ["station-progress", "order-status-update"]
    assert [station["done"] for station in events[0][1]["stations"]] == [True, True]
    assert events[1][1]["status"] == "COMPLETED"


def test_a_station_undo_takes_back_only_its_own_mark_and_reopens_a_completed_order(
    pizza_and_lemonade, menu, operator, django_capture_on_commit_callbacks
):
    order = pizza_and_lemonade
    for station in ("bar", "kitchen"):
        services.order_station_done(order_id=order.id, printer_id=menu[station].id, by=operator)
    before = last_eid()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_station_undo(order_id=order.id, printer_id=menu["kitchen"].id, by=operator)

    assert Order.objects.get(pk=order.id).status == OrderStatus.CONFIRMED
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", True)]
    events = display_events(before)
    assert [(kind, data["status"]) for kind, data in events] == [
        ("order-status-update", "CONFIRMED"),
        ("station-progress", "CONFIRMED"),
    ]

    # Undo while the order is still preparing: only the mark goes.
    services.order_station_undo(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", False)]
    assert Order.objects.get(pk=order.id).status == OrderStatus.CONFIRMED


def test_a_station_with_nothing_in_the_order_is_refused_and_nothing_is_written(
    menu, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_create(
            table="1",
            customer="A",
            lines=[LineInput(food_id=menu["margherita"].id, quantity=1)],
            confirmation=ConfirmInput(payment_method="CASH"),
        )
    before = last_eid()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Conflict, match="nothing for Bar"),
    ):
        services.order_station_done(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    with pytest.raises(NotFound):
        services.order_station_done(order_id=order.id, printer_id="no-such-printer", by=operator)
    with pytest.raises(NotFound):
        services.order_station_done(order_id=999999, printer_id=menu["bar"].id, by=operator)
    assert callbacks == []
    assert StationMark.objects.count() == 0
    assert display_events(before) == []


def test_marking_done_twice_or_undoing_what_was_not_done_is_a_conflict(pizza_and_lemonade, menu, operator):
    order = pizza_and_lemonade
    with pytest.raises(Conflict, match="has not marked"):
        services.order_station_undo(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    services.order_station_done(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    with pytest.raises(Conflict, match="already marked"):
        services.order_station_done(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    assert StationMark.objects.filter(done_at__isnull=False).count() == 1


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.PICKED_UP, OrderStatus.CANCELLED])
def test_a_station_cannot_mark_or_undo_an_order_that_is_not_in_the_kitchen(pizza_and_lemonade, menu, operator, status):
    order = pizza_and_lemonade
    services.order_station_done(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    Order.objects.filter(pk=order.id).update(status=status)
    with pytest.raises(Conflict):
        services.order_station_done(order_id=order.id, printer_id=menu["kitchen"].id, by=operator)
    with pytest.raises(Conflict):
        services.order_station_undo(order_id=order.id, printer_id=menu["bar"].id, by=operator)
    assert Order.objects.get(pk=order.id).status == status
    assert stations_of(order.id)[1] == ("Bar", True)


def test_recalling_the_whole_order_sends_every_station_back_to_work(pizza_and_lemonade, menu, operator):
    order = pizza_and_lemonade
    for station in ("bar", "kitchen"):
        services.order_station_done(order_id=order.id, printer_id=menu[station].id, by=operator)
    services.order_recall(order_id=order.id, by=operator)
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", False)]


def test_the_rest_representation_carries_the_stations_progress(pizza_and_lemonade, menu, operator, operator_client):
    order = pizza_and_lemonade
    services.order_station_done(order_id=order.id, printer_id=menu["kitchen"].id, by=operator)
    body = operator_client.get(f"/v1/orders/{order.id}").json()
    assert [(s["printerId"], s["name"], s["done"]) for s in body["stations"]] == [
        (menu["kitchen"].id, "Kitchen", True),
        (menu["bar"].id, "Bar", False),
    ]
    assert body["stations"][0]["doneAt"].endswith("Z")
    assert body["stations"][1]["doneAt"] is None
    listed = operator_client.get("/v1/orders").json()["data"][0]
    assert listed["stations"] == body["stations"]

    # Completed as a whole (the all-stations bump): every station counts as done.
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    body = operator_client.get(f"/v1/orders/{order.id}").json()
    assert [s["done"] for s in body["stations"]] == [True, True]
    assert body["stations"][1]["doneAt"] is None


@pytest.mark.django_db(transaction=True)
def test_two_stations_finishing_the_same_orders_at_once_complete_each_exactly_once(menu, operator):
    from orders.tests.test_concurrency import run_in_threads

    lines = [LineInput(food_id=menu["margherita"].id, quantity=1), LineInput(food_id=menu["lemonade"].id, quantity=1)]
    orders = [
        services.order_create(
            table=str(n), customer="Guest", lines=lines, confirmation=ConfirmInput(payment_method="CASH")
        )
        for n in range(6)
    ]
    before = last_eid()

    def finish(order_id: int, station: str):
        return lambda: services.order_station_done(order_id=order_id, printer_id=menu[station].id, by=operator)

    results, errors = run_in_threads([finish(order.id, station) for order in orders for station in ("bar", "kitchen")])

    assert errors == []
    assert len(results) == 12
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.COMPLETED}
    events = display_events(before)
    completions = [data["id"] for kind, data in events if kind == "order-status-update"]
    assert sorted(completions) == sorted(order.id for order in orders)
    assert sum(kind == "station-progress" for kind, _ in events) == 12
