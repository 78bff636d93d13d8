"""Saved facts become events here, in the transaction that saves them.

Invariant: every event is recorded (events.outbox.publisher.record) by a receiver of
the save that makes it true, inside that save's transaction, with a payload
built from what the transaction has written so far; so the fact and its
events commit or roll back together, and the payload is the fact as it was
committed. No business rule lives here: a receiver only reads what changed.

- Order: a new order's row is saved before its lines; the service sends
  orders.signals.order_placed once the lines exist, and that announces it
  (`new-order`, or `confirmed-order` for an order confirmed at creation).
  Later saves that change the status send `confirmed-order`, `order-cancelled` or
  `order-status-update` (Order.status_before_save says what it was); a
  change a station caused (Order.changed_by_station) goes to the cashier
  only, the display hearing of the station's move (events/outbox/stations.py).
- Reprint: a created reprint request is a `reprint-order`.
- Food, Category: a save that changes `available` (API or admin) is a
  `food-availability-changed` / `category-availability-changed`; the stored
  value is read (and, in a transaction, locked) just before the save.

Events of one transaction are recorded in the order of events.core.channels.CHANNELS
(cashier, display, printer): see events/outbox/publisher.py on lock order.
"""

from __future__ import annotations

from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from events.core.channels import (
    CASHIER,
    CATEGORY_AVAILABILITY_CHANGED,
    CONFIRMED_ORDER,
    DISPLAY,
    FOOD_AVAILABILITY_CHANGED,
    GENERAL_CLOSURE,
    NEW_ORDER,
    ORDER_CANCELLED,
    ORDER_STATUS_UPDATE,
    PRINTER,
    REPRINT_ORDER,
    STATION_PROGRESS,
)
from events.outbox import payloads
from events.outbox.publisher import joined_transaction, record, record_all
from orders.loaded import has_lines_and_states, station_states_of
from orders.models import Category, Closure, Food, Order, OrderStatus, Reprint
from orders.selectors import order_with_items
from orders.signals import order_placed

_AVAILABLE_BEFORE = "_events_available_before"


# --- orders ---------------------------------------------------------------------------


@receiver(post_save, sender=Order, dispatch_uid="events.order_saved")
def order_saved(sender, instance: Order, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or created:
        return  # no lines yet: order_placed announces a new order
    before, after = instance.status_before_save, instance.status
    by_station = instance.__dict__.pop("changed_by_station", False)
    if before == after:
        return
    with joined_transaction():
        if after == OrderStatus.CONFIRMED and before == OrderStatus.PENDING:
            record_confirmed_order(_loaded(instance))
        elif after == OrderStatus.CANCELLED:
            record_order_cancelled(instance.pk)
        elif by_station:
            # The display hears of it from the station's state
            # (order-station-status-update, events/outbox/stations.py), never as
            # an order-status-update: a board in station mode would drop
            # the order from its columns.
            record(
                CASHIER,
                ORDER_STATUS_UPDATE,
                payloads.order_status_update_cashier_payload(order_with_items(instance.pk)),
            )
        else:
            record_status_update(instance.pk)


@receiver(order_placed, sender=Order, dispatch_uid="events.order_placed")
def order_was_placed(sender, order: Order, **kwargs) -> None:
    with joined_transaction():
        if order.status == OrderStatus.PENDING:
            record_new_order(_loaded(order))
        elif order.status == OrderStatus.CONFIRMED:
            record_confirmed_order(_loaded(order))


def _loaded(order: Order) -> Order:
    """The saved order with its lines and stations' states, as
    orders.selectors.order_with_items loads them: the instance itself when
    the service that saved it left them loaded (orders.services
    _sync_station_states, in this transaction, under the order's lock),
    else read once."""
    if has_lines_and_states(order):
        return order
    return order_with_items(order.pk)


def record_new_order(order: Order) -> None:
    record(CASHIER, NEW_ORDER, payloads.new_order_payload(order))


def record_confirmed_order(order: Order) -> None:
    summary = payloads.confirmed_order_summary_payload(order)
    record_all(
        [
            (CASHIER, CONFIRMED_ORDER, summary),
            (DISPLAY, CONFIRMED_ORDER, payloads.confirmed_order_display_payload(order)),
            (PRINTER, CONFIRMED_ORDER, payloads.confirmed_order_printer_payload(order)),
        ]
    )


def record_status_update(order_id: int) -> None:
    order = order_with_items(order_id)
    record_all(
        [
            (CASHIER, ORDER_STATUS_UPDATE, payloads.order_status_update_cashier_payload(order)),
            (DISPLAY, ORDER_STATUS_UPDATE, payloads.order_status_update_display_payload(order)),
        ]
    )
    # Back to the kitchen (a recall, an undo): every station followed the
    # whole order (orders.services), so the kitchen pages hear that each has
    # its lines to make again. Other moves change no station's "done".
    if order.status == OrderStatus.CONFIRMED and station_states_of(order):
        record(DISPLAY, STATION_PROGRESS, payloads.station_progress_payload(order))


def record_order_cancelled(order_id: int) -> None:
    order = order_with_items(order_id)
    events = [
        (CASHIER, ORDER_CANCELLED, payloads.order_cancelled_cashier_payload(order)),
        (DISPLAY, ORDER_CANCELLED, payloads.order_cancelled_display_payload(order)),
    ]
    # Only a confirmed order reached the kitchen; a ticket number says it was.
    if order.ticket_number is not None:
        events.append((PRINTER, ORDER_CANCELLED, payloads.order_cancelled_printer_payload(order)))
    record_all(events)


@receiver(post_save, sender=Reprint, dispatch_uid="events.reprint_saved")
def reprint_saved(sender, instance: Reprint, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        with joined_transaction():
            order = order_with_items(instance.order_id)
            payload = payloads.reprint_order_payload(order, item_ids=list(instance.item_ids), receipt=instance.receipt)
            record(PRINTER, REPRINT_ORDER, payload)


@receiver(post_save, sender=Closure, dispatch_uid="events.closure_saved")
def closure_saved(sender, instance: Closure, created: bool, raw: bool = False, **kwargs) -> None:
    # The report is stored on the row, so the payload is complete now and
    # is recorded in the closure's own transaction.
    if created and not raw:
        with joined_transaction():
            record(PRINTER, GENERAL_CLOSURE, payloads.general_closure_payload(instance))


# --- menu availability ------------------------------------------------------------------

AVAILABILITY_EVENTS = {Food: FOOD_AVAILABILITY_CHANGED, Category: CATEGORY_AVAILABILITY_CHANGED}


@receiver(pre_save, sender=Food, dispatch_uid="events.food_before_save")
@receiver(pre_save, sender=Category, dispatch_uid="events.category_before_save")
def availability_before_save(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    """Remember the stored `available` of a row about to be updated. In a
    transaction the row is locked from here to the commit, so two concurrent
    toggles are seen one after the other and each event is a real change."""
    instance.__dict__.pop(_AVAILABLE_BEFORE, None)
    if raw or instance._state.adding or (update_fields is not None and "available" not in update_fields):
        return
    rows = sender.objects.filter(pk=instance.pk)
    if connection.in_atomic_block:
        # NO KEY: an order being placed holds a key-share lock on its foods
        # (the lines' foreign keys); a toggle need not wait for it.
        rows = rows.select_for_update(no_key=True)
    stored = rows.values_list("available", flat=True).first()
    if stored is not None:
        setattr(instance, _AVAILABLE_BEFORE, stored)


@receiver(post_save, sender=Food, dispatch_uid="events.food_saved")
@receiver(post_save, sender=Category, dispatch_uid="events.category_saved")
def availability_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    before = instance.__dict__.pop(_AVAILABLE_BEFORE, None)
    if raw or created or before is None or before == instance.available:
        return
    with joined_transaction():
        record(CASHIER, AVAILABILITY_EVENTS[sender], payloads.availability_changed_payload(instance))
