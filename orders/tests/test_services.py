from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from orders import services
from orders.exceptions import BadRequest, Conflict, InvalidInput, NotFound
from orders.models import DayCounter, Order, OrderItem, OrderStatus, Reprint
from orders.services import ConfirmInput, LineInput, display_code_for, service_day
from orders.tests.helpers import CASH, snapshot

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def at(*args: int, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(*args, tzinfo=tz)


def frozen(moment: datetime):
    """Services and auto_now_add both read django.utils.timezone.now, which
    gives UTC, as in production: the local day must come from TIME_ZONE."""
    return mock.patch("django.utils.timezone.now", return_value=moment.astimezone(UTC))


def confirm(order: Order, by=None, **fields) -> Order:
    confirmation = ConfirmInput(**{"payment_method": "CASH", **fields})
    return services.order_confirm(order_id=order.id, by=by, confirmation=confirmation)


def set_status(order: Order, status: str, by=None) -> Order:
    return services.order_set_status(order_id=order.id, by=by, status=status)


# --- pricing -----------------------------------------------------------------------


def test_pricing_follows_the_contract_example(place_order, menu, operator):
    order = place_order(lines=[LineInput(food_id=menu["margherita"].id, quantity=2, surcharge=Decimal("1"))])
    order = confirm(order, by=operator, discount=Decimal("2"))

    item = order.items.get()
    assert item.unit_price == Decimal("12.5")
    assert item.unit_surcharge == Decimal("0.5")
    assert item.total == Decimal("26")
    assert order.sub_total == Decimal("25")
    assert order.surcharge == Decimal("1")
    assert order.discount == Decimal("2")
    assert order.total == Decimal("24")


def test_pricing_is_stored_as_computed(place_order, menu, operator):
    order = place_order(lines=[LineInput(food_id=menu["margherita"].id, quantity=2, surcharge=Decimal("1"))])
    confirm(order, by=operator, discount=Decimal("2"))

    order = Order.objects.get(pk=order.pk)
    assert (order.sub_total, order.surcharge, order.discount, order.total) == (
        Decimal("25"),
        Decimal("1"),
        Decimal("2"),
        Decimal("24"),
    )


def test_totals_add_up_over_several_lines(place_order, menu):
    order = place_order(
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=2, surcharge=Decimal("1")),
            LineInput(food_id=menu["lemonade"].id, quantity=3),
            LineInput(food_id=menu["lemonade"].id, quantity=1, surcharge=Decimal("0.25"), notes="No ice"),
        ]
    )
    items = list(order.items.order_by("position"))
    assert [item.total for item in items] == [Decimal("26"), Decimal("10.5"), Decimal("3.75")]
    assert [item.notes for item in items] == ["", "", "No ice"]
    assert order.sub_total == Decimal("39")  # 25 + 10.5 + 3.5
    assert order.surcharge == Decimal("1.25")
    assert order.discount == Decimal("0")
    assert order.total == Decimal("40.25")


@pytest.mark.parametrize(
    ("surcharge", "quantity", "unit_surcharge"),
    [
        (Decimal("1"), 3, Decimal("0.33")),
        (Decimal("2"), 3, Decimal("0.67")),
        # 0.025 is a tie: half up gives 0.03 where banker's rounding gives 0.02.
        (Decimal("0.05"), 2, Decimal("0.03")),
        (Decimal("0"), 5, Decimal("0")),
    ],
)
def test_unit_surcharge_is_the_line_surcharge_per_unit_rounded_half_up(
    place_order, menu, surcharge, quantity, unit_surcharge
):
    order = place_order(lines=[LineInput(food_id=menu["margherita"].id, quantity=quantity, surcharge=surcharge)])
    item = order.items.get()
    assert item.unit_surcharge == unit_surcharge
    # The line total carries the exact surcharge, not unitSurcharge × quantity.
    assert item.total == Decimal("12.5") * quantity + surcharge
    assert order.surcharge == surcharge


def test_total_never_goes_below_zero(place_order, operator):
    order = confirm(place_order(), by=operator, discount=Decimal("100"))
    assert order.sub_total == Decimal("25")
    assert order.discount == Decimal("100")
    assert order.total == Decimal("0")


def test_amounts_past_what_the_database_holds_are_refused(place_order, menu):
    before = snapshot()
    with pytest.raises(InvalidInput) as excinfo:
        place_order(lines=[LineInput(food_id=menu["margherita"].id, quantity=999, surcharge=Decimal("99999999.99"))])
    assert [error["field"] for error in excinfo.value.errors] == ["orderItems.0"]

    big = [LineInput(food_id=menu["margherita"].id, quantity=1, surcharge=Decimal("50000000")) for _ in range(2)]
    with pytest.raises(InvalidInput) as excinfo:
        place_order(lines=big)
    assert [error["field"] for error in excinfo.value.errors] == ["orderItems"]
    assert snapshot() == before


def test_the_largest_order_that_fits_is_taken(place_order, menu):
    line = LineInput(food_id=menu["margherita"].id, quantity=1, surcharge=Decimal("99999987.49"))
    order = place_order(lines=[line])
    order = Order.objects.get(pk=order.pk)
    assert order.total == Decimal("99999999.99")


def test_prices_come_from_the_food_at_order_time(place_order, menu):
    order = place_order()
    menu["margherita"].price = Decimal("99")
    menu["margherita"].save()

    item = OrderItem.objects.get(order=order)
    assert item.unit_price == Decimal("12.5")
    assert Order.objects.get(pk=order.pk).total == Decimal("25")


# --- display codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "code"),
    [(1, "A01"), (2, "A02"), (99, "A99"), (100, "B01"), (198, "B99"), (199, "C01"), (2574, "Z99"), (2575, "AA01")],
)
def test_display_codes_count_a01_to_z99_then_aa01(number, code):
    assert display_code_for(number) == code


def test_display_codes_are_unique_within_a_service_day_and_restart_the_next_day(place_order, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    with frozen(at(2026, 1, 15, 19, 0)):
        first_day = [place_order().display_code for _ in range(3)]
    with frozen(at(2026, 1, 16, 6, 30)):
        second_day = place_order().display_code

    assert first_day == ["A01", "A02", "A03"]
    assert second_day == "A01"


def test_display_code_number_100_of_the_day_is_b01(place_order):
    DayCounter.objects.create(day=service_day(timezone.now()), kind="display", value=99)
    assert place_order().display_code == "B01"


# --- service day and ticket numbers ------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (at(2026, 1, 17, 1, 30), date(2026, 1, 16)),  # Saturday night, after midnight
        (at(2026, 1, 17, 5, 59), date(2026, 1, 16)),
        (at(2026, 1, 17, 6, 0), date(2026, 1, 17)),
        (at(2026, 1, 17, 6, 1), date(2026, 1, 17)),
        (at(2026, 1, 17, 23, 59), date(2026, 1, 17)),
        # 05:30 UTC is 06:30 in Berlin: the local hour decides, not UTC's.
        (datetime(2026, 1, 17, 5, 30, tzinfo=ZoneInfo("UTC")), date(2026, 1, 17)),
    ],
)
def test_the_service_day_rolls_over_at_six_local_time(settings, moment, day):
    settings.TIME_ZONE = "Europe/Berlin"
    assert service_day(moment) == day


def test_the_roll_over_hour_is_a_setting(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.SERVICE_DAY_ROLLOVER_HOUR = 4
    assert service_day(at(2026, 1, 17, 3, 59)) == date(2026, 1, 16)
    assert service_day(at(2026, 1, 17, 4, 0)) == date(2026, 1, 17)
    settings.SERVICE_DAY_ROLLOVER_HOUR = 0
    assert service_day(at(2026, 1, 16, 23, 59)) == date(2026, 1, 16)
    assert service_day(at(2026, 1, 17, 0, 0)) == date(2026, 1, 17)


def test_ticket_numbers_count_up_from_one_within_a_service_day(place_order, operator):
    orders = [place_order() for _ in range(3)]
    # Confirmed in another order than created: the confirmation numbers them.
    numbers = [confirm(order, by=operator).ticket_number for order in reversed(orders)]
    assert numbers == [1, 2, 3]
    assert [Order.objects.get(pk=order.pk).ticket_number for order in orders] == [3, 2, 1]


def test_ticket_numbering_restarts_at_one_when_the_service_day_rolls_over(place_order, operator, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    with frozen(at(2026, 1, 16, 22, 0)):
        orders = [place_order() for _ in range(4)]
    with frozen(at(2026, 1, 17, 1, 0)):
        late = confirm(orders[0], by=operator)
    with frozen(at(2026, 1, 17, 5, 59)):
        last = confirm(orders[1], by=operator)
    with frozen(at(2026, 1, 17, 6, 1)):
        first = confirm(orders[2], by=operator)
        second = confirm(orders[3], by=operator)

    assert (late.ticket_day, late.ticket_number) == (date(2026, 1, 16), 1)
    assert (last.ticket_day, last.ticket_number) == (date(2026, 1, 16), 2)
    assert (first.ticket_day, first.ticket_number) == (date(2026, 1, 17), 1)
    assert (second.ticket_day, second.ticket_number) == (date(2026, 1, 17), 2)
    assert first.confirmed_at == at(2026, 1, 17, 6, 1)


def test_an_order_created_before_the_roll_over_is_numbered_in_the_day_it_is_confirmed(place_order, operator, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    with frozen(at(2026, 1, 17, 5, 50)):
        order = place_order()
    with frozen(at(2026, 1, 17, 6, 10)):
        order = confirm(order, by=operator)
    assert order.code_day == date(2026, 1, 16)
    assert (order.ticket_day, order.ticket_number) == (date(2026, 1, 17), 1)


# --- create ---------------------------------------------------------------------------


def test_a_created_order_is_pending_with_nobody_confirming_it(place_order, waiter):
    order = place_order(created_by=waiter)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.created_by == waiter
    assert order.user is None
    assert order.cash_register is None
    assert order.ticket_number is None
    assert order.confirmed_at is None
    assert order.payment_method is None


def test_creating_with_a_confirmation_confirms_at_once(place_order, menu, operator):
    order = place_order(
        created_by=operator,
        confirm=ConfirmInput(payment_method="CARD", cash_register_id=menu["till"].id, discount=Decimal("5")),
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.ticket_number == 1
    assert order.user == operator
    assert order.cash_register == menu["till"]
    assert order.payment_method == "CARD"
    assert order.total == Decimal("20")


def test_a_confirmation_at_creation_may_replace_the_lines(place_order, menu, operator):
    order = place_order(
        created_by=operator,
        confirm=ConfirmInput(payment_method="CASH", items=[LineInput(food_id=menu["lemonade"].id, quantity=1)]),
    )
    assert [(item.food_id, item.quantity) for item in order.items.all()] == [(menu["lemonade"].id, 1)]
    assert order.total == Decimal("3.5")


@pytest.mark.parametrize("food", ["unknown", "sold_out", "closed_category"])
def test_creating_with_a_food_that_cannot_be_ordered_writes_nothing(place_order, menu, food):
    if food == "closed_category":
        menu["drinks"].available = False
        menu["drinks"].save()
    food_id = {"unknown": "nope", "sold_out": menu["sold_out"].id, "closed_category": menu["lemonade"].id}[food]
    before = snapshot()

    with pytest.raises(InvalidInput) as excinfo:
        place_order(
            lines=[LineInput(food_id=menu["margherita"].id, quantity=1), LineInput(food_id=food_id, quantity=1)]
        )

    assert [error["field"] for error in excinfo.value.errors] == ["orderItems.1.foodId"]
    assert snapshot() == before


# --- confirm --------------------------------------------------------------------------


def test_confirming_records_who_where_how_and_when(place_order, menu, operator):
    order = place_order()
    moment = datetime(2026, 1, 15, 18, 35, 12, tzinfo=ZoneInfo("UTC"))
    with frozen(moment):
        confirm(order, by=operator, cash_register_id=menu["till"].id, payment_method="CARD", customer="Jane Roe")

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert order.confirmed_at == moment
    assert order.user == operator
    assert order.cash_register == menu["till"]
    assert order.payment_method == "CARD"
    assert order.customer == "Jane Roe"
    assert order.ticket_number == 1


def test_confirming_with_lines_replaces_them_and_reprices(place_order, menu, operator):
    order = place_order()
    old_ids = list(order.items.values_list("id", flat=True))

    confirm(
        order,
        by=operator,
        discount=Decimal("1"),
        items=[
            LineInput(food_id=menu["lemonade"].id, quantity=3, surcharge=Decimal("1"), notes="Cold"),
            LineInput(food_id=menu["margherita"].id, quantity=1),
        ],
    )

    order.refresh_from_db()
    items = list(order.items.order_by("position"))
    assert [(item.food_id, item.quantity, item.notes) for item in items] == [
        (menu["lemonade"].id, 3, "Cold"),
        (menu["margherita"].id, 1, ""),
    ]
    assert [item.unit_surcharge for item in items] == [Decimal("0.33"), Decimal("0")]
    assert not OrderItem.objects.filter(id__in=old_ids).exists()
    assert order.sub_total == Decimal("23")  # 3 × 3.5 + 12.5
    assert order.surcharge == Decimal("1")
    assert order.total == Decimal("23")


def test_confirming_without_lines_keeps_the_lines_and_their_prices(place_order, menu, operator):
    order = place_order(lines=[LineInput(food_id=menu["margherita"].id, quantity=2, surcharge=Decimal("1"))])
    item_ids = list(order.items.values_list("id", flat=True))
    menu["margherita"].price = Decimal("20")
    menu["margherita"].save()

    order = confirm(order, by=operator)

    assert list(order.items.values_list("id", flat=True)) == item_ids
    assert order.total == Decimal("26")


def test_confirming_twice_is_a_conflict_and_takes_no_second_ticket(place_order, operator):
    order = confirm(place_order(), by=operator)
    before = snapshot()

    with pytest.raises(Conflict):
        confirm(order, by=operator, discount=Decimal("3"))

    assert snapshot() == before
    order.refresh_from_db()
    assert (order.ticket_number, order.discount) == (1, Decimal("0"))


def test_confirming_a_missing_order_is_not_found(db, operator):
    with pytest.raises(NotFound):
        services.order_confirm(order_id=12345, by=operator, confirmation=CASH)


@pytest.mark.parametrize("register", ["unknown", "disabled"])
def test_confirming_at_a_till_that_cannot_take_it_writes_nothing(place_order, menu, operator, register):
    if register == "disabled":
        menu["till"].enabled = False
        menu["till"].save()
    register_id = "nope" if register == "unknown" else menu["till"].id
    order = place_order()
    before = snapshot()

    with pytest.raises(InvalidInput) as excinfo:
        confirm(order, by=operator, cash_register_id=register_id)

    assert [error["field"] for error in excinfo.value.errors] == ["cashRegisterId"]
    assert snapshot() == before
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_confirming_with_an_unknown_replacement_food_keeps_the_old_lines(place_order, operator):
    order = place_order()
    item_ids = list(order.items.values_list("id", flat=True))
    before = snapshot()

    with pytest.raises(InvalidInput) as excinfo:
        confirm(order, by=operator, items=[LineInput(food_id="nope", quantity=1)])

    assert [error["field"] for error in excinfo.value.errors] == ["orderItems.0.foodId"]
    assert snapshot() == before
    assert list(order.items.values_list("id", flat=True)) == item_ids


# --- status ---------------------------------------------------------------------------


def order_in(status: str, place_order, operator) -> Order:
    order = place_order()
    if status == OrderStatus.PENDING:
        return order
    if status == OrderStatus.CANCELLED:
        return set_status(order, OrderStatus.CANCELLED)
    confirm(order, by=operator)
    if status in (OrderStatus.COMPLETED, OrderStatus.PICKED_UP):
        set_status(order, OrderStatus.COMPLETED)
    if status == OrderStatus.PICKED_UP:
        set_status(order, OrderStatus.PICKED_UP)
    return Order.objects.get(pk=order.pk)


ALLOWED = [
    ("PENDING", "CANCELLED"),
    ("CONFIRMED", "COMPLETED"),
    ("CONFIRMED", "CANCELLED"),
    ("COMPLETED", "PICKED_UP"),
    ("COMPLETED", "CANCELLED"),
    # the screens' undo steps
    ("COMPLETED", "CONFIRMED"),
    ("PICKED_UP", "COMPLETED"),
    # a refund after the food went out (clients-heads.md O8)
    ("PICKED_UP", "CANCELLED"),
]
ALL_STATUSES = [status.value for status in OrderStatus]
REFUSED = [(old, new) for old in ALL_STATUSES for new in ALL_STATUSES if (old, new) not in ALLOWED]


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_allowed_status_changes_are_made(place_order, operator, old, new):
    order = order_in(old, place_order, operator)
    assert order.status == old

    set_status(order, new, by=operator)

    order.refresh_from_db()
    assert order.status == new
    assert order.status_changed_at is not None


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_other_status_changes_are_conflicts_and_change_nothing(place_order, operator, old, new):
    order = order_in(old, place_order, operator)
    before = snapshot()

    with pytest.raises(Conflict):
        set_status(order, new, by=operator)

    assert snapshot() == before
    assert Order.objects.get(pk=order.pk).status == old


def test_refused_transitions_include_the_obvious_ones():
    # Guard against a REFUSED list that silently lost its meaning.
    assert ("PENDING", "CONFIRMED") in REFUSED  # confirmation has its own endpoint
    assert ("CANCELLED", "CANCELLED") in REFUSED
    assert ("CANCELLED", "PENDING") in REFUSED
    assert ("CONFIRMED", "CONFIRMED") in REFUSED
    assert len(REFUSED) == 25 - 8


def test_a_saved_order_tells_receivers_what_its_status_was(place_order, operator):
    order = place_order()
    # Created in one save (orders.signals.order_placed announces it once its
    # lines exist): that save saw no status, the row being new.
    assert order.status_before_save is None
    order = confirm(order, by=operator)
    assert order.status_before_save == OrderStatus.PENDING
    order = set_status(order, OrderStatus.COMPLETED)
    assert order.status_before_save == OrderStatus.CONFIRMED


# --- reprint --------------------------------------------------------------------------


def test_a_reprint_records_which_lines_the_receipt_and_who_asked(place_order, menu, operator):
    order = place_order(
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=1),
            LineInput(food_id=menu["lemonade"].id, quantity=2),
            LineInput(food_id=menu["lemonade"].id, quantity=1),
        ]
    )
    confirm(order, by=operator)
    first, second, third = order.items.order_by("position").values_list("id", flat=True)

    reprint = services.order_reprint(order_id=order.id, by=operator, item_ids=[third, first, third], receipt=True)

    reprint.refresh_from_db()
    assert reprint.order_id == order.id
    assert reprint.requested_by == operator
    assert reprint.receipt is True
    # In the order's line order, each once.
    assert reprint.item_ids == [first, third]
    assert reprint.created_at is not None


def test_a_reprint_of_the_receipt_only_records_no_lines(place_order, operator):
    order = confirm(place_order(), by=operator)
    reprint = services.order_reprint(order_id=order.id, by=operator, item_ids=[], receipt=True)
    assert (reprint.item_ids, reprint.receipt) == ([], True)


def test_a_pending_order_cannot_be_reprinted(place_order, operator):
    order = place_order()
    item_id = order.items.get().id
    with pytest.raises(BadRequest) as excinfo:
        services.order_reprint(order_id=order.id, by=operator, item_ids=[item_id], receipt=True)
    assert excinfo.value.message == "Pending orders can't be reprinted"
    assert not Reprint.objects.exists()


def test_a_reprint_of_a_line_of_another_order_is_refused(place_order, operator):
    order = confirm(place_order(), by=operator)
    other = place_order()
    with pytest.raises(InvalidInput) as excinfo:
        services.order_reprint(
            order_id=order.id, by=operator, item_ids=[order.items.get().id, other.items.get().id], receipt=False
        )
    assert [error["field"] for error in excinfo.value.errors] == ["orderItems.1"]
    assert not Reprint.objects.exists()


def test_a_reprint_asking_for_nothing_is_refused(place_order, operator):
    order = confirm(place_order(), by=operator)
    with pytest.raises(InvalidInput):
        services.order_reprint(order_id=order.id, by=operator, item_ids=[], receipt=False)
    assert not Reprint.objects.exists()


def test_a_reprint_of_a_missing_order_is_not_found(db, operator):
    with pytest.raises(NotFound):
        services.order_reprint(order_id=12345, by=operator, item_ids=[], receipt=True)
