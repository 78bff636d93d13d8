"""Each event kind's JSON, pinned against the contract's examples, as it is
stored in the event log after the transaction commits. Expected payloads are
literal JSON written from the contract (API.md, events-sse.txt), never built
with the application's own builders or formatters (orders.representations,
orders.money): a test that used them would pass whatever they returned.
Only ids and times, which the database chooses, come from the models; times
are formatted by testsupport.contract, written apart from the application."""

import json
from decimal import Decimal

import pytest
from django_eventstream.models import Event as StoredEvent

from orders import services
from orders.models import Category, Food, Order, OrderStatus, PaymentMethod
from orders.selectors import order_with_items
from orders.services import ConfirmInput, LineInput
from testsupport.contract import utc_millis


def published(channel: str) -> list[tuple[str, dict]]:
    """(event type, payload) of everything the log holds for a channel."""
    rows = StoredEvent.objects.filter(channel=channel, eid__gt=0).order_by("eid")
    return [(row.type, json.loads(json.loads(row.data))) for row in rows]


@pytest.fixture
def margherita(db) -> Food:
    # As in the contract's examples: no printer on the food nor its category.
    # (Not named "Pizza": some tests also load the `menu` fixture, which has
    # one, and category names are unique.)
    pizza = Category.objects.create(name="Pizze")
    return Food.objects.create(name="Margherita", price=Decimal("12.5"), category=pizza)


def test_new_order_carries_the_whole_order_as_the_contract_shows(margherita, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_create(
            table="3", customer="John Doe", lines=[LineInput(food_id=margherita.id, quantity=2, notes="No onions")]
        )
    item = order.items.get()
    [(kind, payload)] = published("cashier")
    assert kind == "new-order"
    assert payload == {
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
                "foodId": margherita.id,
                "unitPrice": "12.5",
                "unitSurcharge": "0",
                "total": "25",
                "notes": "No onions",
            }
        ],
    }
    assert payload["createdAt"].endswith("Z") and len(payload["createdAt"]) == len("2026-01-15T18:30:00.000Z")
    assert published("printer") == [] and published("display") == []


def test_confirmation_sends_the_summary_to_cashier_and_display_and_the_full_order_to_printers(
    margherita, operator, menu, django_capture_on_commit_callbacks
):
    till = menu["till"]
    order = services.order_create(
        table="3",
        customer="John Doe",
        lines=[LineInput(food_id=margherita.id, quantity=2, notes="Extra spicy", surcharge=Decimal("1"))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm(
            order_id=order.id,
            by=operator,
            confirmation=ConfirmInput(
                payment_method=PaymentMethod.CASH, cash_register_id=till.id, discount=Decimal("2")
            ),
        )
    order.refresh_from_db()
    item = order.items.get()
    summary = {"displayCode": "A01", "ticketNumber": 1, "id": order.id}
    assert published("cashier")[-1] == ("confirmed-order", summary)
    # The display's also names the stations the order waits on (none here; E3).
    assert published("display") == [("confirmed-order", {**summary, "ordersStations": []})]
    [(kind, payload)] = published("printer")
    assert kind == "confirmed-order"
    assert payload == {
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
        "userId": operator.id,
        "cashRegisterId": till.id,
        "orderItems": [
            {
                "id": item.id,
                "quantity": 2,
                "orderId": order.id,
                "foodId": margherita.id,
                "notes": "Extra spicy",
                "unitPrice": "12.5",
                "unitSurcharge": "0.5",
                "total": "26",
                "food": {
                    "id": margherita.id,
                    "name": "Margherita",
                    "printerId": None,
                    "categoryId": margherita.category_id,
                    "category": {"id": margherita.category_id, "name": "Pizze", "station": None},
                },
            }
        ],
    }
    assert payload["confirmedAt"].endswith("Z")


def test_an_order_confirmed_at_creation_sends_no_new_order(margherita, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.order_create(
            table="1",
            customer="Ann",
            lines=[LineInput(food_id=margherita.id, quantity=1)],
            created_by=operator,
            confirmation=ConfirmInput(payment_method=PaymentMethod.CARD),
        )
    assert [kind for kind, _ in published("cashier")] == ["confirmed-order"]
    assert [kind for kind, _ in published("printer")] == ["confirmed-order"]


def test_printer_lines_name_the_effective_printer_food_first_then_category(
    menu, operator, django_capture_on_commit_callbacks
):
    order = services.order_create(
        table="1",
        customer="Ann",
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=1),
            LineInput(food_id=menu["lemonade"].id, quantity=1),
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    [(_, payload)] = published("printer")
    printers = [line["food"]["printerId"] for line in payload["orderItems"]]
    # Margherita has no printer of its own (its category's: kitchen); lemonade has the bar's.
    assert printers == [menu["kitchen"].id, menu["bar"].id]


def test_reprint_carries_the_chosen_lines_the_receipt_flag_and_the_whole_order(
    menu, operator, django_capture_on_commit_callbacks
):
    order = services.order_create(
        table="1",
        customer="Ann",
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=1),
            LineInput(food_id=menu["lemonade"].id, quantity=2),
        ],
    )
    services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    lemonade_line = order.items.get(food=menu["lemonade"])
    margherita_line = order.items.get(food=menu["margherita"])
    with django_capture_on_commit_callbacks(execute=True):
        services.order_reprint(order_id=order.id, by=operator, item_ids=[lemonade_line.id], receipt=True)
    order.refresh_from_db()
    kind, payload = published("printer")[-1]
    assert kind == "reprint-order"
    lemonade = {
        "id": lemonade_line.id,
        "quantity": 2,
        "orderId": order.id,
        "foodId": menu["lemonade"].id,
        "notes": "",
        "unitPrice": "3.5",
        "unitSurcharge": "0",
        "total": "7",
        "food": {
            "id": menu["lemonade"].id,
            "name": "Lemonade",
            "printerId": menu["bar"].id,
            "categoryId": menu["drinks"].id,
            "category": {"id": menu["drinks"].id, "name": "Drinks", "station": None},
        },
    }
    margherita = {
        "id": margherita_line.id,
        "quantity": 1,
        "orderId": order.id,
        "foodId": menu["margherita"].id,
        "notes": "",
        "unitPrice": "12.5",
        "unitSurcharge": "0",
        "total": "12.5",
        "food": {
            "id": menu["margherita"].id,
            "name": "Margherita",
            "printerId": menu["kitchen"].id,
            "categoryId": menu["pizza"].id,
            "category": {"id": menu["pizza"].id, "name": "Pizza", "station": None},
        },
    }
    assert payload == {
        "id": order.id,
        "displayCode": "A01",
        "table": "1",
        "customer": "Ann",
        "createdAt": utc_millis(order.created_at),
        "confirmedAt": utc_millis(order.confirmed_at),
        "ticketNumber": 1,
        "status": "CONFIRMED",
        "paymentMethod": "CASH",
        "subTotal": "19.5",
        "discount": "0",
        "surcharge": "0",
        "total": "19.5",
        "userId": operator.id,
        "cashRegisterId": None,
        "reprintReceipt": True,
        "reprintOrderItems": [lemonade],
        "orderItems": [margherita, lemonade],
    }


def test_a_status_change_sends_order_status_update_to_cashier_and_display(
    menu, operator, django_capture_on_commit_callbacks
):
    order = services.order_create(
        table="1", customer="Ann", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    with django_capture_on_commit_callbacks(execute=True):
        services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    order.refresh_from_db()
    line = order.items.get()
    assert published("display")[-1] == (
        "order-status-update",
        {"id": order.id, "displayCode": "A01", "ticketNumber": 1, "status": "COMPLETED"},
    )
    # Cashier SPAs show every such event as an order: the whole order, with
    # the keys of new-order.
    kind, payload = published("cashier")[-1]
    assert kind == "order-status-update"
    assert payload == {
        "id": order.id,
        "displayCode": "A01",
        "table": "1",
        "customer": "Ann",
        "createdAt": utc_millis(order.created_at),
        "confirmedAt": utc_millis(order.confirmed_at),
        "ticketNumber": 1,
        "status": "COMPLETED",
        "paymentMethod": "CASH",
        "subTotal": "12.5",
        "discount": "0",
        "surcharge": "0",
        "total": "12.5",
        "userId": operator.id,
        "cashRegisterId": None,
        "orderItems": [
            {
                "id": line.id,
                "quantity": 1,
                "orderId": order.id,
                "foodId": menu["margherita"].id,
                "unitPrice": "12.5",
                "unitSurcharge": "0",
                "total": "12.5",
                "notes": "",
            }
        ],
    }
    assert [kind for kind, _ in published("printer")] == ["confirmed-order"]


def test_two_quick_status_changes_each_report_their_own_status(menu, operator, django_capture_on_commit_callbacks):
    order = services.order_create(
        table="1", customer="Ann", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    with django_capture_on_commit_callbacks(execute=True):
        from django.db import transaction

        with transaction.atomic():
            services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
            services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.PICKED_UP)
    statuses = [payload["status"] for kind, payload in published("display") if kind == "order-status-update"]
    assert statuses == ["COMPLETED", "PICKED_UP"]


def test_a_rolled_back_order_sends_nothing_and_burns_no_event_id(menu, django_capture_on_commit_callbacks):
    from django.db import transaction

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Abort), transaction.atomic():
            services.order_create(
                table="1", customer="Ann", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
            )
            raise Abort
    assert callbacks == []
    assert Order.objects.count() == 0
    assert published("cashier") == []
    with django_capture_on_commit_callbacks(execute=True):
        services.order_create(table="1", customer="Ann", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)])
    assert list(StoredEvent.objects.filter(channel="cashier", eid__gt=0).values_list("eid", flat=True)) == [1]


# --- issue 10's events ------------------------------------------------------------------


def confirmed_order(menu, operator, lines: list[LineInput]) -> Order:
    order = services.order_create(table="7", customer="Grace", lines=lines)
    services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CARD"))
    return order_with_items(order.id)


def test_cancelling_a_confirmed_order_sends_order_cancelled_on_all_three_channels_and_no_status_update(menu, operator):
    calzone_cook = Food.objects.create(name="Focaccia", price=Decimal("4"), category=menu["pizza"])
    no_printer = Food.objects.create(name="Water", price=Decimal("1"), category=menu["drinks"])
    order = confirmed_order(
        menu,
        operator,
        [
            LineInput(food_id=menu["lemonade"].id, quantity=1),
            LineInput(food_id=menu["margherita"].id, quantity=2),
            LineInput(food_id=calzone_cook.id, quantity=1),  # the kitchen again, through its category
            LineInput(food_id=no_printer.id, quantity=1),  # no printer at all
        ],
    )
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.CANCELLED)

    assert published("display")[-1] == (
        "order-cancelled",
        {"id": order.id, "ticketNumber": 1, "displayCode": "A01", "status": "CANCELLED"},
    )
    assert published("printer")[-1] == (
        "order-cancelled",
        {
            "orderId": order.id,
            "ticketNumber": 1,
            "displayCode": "A01",
            "customer": "Grace",
            "table": "7",
            "status": "CANCELLED",
            "printers": [menu["bar"].id, menu["kitchen"].id],
        },
    )
    kind, payload = published("cashier")[-1]
    line_of = {line.food_id: line.id for line in order.items.all()}
    lemonade_line, margherita_line, focaccia_line, water_line = (
        line_of[food.id] for food in (menu["lemonade"], menu["margherita"], calzone_cook, no_printer)
    )
    order.refresh_from_db()
    assert kind == "order-cancelled"
    assert payload == {
        "id": order.id,
        "displayCode": "A01",
        "table": "7",
        "customer": "Grace",
        "createdAt": utc_millis(order.created_at),
        "confirmedAt": utc_millis(order.confirmed_at),
        "ticketNumber": 1,
        "status": "CANCELLED",
        "paymentMethod": "CARD",
        "subTotal": "33.5",
        "discount": "0",
        "surcharge": "0",
        "total": "33.5",
        "userId": operator.id,
        "cashRegisterId": None,
        "orderItems": [
            {
                "id": lemonade_line,
                "quantity": 1,
                "orderId": order.id,
                "foodId": menu["lemonade"].id,
                "unitPrice": "3.5",
                "unitSurcharge": "0",
                "total": "3.5",
                "notes": "",
            },
            {
                "id": margherita_line,
                "quantity": 2,
                "orderId": order.id,
                "foodId": menu["margherita"].id,
                "unitPrice": "12.5",
                "unitSurcharge": "0",
                "total": "25",
                "notes": "",
            },
            {
                "id": focaccia_line,
                "quantity": 1,
                "orderId": order.id,
                "foodId": calzone_cook.id,
                "unitPrice": "4",
                "unitSurcharge": "0",
                "total": "4",
                "notes": "",
            },
            {
                "id": water_line,
                "quantity": 1,
                "orderId": order.id,
                "foodId": no_printer.id,
                "unitPrice": "1",
                "unitSurcharge": "0",
                "total": "1",
                "notes": "",
            },
        ],
    }
    everything = [kind for channel in ("cashier", "display", "printer") for kind, _ in published(channel)]
    assert "order-status-update" not in everything


def test_cancelling_a_pending_order_tells_cashier_and_display_but_not_the_kitchen(menu, operator):
    order = services.order_create(
        table="1", customer="Ann", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.CANCELLED)
    assert published("display") == [
        ("order-cancelled", {"id": order.id, "ticketNumber": None, "displayCode": "A01", "status": "CANCELLED"})
    ]
    kind, payload = published("cashier")[-1]
    assert (kind, payload["id"], payload["status"], payload["ticketNumber"]) == (
        "order-cancelled",
        order.id,
        "CANCELLED",
        None,
    )
    assert published("printer") == []


def test_cancelling_a_completed_order_still_tells_the_kitchen(menu, operator):
    order = confirmed_order(menu, operator, [LineInput(food_id=menu["margherita"].id, quantity=1)])
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.CANCELLED)
    kind, payload = published("printer")[-1]
    assert (kind, payload["printers"], payload["ticketNumber"]) == ("order-cancelled", [menu["kitchen"].id], 1)


def test_the_kitchens_undo_is_a_status_update_not_a_new_confirmation(menu, operator):
    order = confirmed_order(menu, operator, [LineInput(food_id=menu["margherita"].id, quantity=1)])
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_recall(order_id=order.id, by=operator)
    assert [(kind, payload.get("status")) for kind, payload in published("display")] == [
        ("confirmed-order", None),
        ("order-status-update", "COMPLETED"),
        ("order-status-update", "CONFIRMED"),
    ]
    assert [kind for kind, _ in published("printer")] == ["confirmed-order"]
    kind, payload = published("cashier")[-1]
    assert (kind, payload["status"], len(payload["orderItems"])) == ("order-status-update", "CONFIRMED", 1)


def test_a_food_made_unavailable_and_available_again_tells_the_cashiers_each_time(menu):
    food = menu["margherita"]
    food.available = False
    food.save()
    food.name = "Margherita DOP"  # not a change of availability
    food.save()
    food.available = False  # nor is saving the same value again
    food.save()
    food.available = True
    food.save()
    assert published("cashier") == [
        ("food-availability-changed", {"id": food.id, "available": False}),
        ("food-availability-changed", {"id": food.id, "available": True}),
    ]


def test_a_category_availability_change_is_its_own_event(menu):
    category = menu["drinks"]
    category.available = False
    category.save(update_fields=["available"])
    category.position = 9
    category.save(update_fields=["position"])
    assert published("cashier") == [("category-availability-changed", {"id": category.id, "available": False})]


def test_creating_a_menu_entry_is_no_availability_change(menu):
    Food.objects.create(name="Tiramisu", price=Decimal("5"), category=menu["pizza"], available=False)
    Category.objects.create(name="Desserts", available=False)
    assert published("cashier") == []


def test_availability_changed_in_the_api_or_the_admin_reaches_the_log(admin_client, client, menu):
    from users.services import user_create

    manager = user_create(username="manager", role="admin", password="an-admin-test-password")
    food, category = menu["lemonade"], menu["pizza"]
    response = admin_client.patch(f"/v1/foods/{food.id}", {"available": False}, format="json")
    assert response.status_code == 200
    response = admin_client.patch(f"/v1/categories/{category.id}", {"available": False}, format="json")
    assert response.status_code == 200

    assert client.login(username=manager.username, password="an-admin-test-password")
    response = client.post(
        f"/admin/orders/food/{food.id}/change/",
        {
            "name": food.name,
            "price": "3.5",
            "category": food.category_id,
            "printer": food.printer_id,
            "description": "",
            "available": "on",
        },
    )
    assert (response.status_code, response.url) == (302, "/admin/orders/food/")
    assert published("cashier") == [
        ("food-availability-changed", {"id": food.id, "available": False}),
        ("category-availability-changed", {"id": category.id, "available": False}),
        ("food-availability-changed", {"id": food.id, "available": True}),
    ]


def test_a_refused_availability_change_sends_nothing(admin_client, waiter_client, menu):
    food = menu["margherita"]
    response = waiter_client.patch(f"/v1/foods/{food.id}", {"available": False}, format="json")
    assert response.status_code == 403
    response = admin_client.patch(f"/v1/foods/{food.id}", {"available": False, "price": "-1"}, format="json")
    assert response.status_code == 400
    assert published("cashier") == []
    assert Food.objects.get(pk=food.id).available is True


# --- stations (clients-heads.md E3-E6, P2) and the closure (P3) ---------------------------


def test_the_display_hears_which_stations_a_confirmed_order_waits_on(
    menu, stations, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_create(
            table="2",
            customer="Ada",
            lines=[
                LineInput(food_id=menu["lemonade"].id, quantity=1),
                LineInput(food_id=menu["margherita"].id, quantity=1),
            ],
            created_by=operator,
            confirmation=ConfirmInput(payment_method="CASH"),
        )
    assert published("display") == [
        (
            "confirmed-order",
            {
                "displayCode": "A01",
                "ticketNumber": 1,
                "id": order.id,
                "ordersStations": [stations["kitchen"].id, stations["bar"].id],
            },
        )
    ]
    assert published("cashier") == [("confirmed-order", {"displayCode": "A01", "ticketNumber": 1, "id": order.id})]
    [(_, printed)] = published("printer")
    assert [line["food"]["category"] for line in printed["orderItems"]] == [
        {"id": menu["drinks"].id, "name": "Drinks", "station": {"id": stations["bar"].id, "name": "Bar"}},
        {"id": menu["pizza"].id, "name": "Pizza", "station": {"id": stations["kitchen"].id, "name": "Kitchen"}},
    ]


def test_a_station_patch_is_an_order_station_status_update_on_display_only(
    menu, stations, operator, operator_client, django_capture_on_commit_callbacks
):
    order = services.order_create(
        table="2",
        customer="Ada",
        lines=[LineInput(food_id=menu["margherita"].id, quantity=1)],
        created_by=operator,
        confirmation=ConfirmInput(payment_method="CASH"),
    )
    before = {channel: len(published(channel)) for channel in ("cashier", "display", "printer")}
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.patch(
            f"/v1/orders/{order.id}/stations/{stations['kitchen'].id}", {"status": "COMPLETED"}, format="json"
        )
    assert response.status_code == 200, response.content

    display = published("display")[before["display"] :]
    assert display[0] == (
        "order-station-status-update",
        {"orderId": order.id, "stationId": stations["kitchen"].id, "status": "COMPLETED"},
    )
    # Our own pages' event follows; never an order-status-update (E5).
    assert [kind for kind, _ in display] == ["order-station-status-update", "station-progress"]
    assert display[1][1]["status"] == "COMPLETED"
    # The cashier hears the order's new status, never the station's event (E6).
    cashier = published("cashier")[before["cashier"] :]
    assert [(kind, payload["status"]) for kind, payload in cashier] == [("order-status-update", "COMPLETED")]
    assert len(published("printer")) == before["printer"]


def test_a_station_may_not_be_asked_for_on_the_cashier_channel():
    from events.core.channels import CATALOGUE, default_events

    assert "order-station-status-update" in CATALOGUE["display"]
    assert "order-station-status-update" in default_events("display")  # not opt-in (E4)
    assert "order-station-status-update" not in CATALOGUE["cashier"]
    assert "station-progress" not in CATALOGUE["cashier"]


def test_the_general_closure_carries_one_report_with_numbers(menu, operator, django_capture_on_commit_callbacks):
    lines = [LineInput(food_id=menu["margherita"].id, quantity=2, surcharge=Decimal("0.9"))]
    services.order_create(
        table="1",
        customer="Ann",
        lines=lines,
        created_by=operator,
        confirmation=ConfirmInput(payment_method="CASH", cash_register_id=menu["till"].id),
    )
    with django_capture_on_commit_callbacks(execute=True):
        closure = services.general_closure_create(cash_register_id=menu["till"].id, by=operator)
    [(kind, payload)] = [event for event in published("printer") if event[0] == "general-closure"]
    assert payload == {
        "cashRegister": menu["till"].id,
        "report": {
            "timestamp": utc_millis(closure.created_at),
            "totalOrders": 1,
            "totalRevenue": 25.9,
            "totalCashRevenue": 25.9,
            "totalCardRevenue": 0,
            "cashRegisterStats": [
                {
                    "cashRegisterId": menu["till"].id,
                    "cashRegisterName": "Till 1",
                    "totalRevenue": 25.9,
                    "totalCashRevenue": 25.9,
                    "totalCardRevenue": 0,
                }
            ],
            "categoryStats": [
                {
                    "categoryId": menu["pizza"].id,
                    "categoryName": "Pizza",
                    "revenue": 25.9,
                    "quantity": 2,
                    "foodStats": [
                        {"foodId": menu["margherita"].id, "foodName": "Margherita", "revenue": 25.9, "quantity": 2}
                    ],
                }
            ],
        },
    }


def test_a_closure_of_a_day_without_orders_sends_zeros_not_an_empty_list(
    menu, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        closure = services.general_closure_create(cash_register_id=menu["till"].id, by=operator)
    assert published("printer") == [
        (
            "general-closure",
            {
                "cashRegister": menu["till"].id,
                "report": {
                    "timestamp": utc_millis(closure.created_at),
                    "totalOrders": 0,
                    "totalRevenue": 0,
                    "totalCashRevenue": 0,
                    "totalCardRevenue": 0,
                    "cashRegisterStats": [],
                    "categoryStats": [],
                },
            },
        )
    ]
