"""A read of the event log (a replay page, a hub's catch-up) is bounded in
bytes as well as in count: a client that does not read its replay holds one
page in the server, not 200 events whatever their size."""

import asyncio
import json

import pytest
from django.db import transaction

from events.core import log
from events.outbox.storage import EventLogStorage
from events.transport.opening import write_replay

EVENT_BYTES = 18 * 1024
BOUND = 64 * 1024


def seed(count: int, size: int, channel: str = "cashier") -> None:
    storage = EventLogStorage()
    with transaction.atomic():
        for n in range(count):
            storage.append_event(channel, "order-status-update", json.dumps({"n": n, "pad": "x" * size}))


def stored_size(event: log.LogEvent) -> int:
    """What the page counts: the payload as the library stores it."""
    return len(json.dumps(event.data).encode())


@pytest.mark.django_db(transaction=True)
def test_each_page_read_from_the_log_holds_at_most_the_byte_bound_plus_one_event(settings):
    settings.EVENTS_REPLAY_PAGE_BYTES = BOUND
    seed(60, EVENT_BYTES)  # about 1.1 MB of log
    pages, last = [], 0
    while True:
        page = log.events_after("cashier", last)
        pages.append(page)
        if page.events:
            last = page.events[-1].id
        if not page.full:
            break
    one_event = max(stored_size(e) for page in pages for e in page.events)
    for page in pages:
        assert page.size == sum(stored_size(e) for e in page.events)
        assert 0 < page.size <= BOUND + one_event or page is pages[-1]
    assert [e.id for page in pages for e in page.events] == list(range(1, 61))
    assert len(pages) >= 60 * EVENT_BYTES // (BOUND + EVENT_BYTES)


@pytest.mark.django_db(transaction=True)
def test_small_events_are_still_paged_by_count(settings):
    settings.EVENTS_REPLAY_PAGE_BYTES = BOUND
    seed(250, 10)
    first = log.events_after("cashier", 0)
    assert (len(first.events), first.full) == (log.PAGE, True)
    second = log.events_after("cashier", log.PAGE)
    assert ([e.id for e in second.events], second.full) == (list(range(201, 251)), False)


@pytest.mark.django_db(transaction=True)
def test_an_event_larger_than_the_bound_is_a_page_of_its_own(settings):
    settings.EVENTS_REPLAY_PAGE_BYTES = 4096
    seed(3, 10_000)
    assert [len(log.events_after("cashier", after).events) for after in (0, 1, 2)] == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_a_replay_writes_every_event_once_in_order_in_bodies_bounded_by_the_page(settings):
    settings.EVENTS_REPLAY_PAGE_BYTES = BOUND
    seed(60, EVENT_BYTES)
    bodies: list[bytes] = []

    async def write(body: bytes) -> None:
        bodies.append(body)

    last = asyncio.run(write_replay(write, "cashier", 0))
    ids = [line[len(b"id: ") :] for body in bodies for line in body.splitlines() if line.startswith(b"id: ")]
    assert (last, ids) == (60, [f"cashier:{n}".encode() for n in range(1, 61)])
    frame_overhead = 200
    assert max(len(body) for body in bodies) <= BOUND + EVENT_BYTES + 4 * frame_overhead
    assert len(bodies) > 1
