"""OpenAPI (3.0) schemas of the JSON that orders/representations.py builds,
for /docs/. The representations are plain functions, so their shapes are
written out here once; a test validates real responses against them, so the
two cannot drift apart unnoticed."""

from __future__ import annotations

from typing import Any

from orders.models import OrderStatus, PaymentMethod

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def obj(properties: dict[str, Schema], *, description: str = "") -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": list(properties)}
    if description:
        schema["description"] = description
    return schema


ID = {"type": "string", "description": "Opaque, URL-safe string id.", "example": "3f2a9c0e5b7d4e1f9a8b7c6d5e4f3a2b"}
MONEY = {
    "type": "string",
    "description": "Decimal string: at most 2 decimals, no trailing zeros, no exponent.",
    "pattern": r"^(0|[1-9][0-9]*)(\.([0-9][1-9]|[1-9]))?$",
    "example": "12.5",
}
TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "description": "UTC, milliseconds, Z.",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$",
    "example": "2026-01-15T18:30:00.000Z",
}
STATUS = {"type": "string", "enum": list(OrderStatus.values)}
TICKET = nullable({"type": "integer", "minimum": 1, "description": "Per service day; null until confirmed."})
DISPLAY_CODE = {"type": "string", "example": "A01"}
ORDER_ID = {"type": "integer", "minimum": 1, "example": 1}

INGREDIENT = obj(
    {
        "id": ID,
        "name": {"type": "string"},
        "surcharge": {**MONEY, "description": "What the till charges per extra unit (the server adds nothing)."},
    }
)

ORDER_ITEM = obj(
    {
        "id": ID,
        "quantity": {"type": "integer", "minimum": 1, "maximum": 999},
        "orderId": ORDER_ID,
        "foodId": ID,
        "unitPrice": MONEY,
        "unitSurcharge": MONEY,
        "total": MONEY,
        "notes": {"type": "string"},
    }
)

_ORDER_FIELDS: dict[str, Schema] = {
    "id": ORDER_ID,
    "displayCode": DISPLAY_CODE,
    "table": {"type": "string"},
    "customer": {"type": "string"},
    "createdAt": TIMESTAMP,
    "confirmedAt": nullable(TIMESTAMP),
    "ticketNumber": TICKET,
    "status": STATUS,
    "paymentMethod": nullable({"type": "string", "enum": list(PaymentMethod.values)}),
    "subTotal": MONEY,
    "discount": MONEY,
    "surcharge": MONEY,
    "total": MONEY,
    "userId": nullable({**ID, "description": "Who confirmed it; null while PENDING."}),
    "cashRegisterId": nullable({**ID, "description": "Where it was confirmed; null while PENDING."}),
}

ORDER = obj(
    {**_ORDER_FIELDS, "orderItems": {"type": "array", "items": ref("OrderItem")}},
    description="An order as the `new-order` event carries it.",
)

CATEGORIZED_ITEM = obj(
    {
        "id": ID,
        "quantity": {"type": "integer"},
        "notes": {"type": "string"},
        "unitPrice": MONEY,
        "unitSurcharge": MONEY,
        "total": MONEY,
        "food": obj(
            {
                "id": ID,
                "name": {"type": "string"},
                "description": {"type": "string"},
                "price": MONEY,
                "available": {"type": "boolean"},
                "printerId": nullable({**ID, "description": "The effective printer: the food's, else its category's."}),
                "ingredients": {"type": "array", "items": ref("Ingredient")},
            }
        ),
    }
)

STATIONS = {
    "type": "array",
    "description": "The kitchen stations of the order (its lines' categories'), and whether each is done.",
    "items": obj(
        {
            "stationId": ID,
            "name": {"type": "string"},
            "status": STATUS,
            "done": {"type": "boolean"},
            "doneAt": nullable({"type": "string", "format": "date-time"}),
        }
    ),
}

ORDER_STATION_STATE = obj(
    {
        "id": ID,
        "orderId": ORDER_ID,
        "stationId": ID,
        "status": {**STATUS, "description": "The station's own status (CONFIRMED, COMPLETED, PICKED_UP…)."},
        "updatedAt": TIMESTAMP,
    },
    description="One station's state on an order.",
)

STATION_NAME = obj({"id": ID, "name": {"type": "string"}})

CATEGORY = obj(
    {
        "id": ID,
        "name": {"type": "string"},
        "printerId": nullable(ID),
        "stationId": nullable(ID),
        "available": {"type": "boolean"},
        "position": {"type": "integer"},
    }
)

STATION_WITH_CATEGORIES = {
    "type": "object",
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "position": {"type": "integer"},
        "categories": {
            "type": "array",
            "description": "With ?include=categories (each with `foods` with ?include=categories.foods).",
            "items": {
                "allOf": [
                    CATEGORY,
                    {"type": "object", "properties": {"foods": {"type": "array", "items": {"type": "object"}}}},
                ]
            },
        },
    },
    "required": ["id", "name", "position"],
}

ORDER_DETAIL = obj(
    {
        **ORDER["properties"],
        "completedAt": nullable(
            {**TIMESTAMP, "description": "When the kitchen finished it; null before or after an undo."}
        ),
        "orderStationStates": {
            "type": "array",
            "description": "Each station's state (`[]` when the order has no station), in station order.",
            "items": {"allOf": [ref("OrderStationState"), obj({"station": STATION_NAME})]},
        },
        "user": nullable(
            obj(
                {"id": ID, "username": {"type": "string"}, "role": {"type": "string"}},
                description="The staff member who confirmed it.",
            )
        ),
        "cashRegister": nullable(
            obj(
                {
                    "id": ID,
                    "name": {"type": "string"},
                    "defaultPrinterId": nullable(ID),
                    "enabled": {"type": "boolean"},
                },
                description="The till it was confirmed at.",
            )
        ),
        "stations": STATIONS,
        "categorizedItems": {
            "type": "array",
            "description": "The lines grouped by their food's category, in menu order.",
            "items": obj(
                {
                    "category": obj({"id": ID, "name": {"type": "string"}}),
                    "items": {"type": "array", "items": ref("CategorizedItem")},
                }
            ),
        },
    },
    description=(
        "An order as the REST API returns it: the `new-order` shape plus `categorizedItems`, the stations'"
        " states (`orderStationStates`, and the kitchen pages' `stations`), `completedAt`, `user` and"
        " `cashRegister`."
    ),
)

ORDER_PAGE = obj(
    {
        "data": {"type": "array", "items": ref("OrderDetail")},
        "pagination": obj(
            {
                "totalItems": {"type": "integer", "minimum": 0},
                "currentPage": {"type": "integer", "minimum": 1},
                "totalPages": {"type": "integer", "minimum": 0},
            }
        ),
    }
)

PRINTER_ORDER_ITEM = obj(
    {
        **ORDER_ITEM["properties"],
        "food": obj(
            {
                "id": ID,
                "name": {"type": "string"},
                "printerId": nullable({**ID, "description": "Effective printer."}),
                "categoryId": ID,
                "category": obj(
                    {"id": ID, "name": {"type": "string"}, "station": nullable(STATION_NAME)},
                    description="The food's category and its station (for per-station tickets).",
                ),
            }
        ),
    }
)

PRINTER_ORDER = obj(
    {**_ORDER_FIELDS, "orderItems": {"type": "array", "items": ref("PrinterOrderItem")}},
    description="An order as the printer channel carries it: each line with its food and effective printer.",
)

REPRINT = obj(
    {
        **_ORDER_FIELDS,
        "reprintReceipt": {"type": "boolean"},
        "reprintOrderItems": {"type": "array", "items": ref("PrinterOrderItem")},
        "orderItems": {"type": "array", "items": ref("PrinterOrderItem")},
    },
    description="The `reprint-order` payload.",
)

ORDER_SUMMARY = obj({"displayCode": DISPLAY_CODE, "ticketNumber": TICKET, "id": ORDER_ID})

ORDER_SUMMARY_WITH_STATIONS = obj(
    {
        **ORDER_SUMMARY["properties"],
        "ordersStations": {
            "type": "array",
            "items": ID,
            "description": "Ids of the stations the order waits on (possibly empty).",
        },
    }
)

_MONEY_NUMBER = {"type": "number", "minimum": 0, "description": "Money as a JSON number, at most 2 decimals."}

CLOSURE_REPORT = obj(
    {
        "timestamp": TIMESTAMP,
        "totalOrders": {"type": "integer", "minimum": 0},
        "totalRevenue": _MONEY_NUMBER,
        "totalCashRevenue": _MONEY_NUMBER,
        "totalCardRevenue": _MONEY_NUMBER,
        "cashRegisterStats": {
            "type": "array",
            "items": obj(
                {
                    "cashRegisterId": nullable(ID),
                    "cashRegisterName": nullable({"type": "string"}),
                    "totalRevenue": _MONEY_NUMBER,
                    "totalCashRevenue": _MONEY_NUMBER,
                    "totalCardRevenue": _MONEY_NUMBER,
                }
            ),
        },
        "categoryStats": {
            "type": "array",
            "items": obj(
                {
                    "categoryId": ID,
                    "categoryName": {"type": "string"},
                    "revenue": _MONEY_NUMBER,
                    "quantity": {"type": "integer"},
                    "foodStats": {
                        "type": "array",
                        "items": obj(
                            {
                                "foodId": ID,
                                "foodName": {"type": "string"},
                                "revenue": _MONEY_NUMBER,
                                "quantity": {"type": "integer"},
                            }
                        ),
                    },
                }
            ),
        },
    },
    description="The service day's figures at the closure's moment (zeros and empty lists without orders).",
)

COMPONENTS: dict[str, Schema] = {
    "Ingredient": INGREDIENT,
    "OrderItem": ORDER_ITEM,
    "Order": ORDER,
    "CategorizedItem": CATEGORIZED_ITEM,
    "OrderDetail": ORDER_DETAIL,
    "OrderPage": ORDER_PAGE,
    "PrinterOrderItem": PRINTER_ORDER_ITEM,
    "PrinterOrder": PRINTER_ORDER,
    "Reprint": REPRINT,
    "OrderSummary": ORDER_SUMMARY,
    "OrderSummaryWithStations": ORDER_SUMMARY_WITH_STATIONS,
    "OrderStationState": ORDER_STATION_STATE,
    "StationWithCategories": STATION_WITH_CATEGORIES,
    "ClosureReport": CLOSURE_REPORT,
}
