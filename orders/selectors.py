from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from orders.exceptions import NotFound
from orders.models import Food, Order, OrderItem


def orders_with_items() -> QuerySet[Order]:
    """Orders with their lines, foods, categories, the lines' printers and
    the kitchen stations' marks in three queries, whatever the number of
    lines."""
    return Order.objects.prefetch_related(
        Prefetch(
            "items",
            queryset=OrderItem.objects.select_related("food__category__printer", "food__printer").order_by("position"),
        ),
        "station_marks",
    )


def order_with_items(order_id: int) -> Order:
    try:
        return orders_with_items().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("Order not found") from None


@dataclass(frozen=True)
class OrderFilters:
    statuses: Sequence[str] = ()
    search: str = ""
    display_code: str = ""


def order_list(filters: OrderFilters) -> QuerySet[Order]:
    orders = orders_with_items()
    if filters.statuses:
        orders = orders.filter(status__in=filters.statuses)
    if filters.display_code:
        orders = orders.filter(display_code__iexact=filters.display_code)
    if filters.search:
        term = filters.search
        orders = orders.filter(Q(display_code__icontains=term) | Q(table__icontains=term) | Q(customer__icontains=term))
    return orders.order_by("-created_at", "-id")


def food_list(*, available: bool | None = None, category_id: str | None = None) -> QuerySet[Food]:
    foods = Food.objects.all()
    if available is not None:
        foods = (
            foods.filter(available=available, category__available=available)
            if available
            else foods.filter(Q(available=False) | Q(category__available=False))
        )
    if category_id:
        foods = foods.filter(category_id=category_id)
    return foods
