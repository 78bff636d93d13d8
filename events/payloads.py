"""One pure function per event kind: loaded models in, the contract's JSON out.
The representations are shared with the REST API (orders.representations)."""

from __future__ import annotations

from typing import Any

from orders.models import Closure, DrawerOpening, Order, Printer
from orders.representations import order_for_printer_repr, order_repr, order_summary_repr, reprint_repr


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


def order_status_update_payload(order: Order) -> dict[str, Any]:
    """`order-status-update` on cashier and display."""
    return {
        "id": order.id,
        "displayCode": order.display_code,
        "ticketNumber": order.ticket_number,
        "status": order.status,
    }


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
