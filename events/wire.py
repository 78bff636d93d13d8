"""The SSE wire format of our streams: frames, ids and the keep-alive, the
same for a direct stream and one held by Pushpin. Standard library only."""

from __future__ import annotations

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
