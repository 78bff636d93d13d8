"""The SSE wire format of our streams: frames, ids and the keep-alive, the
same for a direct stream and one held by Pushpin. May import
orders.representations (the order ids of cookie callers) and Django's JSON
encoder only."""

from __future__ import annotations

import json
import logging

from django.core.serializers.json import DjangoJSONEncoder

from orders.representations import with_string_order_ids

logger = logging.getLogger(__name__)

KEEPALIVE_FRAME = b": keep-alive\n\n"


def frame(event_type: str, event_id: str | None, data: str) -> bytes:
    lines = [f"event: {event_type}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {data}")
    return ("\n".join(lines) + "\n\n").encode()


def wire_id(channel: str, event_id: int) -> str:
    """django-eventstream's id format, so that its own clients and Pushpin's
    replay agree with ours: "printer:42"."""
    return f"{channel}:{event_id}"


def event_frame(event, string_ids: bool = False) -> bytes:
    """A logged event (events.core.log.LogEvent) as a stream writes it;
    `string_ids`: with its order ids as strings, for a stream opened with
    the mysagra cookie (the log keeps one payload, as every other stream
    reads it)."""
    data = event.data
    if string_ids:
        try:
            data = json.dumps(with_string_order_ids(json.loads(data)), cls=DjangoJSONEncoder)
        except ValueError:
            logger.warning("event %s:%s is not JSON; sent as logged", event.channel, event.id)
    return frame(event.type, wire_id(event.channel, event.id), data)
