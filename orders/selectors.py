from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Length

from orders.exceptions import NotFound
from orders.loaded import INGREDIENTS, LINES, STATES, hold_ingredients
from orders.models import Category, Food, Ingredient, Order, OrderItem, OrderStationState, Station

# What the representations and the payload builders read of a line: its
# food, the food's category and the category's station. A line's printer is
# read as an id (Food.effective_printer_id), so no printer row is joined.
LINE_RELATED = ("food__category__station",)


def orders_with_items() -> QuerySet[Order]:
    """Orders with their lines, foods, categories (with their stations) and
    the stations' states in three queries, whatever the number of lines.
    They come as lists (orders.loaded reads them)."""
    return Order.objects.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.select_related(*LINE_RELATED).order_by("position"), to_attr=LINES),
        Prefetch("station_states", queryset=OrderStationState.objects.select_related("station"), to_attr=STATES),
    )


def order_with_items(order_id: int, *, queryset: QuerySet[Order] | None = None) -> Order:
    try:
        return (orders_with_items() if queryset is None else queryset).get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("Order not found") from None


def orders_for_rest() -> QuerySet[Order]:
    """Orders as the REST API shows them (with `categorizedItems`, the user
    and the till): the lines' foods with their ingredients too, one query
    more whatever the size."""
    return (
        orders_with_items()
        .select_related("user", "cash_register")
        .prefetch_related(Prefetch(f"{LINES}__food__ingredients", to_attr=INGREDIENTS))
    )


def foods_for_lines(ids: set[str]) -> dict[str, Food]:
    """The foods of an order's lines by id, with all that its events and its
    REST representation read of them (the category with its printer and
    station, the food's own printer, the ingredients) in one query whatever
    their number: each food's ingredients come as a JSON list from a
    subquery, and are left on the food as orders_for_rest loads them."""
    foods = (
        Food.objects.select_related("category__printer", "category__station", "printer")
        .annotate(ingredient_rows=RawSQL(_ingredient_rows_sql(), (), output_field=TextField()))
        .order_by()  # a dict by id: Food's ordering would only cost a join's compilation
        .in_bulk(ids)
    )
    for food in foods.values():
        rows = json.loads(food.__dict__.pop("ingredient_rows"))
        if connection.vendor != "postgresql":
            # The prefetch's ORDER BY name is SQLite's binary collation:
            # the code points' order, as Python sorts.
            rows.sort(key=lambda row: row[1])
        ingredients = [
            Ingredient.from_db(connection.alias, ["id", "name", "surcharge"], [pk, name, Decimal(surcharge)])
            for pk, name, surcharge in rows
        ]
        hold_ingredients(food, ingredients)
    return foods


def _ingredient_rows_sql() -> str:
    """Per food, its ingredients as a JSON list of [id, name, surcharge
    as text], in the order of Ingredient.Meta (name) on PostgreSQL."""
    quote = connection.ops.quote_name
    ingredient, through = quote(Ingredient._meta.db_table), quote(Food.ingredients.through._meta.db_table)
    joined = (
        f"FROM {ingredient} i JOIN {through} t ON t.ingredient_id = i.id "
        f"WHERE t.food_id = {quote(Food._meta.db_table)}.id"
    )
    if connection.vendor == "postgresql":
        rows = "COALESCE(JSON_AGG(JSON_BUILD_ARRAY(i.id, i.name, i.surcharge::text) ORDER BY i.name), '[]')::text"
    else:
        rows = "JSON_GROUP_ARRAY(JSON_ARRAY(i.id, i.name, CAST(i.surcharge AS TEXT)))"
    return f"(SELECT {rows} {joined})"


# `sortBy` values → ordering; the id breaks ties so pages never overlap.
# `createdAt` is newest first, as MySagra's and as every till that sends it
# means it (clients-heads.md, decision on O3); `ticketNumber` is oldest first.
ORDER_SORTS: dict[str, tuple] = {
    "createdAt": (F("created_at").desc(), F("id").desc()),
    "-createdAt": (F("created_at").desc(), F("id").desc()),
    "confirmedAt": (F("confirmed_at").asc(nulls_last=True), F("id").asc()),
    "-confirmedAt": (F("confirmed_at").desc(nulls_last=True), F("id").desc()),
    # MySagra's third sort, newest completion first (never completed: last).
    "completedAt": (F("completed_at").desc(nulls_last=True), F("id").desc()),
    "ticketNumber": (F("ticket_day").asc(nulls_last=True), F("ticket_number").asc(nulls_last=True), F("id").asc()),
}


# A search that is a number also finds that ticket number (ASCII digits
# only: int() would read "٣"; at most 9 of them, so it fits the column).
TICKET_SEARCH = re.compile(r"[0-9]{1,9}", re.ASCII)


@dataclass(frozen=True)
class OrderFilters:
    statuses: Sequence[str] = ()
    search: str = ""
    display_code: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort_by: str = "-createdAt"


def order_list(filters: OrderFilters) -> QuerySet[Order]:
    orders = orders_for_rest()
    if filters.created_from is not None:
        orders = orders.filter(created_at__gte=filters.created_from)
    if filters.created_to is not None:
        orders = orders.filter(created_at__lte=filters.created_to)
    if filters.statuses:
        orders = orders.filter(status__in=filters.statuses)
    if filters.display_code:
        orders = orders.filter(display_code__iexact=filters.display_code)
    if filters.search:
        term = filters.search
        matches = Q(display_code__icontains=term) | Q(table__icontains=term) | Q(customer__icontains=term)
        if TICKET_SEARCH.fullmatch(term):
            matches |= Q(ticket_number=int(term))
        orders = orders.filter(matches)
    return orders.order_by(*ORDER_SORTS[filters.sort_by])


# An upper estimate of an order's REST representation (order_rest_repr as
# compact JSON), for the byte bound of a page: its fixed parts in bytes
# (field names, ids, money, timestamps, and `table` and `customer` at their
# 100 characters), plus each text at TEXT_BYTES bytes a character: enough
# for every Latin script, accents, quotes and backslashes included; text all
# of control characters or characters past U+07FF can beat it (by up to 3×).
# test_order_pages.py checks it against real renderings.
ORDER_BYTES = 1500
LINE_BYTES = 700  # a line in orderItems and in categorizedItems, its food's fixed fields
CATEGORY_BYTES = 300  # a group of categorizedItems, its name at 100 characters
STATION_BYTES = 320  # an entry of stations, its printer's name at 100 characters
INGREDIENT_BYTES = 40
TEXT_BYTES = 2


def largest_order_bytes(orders: QuerySet[Order]) -> int:
    """The upper estimate of the largest order's representation among
    `orders`, in one query (0 when there is none)."""
    ingredients = Food.ingredients.through.objects.filter(food_id=OuterRef("food_id"))
    ingredient_bytes = Subquery(
        ingredients.values("food_id")
        .annotate(total=Sum(Length("ingredient__name") * TEXT_BYTES + INGREDIENT_BYTES))
        .values("total")[:1]
    )
    line_bytes = (
        Value(LINE_BYTES)
        + (Length("notes") * 2 + Length("food__name") + Length("food__description")) * TEXT_BYTES
        + Coalesce(ingredient_bytes, 0)
    )
    per_order = (
        OrderItem.objects.filter(order__in=orders.order_by().values("pk"))
        .values("order_id")
        .annotate(
            total=Sum(line_bytes)
            + Count("food__category_id", distinct=True) * CATEGORY_BYTES
            + Count(Coalesce("food__printer_id", "food__category__printer_id"), distinct=True) * STATION_BYTES
        )
    )
    largest = per_order.aggregate(largest=Max("total"))["largest"]
    return ORDER_BYTES + largest if largest is not None else 0


def order_page_size(orders: QuerySet[Order], limit: int, max_bytes: int) -> int:
    """How many orders each page of the listing `orders` holds: `limit`, or
    fewer when `limit` of its largest orders could pass `max_bytes` (at
    least one). A function of the whole listing, not of one page, so that
    pages by number (offset = (page - 1) × size) neither overlap nor skip an
    order, whichever pages a client asks for."""
    largest = largest_order_bytes(orders)
    if largest * limit <= max_bytes:
        return limit
    return max(1, max_bytes // largest)


def food_list(*, available: bool | None = None, category_id: str | None = None) -> QuerySet[Food]:
    foods = Food.objects.select_related("category").prefetch_related("ingredients")
    if available is not None:
        foods = (
            foods.filter(available=available, category__available=available)
            if available
            else foods.filter(Q(available=False) | Q(category__available=False))
        )
    if category_id:
        foods = foods.filter(category_id=category_id)
    return foods


def _foods_of_categories(foods_available: bool | None) -> Prefetch:
    """A category's foods (by name, with ingredients); `foods_available`
    keeps only the available (True) or unavailable (False) ones, by their
    own flag, as MySagra's `foodsAvailable`."""
    foods = Food.objects.order_by("name").prefetch_related("ingredients")
    if foods_available is not None:
        foods = foods.filter(available=foods_available)
    return Prefetch("foods", queryset=foods)


def category_list(
    *, available: bool | None = None, include_foods: bool = False, foods_available: bool | None = None
) -> QuerySet[Category]:
    """Categories in menu order; with `include_foods`, each with its foods
    (all of them, or by `foods_available`) and their ingredients, in three
    queries."""
    categories = Category.objects.all()
    if available is not None:
        categories = categories.filter(available=available)
    if include_foods:
        categories = categories.prefetch_related(_foods_of_categories(foods_available))
    return categories


def station_list(*, include: str | None = None) -> QuerySet[Station]:
    """Stations in list order; `include` is None, "categories" or
    "categories.foods" (their categories in menu order, and the foods with
    ingredients), a fixed number of queries whatever their number."""
    stations = Station.objects.all()
    if include == "categories":
        stations = stations.prefetch_related(Prefetch("categories", queryset=Category.objects.all()))
    elif include == "categories.foods":
        stations = stations.prefetch_related(
            Prefetch("categories", queryset=Category.objects.prefetch_related(_foods_of_categories(None)))
        )
    return stations
