"""Pure functions from loaded models to the contract's JSON shapes. The REST
API and the events both use them, so an order looks the same everywhere.
Callers load the order with `selectors.order_with_items`, which makes these
free of queries whatever the order's size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orders.loaded import ingredients_of, lines_of, station_states_of
from orders.models import (
    CashRegister,
    Category,
    Food,
    Ingredient,
    Order,
    OrderItem,
    OrderStationState,
    OrderStatus,
    Printer,
    Station,
)
from orders.money import format_money


def format_timestamp(moment: datetime | None) -> str | None:
    """UTC, milliseconds, Z: "2026-01-15T18:30:00.000Z"."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# The keys under which an order's id appears in a body: an order's own
# `id`, a line's, a station state's or an event's `orderId`. Every other id
# of the contract is a string already, so an integer under these keys is an
# order id (ticket numbers have keys of their own and stay numbers).
ORDER_ID_KEYS = frozenset({"id", "orderId"})


def with_string_order_ids(body: Any) -> Any:
    """The body (REST answer or event payload) with every order id written
    as a string of its digits ("42"), for callers signed in by the
    mysagra cookie (clients-heads.md, O1/E7); others keep integers. A copy:
    the body given is not changed."""
    if isinstance(body, dict):
        return {
            key: str(value)
            if key in ORDER_ID_KEYS and isinstance(value, int) and not isinstance(value, bool)
            else with_string_order_ids(value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [with_string_order_ids(value) for value in body]
    return body


def order_item_repr(item: OrderItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "quantity": item.quantity,
        "orderId": item.order_id,
        "foodId": item.food_id,
        "unitPrice": format_money(item.unit_price),
        "unitSurcharge": format_money(item.unit_surcharge),
        "total": format_money(item.total),
        "notes": item.notes,
    }


def order_item_for_printer_repr(item: OrderItem) -> dict[str, Any]:
    """A line as a printer needs it: with the food's name, the printer it
    goes to (the food's own, else its category's), and its category with
    the category's station (for per-station tickets)."""
    food = item.food
    category = food.category
    station = category.station
    return {
        **order_item_repr(item),
        "food": {
            "id": food.id,
            "name": food.name,
            "printerId": food.effective_printer_id,
            "categoryId": food.category_id,
            "category": {
                "id": category.id,
                "name": category.name,
                "station": None if station is None else {"id": station.id, "name": station.name},
            },
        },
    }


def _order_fields(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "displayCode": order.display_code,
        "table": order.table,
        "customer": order.customer,
        "createdAt": format_timestamp(order.created_at),
        "confirmedAt": format_timestamp(order.confirmed_at),
        "ticketNumber": order.ticket_number,
        "status": order.status,
        "paymentMethod": order.payment_method,
        "subTotal": format_money(order.sub_total),
        "discount": format_money(order.discount),
        "surcharge": format_money(order.surcharge),
        "total": format_money(order.total),
        "userId": order.user_id,
        "cashRegisterId": order.cash_register_id,
    }


def order_repr(order: Order) -> dict[str, Any]:
    """The order as REST returns it and as `new-order` carries it."""
    return {**_order_fields(order), "orderItems": [order_item_repr(item) for item in lines_of(order)]}


def categorized_items_repr(order: Order) -> list[dict[str, Any]]:
    """The order's lines grouped by their food's category, categories in menu
    order (position, then name), lines in the order's own order. Each line
    carries its food as the cashier shows it; `printerId` is the effective
    printer. Needs the lines' foods, categories and ingredients loaded
    (`selectors.orders_for_rest`)."""
    groups: dict[str, tuple[Category, list[dict[str, Any]]]] = {}
    for item in lines_of(order):
        food = item.food
        line = {
            "id": item.id,
            "quantity": item.quantity,
            "notes": item.notes,
            "unitPrice": format_money(item.unit_price),
            "unitSurcharge": format_money(item.unit_surcharge),
            "total": format_money(item.total),
            "food": {
                "id": food.id,
                "name": food.name,
                "description": food.description,
                "price": format_money(food.price),
                "available": food.available,
                "printerId": food.effective_printer_id,
                "ingredients": [ingredient_repr(ingredient) for ingredient in ingredients_of(food)],
            },
        }
        groups.setdefault(food.category_id, (food.category, []))[1].append(line)
    in_menu_order = sorted(groups.values(), key=lambda group: (group[0].position, group[0].name, group[0].id))
    return [
        {"category": {"id": category.id, "name": category.name}, "items": lines} for category, lines in in_menu_order
    ]


def order_station_state_repr(state: OrderStationState) -> dict[str, Any]:
    """One station's state on an order, as the PATCH of it answers."""
    return {
        "id": state.id,
        "orderId": state.order_id,
        "stationId": state.station_id,
        "status": state.status,
        "updatedAt": format_timestamp(state.updated_at),
    }


def order_station_states_repr(order: Order) -> list[dict[str, Any]]:
    """`orderStationStates`: each station's state, with the station's name,
    stations in their list order (`selectors.orders_with_items` loads them)."""
    return [
        {**order_station_state_repr(state), "station": {"id": state.station.id, "name": state.station.name}}
        for state in station_states_of(order)
    ]


def order_rest_repr(order: Order) -> dict[str, Any]:
    """The order as the REST API returns it: the `new-order` shape plus
    `categorizedItems`, the stations' states (`orderStationStates`, and
    the kitchen pages' `stations`), and who confirmed it at which till.
    Events keep `order_repr`."""
    user, register = order.user, order.cash_register
    return {
        **order_repr(order),
        "completedAt": format_timestamp(order.completed_at),
        "categorizedItems": categorized_items_repr(order),
        "orderStationStates": order_station_states_repr(order),
        "stations": order_stations_repr(order),
        "user": None if user is None else {"id": user.id, "username": user.username, "role": user.effective_role},
        "cashRegister": None if register is None else cash_register_repr(register),
    }


def order_for_printer_repr(order: Order) -> dict[str, Any]:
    """The order as the printer channel carries it."""
    return {**_order_fields(order), "orderItems": [order_item_for_printer_repr(item) for item in lines_of(order)]}


def order_stations_repr(order: Order) -> list[dict[str, Any]]:
    """The kitchen stations of the order, in station order, and how far each
    is: `done` once the station finished its lines (COMPLETED or later),
    `doneAt` since when. The kitchen pages and `station-progress` read it.
    Needs the order from `selectors.order_with_items`."""
    stations = []
    for state in station_states_of(order):
        done = state.status in (OrderStatus.COMPLETED, OrderStatus.PICKED_UP)
        stations.append(
            {
                "stationId": state.station_id,
                "name": state.station.name,
                "status": state.status,
                "done": done,
                "doneAt": format_timestamp(state.updated_at) if done else None,
            }
        )
    return stations


def order_status_repr(order: Order) -> dict[str, Any]:
    """An order as a board sees it: its code, its ticket and its status (the
    display's `order-status-update` and `order-cancelled`, the head of
    `station-progress`, the board's entries)."""
    return {
        "id": order.id,
        "displayCode": order.display_code,
        "ticketNumber": order.ticket_number,
        "status": order.status,
    }


def order_summary_repr(order: Order) -> dict[str, Any]:
    """`confirmed-order` on cashier: the board's keys but the status."""
    shown = order_status_repr(order)
    return {key: shown[key] for key in ("displayCode", "ticketNumber", "id")}


def order_summary_with_stations_repr(order: Order) -> dict[str, Any]:
    """`confirmed-order` on display: the summary and the ids of the stations
    the order waits on (`ordersStations`, possibly empty)."""
    return {**order_summary_repr(order), "ordersStations": [state.station_id for state in station_states_of(order)]}


def reprint_repr(order: Order, *, item_ids: list[str], receipt: bool) -> dict[str, Any]:
    """The `reprint-order` payload: the whole order, the chosen lines, and
    whether the receipt is wanted too."""
    printed = order_for_printer_repr(order)
    wanted = set(item_ids)
    return {
        **{key: value for key, value in printed.items() if key != "orderItems"},
        "reprintReceipt": receipt,
        "reprintOrderItems": [line for line in printed["orderItems"] if line["id"] in wanted],
        "orderItems": printed["orderItems"],
    }


def printer_repr(printer: Printer) -> dict[str, Any]:
    return {
        "id": printer.id,
        "name": printer.name,
        "ip": printer.ip,
        "port": printer.port,
        "mac": printer.mac,
        "description": printer.description,
        "status": printer.status,
        "statusChangedAt": format_timestamp(printer.status_changed_at),
    }


def cash_register_repr(register: CashRegister, *, include_printer: bool = False) -> dict[str, Any]:
    """`include_printer` embeds the default printer as `defaultPrinter`
    (`?include=printer`); load it with select_related."""
    body = {
        "id": register.id,
        "name": register.name,
        "defaultPrinterId": register.default_printer_id,
        "enabled": register.enabled,
    }
    if include_printer:
        printer = register.default_printer
        body["defaultPrinter"] = printer_repr(printer) if printer is not None else None
    return body


def category_repr(category: Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        "printerId": category.printer_id,
        "stationId": category.station_id,
        "available": category.available,
        "position": category.position,
    }


def category_with_foods_repr(category: Category) -> dict[str, Any]:
    """`?include=foods`: the category with its foods (those the caller
    prefetched as `foods`, with their ingredients)."""
    # The prefetch sets each food's category to this one: no query per food.
    return {**category_repr(category), "foods": [food_repr(food) for food in category.foods.all()]}


def station_repr(station: Station) -> dict[str, Any]:
    return {"id": station.id, "name": station.name, "position": station.position}


def station_with_categories_repr(station: Station, *, with_foods: bool) -> dict[str, Any]:
    """`?include=categories[.foods]`: the station with its categories (and
    their foods), prefetched by `selectors.station_list`."""
    represent = category_with_foods_repr if with_foods else category_repr
    return {**station_repr(station), "categories": [represent(category) for category in station.categories.all()]}


def ingredient_repr(ingredient: Ingredient) -> dict[str, Any]:
    return {"id": ingredient.id, "name": ingredient.name, "surcharge": format_money(ingredient.surcharge)}


def food_repr(food: Food, *, with_category: bool = True) -> dict[str, Any]:
    """A food; `with_category` adds its category object (load it with
    select_related), which the till groups its grid by."""
    body = {
        "id": food.id,
        "name": food.name,
        "price": format_money(food.price),
        "categoryId": food.category_id,
        "printerId": food.printer_id,
        "description": food.description,
        "available": food.available,
        "ingredients": [ingredient_repr(ingredient) for ingredient in ingredients_of(food)],
    }
    if with_category:
        body["category"] = category_repr(food.category)
    return body
