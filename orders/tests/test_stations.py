"""Kitchen stations (Station rows; a line's station is its food's
category's): each station finishes its own lines of an order; the order is
COMPLETED when the last station is done; a station's undo takes only its own
state back. A station's step is, on display, one `order-station-status-update`
(today's boards) and one `station-progress` (our own pages), never an
`order-status-update`; the cashier hears the order's new status."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django_eventstream.models import Event as StoredEvent

from orders import services
from orders.exceptions import Conflict, NotFound
from orders.models import Category, Food, Order, OrderStationState, OrderStatus
from orders.representations import order_stations_repr
from orders.selectors import order_with_items
from orders.services import ConfirmInput, LineInput
from testsupport.contract import utc_millis


def channel_events(channel: str, after: int = 0) -> list[tuple[str, dict]]:
    # The library stores the payload's JSON text JSON-encoded once more.
    return [
        (event.type, json.loads(json.loads(event.data)))
        for event in StoredEvent.objects.filter(channel=channel, eid__gt=after).order_by("eid")
    ]


def display_events(after: int = 0) -> list[tuple[str, dict]]:
    return channel_events("display", after)


def last_eid(channel: str = "display") -> int:
    return StoredEvent.objects.filter(channel=channel).order_by("-eid").values_list("eid", flat=True).first() or 0


@pytest.fixture
def pizza_and_lemonade(menu, stations, operator, django_capture_on_commit_callbacks) -> Order:
    """A confirmed order with lines for two stations: the kitchen (pizza)
    and the bar (lemonade)."""
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
    return [(station["name"], station["done"]) for station in order_stations_repr(order_with_items(order_id))]


def test_an_order_gets_a_state_per_station_of_its_lines_with_its_own_status(menu, stations, operator):
    pending = services.order_create(
        table="1", customer="A", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)], created_by=operator
    )
    assert list(pending.station_states.values_list("station__name", "status")) == [("Kitchen", "PENDING")]
    # Confirmation with other lines: the states follow the lines.
    services.order_confirm(
        order_id=pending.id,
        by=operator,
        confirmation=ConfirmInput(payment_method="CARD", items=[LineInput(food_id=menu["lemonade"].id, quantity=2)]),
    )
    assert list(pending.station_states.values_list("station__name", "status")) == [("Bar", "CONFIRMED")]


def test_the_bar_finishing_first_leaves_the_order_preparing_and_tells_the_screens(
    pizza_and_lemonade, stations, operator, django_capture_on_commit_callbacks
):
    order = pizza_and_lemonade
    before, cashier_before = last_eid(), last_eid("cashier")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_station_done(order_id=order.id, station_id=stations["bar"].id, by=operator)

    assert Order.objects.get(pk=order.id).status == OrderStatus.CONFIRMED
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", True)]
    state = OrderStationState.objects.get(order=order, station=stations["bar"])
    assert display_events(before) == [
        ("order-station-status-update", {"orderId": order.id, "stationId": stations["bar"].id, "status": "COMPLETED"}),
        (
            "station-progress",
            {
                "id": order.id,
                "displayCode": order.display_code,
                "ticketNumber": order.ticket_number,
                "status": "CONFIRMED",
                "stations": [
                    {
                        "stationId": stations["kitchen"].id,
                        "name": "Kitchen",
                        "status": "CONFIRMED",
                        "done": False,
                        "doneAt": None,
                    },
                    {
                        "stationId": stations["bar"].id,
                        "name": "Bar",
                        "status": "COMPLETED",
                        "done": True,
                        "doneAt": utc_millis(state.updated_at),
                    },
                ],
            },
        ),
    ]
    assert channel_events("cashier", cashier_before) == []  # the order's status did not change


def test_the_stations_are_those_of_the_lines_each_once_and_a_line_of_a_category_without_one_has_none(
    menu, stations, operator
):
    extras = Category.objects.create(name="Extras", position=3)  # no station
    water = Food.objects.create(name="Water", price=Decimal("1"), category=extras)
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
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", False)]


def test_the_last_station_done_completes_the_order_without_an_order_status_update_on_display(
    pizza_and_lemonade, stations, operator, django_capture_on_commit_callbacks
):
    order = pizza_and_lemonade
    services.order_station_done(order_id=order.id, station_id=stations["bar"].id, by=operator)
    before, cashier_before = last_eid(), last_eid("cashier")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_station_done(order_id=order.id, station_id=stations["kitchen"].id, by=operator)

    completed = Order.objects.get(pk=order.id)
    assert completed.status == OrderStatus.COMPLETED
    assert completed.completed_at is not None
    events = display_events(before)
    assert [kind for kind, _ in events] == ["order-station-status-update", "station-progress"]
    assert events[1][1]["status"] == "COMPLETED"
    assert [station["done"] for station in events[1][1]["stations"]] == [True, True]
    cashier = channel_events("cashier", cashier_before)
    assert [(kind, data["id"], data["status"]) for kind, data in cashier] == [
        ("order-status-update", order.id, "COMPLETED")
    ]


def test_a_station_undo_takes_back_only_its_own_state_and_reopens_a_completed_order(
    pizza_and_lemonade, stations, operator, django_capture_on_commit_callbacks
):
    order = pizza_and_lemonade
    for station in ("bar", "kitchen"):
        services.order_station_done(order_id=order.id, station_id=stations[station].id, by=operator)
    before = last_eid()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_station_undo(order_id=order.id, station_id=stations["kitchen"].id, by=operator)

    reopened = Order.objects.get(pk=order.id)
    assert reopened.status == OrderStatus.CONFIRMED
    assert reopened.completed_at is None
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", True)]
    assert [(kind, data["status"]) for kind, data in display_events(before)] == [
        ("order-station-status-update", "CONFIRMED"),
        ("station-progress", "CONFIRMED"),
    ]

    # Undo while the order is still preparing: only that state goes back.
    services.order_station_undo(order_id=order.id, station_id=stations["bar"].id, by=operator)
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", False)]
    assert Order.objects.get(pk=order.id).status == OrderStatus.CONFIRMED


def test_a_station_with_nothing_in_the_order_is_refused_and_nothing_is_written(
    menu, stations, operator, django_capture_on_commit_callbacks
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
        services.order_station_done(order_id=order.id, station_id=stations["bar"].id, by=operator)
    with pytest.raises(NotFound):
        services.order_station_done(order_id=order.id, station_id="no-such-station", by=operator)
    with pytest.raises(NotFound):
        services.order_station_done(order_id=999999, station_id=stations["bar"].id, by=operator)
    assert callbacks == []
    assert list(OrderStationState.objects.values_list("status", flat=True)) == ["CONFIRMED"]
    assert display_events(before) == []


def test_marking_done_twice_or_undoing_what_was_not_done_is_a_conflict(pizza_and_lemonade, stations, operator):
    order = pizza_and_lemonade
    with pytest.raises(Conflict, match="has not marked"):
        services.order_station_undo(order_id=order.id, station_id=stations["bar"].id, by=operator)
    services.order_station_done(order_id=order.id, station_id=stations["bar"].id, by=operator)
    with pytest.raises(Conflict, match="already marked"):
        services.order_station_done(order_id=order.id, station_id=stations["bar"].id, by=operator)
    assert OrderStationState.objects.filter(status=OrderStatus.COMPLETED).count() == 1


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.PICKED_UP, OrderStatus.CANCELLED])
def test_a_station_cannot_mark_or_undo_an_order_that_is_not_in_the_kitchen(
    pizza_and_lemonade, stations, operator, status
):
    order = pizza_and_lemonade
    services.order_station_done(order_id=order.id, station_id=stations["bar"].id, by=operator)
    Order.objects.filter(pk=order.id).update(status=status)
    with pytest.raises(Conflict):
        services.order_station_done(order_id=order.id, station_id=stations["kitchen"].id, by=operator)
    with pytest.raises(Conflict):
        services.order_station_undo(order_id=order.id, station_id=stations["bar"].id, by=operator)
    assert Order.objects.get(pk=order.id).status == status
    assert stations_of(order.id)[1] == ("Bar", True)


def test_moves_of_the_whole_order_move_every_station(pizza_and_lemonade, stations, operator):
    order = pizza_and_lemonade
    for station in ("bar", "kitchen"):
        services.order_station_done(order_id=order.id, station_id=stations[station].id, by=operator)
    services.order_recall(order_id=order.id, by=operator)
    assert stations_of(order.id) == [("Kitchen", False), ("Bar", False)]
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    assert set(order.station_states.values_list("status", flat=True)) == {"COMPLETED"}
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.PICKED_UP)
    assert set(order.station_states.values_list("status", flat=True)) == {"PICKED_UP"}
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.CANCELLED)
    assert set(order.station_states.values_list("status", flat=True)) == {"CANCELLED"}


def test_the_rest_representation_carries_the_stations_progress(pizza_and_lemonade, stations, operator, operator_client):
    order = pizza_and_lemonade
    services.order_station_done(order_id=order.id, station_id=stations["kitchen"].id, by=operator)
    body = operator_client.get(f"/v1/orders/{order.id}").json()
    assert [(s["stationId"], s["name"], s["done"]) for s in body["stations"]] == [
        (stations["kitchen"].id, "Kitchen", True),
        (stations["bar"].id, "Bar", False),
    ]
    assert body["stations"][0]["doneAt"].endswith("Z")
    assert body["stations"][1]["doneAt"] is None
    listed = operator_client.get("/v1/orders").json()["data"][0]
    assert listed["stations"] == body["stations"]

    # Completed as a whole (the all-stations bump): every station is done.
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    body = operator_client.get(f"/v1/orders/{order.id}").json()
    assert [s["done"] for s in body["stations"]] == [True, True]


@pytest.mark.django_db(transaction=True)
def test_two_stations_finishing_the_same_orders_at_once_complete_each_exactly_once(menu, stations, operator):
    from orders.tests.test_concurrency import run_in_threads

    lines = [LineInput(food_id=menu["margherita"].id, quantity=1), LineInput(food_id=menu["lemonade"].id, quantity=1)]
    orders = [
        services.order_create(
            table=str(n), customer="Guest", lines=lines, confirmation=ConfirmInput(payment_method="CASH")
        )
        for n in range(6)
    ]
    before, cashier_before = last_eid(), last_eid("cashier")

    def finish(order_id: int, station: str):
        return lambda: services.order_station_done(order_id=order_id, station_id=stations[station].id, by=operator)

    results, errors = run_in_threads([finish(order.id, station) for order in orders for station in ("bar", "kitchen")])

    assert errors == []
    assert len(results) == 12
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.COMPLETED}
    completions = [
        data["id"] for kind, data in channel_events("cashier", cashier_before) if kind == "order-status-update"
    ]
    assert sorted(completions) == sorted(order.id for order in orders)
    events = display_events(before)
    assert sum(kind == "station-progress" for kind, _ in events) == 12
    assert sum(kind == "order-station-status-update" for kind, _ in events) == 12
    assert not any(kind == "order-status-update" for kind, _ in events)
