"""Every write to orders goes through here: the REST views and the admin
actions call these functions, so neither can bypass a rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ops import metrics
from orders.exceptions import BadRequest, Conflict, InvalidInput, NotFound
from orders.models import (
    CashRegister,
    Closure,
    DayCounter,
    DrawerOpening,
    Food,
    Order,
    OrderItem,
    OrderStatus,
    Printer,
    Reprint,
    StationMark,
)
from orders.money import MAX_MONEY, ZERO, format_money, round_money
from orders.reports import build_reports, service_day_range


@dataclass(frozen=True)
class LineInput:
    food_id: str
    quantity: int
    notes: str = ""
    surcharge: Decimal = ZERO


@dataclass(frozen=True)
class ConfirmInput:
    payment_method: str
    cash_register_id: str | None = None
    discount: Decimal = ZERO
    customer: str | None = None
    items: Sequence[LineInput] | None = field(default=None)


# Status changes allowed through order_set_status. Confirmation has its own
# service (it numbers the ticket). Two steps go back, the screens' undo for a
# move made by mistake: COMPLETED → CONFIRMED and PICKED_UP → COMPLETED; the
# ticket, the lines and confirmedAt stay as they were. CANCELLED is final, and
# so is PICKED_UP for cancelling: the food has been handed out.
STATUS_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PENDING: {OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.COMPLETED, OrderStatus.CANCELLED},
    OrderStatus.COMPLETED: {OrderStatus.PICKED_UP, OrderStatus.CONFIRMED, OrderStatus.CANCELLED},
    OrderStatus.PICKED_UP: {OrderStatus.COMPLETED},
}


# --- service day and sequences ----------------------------------------------


def service_day(moment: datetime) -> date:
    """The service day a moment belongs to: local date, shifted back by the
    roll-over hour (06:00 by default), so a night's service keeps one day."""
    local = timezone.localtime(moment)
    return (local - timedelta(hours=settings.SERVICE_DAY_ROLLOVER_HOUR)).date()


def _next_in_sequence(day: date, kind: str) -> int:
    """Take the next number of a per-day sequence inside the caller's
    transaction. The upsert is one statement that holds the counter row's
    lock until commit, so concurrent transactions (threads or processes)
    queue on it; a rollback returns the number, so there are no gaps."""
    assert connection.in_atomic_block, "sequence numbers must be taken inside the transaction that uses them"
    table = DayCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, kind, value) VALUES (%s, %s, 1) "
            f"ON CONFLICT (day, kind) DO UPDATE SET value = {table}.value + 1 "
            "RETURNING value",
            [day, kind],
        )
        return cursor.fetchone()[0]


def display_code_for(number: int) -> str:
    """1 → A01 … 99 → A99, 100 → B01 … 2574 → Z99, 2575 → AA01: short, and
    easy to read out across a counter."""
    block, within = divmod(number - 1, 99)
    letters = ""
    block += 1
    while block > 0:
        block, rest = divmod(block - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{within + 1:02d}"


# --- pricing ------------------------------------------------------------------


def _foods_for(lines: Sequence[LineInput], *, field_prefix: str) -> dict[str, Food]:
    ids = {line.food_id for line in lines}
    foods = Food.objects.select_related("category").in_bulk(ids)
    errors = []
    for index, line in enumerate(lines):
        food = foods.get(line.food_id)
        where = f"{field_prefix}.{index}.foodId"
        if food is None:
            errors.append({"field": where, "message": f"Food {line.food_id!r} does not exist."})
        elif not (food.available and food.category.available):
            errors.append({"field": where, "message": f"{food.name} is not available"})
    if errors:
        raise InvalidInput(errors)
    return foods


def _priced_items(lines: Sequence[LineInput], foods: dict[str, Food]) -> list[OrderItem]:
    """Prices come from the food, never from the client. The line surcharge is
    for the whole line; unitSurcharge is its share per unit, rounded."""
    items = []
    for position, line in enumerate(lines):
        food = foods[line.food_id]
        surcharge = round_money(line.surcharge)
        items.append(
            OrderItem(
                food=food,
                position=position,
                quantity=line.quantity,
                unit_price=food.price,
                unit_surcharge=round_money(surcharge / line.quantity),
                total=round_money(food.price * line.quantity + surcharge),
                notes=line.notes,
            )
        )
    return items


def _check_amounts(items: Sequence[OrderItem], *, field_prefix: str) -> None:
    """Every amount must fit DecimalField(max_digits=10): a larger one fails
    on PostgreSQL and, worse, is stored by SQLite and then crashes every read
    of the order. Line totals bound all the order's amounts (the sub-total
    and the surcharge are parts of their sum; the total is at most it)."""
    errors = [
        {"field": f"{field_prefix}.{index}", "message": f"The line's total must not exceed {format_money(MAX_MONEY)}."}
        for index, item in enumerate(items)
        if item.total > MAX_MONEY
    ]
    if not errors and sum((item.total for item in items), ZERO) > MAX_MONEY:
        errors.append(
            {"field": field_prefix, "message": f"The order's total must not exceed {format_money(MAX_MONEY)}."}
        )
    if errors:
        raise InvalidInput(errors)


def _apply_totals(order: Order, items: Sequence[OrderItem]) -> None:
    order.sub_total = round_money(sum((item.unit_price * item.quantity for item in items), ZERO))
    order.surcharge = round_money(sum((item.total for item in items), ZERO) - order.sub_total)
    order.total = max(round_money(order.sub_total + order.surcharge - order.discount), ZERO)


def _add_items(order: Order, items: list[OrderItem]) -> None:
    for item in items:
        item.order = order
    OrderItem.objects.bulk_create(items)


def _replace_items(order: Order, items: list[OrderItem]) -> None:
    order.items.all().delete()
    _add_items(order, items)


# --- confirmation ---------------------------------------------------------------


def _enabled_cash_register(cash_register_id: str | None, *, field_name: str) -> CashRegister | None:
    if cash_register_id is None:
        return None
    register = CashRegister.objects.filter(pk=cash_register_id).first()
    if register is None:
        raise InvalidInput([{"field": field_name, "message": f"Cash register {cash_register_id!r} does not exist."}])
    if not register.enabled:
        raise InvalidInput([{"field": field_name, "message": f"Cash register {register.name} is disabled."}])
    return register


def _mark_confirmed(
    order: Order, *, by, confirmation: ConfirmInput, register: CashRegister | None, now: datetime
) -> None:
    day = service_day(now)
    order.status = OrderStatus.CONFIRMED
    order.confirmed_at = now
    order.status_changed_at = now
    order.user = by
    order.cash_register = register
    order.payment_method = confirmation.payment_method
    order.discount = round_money(confirmation.discount)
    if confirmation.customer is not None:
        order.customer = confirmation.customer
    order.ticket_day = day
    order.ticket_number = _next_in_sequence(day, "ticket")


@transaction.atomic
def order_create(
    *,
    table: str,
    customer: str,
    lines: Sequence[LineInput],
    created_by=None,
    confirmation: ConfirmInput | None = None,
) -> Order:
    """Create an order, PENDING, or confirmed at once when `confirmation` is
    given (its lines, when given, replace the created ones)."""
    effective_lines = lines
    register = None
    if confirmation is not None:
        register = _enabled_cash_register(confirmation.cash_register_id, field_name="confirm.cashRegisterId")
        if confirmation.items is not None:
            effective_lines = confirmation.items
    prefix = "confirm.orderItems" if effective_lines is not lines else "orderItems"
    foods = _foods_for(effective_lines, field_prefix=prefix)
    items = _priced_items(effective_lines, foods)
    _check_amounts(items, field_prefix=prefix)

    now = timezone.now()
    day = service_day(now)
    order = Order(
        table=table,
        customer=customer,
        created_by=created_by,
        code_day=day,
        display_code=display_code_for(_next_in_sequence(day, "display")),
    )
    if confirmation is not None:
        _mark_confirmed(order, by=created_by, confirmation=confirmation, register=register, now=now)
    _apply_totals(order, items)
    order.save()  # a row for the lines to point at
    _add_items(order, items)
    # The save that announces the order: its post_save receiver records the
    # order's event, in this transaction, with the lines in place.
    order.save()
    transaction.on_commit(metrics.ORDERS_CREATED.inc)
    if confirmation is not None:
        transaction.on_commit(metrics.ORDERS_CONFIRMED.inc)
    return order


def _locked_order(order_id: int) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("Order not found") from None


@transaction.atomic
def order_confirm(*, order_id: int, by, confirmation: ConfirmInput) -> Order:
    """Confirm a PENDING order: numbers the ticket, records who and where,
    applies the discount and, when given, the replacement lines. The row lock
    makes two concurrent confirmations of one order end in exactly one win."""
    order = _locked_order(order_id)
    if order.status != OrderStatus.PENDING:
        raise Conflict(f"Only pending orders can be confirmed; this one is {order.status}.")
    register = _enabled_cash_register(confirmation.cash_register_id, field_name="cashRegisterId")
    if confirmation.items is not None:
        foods = _foods_for(confirmation.items, field_prefix="orderItems")
        items = _priced_items(confirmation.items, foods)
        _check_amounts(items, field_prefix="orderItems")
        _replace_items(order, items)
    else:
        items = list(order.items.all())
    _mark_confirmed(order, by=by, confirmation=confirmation, register=register, now=timezone.now())
    _apply_totals(order, items)
    order.save()
    transaction.on_commit(metrics.ORDERS_CONFIRMED.inc)
    return order


def _change_status(order: Order, status: str, *, now: datetime) -> None:
    """Save a status change. `completed_at` follows the kitchen: set when a
    CONFIRMED order becomes COMPLETED, cleared when that is undone (back to
    CONFIRMED), kept when it moves on to PICKED_UP or back from it."""
    if status == OrderStatus.COMPLETED and order.status == OrderStatus.CONFIRMED:
        order.completed_at = now
    elif status == OrderStatus.CONFIRMED:
        order.completed_at = None
    order.status = status
    order.status_changed_at = now
    order.save(update_fields=["status", "status_changed_at", "completed_at"])


@transaction.atomic
def order_set_status(*, order_id: int, by, status: str) -> Order:
    """Move an order along STATUS_TRANSITIONS (cancelling included); any
    other move is a 409 and writes nothing. The row lock orders concurrent
    moves of one order, so each is checked against the status it really
    follows; the saved status is what tells the screens (post_save)."""
    order = _locked_order(order_id)
    if status not in STATUS_TRANSITIONS.get(order.status, set()):
        raise Conflict(f"An order cannot go from {order.status} to {status}.")
    undo = order.status == OrderStatus.COMPLETED and status == OrderStatus.CONFIRMED
    _change_status(order, status, now=timezone.now())
    if undo:
        _reopen_stations(order)
    return order


@transaction.atomic
def order_reprint(*, order_id: int, by, item_ids: Sequence[str], receipt: bool) -> Reprint:
    """Record a reprint request; the printers hear of it once it commits."""
    if not item_ids and not receipt:
        raise InvalidInput([{"field": "orderItems", "message": "Ask for at least one item or the receipt."}])
    order = _locked_order(order_id)
    if order.status == OrderStatus.PENDING:
        raise BadRequest("Pending orders can't be reprinted")
    known = set(order.items.values_list("id", flat=True))
    errors = [
        {"field": f"orderItems.{index}", "message": f"Item {item_id!r} is not in this order."}
        for index, item_id in enumerate(item_ids)
        if item_id not in known
    ]
    if errors:
        raise InvalidInput(errors)
    # Keep the order's line order and drop repeats: a printer prints each once.
    wanted = set(item_ids)
    ordered_ids = [item_id for item_id in order.items.values_list("id", flat=True) if item_id in wanted]
    return Reprint.objects.create(order=order, requested_by=by, item_ids=ordered_ids, receipt=receipt)


@transaction.atomic
def order_recall(*, order_id: int, by) -> Order:
    """Bring a bumped order back to the kitchen: COMPLETED → CONFIRMED, the
    kitchen's undo for a bump made by mistake. The ticket, the lines and
    confirmedAt stay as they were, so the card returns to its place among the
    oldest. The locked row makes a recall and a pick-up at the same moment end
    in one winner; the status save is what tells the screens (post_save)."""
    order = _locked_order(order_id)
    if order.status != OrderStatus.COMPLETED:
        raise Conflict(f"Only completed orders can be recalled; this one is {order.status}.")
    _change_status(order, OrderStatus.CONFIRMED, now=timezone.now())
    _reopen_stations(order)
    return order


def _reopen_stations(order: Order) -> None:
    """The whole order is back in the kitchen: every station has its lines
    to make again."""
    for mark in order.station_marks.filter(done_at__isnull=False).order_by("printer__name", "printer_id"):
        _set_mark(mark, done_at=None, by=None)


# --- kitchen stations -----------------------------------------------------------------
# A station is a printer: the effective printer of a line (the food's, else
# its category's). Lines without one belong to no station. An order is done
# when every station with lines in it is done; the all-stations bump
# (order_set_status COMPLETED) completes it whatever the marks say.


def order_station_ids(order: Order) -> list[str]:
    """The stations with lines in the order, in the order of its lines."""
    seen: dict[str, None] = {}
    for item in order.items.select_related("food__category"):
        printer_id = item.food.effective_printer_id
        if printer_id is not None:
            seen.setdefault(printer_id, None)
    return list(seen)


def _station(order: Order, printer_id: str) -> Printer:
    printer = Printer.objects.filter(pk=printer_id).first()
    if printer is None:
        raise NotFound("Printer not found")
    if printer.pk not in order_station_ids(order):
        raise Conflict(f"Order {order.display_code} has nothing for {printer.name}.")
    return printer


def _set_mark(mark: StationMark, *, done_at: datetime | None, by) -> None:
    # A save (never a queryset update): the mark's post_save is what records
    # the station-progress event.
    mark.done_at = done_at
    mark.done_by = by
    mark.save()


@transaction.atomic
def order_station_done(*, order_id: int, printer_id: str, by) -> Order:
    """A station has made its lines of a CONFIRMED order. When it was the
    last station still working on the order, the order becomes COMPLETED
    (ready on the board). The order's row lock makes two stations finishing
    at once end with exactly one completion."""
    order = _locked_order(order_id)
    if order.status != OrderStatus.CONFIRMED:
        raise Conflict(f"Only confirmed orders can be marked done; this one is {order.status}.")
    printer = _station(order, printer_id)
    mark, _ = StationMark.objects.get_or_create(order=order, printer=printer)
    if mark.done_at is not None:
        raise Conflict(f"{printer.name} already marked order {order.display_code} done.")
    now = timezone.now()
    _set_mark(mark, done_at=now, by=by)
    stations = set(order_station_ids(order))
    done = set(order.station_marks.filter(done_at__isnull=False).values_list("printer_id", flat=True))
    if stations <= done:
        _change_status(order, OrderStatus.COMPLETED, now=now)
    return order


@transaction.atomic
def order_station_undo(*, order_id: int, printer_id: str, by) -> Order:
    """Undo a station's done mark. A COMPLETED order goes back to CONFIRMED
    (the other stations stay done); a picked-up or cancelled order is final."""
    order = _locked_order(order_id)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.COMPLETED):
        raise Conflict(f"Only confirmed or completed orders can go back to a station; this one is {order.status}.")
    printer = _station(order, printer_id)
    mark = order.station_marks.filter(printer=printer, done_at__isnull=False).first()
    if mark is None:
        raise Conflict(f"{printer.name} has not marked order {order.display_code} done.")
    if order.status == OrderStatus.COMPLETED:
        _change_status(order, OrderStatus.CONFIRMED, now=timezone.now())
    _set_mark(mark, done_at=None, by=None)
    return order


# --- devices: printers and cash drawers --------------------------------------


@transaction.atomic
def printer_update(*, printer_id: str, changes: dict[str, Any]) -> Printer:
    """Apply validated field changes (model field names) to a printer. A new
    `status` stamps `status_changed_at`; the same status reported again
    stamps nothing (agents report on every reconnect), so the receivers hear
    of real changes only. The row lock makes two racing reports queue, so
    each sees the status the other left."""
    printer = Printer.objects.select_for_update().filter(pk=printer_id).first()
    if printer is None:
        raise NotFound("Printer not found")
    before = printer.status
    for name, value in changes.items():
        setattr(printer, name, value)
    if printer.status != before:
        printer.status_changed_at = timezone.now()
    printer.save()
    return printer


@transaction.atomic
def cash_register_open_drawer(*, cash_register_id: str, by) -> DrawerOpening:
    """Record a request to open the register's drawer; its default printer
    (which the drawer hangs on) hears of it once this commits."""
    register = CashRegister.objects.select_related("default_printer").filter(pk=cash_register_id).first()
    if register is None:
        raise NotFound("Cash register not found")
    if register.default_printer is None:
        raise Conflict("This cash register has no default printer, so it has no drawer to open.")
    return DrawerOpening.objects.create(cash_register=register, printer=register.default_printer, requested_by=by)


# --- closures -------------------------------------------------------------------


@transaction.atomic
def general_closure_create(*, cash_register_id: str, by) -> Closure:
    """Close the current service day at a till: the day's report (one
    interval, `all`) is computed and stored with the closure in one
    transaction, so what the printer prints is what was saved. Saving the
    closure is the fact the printers hear of (events.receivers)."""
    register = CashRegister.objects.filter(pk=cash_register_id).first()
    if register is None:
        raise NotFound("Cash register not found")
    now = timezone.now()
    day = service_day(now)
    start, end = service_day_range(day)
    report = build_reports(start=start, end=end, group_by="all")
    return Closure.objects.create(cash_register=register, service_day=day, closed_by=by, report=report)
