"""Reads of django-eventstream's event log (its DjangoModelStorage tables).

Event ids are per channel and contiguous: events/outbox/storage.py numbers them
under a lock on the channel's counter row, held until the transaction that
caused the event commits (the outbox: events/outbox/publisher.py), so ids become
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
import os
import secrets
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


_origin: tuple[int, str] = (0, "")


def origin() -> str:
    """This process's name on the deployment's Redis channel: its wake-ups
    carry it, and its own hub, woken directly, skips their echo. Random,
    and new in a forked child."""
    global _origin
    pid = os.getpid()
    if _origin[0] != pid:
        _origin = (pid, secrets.token_hex(8))
    return _origin[1]


@closes_connection
def head_ids(channels: tuple[str, ...]) -> dict[str, int]:
    """The id of the newest event of each channel (0 before the first)."""
    found = dict(EventCounter.objects.filter(name__in=channels).values_list("name", "value"))
    return {channel: found.get(channel, 0) for channel in channels}


@dataclass(frozen=True)
class Page:
    """Events read from the log in one query, in id order."""

    events: list[LogEvent]
    size: int  # bytes of stored payload read
    full: bool  # cut by the count or the byte bound: more may follow its last event


def page_bytes() -> int:
    return int(getattr(settings, "EVENTS_REPLAY_PAGE_BYTES", 256 * 1024))


def _size_sql() -> str:
    """The stored payload's size in bytes, without reading it on PostgreSQL
    (OCTET_LENGTH of a TOASTed value is in its header)."""
    if connections["default"].vendor == "postgresql":
        return "OCTET_LENGTH(data)"
    return "LENGTH(CAST(data AS BLOB))"


@closes_connection
def events_after(channel: str, last_id: int, limit: int = PAGE, max_bytes: int | None = None) -> Page:
    """The events after `last_id`: at most `limit`, and no more than fit in
    `max_bytes` (EVENTS_REPLAY_PAGE_BYTES) of stored payload once the first
    is counted, so a page holds at most max_bytes plus one event whatever
    the events' size. One query: the running size is a window sum over the
    `limit` next ids, and only the rows that start below the bound are
    fetched."""
    max_bytes = page_bytes() if max_bytes is None else max_bytes
    table = connections["default"].ops.quote_name(StoredEvent._meta.db_table)
    size = _size_sql()
    query = (
        "SELECT eid, type, data, size FROM ("
        f"SELECT eid, type, data, {size} AS size, "
        f"SUM({size}) OVER (ORDER BY eid ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running "
        f"FROM {table} WHERE channel = %s AND eid > %s ORDER BY eid LIMIT %s"
        ") page WHERE running - size < %s ORDER BY eid"
    )
    with connections["default"].cursor() as cursor:
        cursor.execute(query, [channel, last_id, limit, max_bytes])
        rows = cursor.fetchall()
    total = sum(row[3] for row in rows)
    # The library stores the payload's JSON text JSON-encoded once more.
    events = [LogEvent(channel, eid, type_, json.loads(data)) for eid, type_, data, _ in rows]
    return Page(events, total, len(events) >= limit or total >= max_bytes)


@closes_connection
def events_after_each(after: dict[str, int]) -> dict[str, Page]:
    """`events_after` for several channels (channel -> the last id seen),
    on one connection: the hub's read after a request that recorded on
    several channels."""
    return {channel: events_after.__wrapped__(channel, last_id) for channel, last_id in after.items()}


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
