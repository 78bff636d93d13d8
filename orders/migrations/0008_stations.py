"""Stations become their own table (clients-heads.md S1): until now a kitchen
station was a printer (the effective printer of a line) and its progress a
StationMark. Each printer that is a category's printer becomes a Station of
the same name, and that category's station; each order gets a state per
station of its lines' categories, with the order's status, except that a
CONFIRMED order's station that had marked its lines done is COMPLETED. A
food's own printer no longer makes a station of its own (stations belong to
categories, as in MySagra): its lines count for its category's station.
"""

import config.ids
import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import orders.validators
from decimal import Decimal
from django.db import migrations, models

CHUNK = 2000


def stations_from_printers(apps, schema_editor):
    Printer = apps.get_model("orders", "Printer")
    Category = apps.get_model("orders", "Category")
    Station = apps.get_model("orders", "Station")
    Order = apps.get_model("orders", "Order")
    OrderItem = apps.get_model("orders", "OrderItem")
    OrderStationState = apps.get_model("orders", "OrderStationState")
    StationMark = apps.get_model("orders", "StationMark")

    station_of_printer = {}
    printer_ids = Category.objects.filter(printer__isnull=False).values_list("printer_id", flat=True).distinct()
    for printer in Printer.objects.filter(pk__in=list(printer_ids)).order_by("name"):
        station_of_printer[printer.pk] = Station.objects.create(name=printer.name).pk
    for printer_id, station_id in station_of_printer.items():
        Category.objects.filter(printer_id=printer_id).update(station_id=station_id)
    station_of_category = dict(Category.objects.filter(station__isnull=False).values_list("pk", "station_id"))
    if not station_of_category:
        return
    printer_of_station = {station: printer for printer, station in station_of_printer.items()}
    done = set(StationMark.objects.filter(done_at__isnull=False).values_list("order_id", "printer_id"))
    wanted = {}  # order id → station ids, in line order
    lines = (
        OrderItem.objects.filter(food__category_id__in=list(station_of_category))
        .order_by("order_id", "position")
        .values_list("order_id", "food__category_id")
    )
    for order_id, category_id in lines.iterator(chunk_size=CHUNK):
        wanted.setdefault(order_id, {}).setdefault(station_of_category[category_id], None)
    # Every order's status, read in chunks (an IN list of every order id
    # would exceed SQLite's limit on query parameters after a few festivals).
    status_of = {pk: status for pk, status in Order.objects.values_list("pk", "status").iterator(chunk_size=CHUNK)}
    states = []
    for order_id, stations in wanted.items():
        for station_id in stations:
            status = status_of[order_id]
            if status == "CONFIRMED" and (order_id, printer_of_station[station_id]) in done:
                status = "COMPLETED"
            states.append(OrderStationState(order_id=order_id, station_id=station_id, status=status))
    OrderStationState.objects.bulk_create(states, batch_size=CHUNK)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_kitchen_station_marks"),
    ]

    operations = [
        migrations.AddField(
            model_name="ingredient",
            name="surcharge",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                default=Decimal("0"),
                max_digits=10,
                validators=[django.core.validators.MinValueValidator(0, message="A price cannot be negative")],
            ),
        ),
        migrations.CreateModel(
            name="Station",
            fields=[
                (
                    "id",
                    models.CharField(
                        default=config.ids.new_id, editable=False, max_length=32, primary_key=True, serialize=False
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("position", models.IntegerField(default=0)),
            ],
            options={
                "ordering": ["position", "name", "id"],
                "constraints": [
                    orders.validators.UniqueNameConstraint(
                        django.db.models.functions.text.Lower("name"), name="station_name_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="OrderStationState",
            fields=[
                (
                    "id",
                    models.CharField(
                        default=config.ids.new_id, editable=False, max_length=32, primary_key=True, serialize=False
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("PENDING", "Pending"),
                            ("CONFIRMED", "Confirmed"),
                            ("COMPLETED", "Completed"),
                            ("PICKED_UP", "Picked Up"),
                            ("CANCELLED", "Cancelled"),
                        ],
                        default="PENDING",
                        max_length=16,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="station_states", to="orders.order"
                    ),
                ),
                (
                    "station",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="order_states", to="orders.station"
                    ),
                ),
            ],
            options={
                "ordering": ["station__position", "station__name", "station_id"],
            },
        ),
        migrations.AddField(
            model_name="category",
            name="station",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="categories",
                to="orders.station",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderstationstate",
            constraint=models.UniqueConstraint(fields=("order", "station"), name="one_state_per_order_and_station"),
        ),
        # Back: the stations stay unassigned and the marks are not rebuilt.
        migrations.RunPython(stations_from_printers, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="StationMark",
        ),
    ]
