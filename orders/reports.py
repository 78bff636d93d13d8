"""Sales reports: the figures of `GET /v1/reports`, the general closure and the
admin's day page.

Invariant: every figure is computed by the database (aggregates over orders
and their lines, grouped by the interval their confirmation falls in); Python
only arranges the aggregated rows, so a report costs three queries whatever
the number of orders. Revenue counts CONFIRMED, COMPLETED and PICKED_UP
orders, never PENDING or CANCELLED, in the interval of their `confirmed_at`.

Intervals are aligned on the local time zone: `1h`, `4h` and `12h` start at
local midnight plus a multiple of their length, `day` is the service day
(starting at SERVICE_DAY_ROLLOVER_HOUR, so a night's service stays one day),
and `all` is the whole requested range [from, to).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, ExtractHour, TruncDay
from django.utils import timezone

from orders.models import Order, OrderItem, OrderStatus, PaymentMethod
from orders.money import ZERO, format_money
from orders.representations import format_timestamp

REVENUE_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.COMPLETED, OrderStatus.PICKED_UP)


@dataclass(frozen=True)
class Grouping:
    """How confirmations are put into intervals: `hours` long, counted from
    local midnight shifted by `offset_hours`; None hours means one interval."""

    hours: int | None
    offset_hours: int = 0


def grouping_for(group_by: str) -> Grouping:
    if group_by == "all":
        return Grouping(hours=None)
    if group_by == "day":
        return Grouping(hours=24, offset_hours=settings.SERVICE_DAY_ROLLOVER_HOUR)
    return Grouping(hours=int(group_by.removesuffix("h")))


GROUP_BY_CHOICES = ("1h", "4h", "12h", "day", "all")


def service_day_range(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a service day, as aware datetimes."""
    start = timezone.make_aware(datetime.combine(day, time(settings.SERVICE_DAY_ROLLOVER_HOUR)))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time(settings.SERVICE_DAY_ROLLOVER_HOUR)))
    return start, end


def _bucket_fields(grouping: Grouping, path: str) -> dict[str, Any]:
    """Annotations naming the interval of the confirmation at `path`: the
    local day (of the shifted moment) and the slot within it."""
    if grouping.hours is None:
        # A constant is no GROUP BY column: the rows are aggregated into one.
        return {"bucket_all": Value(0, output_field=IntegerField())}
    moment = F(path)
    if grouping.offset_hours:
        moment = ExpressionWrapper(
            F(path) - Value(timedelta(hours=grouping.offset_hours)), output_field=DateTimeField()
        )
    return {
        "bucket_day": TruncDay(moment, output_field=DateTimeField()),
        # PostgreSQL's EXTRACT answers a numeric: cast, so / divides integers.
        "bucket_slot": ExpressionWrapper(
            Cast(ExtractHour(moment), IntegerField()) / Value(grouping.hours), output_field=IntegerField()
        ),
    }


def _bucket_key(row: dict[str, Any], grouping: Grouping) -> tuple:
    return (row["bucket_day"], row["bucket_slot"]) if grouping.hours is not None else ()


def _bucket_start(key: tuple, grouping: Grouping, start: datetime) -> datetime:
    if grouping.hours is None:
        return start
    day_start, slot = key
    local = timezone.localtime(day_start)
    # Wall-clock arithmetic on the local day, as the database grouped it.
    naive = local.replace(tzinfo=None) + timedelta(hours=slot * grouping.hours + grouping.offset_hours)
    return timezone.make_aware(naive)


def _revenue_orders(start: datetime, end: datetime) -> QuerySet[Order]:
    return Order.objects.filter(status__in=REVENUE_STATUSES, confirmed_at__gte=start, confirmed_at__lt=end)


def _money_sums() -> dict[str, Sum]:
    """Revenue of a group of orders: in all, paid cash, paid by card."""
    return {
        "revenue": Sum("total", default=ZERO),
        "cash": Sum("total", filter=Q(payment_method=PaymentMethod.CASH), default=ZERO),
        "card": Sum("total", filter=Q(payment_method=PaymentMethod.CARD), default=ZERO),
    }


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds(), 3)
    # SQLite hands an average of durations back as microseconds.
    return round(int(value) / 1_000_000, 3)


def build_reports(*, start: datetime, end: datetime, group_by: str) -> list[dict[str, Any]]:
    """One report per interval of [start, end) that has revenue orders, in
    time order, each exactly as API.md's "Reports and closures" lays out."""
    grouping = grouping_for(group_by)
    orders = _revenue_orders(start, end)
    order_bucket = _bucket_fields(grouping, "confirmed_at")
    group_fields = list(order_bucket)

    totals = (
        orders.annotate(**order_bucket)
        .values(*group_fields)
        .annotate(
            **_money_sums(),
            orders=Count("id"),
            completion=Avg(
                ExpressionWrapper(F("completed_at") - F("confirmed_at"), output_field=DurationField()),
            ),
        )
        .order_by(*group_fields)
    )
    registers = (
        orders.annotate(**order_bucket)
        .values(*group_fields, "cash_register_id", "cash_register__name")
        .annotate(**_money_sums())
        .order_by(*group_fields, "cash_register__name", "cash_register_id")
    )
    item_bucket = _bucket_fields(grouping, "order__confirmed_at")
    item_groups = list(item_bucket)
    foods = (
        OrderItem.objects.filter(order__in=orders)
        .annotate(**item_bucket)
        .values(
            *item_groups,
            "food__category_id",
            "food__category__name",
            "food__category__position",
            "food_id",
            "food__name",
        )
        .annotate(revenue=Sum("total", default=ZERO), quantity=Sum("quantity"))
        .order_by(*item_groups, "food__category__position", "food__category__name", "food__name", "food_id")
    )

    categories: dict[tuple, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in foods:
        per_category = categories[_bucket_key(row, grouping)]
        category = per_category.setdefault(
            row["food__category_id"],
            {
                "categoryId": row["food__category_id"],
                "categoryName": row["food__category__name"],
                "revenue": ZERO,
                "quantity": 0,
                "foodStats": [],
            },
        )
        category["revenue"] += row["revenue"]
        category["quantity"] += row["quantity"]
        category["foodStats"].append(
            {
                "foodId": row["food_id"],
                "foodName": row["food__name"],
                "revenue": format_money(row["revenue"]),
                "quantity": row["quantity"],
            }
        )

    tills: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in registers:
        tills[_bucket_key(row, grouping)].append(
            {
                "cashRegisterId": row["cash_register_id"],
                "cashRegisterName": row["cash_register__name"],
                "totalRevenue": format_money(row["revenue"]),
                "totalCashRevenue": format_money(row["cash"]),
                "totalCardRevenue": format_money(row["card"]),
            }
        )

    interval_minutes = grouping.hours * 60 if grouping.hours is not None else int((end - start).total_seconds() // 60)
    reports = []
    for row in totals:
        if not row["orders"]:
            continue  # one interval over an empty range still aggregates to a row
        key = _bucket_key(row, grouping)
        reports.append(
            {
                "timestamp": format_timestamp(_bucket_start(key, grouping, start)),
                "intervalInMinutes": interval_minutes,
                "totalRevenue": format_money(row["revenue"]),
                "totalCashRevenue": format_money(row["cash"]),
                "totalCardRevenue": format_money(row["card"]),
                "totalOrders": row["orders"],
                "averageCompletionTime": _seconds(row["completion"]),
                "categoryStats": [
                    {**category, "revenue": format_money(category["revenue"])} for category in categories[key].values()
                ],
                "cashRegisterStats": tills[key],
            }
        )
    return reports
