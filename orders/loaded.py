"""What an order and a food carry once loaded for the representations and the
payload builders, and how those read it.

`orders.selectors` loads an order's lines, its stations' states and the
lines' foods' ingredients as plain lists (`Prefetch(..., to_attr=...)`, under
the names below), and `orders.services` leaves the same lists on an order it
has just written. A list costs nothing per instance, where a prefetch
without `to_attr` builds a related manager and a queryset for every order
and every food to hold its rows, and another manager on each read.

The readers fall back to the relation itself for an instance loaded
otherwise (a food with `prefetch_related("ingredients")`, or none)."""

from __future__ import annotations

from collections.abc import Iterable

from orders.models import Food, Ingredient, Order, OrderItem, OrderStationState

LINES = "loaded_lines"  # the order's lines, by position
STATES = "loaded_states"  # the order's stations' states, stations in list order
INGREDIENTS = "loaded_ingredients"  # the food's ingredients, by name


def lines_of(order: Order) -> Iterable[OrderItem]:
    lines = order.__dict__.get(LINES)
    return order.items.all() if lines is None else lines


def station_states_of(order: Order) -> Iterable[OrderStationState]:
    states = order.__dict__.get(STATES)
    return order.station_states.all() if states is None else states


def ingredients_of(food: Food) -> Iterable[Ingredient]:
    ingredients = food.__dict__.get(INGREDIENTS)
    return food.ingredients.all() if ingredients is None else ingredients


def has_lines_and_states(order: Order) -> bool:
    """Whether the order carries its lines and its stations' states."""
    return LINES in order.__dict__ and STATES in order.__dict__


def hold_lines_and_states(order: Order, lines: list[OrderItem], states: list[OrderStationState]) -> None:
    """Leave on `order` its lines and stations' states as the selectors load
    them (in the same order)."""
    setattr(order, LINES, lines)
    setattr(order, STATES, states)


def hold_ingredients(food: Food, ingredients: list[Ingredient]) -> None:
    setattr(food, INGREDIENTS, ingredients)
