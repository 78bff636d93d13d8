"""Reads for the till and the waiter pad: when the service day began, and a
waiter's own orders of the day.

May import orders (models, money, representations, services.service_day);
only till's views and the URL conf import it."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.utils import timezone

from orders.models import Order
from orders.money import format_money
from orders.representations import format_timestamp
from orders.services import service_day

# How many of their own orders a waiter's pad shows.
WAITER_ORDERS_LIMIT = 30


def service_day_start(now: datetime | None = None) -> datetime:
    """The moment the current service day began (local roll-over hour), as an
    aware datetime: the till's "today" filter on createdAt."""
    now = now or timezone.now()
    day = service_day(now)
    naive = datetime.combine(day, time(hour=settings.SERVICE_DAY_ROLLOVER_HOUR))
    return timezone.make_aware(naive, timezone.get_current_timezone())


def waiter_orders(user, *, now: datetime | None = None) -> list[Order]:
    """The orders `user` created in the current service day, newest first."""
    since = service_day_start(now)
    orders = Order.objects.filter(created_by=user, created_at__gte=since).order_by("-created_at", "-id")
    return list(orders[:WAITER_ORDERS_LIMIT])


def waiter_order_entry(order: Order) -> dict[str, Any]:
    """What the pad shows of an order: its code, where it goes, and whether
    the till confirmed it (never the lines' prices: the pad has no use for them)."""
    return {
        "id": order.id,
        "displayCode": order.display_code,
        "table": order.table,
        "customer": order.customer,
        "status": order.status,
        "ticketNumber": order.ticket_number,
        "total": format_money(order.total),
        "createdAt": format_timestamp(order.created_at),
    }
