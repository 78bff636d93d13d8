"""A page of GET /v1/orders has a byte bound as well as `limit`
(ORDERS_PAGE_MAX_BYTES): a listing of large orders gets fewer orders a page,
the same number on every page, so that clients that walk the pages by number
(`page` and `totalPages`, as the display clients do) see every order exactly
once."""

from __future__ import annotations

import json
import math
import threading

import pytest
from rest_framework.renderers import JSONRenderer

from orders import selectors
from orders.models import Ingredient, Order
from orders.representations import order_rest_repr
from orders.services import LineInput
from orders.tests.helpers import api_client_for

NOTE = 'extra "spicy" \\ sauce, ' * 10  # 250 characters, quotes and backslashes included
LINES = 40


@pytest.fixture
def large_food(menu):
    """A food with the longest description and a dozen ingredients."""
    food = menu["margherita"]
    food.description = "Tomato, mozzarella, basil. " * 18 + "x" * 14
    food.save()
    food.ingredients.set(Ingredient.objects.create(name=f"Ingrédient numéro {n} " * 3) for n in range(12))
    return food


@pytest.fixture
def large_orders(place_order, large_food, menu):
    """Seven orders of 40 lines, each line with a 250-character note."""
    lines = [
        LineInput(food_id=(large_food if n % 2 else menu["lemonade"]).id, quantity=1 + n, notes=NOTE)
        for n in range(LINES)
    ]
    return [place_order(lines=lines, customer=f"Guest {n} é", table="Terrasse ü") for n in range(7)]


def rendered_bytes(order: Order) -> int:
    loaded = selectors.order_with_items(order.id, queryset=selectors.orders_for_rest())
    return len(JSONRenderer().render(order_rest_repr(loaded)))


def test_the_estimate_of_an_order_is_at_least_its_rendering(large_orders, place_order):
    small = place_order()
    listing = Order.objects.all()
    largest = max(rendered_bytes(order) for order in [*large_orders, small])
    assert largest > 30_000  # the large orders are large
    assert selectors.largest_order_bytes(listing) >= largest
    # …and not wildly more, or pages of ordinary orders would shrink for nothing.
    assert selectors.largest_order_bytes(listing) < 3 * largest
    assert selectors.largest_order_bytes(Order.objects.filter(pk=small.pk)) >= rendered_bytes(small)


def test_a_page_of_large_orders_stays_within_the_byte_bound(operator_client, large_orders, settings):
    settings.ORDERS_PAGE_MAX_BYTES = 256 * 1024
    response = operator_client.get("/v1/orders?limit=100")
    assert response.status_code == 200
    assert len(response.content) <= settings.ORDERS_PAGE_MAX_BYTES
    body = response.json()
    assert 1 <= len(body["data"]) < len(large_orders)
    assert body["pagination"] == {
        "totalItems": len(large_orders),
        "currentPage": 1,
        "totalPages": math.ceil(len(large_orders) / len(body["data"])),
    }


def test_walking_the_pages_by_number_gives_every_order_once_in_order(operator_client, large_orders, settings):
    settings.ORDERS_PAGE_MAX_BYTES = 256 * 1024
    seen, page, total_pages = [], 1, None
    while total_pages is None or page <= total_pages:
        response = operator_client.get(f"/v1/orders?limit=100&sortBy=createdAt&page={page}")
        assert len(response.content) <= settings.ORDERS_PAGE_MAX_BYTES
        body = response.json()
        total_pages = body["pagination"]["totalPages"]
        seen += [order["id"] for order in body["data"]]
        page += 1
    assert total_pages > 1
    # sortBy=createdAt is newest first (clients-heads.md O3).
    assert seen == [order.id for order in reversed(large_orders)]


def test_a_page_of_one_order_larger_than_the_bound_still_shows_it(operator_client, large_orders, settings):
    settings.ORDERS_PAGE_MAX_BYTES = 1024
    body = operator_client.get("/v1/orders?limit=100").json()
    assert len(body["data"]) == 1
    assert body["pagination"]["totalPages"] == len(large_orders)


def test_ordinary_orders_still_come_a_hundred_a_page(operator_client, place_order):
    for n in range(101):
        place_order(customer=f"Guest {n}")
    response = operator_client.get("/v1/orders?limit=100")
    body = json.loads(response.content)
    assert len(body["data"]) == 100
    assert body["pagination"] == {"totalItems": 101, "currentPage": 1, "totalPages": 2}


def test_the_bound_follows_the_listing_filtered(operator_client, large_orders, place_order, settings):
    settings.ORDERS_PAGE_MAX_BYTES = 256 * 1024
    for n in range(3):
        place_order(customer=f"Plain {n}")
    body = operator_client.get("/v1/orders?limit=100&search=Plain").json()
    assert [order["customer"] for order in body["data"]] == ["Plain 2", "Plain 1", "Plain 0"]


def test_a_page_waits_while_orders_page_builds_pages_are_being_built(transactional_db, operator, place_order):
    from orders import views

    place_order()
    client = api_client_for(operator)
    answered = threading.Event()
    status = []

    def ask() -> None:
        status.append(client.get("/v1/orders").status_code)
        answered.set()

    held = 0
    try:
        while views._PAGE_BUILDS.acquire(blocking=False):  # every build slot taken
            held += 1
        assert held == 2  # ORDERS_PAGE_BUILDS' default
        asking = threading.Thread(target=ask)
        asking.start()
        assert not answered.wait(1.0), "a page was built with every build slot taken"
    finally:
        for _ in range(held):
            views._PAGE_BUILDS.release()
    assert answered.wait(30)
    asking.join()
    assert status == [200]
