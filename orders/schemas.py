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

INGREDIENT = obj({"id": ID, "name": {"type": "string"}})

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
    "description": "The kitchen stations (printers) with lines in the order, and whether each is done.",
    "items": obj(
        {
            "printerId": ID,
            "name": {"type": "string"},
            "done": {"type": "boolean"},
            "doneAt": nullable({"type": "string", "format": "date-time"}),
        }
    ),
}

ORDER_DETAIL = obj(
    {
        **ORDER["properties"],
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
        "An order as the REST API returns it: the `new-order` shape plus `categorizedItems` and the kitchen"
        " stations' progress (`stations`)."
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
            {"id": ID, "name": {"type": "string"}, "printerId": nullable({**ID, "description": "Effective printer."})}
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
}
