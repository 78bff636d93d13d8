"""One pure function per event kind: loaded models in, the contract's JSON out
(../shared/spec/API.md, sections Orders and Events). The representations are
shared with the REST API (orders.representations). Orders come loaded by
orders.selectors.order_with_items, so no builder queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orders.loaded import lines_of
from orders.models import Category, Closure, DrawerOpening, Food, Order, OrderStationState, Printer
from orders.representations import (
    format_timestamp,
    order_for_printer_repr,
    order_repr,
    order_station_state_repr,
    order_stations_repr,
    order_status_repr,
    order_summary_repr,
    order_summary_with_stations_repr,
    reprint_repr,
)


def new_order_payload(order: Order) -> dict[str, Any]:
    """`new-order` on cashier: the full order, lines without food details."""
    return order_repr(order)


def confirmed_order_summary_payload(order: Order) -> dict[str, Any]:
    """`confirmed-order` on cashier."""
    return order_summary_repr(order)


def confirmed_order_display_payload(order: Order) -> dict[str, Any]:
    """`confirmed-order` on display: the cashier's summary and the ids of
    the order's stations (`ordersStations`; boards ignore an order without)."""
    return order_summary_with_stations_repr(order)


def order_station_status_update_payload(state: OrderStationState) -> dict[str, Any]:
    """`order-station-status-update` on display: a station's new status (the
    REST representation of the state, without its id and time)."""
    state_repr = order_station_state_repr(state)
    return {key: state_repr[key] for key in ("orderId", "stationId", "status")}


def confirmed_order_printer_payload(order: Order) -> dict[str, Any]:
    """`confirmed-order` on printer: the full order, each line with its food
    and the printer it goes to."""
    return order_for_printer_repr(order)


def reprint_order_payload(order: Order, *, item_ids: list[str], receipt: bool) -> dict[str, Any]:
    """`reprint-order` on printer."""
    return reprint_repr(order, item_ids=item_ids, receipt=receipt)


def order_status_update_cashier_payload(order: Order) -> dict[str, Any]:
    """`order-status-update` on cashier: the whole order, as `new-order`
    carries it, with its new status (cashier SPAs show it as an order)."""
    return order_repr(order)


def order_status_update_display_payload(order: Order) -> dict[str, Any]:
    """`order-status-update` on display."""
    return order_status_repr(order)


def order_cancelled_cashier_payload(order: Order) -> dict[str, Any]:
    """`order-cancelled` on cashier: the whole order, status CANCELLED."""
    return order_repr(order)


def order_cancelled_display_payload(order: Order) -> dict[str, Any]:
    """`order-cancelled` on display: the keys of `order-status-update`."""
    return order_status_update_display_payload(order)


def order_cancelled_printer_payload(order: Order) -> dict[str, Any]:
    """`order-cancelled` on printer (for an order that had been confirmed):
    enough for each kitchen printer its lines went to to print a slip."""
    printers: list[str] = []
    for item in lines_of(order):
        printer_id = item.food.effective_printer_id
        if printer_id is not None and printer_id not in printers:
            printers.append(printer_id)
    return {
        "orderId": order.id,
        "ticketNumber": order.ticket_number,
        "displayCode": order.display_code,
        "customer": order.customer,
        "table": order.table,
        "status": order.status,
        "printers": printers,
    }


def availability_changed_payload(item: Food | Category) -> dict[str, Any]:
    """`food-availability-changed` / `category-availability-changed` on cashier."""
    return {"id": item.id, "available": item.available}


def printer_status_changed_payload(printer: Printer) -> dict[str, Any]:
    """`printer-status-changed` on cashier (opt-in)."""
    return {"id": printer.id, "status": printer.status}


def open_drawer_payload(opening: DrawerOpening) -> dict[str, Any]:
    """`open-drawer` on printer: the register and the printer its drawer hangs on."""
    return {"cashRegisterId": opening.cash_register_id, "printerId": opening.printer_id}


def _number(money: str) -> float:
    """A stored money string as a JSON number (2 decimals at most, so the
    float prints as the same figure)."""
    return float(Decimal(money))


def general_closure_payload(closure: Closure) -> dict[str, Any]:
    """`general-closure` on printer: the till and the service day's report
    as one object with JSON numbers, as today's printer agents print it
    (clients-heads.md P3): taken at the closure's moment, zeros and empty
    lists for a day without orders. Built from the report stored with the
    closure (a list of at most one report with money strings)."""
    stored = closure.report[0] if closure.report else {}
    return {
        "cashRegister": closure.cash_register_id,
        "report": {
            "timestamp": format_timestamp(closure.created_at),
            "totalOrders": stored.get("totalOrders", 0),
            "totalRevenue": _number(stored.get("totalRevenue", "0")),
            "totalCashRevenue": _number(stored.get("totalCashRevenue", "0")),
            "totalCardRevenue": _number(stored.get("totalCardRevenue", "0")),
            "cashRegisterStats": [
                {
                    "cashRegisterId": till["cashRegisterId"],
                    "cashRegisterName": till["cashRegisterName"],
                    "totalRevenue": _number(till["totalRevenue"]),
                    "totalCashRevenue": _number(till["totalCashRevenue"]),
                    "totalCardRevenue": _number(till["totalCardRevenue"]),
                }
                for till in stored.get("cashRegisterStats", [])
            ],
            "categoryStats": [
                {
                    "categoryId": category["categoryId"],
                    "categoryName": category["categoryName"],
                    "revenue": _number(category["revenue"]),
                    "quantity": category["quantity"],
                    "foodStats": [
                        {
                            "foodId": food["foodId"],
                            "foodName": food["foodName"],
                            "revenue": _number(food["revenue"]),
                            "quantity": food["quantity"],
                        }
                        for food in category["foodStats"]
                    ],
                }
                for category in stored.get("categoryStats", [])
            ],
        },
    }


def station_progress_payload(order: Order) -> dict[str, Any]:
    """`station-progress` on display (for the project's own pages): the
    board's four keys of the order and its stations,
    `[{"stationId", "name", "status", "done", "doneAt"}]`."""
    return {**order_status_repr(order), "stations": order_stations_repr(order)}
