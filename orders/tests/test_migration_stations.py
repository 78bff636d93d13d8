"""Migration 0008 turns the stations that were printers into Stations: each
printer a category prints on becomes a station of the same name and that
category's station; every order gets a state per station of its lines, with
its status, and a confirmed order's station that had marked its lines done
is COMPLETED."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("orders", "0007_kitchen_station_marks")]
AFTER = [("orders", "0008_stations")]


@pytest.mark.django_db(transaction=True)
def test_printers_that_were_stations_become_stations_and_marks_become_states():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Printer, Category, Food = (old.get_model("orders", name) for name in ("Printer", "Category", "Food"))
        Order, OrderItem, StationMark = (
            old.get_model("orders", name) for name in ("Order", "OrderItem", "StationMark")
        )
        kitchen = Printer.objects.create(name="Kitchen")
        bar = Printer.objects.create(name="Bar")
        Printer.objects.create(name="Receipts")  # no category prints here: no station
        pizza = Category.objects.create(name="Pizza", printer=kitchen)
        drinks = Category.objects.create(name="Drinks", printer=bar)
        desserts = Category.objects.create(name="Desserts")  # no printer: no station
        margherita = Food.objects.create(name="Margherita", price=Decimal("9"), category=pizza)
        cola = Food.objects.create(name="Cola", price=Decimal("3"), category=drinks)
        cake = Food.objects.create(name="Cake", price=Decimal("4"), category=desserts)

        def order(number: int, status: str, *foods) -> int:
            row = Order.objects.create(
                display_code=f"A0{number}", code_day="2026-07-04", table="1", customer="Ada", status=status
            )
            for position, food in enumerate(foods):
                OrderItem.objects.create(
                    order=row, food=food, position=position, quantity=1, unit_price=food.price, total=food.price
                )
            return row.pk

        preparing = order(1, "CONFIRMED", cola, margherita, cake)
        StationMark.objects.create(order_id=preparing, printer=bar, done_at=datetime(2026, 7, 4, 19, tzinfo=UTC))
        StationMark.objects.create(order_id=preparing, printer=kitchen)  # a mark taken back
        picked_up = order(2, "PICKED_UP", margherita)
        cakes_only = order(3, "CONFIRMED", cake)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        new = executor.loader.project_state(AFTER).apps
        Station, Category, State = (
            new.get_model("orders", name) for name in ("Station", "Category", "OrderStationState")
        )
        assert sorted(Station.objects.values_list("name", flat=True)) == ["Bar", "Kitchen"]
        assert dict(Category.objects.values_list("name", "station__name")) == {
            "Pizza": "Kitchen",
            "Drinks": "Bar",
            "Desserts": None,
        }
        states = {
            (order_id, station): status
            for order_id, station, status in State.objects.values_list("order_id", "station__name", "status")
        }
        assert states == {
            (preparing, "Bar"): "COMPLETED",
            (preparing, "Kitchen"): "CONFIRMED",
            (picked_up, "Kitchen"): "PICKED_UP",
        }
        assert cakes_only not in {order_id for order_id, _ in states}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
