"""The event log's storage: contiguous ids per channel under concurrent
writers, the library's own reader still works, and old events are trimmed."""

import datetime
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from django_eventstream.models import Event as StoredEvent
from django_eventstream.storage import DjangoModelStorage

from events.outbox import storage
from events.outbox.storage import EventLogStorage


def append_from_threads(channel: str, count: int, threads: int) -> list[int]:
    def append(n: int) -> int:
        try:
            return EventLogStorage().append_event(channel, "new-order", json.dumps({"n": n})).id
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(append, range(count)))


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_take_each_id_once_with_no_gap():
    ids = append_from_threads("printer", 60, 6)
    assert sorted(ids) == list(range(1, 61))
    stored = list(
        StoredEvent.objects.filter(channel="printer", eid__gt=0).order_by("eid").values_list("eid", flat=True)
    )
    assert stored == list(range(1, 61))


@pytest.mark.django_db(transaction=True)
def test_the_librarys_own_reader_reads_what_this_storage_wrote():
    for n in range(3):
        EventLogStorage().append_event("cashier", "new-order", json.dumps({"n": n}))
    events = DjangoModelStorage().get_events("cashier", 0)
    assert [(e.id, json.loads(e.data)) for e in events] == [(1, {"n": 0}), (2, {"n": 1}), (3, {"n": 2})]
    assert DjangoModelStorage().get_current_id("cashier") == 3


@pytest.mark.django_db(transaction=True)
def test_events_older_than_a_day_are_trimmed_at_most_once_a_minute(monkeypatch):
    EventLogStorage().append_event("display", "confirmed-order", "{}")
    StoredEvent.objects.filter(channel="display").update(created=timezone.now() - datetime.timedelta(hours=25))
    monkeypatch.setattr(storage, "_last_trim", 0.0)
    EventLogStorage().append_event("display", "confirmed-order", "{}")
    assert list(StoredEvent.objects.filter(channel="display").values_list("eid", flat=True)) == [2]
    # Within the minute, nothing is scanned again.
    StoredEvent.objects.filter(channel="display").update(created=timezone.now() - datetime.timedelta(hours=25))
    EventLogStorage().append_event("display", "confirmed-order", "{}")
    assert sorted(StoredEvent.objects.filter(channel="display").values_list("eid", flat=True)) == [2, 3]
