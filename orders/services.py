"""Every write to orders goes through here: the REST views and the admin
actions call these functions, so neither can bypass a rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

import counters
from ops import metrics
from ops.patches.django import insert_together
from orders.exceptions import REFERENCE_ERROR, BadRequest, Conflict, InvalidInput, NotFound
from orders.loaded import INGREDIENTS, hold_lines_and_states
from orders.models import (
    CashRegister,
    Closure,
    DayCounter,
    DrawerOpening,
    Food,
    Order,
    OrderItem,
    OrderStationState,
    OrderStatus,
    Printer,
    Reprint,
    Station,
)
from orders.money import MAX_MONEY, ZERO, format_money, round_money
from orders.reports import build_reports, service_day_range
from orders.selectors import LINE_RELATED, foods_for_lines
from orders.signals import order_placed


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
    table: str | None = None
    items: Sequence[LineInput] | None = field(default=None)


# Status changes allowed through order_set_status. Confirmation has its own
# service (it numbers the ticket). Two steps go back, the screens' undo for a
# move made by mistake: COMPLETED → CONFIRMED and PICKED_UP → COMPLETED; the
# ticket, the lines and confirmedAt stay as they were. CANCELLED is final. A
# PICKED_UP order may still be cancelled (a refund at the till, as MySagra
# allows: clients-heads.md O8).
STATUS_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PENDING: {OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.COMPLETED, OrderStatus.CANCELLED},
    OrderStatus.COMPLETED: {OrderStatus.PICKED_UP, OrderStatus.CONFIRMED, OrderStatus.CANCELLED},
    OrderStatus.PICKED_UP: {OrderStatus.COMPLETED, OrderStatus.CANCELLED},
}


# --- service day and sequences ----------------------------------------------


def service_day(moment: datetime) -> date:
    """The service day a moment belongs to: local date, shifted back by the
    roll-over hour (06:00 by default), so a night's service keeps one day."""
    local = timezone.localtime(moment)
    return (local - timedelta(hours=settings.SERVICE_DAY_ROLLOVER_HOUR)).date()


DAY_COUNTERS = counters.Counters(DayCounter._meta.db_table, key=("day", "kind"), named_by="kind")


def _next_in_sequence(day: date, kind: str) -> int:
    """Take the next number of a per-day sequence inside the caller's
    transaction (see _next_in_sequences)."""
    return _next_in_sequences(day, [kind])[kind]


def _next_in_sequences(day: date, kinds: Sequence[str]) -> dict[str, int]:
    """Take the next number of each of a day's sequences inside the caller's
    transaction (counters.Counters.increment: one upsert that holds the counter rows'
    locks until commit, so concurrent transactions, threads or processes,
    queue on them; a rollback returns the numbers, so there are no gaps).
    Rows are locked in the order given: display before ticket, always."""
    return DAY_COUNTERS.increment([(day, kind) for kind in kinds])


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


def _foods_for(lines: Sequence[LineInput], *, field_prefix: str, allow_unavailable: bool = False) -> dict[str, Food]:
    """The lines' foods. An unknown food is a reference error (the till
    re-reads its foods); an unavailable one is refused unless the order is
    being confirmed, where staff may sell what they still have on hand
    (`allow_unavailable`: the till asks "create the order anyway?")."""
    # Everything an event's payload and the order's REST representation
    # read of a line's food, in this one query.
    foods = foods_for_lines({line.food_id for line in lines})
    missing, unavailable = [], []
    for index, line in enumerate(lines):
        food = foods.get(line.food_id)
        where = f"{field_prefix}.{index}.foodId"
        if food is None:
            missing.append({"field": where, "message": f"Food {line.food_id!r} does not exist."})
        elif not allow_unavailable and not (food.available and food.category.available):
            unavailable.append({"field": where, "message": f"{food.name} is not available"})
    if missing:
        raise InvalidInput(missing + unavailable, code=REFERENCE_ERROR)
    if unavailable:
        raise InvalidInput(unavailable)
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
    # A disabled till is a reference error too: the till then finds it
    # missing from ?enabled=true and asks for another one.
    register = CashRegister.objects.filter(pk=cash_register_id).first()
    if register is None:
        message = f"Cash register {cash_register_id!r} does not exist."
        raise InvalidInput([{"field": field_name, "message": message}], code=REFERENCE_ERROR)
    if not register.enabled:
        message = f"Cash register {register.name} is disabled."
        raise InvalidInput([{"field": field_name, "message": message}], code=REFERENCE_ERROR)
    return register


def _mark_confirmed(
    order: Order,
    *,
    by,
    confirmation: ConfirmInput,
    register: CashRegister | None,
    now: datetime,
    ticket_number: int | None = None,
) -> None:
    """`ticket_number` when the caller took it already (with the display
    code, in one statement), else it is taken here."""
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
    if confirmation.table is not None:
        order.table = confirmation.table
    order.ticket_day = day
    order.ticket_number = ticket_number if ticket_number is not None else _next_in_sequence(day, "ticket")


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
    foods = _foods_for(effective_lines, field_prefix=prefix, allow_unavailable=confirmation is not None)
    items = _priced_items(effective_lines, foods)
    _check_amounts(items, field_prefix=prefix)

    now = timezone.now()
    day = service_day(now)
    numbers = _next_in_sequences(day, ["display", "ticket"] if confirmation is not None else ["display"])
    order = Order(
        table=table,
        customer=customer,
        created_by=created_by,
        code_day=day,
        display_code=display_code_for(numbers["display"]),
    )
    if confirmation is not None:
        _mark_confirmed(
            order,
            by=created_by,
            confirmation=confirmation,
            register=register,
            now=now,
            ticket_number=numbers["ticket"],
        )
    _apply_totals(order, items)
    order.save()  # a row for the lines to point at
    for item in items:
        item.order = order
    _sync_station_states(order, items, [], status=order.status, new_items=items)
    # What announces the order: its receiver records the order's event, in
    # this transaction, with the lines and the stations' states in place
    # (a signal, not a second save: one UPDATE less per order).
    order_placed.send(sender=Order, order=order)
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
        foods = _foods_for(confirmation.items, field_prefix="orderItems", allow_unavailable=True)
        items = _priced_items(confirmation.items, foods)
        _check_amounts(items, field_prefix="orderItems")
        _replace_items(order, items)
    else:
        items = list(
            order.items.select_related(*LINE_RELATED).prefetch_related(
                Prefetch("food__ingredients", to_attr=INGREDIENTS)
            )
        )
    # Replaced lines may bring other stations: the states follow the lines.
    states = list(order.station_states.select_related("station"))
    _sync_station_states(order, items, states, status=OrderStatus.CONFIRMED)
    _mark_confirmed(order, by=by, confirmation=confirmation, register=register, now=timezone.now())
    _apply_totals(order, items)
    order.save()
    transaction.on_commit(metrics.ORDERS_CONFIRMED.inc)
    return order


def _change_status(order: Order, status: str, *, now: datetime, by_station: bool = False) -> None:
    """Save a status change. `completed_at` follows the kitchen: set when the
    order becomes COMPLETED (or PICKED_UP straight from a station without a
    completion), cleared when that is undone (back to CONFIRMED), kept when
    it moves on to PICKED_UP or back from it. `by_station` tells the events
    app that a station caused it (Order.changed_by_station)."""
    if status in (OrderStatus.COMPLETED, OrderStatus.PICKED_UP) and order.completed_at is None:
        order.completed_at = now
    elif status == OrderStatus.CONFIRMED:
        order.completed_at = None
    order.status = status
    order.status_changed_at = now
    order.changed_by_station = by_station
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
    # Every station follows a move of the whole order (before the save that
    # announces it, so its events show the stations as they now are).
    _set_all_states(order, status)
    _change_status(order, status, now=timezone.now())
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
    _set_all_states(order, OrderStatus.CONFIRMED)
    _change_status(order, OrderStatus.CONFIRMED, now=timezone.now())
    return order


# --- kitchen stations -----------------------------------------------------------------
# A station is a Station (not a printer): the station of a line is its food's
# category's. An order has one OrderStationState per station of its lines,
# created with the order and kept in step with its lines; a move of the whole
# order moves every state, and a station's own move sets its state and
# derives the order's status from all of them (ORDER_FROM_STATES).


def _sync_station_states(
    order: Order,
    items: Sequence[OrderItem],
    states: Sequence[OrderStationState],
    *,
    status: str,
    new_items: Sequence[OrderItem] = (),
) -> None:
    """Give the order a state for each station of its lines (`items`, with
    their foods' categories loaded) and none for any other: missing ones are
    created with `status`, the others are set to it; `states` are the ones
    it has. `new_items`, lines not yet written (a new order's), are inserted
    with the created states. Runs inside the caller's transaction, under the
    order's lock, and leaves the lines and the states loaded on the order,
    as orders.selectors.order_with_items would: the events that announce it
    next (its save, or order_placed) are built from them, without reading
    them again."""
    stations = {
        item.food.category.station_id: item.food.category.station
        for item in sorted(items, key=lambda item: item.position)
        if item.food.category.station_id is not None
    }
    kept = [state for state in states if state.station_id in stations]
    if len(kept) < len(states):
        order.station_states.exclude(station_id__in=list(stations)).delete()
    now = timezone.now()
    moved = [state for state in kept if state.status != status]
    if moved:
        OrderStationState.objects.filter(pk__in=[state.pk for state in moved]).update(status=status, updated_at=now)
        for state in moved:
            state.status, state.updated_at = status, now
    have = {state.station_id for state in kept}
    created = [
        OrderStationState(order=order, station=station, status=status)
        for station_id, station in stations.items()
        if station_id not in have
    ]
    insert_together(list(new_items), created)
    every = sorted([*kept, *created], key=lambda state: (state.station.position, state.station.name, state.station_id))
    hold_lines_and_states(order, sorted(items, key=lambda item: item.position), every)


def _set_all_states(order: Order, status: str) -> None:
    """A move of the whole order: every station follows it (clients-heads.md
    S7). An update, not saves: the order's own status event announces it."""
    order.station_states.exclude(status=status).update(status=status, updated_at=timezone.now())


# Statuses a station may set (clients-heads.md S5), and the order's status
# they add up to: all equal gives that status, any CONFIRMED gives CONFIRMED
# (no PARTIAL: a seed-era board lists CONFIRMED orders as "preparing"), else
# the lowest of COMPLETED and PICKED_UP.
STATION_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.COMPLETED, OrderStatus.PICKED_UP)


def order_status_from_states(statuses: Sequence[str]) -> str:
    if OrderStatus.CONFIRMED in statuses:
        return OrderStatus.CONFIRMED
    if OrderStatus.COMPLETED in statuses:
        return OrderStatus.COMPLETED
    return OrderStatus.PICKED_UP


def _station_state(order: Order, station_id: str) -> OrderStationState:
    state = order.station_states.select_related("station").filter(station_id=station_id).first()
    if state is None:
        raise NotFound("Order not found")
    return state


def _set_station_status(order: Order, state: OrderStationState, status: str) -> None:
    """Set one station's state and the order's status that follows from all
    of them. The order's save comes first: its event goes to the cashier
    only (the display hears of a station's move as order-station-status-
    update, from the state's save), and events of one transaction are
    recorded cashier before display (events/outbox/publisher.py)."""
    others = order.station_states.exclude(pk=state.pk).values_list("status", flat=True)
    derived = order_status_from_states([*others, status])
    now = timezone.now()
    if derived != order.status:
        _change_status(order, derived, now=now, by_station=True)
    state.status = status
    state.save()  # a save, never an update: its post_save records the events


@transaction.atomic
def order_station_set_status(*, order_id: int, station_id: str, status: str, by) -> OrderStationState:
    """PATCH /v1/orders/{id}/stations/{stationId}: a station moves its part
    of a confirmed order (CONFIRMED, COMPLETED or PICKED_UP) and the order's
    status follows all its stations. 404 when the order has no state for the
    station; 409 for a PENDING or CANCELLED order. Setting the status a
    state already has changes and announces nothing. The order's row lock
    makes two stations finishing at once end in exactly one completion."""
    if status not in STATION_STATUSES:
        raise InvalidInput([{"field": "status", "message": "Must be CONFIRMED, COMPLETED or PICKED_UP."}])
    order = _locked_order(order_id)
    state = _station_state(order, station_id)
    if order.status in (OrderStatus.PENDING, OrderStatus.CANCELLED):
        raise Conflict(f"A station cannot move a {order.status} order.")
    if state.status != status:
        _set_station_status(order, state, status)
    return state


def _station(order: Order, station_id: str) -> OrderStationState:
    """For the kitchen pages: an unknown station is a 404, a station with
    nothing in the order a 409 (as when stations were printers)."""
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        raise NotFound("Station not found")
    state = order.station_states.select_related("station").filter(station=station).first()
    if state is None:
        raise Conflict(f"Order {order.display_code} has nothing for {station.name}.")
    return state


@transaction.atomic
def order_station_done(*, order_id: int, station_id: str, by) -> Order:
    """The kitchen page's "Done": a station has made its lines of a
    CONFIRMED order. When it was the last station still working on the
    order, the order becomes COMPLETED (ready on the board)."""
    order = _locked_order(order_id)
    if order.status != OrderStatus.CONFIRMED:
        raise Conflict(f"Only confirmed orders can be marked done; this one is {order.status}.")
    state = _station(order, station_id)
    if state.status != OrderStatus.CONFIRMED:
        raise Conflict(f"{state.station.name} already marked order {order.display_code} done.")
    _set_station_status(order, state, OrderStatus.COMPLETED)
    return order


@transaction.atomic
def order_station_undo(*, order_id: int, station_id: str, by) -> Order:
    """The kitchen page's "Undo": take a station's done mark back. A
    COMPLETED order goes back to CONFIRMED (the other stations stay done);
    a picked-up or cancelled order is final."""
    order = _locked_order(order_id)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.COMPLETED):
        raise Conflict(f"Only confirmed or completed orders can go back to a station; this one is {order.status}.")
    state = _station(order, station_id)
    if state.status != OrderStatus.COMPLETED:
        raise Conflict(f"{state.station.name} has not marked order {order.display_code} done.")
    _set_station_status(order, state, OrderStatus.CONFIRMED)
    return order


@transaction.atomic
def station_delete(*, station_id: str) -> None:
    """Delete a station. Refused (409) while an order that is still live
    (pending, confirmed or completed) has a state for it: its screens would
    lose a column mid-service. Finished orders' states go with it; their
    categories lose the station (SET_NULL)."""
    station = Station.objects.select_for_update().filter(pk=station_id).first()
    if station is None:
        raise NotFound("Station not found")
    live = (OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.COMPLETED)
    if station.order_states.filter(order__status__in=live).exists():
        raise Conflict(f"Live orders still wait on {station.name}; delete it once they are done.")
    station.delete()


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
    closure is the fact the printers hear of (events.outbox.receivers)."""
    register = CashRegister.objects.filter(pk=cash_register_id).first()
    if register is None:
        raise NotFound("Cash register not found")
    now = timezone.now()
    day = service_day(now)
    start, end = service_day_range(day)
    report = build_reports(start=start, end=end, group_by="all")
    return Closure.objects.create(cash_register=register, service_day=day, closed_by=by, report=report)
