"""One pure function per event kind: loaded models in, the contract's JSON out
(../shared/spec/API.md, sections Orders and Events). The representations are
shared with the REST API (orders.representations). Orders come loaded by
orders.selectors.order_with_items, so no builder queries."""

from __future__ import annotations

from typing import Any

from orders.models import Category, Closure, DrawerOpening, Food, Order, Printer
from orders.representations import (
    order_for_printer_repr,
    order_repr,
    order_stations_repr,
    order_summary_repr,
    reprint_repr,
)


def new_order_payload(order: Order) -> dict[str, Any]:
    """`new-order` on cashier: the full order, lines without food details."""
    return order_repr(order)


def confirmed_order_summary_payload(order: Order) -> dict[str, Any]:
    """`confirmed-order` on cashier and display."""
    return order_summary_repr(order)


def confirmed_order_printer_payload(order: Order) -> dict[str, Any]:
    """`confirmed-order` on printer: the full order, each line with its food
    and the printer it goes to."""
    return order_for_printer_repr(order)


def reprint_order_payload(order: Order, *, item_ids: list[str], receipt: bool) -> dict[str, Any]:
    """`reprint-order` on printer."""
    return reprint_repr(order, item_ids=item_ids, receipt=receipt)


def order_status_update_cashier_payload(order: Order) -> dict[str, Any]:
    """`order-status-update` on cashier: the whole order, as `new-order`
    carries it, with its new status (cashier SPAs show it as an order)."""
    return order_repr(order)


def order_status_update_display_payload(order: Order) -> dict[str, Any]:
    """`order-status-update` on display."""
    return {
        "id": order.id,
        "displayCode": order.display_code,
        "ticketNumber": order.ticket_number,
        "status": order.status,
    }


def order_cancelled_cashier_payload(order: Order) -> dict[str, Any]:
    """`order-cancelled` on cashier: the whole order, status CANCELLED."""
    return order_repr(order)


def order_cancelled_display_payload(order: Order) -> dict[str, Any]:
    """`order-cancelled` on display: the keys of `order-status-update`."""
    return order_status_update_display_payload(order)


def order_cancelled_printer_payload(order: Order) -> dict[str, Any]:
    """`order-cancelled` on printer (for an order that had been confirmed):
    enough for each kitchen printer its lines went to to print a slip."""
    printers: list[str] = []
    for item in order.items.all():
        printer_id = item.food.effective_printer_id
        if printer_id is not None and printer_id not in printers:
            printers.append(printer_id)
    return {
        "orderId": order.id,
        "ticketNumber": order.ticket_number,
        "displayCode": order.display_code,
        "customer": order.customer,
        "table": order.table,
        "status": order.status,
        "printers": printers,
    }


def availability_changed_payload(item: Food | Category) -> dict[str, Any]:
    """`food-availability-changed` / `category-availability-changed` on cashier."""
    return {"id": item.id, "available": item.available}


def printer_status_changed_payload(printer: Printer) -> dict[str, Any]:
    """`printer-status-changed` on cashier (opt-in)."""
    return {"id": printer.id, "status": printer.status}


def open_drawer_payload(opening: DrawerOpening) -> dict[str, Any]:
    """`open-drawer` on printer: the register and the printer its drawer hangs on."""
    return {"cashRegisterId": opening.cash_register_id, "printerId": opening.printer_id}


def general_closure_payload(closure: Closure) -> dict[str, Any]:
    """`general-closure` on printer: the till and the day's report, exactly
    as stored with the closure."""
    return {"cashRegister": closure.cash_register_id, "report": closure.report}


def station_progress_payload(order: Order) -> dict[str, Any]:
    """`station-progress` on display: the board's four keys of the order and
    its stations, `[{"printerId", "name", "done", "doneAt"}]`."""
    return {
        "id": order.id,
        "displayCode": order.display_code,
        "ticketNumber": order.ticket_number,
        "status": order.status,
        "stations": order_stations_repr(order),
    }
