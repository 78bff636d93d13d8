"""Pure functions from loaded models to the contract's JSON shapes. The REST
API and the events both use them, so an order looks the same everywhere.
Callers load the order with `selectors.order_with_items`, which makes these
free of queries whatever the order's size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orders.models import CashRegister, Category, Food, Ingredient, Order, OrderItem, OrderStatus, Printer
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
    """A line as a printer needs it: with the food's name and the printer it
    goes to (the food's own, else its category's)."""
    return {
        **order_item_repr(item),
        "food": {"id": item.food.id, "name": item.food.name, "printerId": item.food.effective_printer_id},
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
    return {**_order_fields(order), "orderItems": [order_item_repr(item) for item in order.items.all()]}


def categorized_items_repr(order: Order) -> list[dict[str, Any]]:
    """The order's lines grouped by their food's category, categories in menu
    order (position, then name), lines in the order's own order. Each line
    carries its food as the cashier shows it; `printerId` is the effective
    printer. Needs the lines' foods, categories and ingredients loaded
    (`selectors.orders_for_rest`)."""
    groups: dict[str, tuple[Category, list[dict[str, Any]]]] = {}
    for item in order.items.all():
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
                "ingredients": [ingredient_repr(ingredient) for ingredient in food.ingredients.all()],
            },
        }
        groups.setdefault(food.category_id, (food.category, []))[1].append(line)
    in_menu_order = sorted(groups.values(), key=lambda group: (group[0].position, group[0].name, group[0].id))
    return [
        {"category": {"id": category.id, "name": category.name}, "items": lines} for category, lines in in_menu_order
    ]


def order_rest_repr(order: Order) -> dict[str, Any]:
    """The order as the REST API returns it: the `new-order` shape plus
    `categorizedItems` and the kitchen stations' progress (`stations`).
    Events keep `order_repr`."""
    return {
        **order_repr(order),
        "categorizedItems": categorized_items_repr(order),
        "stations": order_stations_repr(order),
    }


def order_for_printer_repr(order: Order) -> dict[str, Any]:
    """The order as the printer channel carries it."""
    return {**_order_fields(order), "orderItems": [order_item_for_printer_repr(item) for item in order.items.all()]}


def effective_printer(food: Food) -> Printer | None:
    """The printer a food's lines go to: its own, else its category's."""
    return food.printer if food.printer_id else food.category.printer


def order_stations_repr(order: Order) -> list[dict[str, Any]]:
    """The kitchen stations with lines in the order, in the order of its
    lines, and how far each is: `done` once the station marked its lines
    done, or once the whole order was completed (then `doneAt` is the
    station's own mark, null if it never made one). Needs the order from
    `selectors.order_with_items`."""
    finished = order.status in (OrderStatus.COMPLETED, OrderStatus.PICKED_UP)
    marks = {mark.printer_id: mark.done_at for mark in order.station_marks.all()}
    stations: dict[str, dict[str, Any]] = {}
    for item in order.items.all():
        printer = effective_printer(item.food)
        if printer is None or printer.pk in stations:
            continue
        done_at = marks.get(printer.pk)
        stations[printer.pk] = {
            "printerId": printer.pk,
            "name": printer.name,
            "done": finished or done_at is not None,
            "doneAt": format_timestamp(done_at),
        }
    return list(stations.values())


def order_summary_repr(order: Order) -> dict[str, Any]:
    return {"displayCode": order.display_code, "ticketNumber": order.ticket_number, "id": order.id}


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
        "available": category.available,
        "position": category.position,
    }


def category_with_foods_repr(category: Category) -> dict[str, Any]:
    """`?include=foods`: the category with all its foods, available or not
    (callers prefetch `foods__ingredients`)."""
    return {**category_repr(category), "foods": [food_repr(food) for food in category.foods.all()]}


def ingredient_repr(ingredient: Ingredient) -> dict[str, Any]:
    return {"id": ingredient.id, "name": ingredient.name}


def food_repr(food: Food) -> dict[str, Any]:
    return {
        "id": food.id,
        "name": food.name,
        "price": format_money(food.price),
        "categoryId": food.category_id,
        "printerId": food.printer_id,
        "description": food.description,
        "available": food.available,
        "ingredients": [ingredient_repr(ingredient) for ingredient in food.ingredients.all()],
    }
