"""What each printer event prints: pure functions from an event's payload and
the printers/registers the agent knows to a list of tickets, and one function
that draws a ticket with python-escpos.

The list of tickets of an event depends only on the payload and the
directory, in a fixed order, so that after a crash the agent finds the
ticket it was printing by its index.

Tickets speak the festival's language (LANGUAGE_CODE, it or en, as the
server's pages) from the project's catalogue (locale/), read with the
standard library's gettext; amounts are shown by orders.money.display_money
(pure Python) and times in TIME_ZONE (default Europe/Rome)."""

from __future__ import annotations

import gettext as gettext_module
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orders.money import display_money

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DATE_FORMATS = {"it": "%d/%m/%Y %H:%M", "en": "%Y-%m-%d %H:%M"}

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


@dataclass(frozen=True)
class Words:
    """A ticket language: its gettext, its money and its date format."""

    language: str
    gettext: Callable[[str], str]

    def money(self, amount: str | float | None) -> str:
        """An amount as the API writes it (a decimal string) or as the
        closure carries it (a JSON number, at most 2 decimals)."""
        if amount is None or amount == "" or isinstance(amount, bool):
            return ""
        return display_money(str(amount) if isinstance(amount, int | float) else amount, self.language)

    def when(self, timestamp: str | None) -> str:
        if not timestamp:
            return ""
        try:
            moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            return timestamp
        try:
            zone = ZoneInfo(os.environ.get("TIME_ZONE") or "Europe/Rome")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return moment.astimezone(zone).strftime(DATE_FORMATS[self.language])


@lru_cache
def words(language: str | None = None) -> Words:
    """The words of `language` (default: LANGUAGE_CODE, else Italian)."""
    code = (language or os.environ.get("LANGUAGE_CODE") or "it")[:2]
    code = code if code in DATE_FORMATS else "it"
    catalogue = gettext_module.translation("django", localedir=LOCALE_DIR, languages=[code], fallback=True)
    return Words(language=code, gettext=catalogue.gettext)


def _heading(order: dict[str, Any], w: Words) -> list[str]:
    _ = w.gettext
    number = order.get("ticketNumber")
    return [
        _row(
            _("Ticket #{number}").format(number=number) if number is not None else _("Ticket"),
            order.get("displayCode") or "",
        ),
        _("Table {table} - {customer}").format(table=order.get("table", ""), customer=order.get("customer", "")),
        w.when(order.get("confirmedAt")),
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


def _kitchen_tickets(order: dict[str, Any], items, *, fallback: str | None, reprint: bool, w: Words) -> list[Ticket]:
    _ = w.gettext
    return [
        Ticket(
            printer_id=printer,
            kind="kitchen",
            title=_("REPRINT") if reprint else _("KITCHEN"),
            lines=(*_heading(order, w), "-" * WIDTH, *_item_lines(group)),
        )
        for printer, group in _by_printer(items, fallback).items()
    ]


def _receipt(order: dict[str, Any], printer: str, *, reprint: bool, w: Words) -> Ticket:
    """The customer's receipt; the first one of a cash payment also opens the
    till's drawer (one job, so the drawer opens only if the receipt went out)."""
    _ = w.gettext
    methods = {"CASH": _("Cash"), "CARD": _("Card")}
    lines = [*_heading(order, w), "-" * WIDTH]
    for item in order.get("orderItems", []):
        name = item.get("food", {}).get("name", item.get("foodId"))
        lines.append(_row(f"{item['quantity']} x {name}"[: WIDTH - 14], w.money(item["total"])))
    method = order.get("paymentMethod") or ""
    lines += [
        "-" * WIDTH,
        _row(_("Subtotal"), w.money(order.get("subTotal"))),
        _row(_("Surcharge"), w.money(order.get("surcharge"))),
        _row(_("Discount"), w.money(order.get("discount"))),
        _row(_("TOTAL"), w.money(order.get("total"))),
        _row(_("Payment"), methods.get(method, method)),
    ]
    return Ticket(
        printer_id=printer,
        kind="receipt",
        title=_("RECEIPT (COPY)") if reprint else _("RECEIPT"),
        lines=tuple(lines),
        drawer=not reprint and order.get("paymentMethod") == "CASH",
    )


def _closure(payload: dict[str, Any], printer: str, w: Words) -> Ticket:
    _ = w.gettext
    lines = [_("Cash register {name}").format(name=payload.get("cashRegister"))]
    # One report object with numbers (today's contract); a list of reports
    # from an older server still prints.
    reports = payload.get("report") or []
    if isinstance(reports, dict):
        reports = [reports]
    for report in reports:
        lines += [
            w.when(report.get("timestamp")),
            "-" * WIDTH,
            _row(_("Orders"), str(report.get("totalOrders"))),
            _row(_("Cash"), w.money(report.get("totalCashRevenue"))),
            _row(_("Card"), w.money(report.get("totalCardRevenue"))),
            _row(_("TOTAL"), w.money(report.get("totalRevenue"))),
            "-" * WIDTH,
        ]
        for category in report.get("categoryStats", []):
            lines.append(_row(f"{category['categoryName']} ({category['quantity']})", w.money(category["revenue"])))
            for food in category.get("foodStats", []):
                lines.append(_row(f"  {food['foodName']} ({food['quantity']})", w.money(food["revenue"])))
        lines.append("-" * WIDTH)
        for till in report.get("cashRegisterStats", []):
            lines.append(_row(str(till.get("cashRegisterName") or "-"), w.money(till.get("totalRevenue"))))
    if not any(report.get("totalOrders") for report in reports):
        lines.append(_("No sales."))
    return Ticket(printer_id=printer, kind="closure", title=_("GENERAL CLOSURE"), lines=tuple(lines))


def tickets_for(
    event: str, payload: dict[str, Any], directory: Directory, *, language: str | None = None
) -> list[Ticket]:
    """Every ticket an event prints, in a fixed order; [] for an event that
    prints nothing here (or whose printer is unknown: the caller logs it).
    `language`: it or en (default: LANGUAGE_CODE, else Italian)."""
    w = words(language)
    _ = w.gettext
    if event == CONFIRMED_ORDER:
        till = directory.receipt_printer(payload.get("cashRegisterId"))
        tickets = _kitchen_tickets(payload, payload.get("orderItems", []), fallback=till, reprint=False, w=w)
        return tickets + ([_receipt(payload, till, reprint=False, w=w)] if till else [])
    if event == REPRINT_ORDER:
        till = directory.receipt_printer(payload.get("cashRegisterId"))
        tickets = _kitchen_tickets(payload, payload.get("reprintOrderItems", []), fallback=till, reprint=True, w=w)
        if payload.get("reprintReceipt") and till:
            tickets.append(_receipt(payload, till, reprint=True, w=w))
        return tickets
    if event == ORDER_CANCELLED:
        lines = (
            _row(_("Ticket #{number}").format(number=payload.get("ticketNumber")), payload.get("displayCode") or ""),
            _("Table {table} - {customer}").format(
                table=payload.get("table", ""), customer=payload.get("customer", "")
            ),
            _("Do not prepare this order."),
        )
        return [
            Ticket(printer_id=printer, kind="cancellation", title=_("CANCELLED"), lines=lines)
            for printer in dict.fromkeys(payload.get("printers", []))
        ]
    if event == OPEN_DRAWER:
        printer = payload.get("printerId") or directory.receipt_printer(payload.get("cashRegisterId"))
        return [Ticket(printer_id=printer, kind="drawer", title="", drawer=True)] if printer else []  # no paper
    if event == GENERAL_CLOSURE:
        printer = directory.receipt_printer(payload.get("cashRegister"))
        return [_closure(payload, printer, w)] if printer else []
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
        printer.textln(words().gettext("POSSIBLE DUPLICATE"))
    printer.set(align="center", bold=True, double_height=True, double_width=True, invert=False)
    printer.textln(ticket.title)
    printer.set(align="left", bold=False, normal_textsize=True)
    for line in ticket.lines:
        printer.textln(line)
    printer.ln()
    printer.set(align="left", font="b")
    if possible_duplicate:
        printer.textln(words().gettext("POSSIBLE DUPLICATE: this ticket may have been printed already."))
    printer.textln(f"ref {reference}")
    printer.cut()
