"""What each printer event prints: pure functions from an event's payload and
the printers/registers the agent knows to a list of tickets, and one function
that draws a ticket with python-escpos.

The list of tickets of an event depends only on the payload and the
directory, in a fixed order, so that after a crash the agent finds the
ticket it was printing by its index."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WIDTH = 42  # characters per line in font A on 80 mm paper, with margins

CONFIRMED_ORDER = "confirmed-order"
REPRINT_ORDER = "reprint-order"
ORDER_CANCELLED = "order-cancelled"
OPEN_DRAWER = "open-drawer"
GENERAL_CLOSURE = "general-closure"
PRINTED_EVENTS = frozenset({CONFIRMED_ORDER, REPRINT_ORDER, ORDER_CANCELLED, OPEN_DRAWER, GENERAL_CLOSURE})


@dataclass(frozen=True)
class Directory:
    """Printers by id ({"ip", "port", "name"}) and each cash register's
    default printer id."""

    printers: dict[str, dict[str, Any]] = field(default_factory=dict)
    register_printers: dict[str, str | None] = field(default_factory=dict)

    def receipt_printer(self, cash_register_id: str | None) -> str | None:
        return self.register_printers.get(cash_register_id) if cash_register_id else None


@dataclass(frozen=True)
class Ticket:
    printer_id: str
    kind: str  # kitchen, receipt, cancellation, drawer, closure
    title: str
    lines: tuple[str, ...] = ()
    drawer: bool = False  # pulse the cash drawer (after the ticket, if it has one)


def _row(left: str, right: str) -> str:
    space = max(WIDTH - len(left) - len(right), 1)
    return f"{left}{' ' * space}{right}"


def _when(timestamp: str | None) -> str:
    if not timestamp:
        return ""
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _heading(order: dict[str, Any]) -> list[str]:
    number = order.get("ticketNumber")
    return [
        _row(f"Ticket #{number}" if number is not None else "Ticket", order.get("displayCode") or ""),
        f"Table {order.get('table', '')} - {order.get('customer', '')}",
        _when(order.get("confirmedAt")),
    ]


def _item_lines(items: Iterable[dict[str, Any]]) -> list[str]:
    lines = []
    for item in items:
        lines.append(f"{item['quantity']} x {item.get('food', {}).get('name', item.get('foodId'))}")
        if item.get("notes"):
            lines.append(f"   > {item['notes']}")
    return lines


def _by_printer(items: Iterable[dict[str, Any]], fallback: str | None) -> dict[str, list[dict[str, Any]]]:
    """Items grouped by their effective printer (lines without one go to the
    till's printer), in the order each printer first appears."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        printer = item.get("food", {}).get("printerId") or fallback
        if printer is not None:
            groups.setdefault(printer, []).append(item)
    return groups


def _kitchen_tickets(order: dict[str, Any], items, *, fallback: str | None, reprint: bool) -> list[Ticket]:
    return [
        Ticket(
            printer_id=printer,
            kind="kitchen",
            title="REPRINT" if reprint else "KITCHEN",
            lines=(*_heading(order), "-" * WIDTH, *_item_lines(group)),
        )
        for printer, group in _by_printer(items, fallback).items()
    ]


def _receipt(order: dict[str, Any], printer: str, *, reprint: bool) -> Ticket:
    """The customer's receipt; the first one of a cash payment also opens the
    till's drawer (one job, so the drawer opens only if the receipt went out)."""
    lines = [*_heading(order), "-" * WIDTH]
    for item in order.get("orderItems", []):
        name = item.get("food", {}).get("name", item.get("foodId"))
        lines.append(_row(f"{item['quantity']} x {name}"[: WIDTH - 12], item["total"]))
    lines += [
        "-" * WIDTH,
        _row("Subtotal", order.get("subTotal", "")),
        _row("Surcharge", order.get("surcharge", "")),
        _row("Discount", order.get("discount", "")),
        _row("TOTAL", order.get("total", "")),
        _row("Payment", order.get("paymentMethod") or ""),
    ]
    return Ticket(
        printer_id=printer,
        kind="receipt",
        title="RECEIPT (COPY)" if reprint else "RECEIPT",
        lines=tuple(lines),
        drawer=not reprint and order.get("paymentMethod") == "CASH",
    )


def _amount(value: Any) -> str:
    """Money as the closure carries it: a JSON number (2 decimals at most),
    or a decimal string from a server of the list era."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _closure(payload: dict[str, Any], printer: str) -> Ticket:
    lines = [f"Cash register {payload.get('cashRegister')}"]
    # One report object with numbers (today's contract); a list of reports
    # from an older server still prints.
    reports = payload.get("report") or []
    if isinstance(reports, dict):
        reports = [reports]
    for report in reports:
        lines += [
            _when(report.get("timestamp")),
            "-" * WIDTH,
            _row("Orders", str(report.get("totalOrders"))),
            _row("Cash", _amount(report.get("totalCashRevenue"))),
            _row("Card", _amount(report.get("totalCardRevenue"))),
            _row("TOTAL", _amount(report.get("totalRevenue"))),
            "-" * WIDTH,
        ]
        for category in report.get("categoryStats", []):
            lines.append(_row(f"{category['categoryName']} ({category['quantity']})", _amount(category["revenue"])))
            for food in category.get("foodStats", []):
                lines.append(_row(f"  {food['foodName']} ({food['quantity']})", _amount(food.get("revenue"))))
        lines.append("-" * WIDTH)
        for till in report.get("cashRegisterStats", []):
            lines.append(_row(str(till.get("cashRegisterName") or "-"), _amount(till.get("totalRevenue"))))
    if not any(report.get("totalOrders") for report in reports):
        lines.append("No sales.")
    return Ticket(printer_id=printer, kind="closure", title="GENERAL CLOSURE", lines=tuple(lines))


def tickets_for(event: str, payload: dict[str, Any], directory: Directory) -> list[Ticket]:
    """Every ticket an event prints, in a fixed order; [] for an event that
    prints nothing here (or whose printer is unknown: the caller logs it)."""
    if event == CONFIRMED_ORDER:
        till = directory.receipt_printer(payload.get("cashRegisterId"))
        tickets = _kitchen_tickets(payload, payload.get("orderItems", []), fallback=till, reprint=False)
        return tickets + ([_receipt(payload, till, reprint=False)] if till else [])
    if event == REPRINT_ORDER:
        till = directory.receipt_printer(payload.get("cashRegisterId"))
        tickets = _kitchen_tickets(payload, payload.get("reprintOrderItems", []), fallback=till, reprint=True)
        if payload.get("reprintReceipt") and till:
            tickets.append(_receipt(payload, till, reprint=True))
        return tickets
    if event == ORDER_CANCELLED:
        lines = (
            _row(f"Ticket #{payload.get('ticketNumber')}", payload.get("displayCode") or ""),
            f"Table {payload.get('table', '')} - {payload.get('customer', '')}",
            "Do not prepare this order.",
        )
        return [
            Ticket(printer_id=printer, kind="cancellation", title="CANCELLED", lines=lines)
            for printer in dict.fromkeys(payload.get("printers", []))
        ]
    if event == OPEN_DRAWER:
        printer = payload.get("printerId") or directory.receipt_printer(payload.get("cashRegisterId"))
        return [Ticket(printer_id=printer, kind="drawer", title="", drawer=True)] if printer else []  # no paper
    if event == GENERAL_CLOSURE:
        printer = directory.receipt_printer(payload.get("cashRegister"))
        return [_closure(payload, printer)] if printer else []
    return []


def draw(printer, ticket: Ticket, *, reference: str, possible_duplicate: bool) -> None:
    """Draw a ticket on a python-escpos printer (Network in use, Dummy in
    tests). `reference` (event id and ticket index) ends every ticket so a
    person can match a paper ticket to the event log.

    A possible duplicate never opens the drawer: a receipt that may already
    have opened it must not open it twice, and a bare pulse that may already
    have gone out is not sent again (the cashier asks again if it did not)."""
    if ticket.title:
        _print(printer, ticket, reference=reference, possible_duplicate=possible_duplicate)
    if ticket.drawer and not possible_duplicate:
        printer.cashdraw(2)


def _print(printer, ticket: Ticket, *, reference: str, possible_duplicate: bool) -> None:
    if possible_duplicate:
        printer.set(align="center", bold=True, double_height=True, double_width=True, invert=True)
        printer.textln("POSSIBLE DUPLICATE")
    printer.set(align="center", bold=True, double_height=True, double_width=True, invert=False)
    printer.textln(ticket.title)
    printer.set(align="left", bold=False, normal_textsize=True)
    for line in ticket.lines:
        printer.textln(line)
    printer.ln()
    printer.set(align="left", font="b")
    if possible_duplicate:
        printer.textln("POSSIBLE DUPLICATE: this ticket may have been printed already.")
    printer.textln(f"ref {reference}")
    printer.cut()
