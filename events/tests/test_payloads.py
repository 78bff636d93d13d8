"""Each event kind's JSON, pinned against the contract's examples, as it is
stored in the event log after the transaction commits."""

import json
from decimal import Decimal

import pytest
from django_eventstream.models import Event as StoredEvent

from orders import services
from orders.models import Category, Food, Order, OrderStatus, PaymentMethod
from orders.services import ConfirmInput, LineInput
from testsupport.contract import utc_millis


def published(channel: str) -> list[tuple[str, dict]]:
    """(event type, payload) of everything the log holds for a channel."""
    rows = StoredEvent.objects.filter(channel=channel, eid__gt=0).order_by("eid")
    return [(row.type, json.loads(json.loads(row.data))) for row in rows]


@pytest.fixture
def margherita(db) -> Food:
    # As in the contract's examples: no printer on the food nor its category.
    pizza = Category.objects.create(name="Pizza")
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
    assert published("display") == [("confirmed-order", summary)]
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
                "food": {"id": margherita.id, "name": "Margherita", "printerId": None},
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
    with django_capture_on_commit_callbacks(execute=True):
        services.order_reprint(order_id=order.id, by=operator, item_ids=[lemonade_line.id], receipt=True)
    kind, payload = published("printer")[-1]
    assert kind == "reprint-order"
    assert payload["reprintReceipt"] is True
    assert [line["id"] for line in payload["reprintOrderItems"]] == [lemonade_line.id]
    assert payload["reprintOrderItems"][0] == {
        "id": lemonade_line.id,
        "quantity": 2,
        "orderId": order.id,
        "foodId": menu["lemonade"].id,
        "notes": "",
        "unitPrice": "3.5",
        "unitSurcharge": "0",
        "total": "7",
        "food": {"id": menu["lemonade"].id, "name": "Lemonade", "printerId": menu["bar"].id},
    }
    assert len(payload["orderItems"]) == 2
    assert payload["status"] == "CONFIRMED" and payload["ticketNumber"] == 1


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
    update = {"id": order.id, "displayCode": "A01", "ticketNumber": 1, "status": "COMPLETED"}
    assert published("cashier")[-1] == ("order-status-update", update)
    assert published("display")[-1] == ("order-status-update", update)
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


def test_a_failing_publication_is_logged_and_the_other_events_still_go(
    menu, operator, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    from events import receivers

    def broken(order_id):
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr(receivers, "publish_new_order", broken)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_create(
            table="1",
            customer="Ann",
            lines=[LineInput(food_id=menu["margherita"].id, quantity=1)],
            created_by=operator,
        )
        services.order_create(
            table="2",
            customer="Bob",
            lines=[LineInput(food_id=menu["margherita"].id, quantity=1)],
            created_by=operator,
            confirmation=ConfirmInput(payment_method="CASH"),
        )
    assert Order.objects.count() == 2
    assert [kind for kind, _ in published("printer")] == ["confirmed-order"]
    assert "event log unavailable" in caplog.text
