"""django-eventstream's database storage, appending inside the caller's
transaction (the outbox's write side), with fewer statements per event.

Invariant: an event row and its id exist if and only if the transaction that
appended it committed, and per channel the committed ids are 1, 2, 3 … with
no gap, in commit order. An id is taken by one upsert of the channel's
counter row that returns the new value; the upsert holds that row's lock
until the caller's transaction ends, so a concurrent writer on the same
channel waits for the commit (PostgreSQL) or cannot start before it (SQLite
serialises writers: IMMEDIATE), and a rollback gives the id back.

The library's DjangoModelStorage takes an id in six statements and scans for
expired events on every append; here the events of one save (one per
channel) cost one upsert and one insert (on PostgreSQL one statement holding
both, the insert reading the ids the upsert returns), and expired events are
deleted after a commit, at most once a minute per process, in one statement
of their own transaction (a delete inside an order's transaction would
lengthen the time it holds the counter locks).

The tables, the ids and the 24-hour retention are the library's, so its
readers and ours (events/core/log.py) work unchanged.
"""

from __future__ import annotations

import datetime
import json
import threading
import time

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django_eventstream.event import Event
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter
from django_eventstream.storage import EVENT_TIMEOUT, DjangoModelStorage

import counters

TRIM_EVERY_SECONDS = 60.0

# The library's counter table: one row per channel, its last id in `value`,
# `updated` stamped at each id taken.
CHANNEL_COUNTERS = counters.Counters(EventCounter._meta.db_table, key=("name",), named_by="name", also=("updated",))

_trim_lock = threading.Lock()
_last_trim = 0.0


class EventLogStorage(DjangoModelStorage):
    def append_in_transaction(self, channel: str, event_type: str, data: str) -> Event:
        """Append to the log as part of the caller's open transaction: the
        event commits or rolls back with it. `data` is the payload's JSON."""
        return self.append_many_in_transaction([(channel, event_type, data)])[0]

    def append_many_in_transaction(self, events: list[tuple[str, str, str]]) -> list[Event]:
        """Append events of distinct channels, (channel, type, payload JSON)
        each, in two statements whatever their number (one on PostgreSQL):
        one upsert takes the channels' ids (their counter rows locked in the
        order given, which the caller keeps to events.core.channels.CHANNELS),
        one insert stores the events."""
        if not connection.in_atomic_block:
            raise TransactionManagementError("an event must be appended inside the transaction that causes it")
        channels = [channel for channel, _, _ in events]
        if len(set(channels)) != len(channels):
            raise ValueError("one append takes each channel at most once")
        now = timezone.now()
        # The library stores the payload's JSON text JSON-encoded once more.
        stored = [
            (channel, event_type, json.dumps(data, cls=DjangoJSONEncoder)) for channel, event_type, data in events
        ]
        if connection.vendor == "postgresql":
            ids = _append_in_one_statement(stored, now)
        else:
            ids = _append_in_two_statements(stored, now)
        transaction.on_commit(_trim_now_and_then, robust=True)
        return [Event(channel, event_type, data, id=ids[channel]) for channel, event_type, data in events]

    def append_event(self, channel: str, event_type: str, data) -> Event:
        """The library's entry point (its send_event; benchmarks use it):
        the append in a transaction of its own, or in the caller's."""
        with transaction.atomic():
            return self.append_in_transaction(channel, event_type, data)


def _append_in_two_statements(stored: list[tuple[str, str, str]], now) -> dict[str, int]:
    ids = CHANNEL_COUNTERS.increment([(channel, now) for channel, _, _ in stored])
    rows = []
    for channel, event_type, data in stored:
        if ids[channel] == 1:
            # The library's own reader expects an event 0 to read "after".
            rows.append(StoredEvent(channel=channel, type="", data="", eid=0, created=now))
        rows.append(StoredEvent(channel=channel, type=event_type, data=data, eid=ids[channel], created=now))
    StoredEvent.objects.bulk_create(rows)  # one INSERT; bypasses Event.save's numbering
    return ids


def _append_in_one_statement(stored: list[tuple[str, str, str]], now) -> dict[str, int]:
    """PostgreSQL: the same upsert and insert as one statement, the insert
    reading the ids the upsert returns (a data-modifying WITH); the rows
    and locks are those of the two statements."""
    take_ids, params = CHANNEL_COUNTERS.increment_sql([(channel, now) for channel, _, _ in stored])
    table = StoredEvent._meta.db_table
    values = ", ".join(["(%s, %s, %s)"] * len(stored))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ids AS ({take_ids}), "
            f"appended (channel, type, data) AS (VALUES {values}), "
            f"inserted AS (INSERT INTO {table} (channel, type, data, eid, created) "
            "SELECT ids.name, '', '', 0, %s FROM ids WHERE ids.value = 1 "
            "UNION ALL "
            "SELECT appended.channel, appended.type, appended.data, ids.value, %s "
            "FROM appended JOIN ids ON ids.name = appended.channel) "
            "SELECT name, value FROM ids",
            [*params, *(value for row in stored for value in row), now, now],
        )
        return dict(cursor.fetchall())


def _trim_now_and_then() -> None:
    global _last_trim
    now = time.monotonic()
    if now - _last_trim < TRIM_EVERY_SECONDS or not _trim_lock.acquire(blocking=False):
        return
    try:
        _last_trim = now
        cutoff = timezone.now() - datetime.timedelta(minutes=EVENT_TIMEOUT)
        StoredEvent.objects.filter(created__lt=cutoff).delete()
    finally:
        _trim_lock.release()
