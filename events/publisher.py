"""Publishing through django-eventstream. Called only from on_commit
callbacks: an event for a transaction that rolled back is never sent and
never takes an id."""

from __future__ import annotations

import logging
from typing import Any

from django_eventstream import send_event

logger = logging.getLogger(__name__)


def publish(channel: str, event_type: str, payload: dict[str, Any]) -> None:
    """Append the event to the log (which numbers it) and notify listeners.

    The append is what guarantees delivery: every Daphne process reads the log
    to fill any gap, so a notification lost to a Redis outage delays an event
    by at most EVENTS_POLL_SECONDS instead of losing it."""
    try:
        send_event(channel, event_type, payload)
    except Exception as exc:  # the log append happens before the notification
        if _is_redis_error(exc):
            logger.warning(
                "event %s on %s stored, but Redis did not take the notification: %s", event_type, channel, exc
            )
            return
        raise


def _is_redis_error(exc: Exception) -> bool:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a requirement
        return False
    return isinstance(exc, RedisError)


def record(channel: str, event_type: str, payload: dict[str, Any]) -> None:
    """Record an event as part of the current transaction; it is delivered
    only after that transaction commits, and not at all if it rolls back.
    The one entry point for code that causes events (receivers, services)."""
    from django.db import transaction

    transaction.on_commit(lambda: publish(channel, event_type, payload), robust=True)
