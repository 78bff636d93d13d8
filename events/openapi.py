"""The OpenAPI description of GET /events/{channel}, served outside DRF
(events/transport/stream.py): its channels, events and payload schemas, from
the catalogue (events/core/channels.py). `add_events_endpoint` is a
drf_spectacular postprocessing hook (SPECTACULAR_SETTINGS, after
api.openapi.add_shared_components, whose Error and ValidationError it
refers to)."""

from __future__ import annotations

from typing import Any

from api.openapi import error_response
from events.core.channels import CATALOGUE, CHANNELS, OPT_IN, STREAM_RESET
from orders import schemas
from orders.schemas import ref

_AVAILABILITY = schemas.obj({"id": schemas.ID, "available": {"type": "boolean"}})
_STATUS_DISPLAY = schemas.obj(
    {
        "id": schemas.ORDER_ID,
        "displayCode": schemas.DISPLAY_CODE,
        "ticketNumber": schemas.TICKET,
        "status": schemas.STATUS,
    }
)
_CANCELLED_PRINTER = schemas.obj(
    {
        "orderId": schemas.ORDER_ID,
        "ticketNumber": schemas.TICKET,
        "displayCode": schemas.DISPLAY_CODE,
        "customer": {"type": "string"},
        "table": {"type": "string"},
        "status": {"type": "string", "enum": ["CANCELLED"]},
        "printers": {"type": "array", "items": schemas.ID, "description": "Effective printers of its lines."},
    }
)

# (channel, event) → payload schema. API.md, section Events, and events-sse.txt.
EVENT_PAYLOADS: dict[tuple[str, str], dict[str, Any]] = {
    ("cashier", "new-order"): ref("Order"),
    ("cashier", "confirmed-order"): ref("OrderSummary"),
    ("cashier", "order-status-update"): {**ref("Order"), "description": "The whole order, with its new status."},
    ("cashier", "order-cancelled"): {**ref("Order"), "description": "The whole order, status CANCELLED."},
    ("cashier", "food-availability-changed"): _AVAILABILITY,
    ("cashier", "category-availability-changed"): _AVAILABILITY,
    ("cashier", "printer-status-changed"): schemas.obj(
        {"id": schemas.ID, "status": {"type": "string", "enum": ["UNKNOWN", "ONLINE", "OFFLINE", "ERROR"]}}
    ),
    ("display", "confirmed-order"): ref("OrderSummaryWithStations"),
    ("display", "order-status-update"): _STATUS_DISPLAY,
    ("display", "order-cancelled"): _STATUS_DISPLAY,
    ("display", "station-progress"): schemas.obj(
        {**_STATUS_DISPLAY["properties"], "stations": schemas.STATIONS},
        description="A kitchen station's step, or a move of the whole order that moved its stations.",
    ),
    ("display", "order-station-status-update"): schemas.obj(
        {"orderId": schemas.ORDER_ID, "stationId": schemas.ID, "status": schemas.STATUS},
        description="A station's new status on an order (a station's move; never an order-status-update).",
    ),
    ("printer", "confirmed-order"): ref("PrinterOrder"),
    ("printer", "reprint-order"): ref("Reprint"),
    ("printer", "order-cancelled"): _CANCELLED_PRINTER,
    ("printer", "open-drawer"): schemas.obj({"cashRegisterId": schemas.ID, "printerId": schemas.ID}),
    ("printer", "general-closure"): schemas.obj(
        {
            "cashRegister": schemas.ID,
            "report": ref("ClosureReport"),
        }
    ),
}

_EVENTS_DESCRIPTION = """\
A Server-Sent Events stream (`text/event-stream`), served outside the REST API.

**Who**: staff members with the admin, operator or maintainer role, on any channel
(`Authorization: Bearer`, or the `mysagra_session`/`mysagra_token` cookie that `POST /auth/login`
sets); devices with an API key (`X-API-KEY`): `printer-agent` keys open `printer`, `display` keys open
`display`. Browsers' `EventSource` cannot send headers: pass `?token=` (from `POST /auth/stream-token`),
or use a staff member's session on the same origin.

**Cookie streams** (opened with the `mysagra_*` cookie): order ids (`id`, `orderId`) are JSON
strings (`"42"`), as in that caller's REST answers, and a cashier stream without `?events=` gets
every cashier event, the opt-in ones included. Every other credential reads integers and the
defaults below.

**Refusals**, checked in this order: 401 (no or bad credentials), 403 (role or key kind),
400 (`field: "channel"` for an unknown channel, `field: "events"` for an unknown event name),
429 (too many open streams for one user or device). Refusals are JSON, not event streams.

**Stream**: each event is `event: <name>`, `id: <id>`, `data: <one-line JSON>` and a blank line.
On opening the stream's position is sent as an id-only message (`id: <id>`, blank line).
While idle the server writes `: keep-alive` every 15 seconds. Reconnect with `Last-Event-ID`
to receive every missed event of the channel, in order, once; when that id can no longer be
replayed a `{reset}` event is sent instead and the client should reload.

**Events** (`?events=a,b` limits a stream to those events of its channel and is the only way
to receive the opt-in ones: {opt_in}):

{catalogue}
"""


def _catalogue_text() -> str:
    lines = []
    for channel in CHANNELS:
        names = ", ".join(f"`{name}`" + (" (opt-in)" if name in OPT_IN else "") for name in CATALOGUE[channel])
        lines.append(f"- `{channel}`: {names}")
    return "\n".join(lines)


def _event_schema_name(channel: str, event: str) -> str:
    words = [channel, *event.split("-")]
    return "Event" + "".join(word.capitalize() for word in words)


def events_operation() -> tuple[dict[str, Any], dict[str, Any]]:
    """The `GET /events/{channel}` operation and the components it uses."""
    components: dict[str, Any] = {}
    messages = []
    for channel in CHANNELS:
        for event in CATALOGUE[channel]:
            name = _event_schema_name(channel, event)
            components[name] = schemas.obj(
                {
                    "event": {"type": "string", "enum": [event]},
                    "id": {"type": "string", "description": "Position in the channel, for Last-Event-ID."},
                    "data": EVENT_PAYLOADS[(channel, event)],
                },
                description=f"`{event}` on `{channel}`" + (" (opt-in)" if event in OPT_IN else ""),
            )
            messages.append(ref(name))
    components["EventStreamReset"] = schemas.obj(
        {"event": {"type": "string", "enum": [STREAM_RESET]}, "data": {"type": "object"}},
        description="Sent instead of a replay that is no longer possible; the client should reload.",
    )
    messages.append(ref("EventStreamReset"))
    every_event = sorted({event for names in CATALOGUE.values() for event in names})
    operation = {
        "operationId": "events_stream",
        "tags": ["events"],
        "summary": "Open a live event stream",
        "description": _EVENTS_DESCRIPTION.format(
            reset=STREAM_RESET,
            opt_in=", ".join(f"`{name}`" for name in sorted(OPT_IN)),
            catalogue=_catalogue_text(),
        ),
        "parameters": [
            {"name": "channel", "in": "path", "required": True, "schema": {"type": "string", "enum": list(CHANNELS)}},
            {
                "name": "events",
                "in": "query",
                "required": False,
                "description": "Comma-separated event names of the channel's catalogue.",
                "schema": {"type": "string"},
                "example": "new-order,confirmed-order",
                "x-enum": every_event,
            },
            {
                "name": "token",
                "in": "query",
                "required": False,
                "description": "A stream token from POST /auth/stream-token (never the long-lived JWT).",
                "schema": {"type": "string"},
            },
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "Resume after this event.",
                "schema": {"type": "string"},
            },
            {
                "name": "X-API-KEY",
                "in": "header",
                "required": False,
                "description": "A device's API key.",
                "schema": {"type": "string"},
            },
        ],
        "responses": {
            "200": {
                "description": "The stream. Each message is one of the schemas below, written as SSE fields.",
                "headers": {
                    "Cache-Control": {"schema": {"type": "string", "enum": ["no-cache"]}},
                    "Connection": {"schema": {"type": "string", "enum": ["keep-alive"]}},
                    "X-Accel-Buffering": {"schema": {"type": "string", "enum": ["no"]}},
                },
                "content": {"text/event-stream": {"schema": {"oneOf": messages}}},
            },
            "400": error_response("400", "Unknown channel (`field: channel`) or event name (`field: events`)."),
            "401": error_response("401"),
            "403": error_response("403"),
            "429": error_response("429", "Too many open streams for this user or device."),
        },
        "security": [{"jwtAuth": []}, {"cookieAuth": []}, {}],
    }
    return operation, components


def add_events_endpoint(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Postprocessing hook: the events endpoint and its payload schemas."""
    operation, components = events_operation()
    result.setdefault("components", {}).setdefault("schemas", {}).update(components)
    result.setdefault("paths", {})["/events/{channel}"] = {"get": operation}
    return result
