"""Reads of django-eventstream's event log (its DjangoModelStorage tables).

Event ids are per channel and contiguous: events/storage.py numbers them
under a lock on the channel's counter row, held until the transaction that
caused the event commits (the outbox: events/publisher.py), so ids become
visible in order and a reader that has seen id N and finds N+1 missing knows
it was trimmed, not skipped.

Every function here runs in a worker thread and closes its database
connection before returning: no open stream keeps a connection.

The log also names the deployment's Redis pub/sub channel (redis_channel):
the channel belongs to the log, so two deployments that share a Redis server
(pub/sub ignores the database number) never hear each other's wake-ups."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connections
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter

PAGE = 200


@dataclass(frozen=True)
class LogEvent:
    channel: str
    id: int
    type: str
    data: str  # the payload's one-line JSON text


def closes_connection(func):
    """Run in a worker thread; leave no database connection open behind."""

    @functools.wraps(func)  # `__wrapped__` runs it on the caller's connection (tests)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return wrapper


def redis_channel() -> str:
    """The Redis pub/sub channel of this deployment's event log: the
    EVENTS_REDIS_CHANNEL setting, else one derived from the database the log
    is in (a test run's own test database gives the run its own channel).
    Read on every use: cheap, and right after the test runner has switched
    the connection to the test database."""
    configured = getattr(settings, "EVENTS_REDIS_CHANNEL", "")
    if configured:
        return configured
    database = connections["default"].settings_dict
    where = "|".join(str(database.get(part) or "") for part in ("ENGINE", "HOST", "PORT", "NAME"))
    return "events:" + hashlib.sha256(where.encode()).hexdigest()[:32]


@closes_connection
def head_ids(channels: tuple[str, ...]) -> dict[str, int]:
    """The id of the newest event of each channel (0 before the first)."""
    found = dict(EventCounter.objects.filter(name__in=channels).values_list("name", "value"))
    return {channel: found.get(channel, 0) for channel in channels}


@closes_connection
def events_after(channel: str, last_id: int, limit: int = PAGE) -> list[LogEvent]:
    rows = (
        StoredEvent.objects.filter(channel=channel, eid__gt=last_id)
        .order_by("eid")
        .values_list("eid", "type", "data")[:limit]
    )
    # The library stores the payload's JSON text JSON-encoded once more.
    return [LogEvent(channel, eid, type_, json.loads(data)) for eid, type_, data in rows]


@closes_connection
def replay_start(channel: str, last_id: int) -> tuple[int, bool]:
    """For a client that last saw `last_id`: (the channel's head, whether the
    log still holds every event after last_id). False means the client must
    be told to reset: its id is older than retention, or from another log."""
    head = EventCounter.objects.filter(name=channel).values_list("value", flat=True).first() or 0
    if last_id == head:
        return head, True
    if last_id > head:
        return head, False
    return head, StoredEvent.objects.filter(channel=channel, eid=last_id + 1).exists()
