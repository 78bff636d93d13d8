"""Facts from the orders app become events here. Receivers decide which
events a save means and defer the work to on_commit; payloads are built
after the commit, when the order's lines exist."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from events import payloads
from events.channels import (
    CASHIER,
    CONFIRMED_ORDER,
    DISPLAY,
    GENERAL_CLOSURE,
    NEW_ORDER,
    ORDER_STATUS_UPDATE,
    PRINTER,
    REPRINT_ORDER,
)
from events.publisher import publish, record
from orders.models import Closure, Order, OrderStatus, Reprint
from orders.selectors import order_with_items


def _after_commit(func, *args) -> None:
    """Run func(*args) once the transaction commits. robust: a failure to
    publish is logged and does not stop the other callbacks nor turn the
    client's committed order into a 500 (the log then lacks that event)."""

    def after_commit() -> None:
        func(*args)

    # Django names the callback in its error log: a functools.partial has no
    # __qualname__, and the logging itself would then raise.
    after_commit.__qualname__ = f"{func.__qualname__}{args!r}"
    transaction.on_commit(after_commit, robust=True)


@receiver(post_save, sender=Order, dispatch_uid="events.order_saved")
def order_saved(sender, instance: Order, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    before = None if created else getattr(instance, "status_before_save", None)
    after = instance.status
    if created and after == OrderStatus.PENDING:
        _after_commit(publish_new_order, instance.pk)
    elif after == OrderStatus.CONFIRMED and before in (None, OrderStatus.PENDING):
        _after_commit(publish_confirmed_order, instance.pk)
    elif before is not None and before != after:
        # Snapshot now: a later change must not rewrite this one's payload.
        _after_commit(publish_status_update, payloads.order_status_update_payload(instance))


@receiver(post_save, sender=Reprint, dispatch_uid="events.reprint_saved")
def reprint_saved(sender, instance: Reprint, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        _after_commit(publish_reprint, instance.order_id, list(instance.item_ids), instance.receipt)


@receiver(post_save, sender=Closure, dispatch_uid="events.closure_saved")
def closure_saved(sender, instance: Closure, created: bool, raw: bool = False, **kwargs) -> None:
    # The report is stored on the row, so the payload is complete now and
    # is recorded in the closure's own transaction.
    if created and not raw:
        record(PRINTER, GENERAL_CLOSURE, payloads.general_closure_payload(instance))


def publish_new_order(order_id: int) -> None:
    order = order_with_items(order_id)
    publish(CASHIER, NEW_ORDER, payloads.new_order_payload(order))


def publish_confirmed_order(order_id: int) -> None:
    order = order_with_items(order_id)
    summary = payloads.confirmed_order_summary_payload(order)
    # Printers first: the kitchen's ticket matters more than the screens.
    publish(PRINTER, CONFIRMED_ORDER, payloads.confirmed_order_printer_payload(order))
    publish(CASHIER, CONFIRMED_ORDER, summary)
    publish(DISPLAY, CONFIRMED_ORDER, summary)


def publish_reprint(order_id: int, item_ids: list[str], receipt: bool) -> None:
    order = order_with_items(order_id)
    publish(PRINTER, REPRINT_ORDER, payloads.reprint_order_payload(order, item_ids=item_ids, receipt=receipt))


def publish_status_update(payload: dict) -> None:
    publish(CASHIER, ORDER_STATUS_UPDATE, payload)
    publish(DISPLAY, ORDER_STATUS_UPDATE, payload)
