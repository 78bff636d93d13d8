"""django-eventstream's database storage, with fewer statements per event.

The library's DjangoModelStorage takes an event id in six statements (read
the counter, lock it, insert, update it, commit) and scans for expired events
on every append: 18 of the 35 statements of a confirmation, which publishes
three events. Here an id costs one upsert that returns the new value and
holds the counter row's lock until commit, then the insert; expired events
are deleted at most once a minute per process, in one statement.

The tables, the contiguous per-channel ids and the 24-hour retention are the
library's, so its readers and ours (events/log.py) work unchanged.
"""

from __future__ import annotations

import datetime
import json
import threading
import time

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django_eventstream.event import Event
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter
from django_eventstream.storage import EVENT_TIMEOUT, DjangoModelStorage

TRIM_EVERY_SECONDS = 60.0

_trim_lock = threading.Lock()
_last_trim = 0.0


class EventLogStorage(DjangoModelStorage):
    def append_event(self, channel: str, event_type: str, data) -> Event:
        table = EventCounter._meta.db_table
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (name, value, updated) VALUES (%s, 1, %s) "
                    f"ON CONFLICT (name) DO UPDATE SET value = {table}.value + 1, updated = excluded.updated "
                    "RETURNING value",
                    [channel, timezone.now()],
                )
                event_id = cursor.fetchone()[0]
            rows = [
                # The library stores the payload's JSON text JSON-encoded once more.
                StoredEvent(
                    channel=channel, type=event_type, data=json.dumps(data, cls=DjangoJSONEncoder), eid=event_id
                )
            ]
            if event_id == 1:
                # The library's own reader expects an event 0 to read "after".
                rows.insert(0, StoredEvent(channel=channel, type="", data="", eid=0))
            StoredEvent.objects.bulk_create(rows)  # one INSERT; bypasses Event.save's numbering
        _trim_now_and_then()
        return Event(channel, event_type, data, id=event_id)


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
