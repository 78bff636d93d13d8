"""The hub and a stream's writer in-process, on the real event log: what a
slow reader gets, and how gaps are filled."""

import asyncio

import pytest

from events.core.threads import in_thread
from events.outbox.publisher import publish
from events.transport.hub import get_hub, stop_hub
from events.transport.stream import _Stream


class SlowClient:
    """An ASGI `send` that blocks until released, like a client that stopped
    reading while the kitchen printed a rush."""

    def __init__(self):
        self.gate = asyncio.Event()
        self.bodies: list[bytes] = []

    async def send(self, message):
        await self.gate.wait()
        self.bodies.append(message["body"])

    def event_ids(self) -> list[str]:
        text = b"".join(self.bodies).decode()
        return [line[4:] for line in text.splitlines() if line.startswith("id: ")]


async def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def deafen(hub) -> None:
    """Cut the hub off every notification, leaving it only the log."""
    from django_eventstream.views import get_listener_manager

    if hub.library_listener is not None:
        get_listener_manager().remove_listener(hub.library_listener)
        hub.library_listener.channels = set()  # so that stopping removes nothing twice
    for task in hub.tasks:
        if task.get_name() == "events-redis":
            task.cancel()
    hub.wake_here = lambda channel, event_id: None  # this process's own commits, with Redis


def run(coro):
    async def with_hub_stopped():
        try:
            return await coro
        finally:
            await stop_hub()

    return asyncio.run(with_hub_stopped())


@pytest.mark.django_db(transaction=True)
def test_a_reader_whose_queue_overflows_gets_every_event_from_the_log_once_in_order(settings):
    settings.EVENTS_CLIENT_QUEUE = 10

    async def scenario():
        hub = await get_hub()
        subscriber = hub.subscribe("cashier")
        client = SlowClient()
        writer = _Stream(client.send, subscriber, hub.loop)
        writer.last = hub.last_ids["cashier"]
        task = asyncio.ensure_future(writer.run())
        for n in range(25):
            await in_thread(publish, "cashier", "new-order", {"n": n})
        await wait_for(lambda: hub.last_ids["cashier"] == 25)
        assert subscriber.overflow, "the burst must have overflowed the 10-frame queue"
        client.gate.set()
        await wait_for(lambda: len(client.event_ids()) >= 25)
        await asyncio.sleep(0.2)
        subscriber.close()
        await asyncio.wait_for(task, 5)
        return client.event_ids()

    assert run(scenario()) == [f"cashier:{n}" for n in range(1, 26)]


@pytest.mark.django_db(transaction=True)
def test_events_the_hub_was_not_told_about_are_read_from_the_log(settings):
    settings.EVENTS_POLL_SECONDS = 0.2

    async def scenario():
        hub = await get_hub()
        subscriber = hub.subscribe("display")
        deafen(hub)  # as for events published by another process, Redis down
        for n in range(3):
            await in_thread(publish, "display", "confirmed-order", {"n": n})
        await wait_for(lambda: hub.last_ids["display"] == 3)
        return [event_id for event_id, _ in subscriber.frames if event_id is not None]

    assert run(scenario()) == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_wake_up_message_is_never_delivered_only_what_the_log_holds():
    """A Redis message names an event (a forged one, or another
    deployment's): the hub reads the log and delivers what is there."""
    import json

    async def scenario():
        hub = await get_hub()
        subscriber = hub.subscribe("printer")
        forged = {"channel": "printer", "event_type": "confirmed-order", "data": '{"who": "forged"}', "pub_id": "1"}
        hub._take_from_redis(json.dumps(forged).encode())
        await in_thread(publish, "printer", "confirmed-order", {"who": "logged"})
        await wait_for(lambda: hub.last_ids["printer"] == 1)
        return [data for event_id, data in subscriber.frames if event_id is not None]

    [delivered] = run(scenario())
    assert b'"who": "logged"' in delivered and b"forged" not in delivered


@pytest.mark.django_db(transaction=True)
def test_the_hub_skips_the_echo_of_its_own_wake_ups_and_reads_everyone_elses():
    """This process's commits wake its hub directly; their Redis messages
    name this process and cost no second read when they come back."""
    import json

    from events.core import log

    async def scenario():
        hub = await get_hub()
        deafen(hub)
        hub.last_ids["printer"] = 0
        own = {"channel": "printer", "pub_id": "1", "origin": log.origin()}
        hub._take_from_redis(json.dumps(own).encode())
        after_own = set(hub.check_pending)
        other = {"channel": "printer", "pub_id": "1", "origin": "another-process"}
        hub._take_from_redis(json.dumps(other).encode())
        return after_own, set(hub.check_pending)

    after_own, after_other = run(scenario())
    assert after_own == set() and after_other == {"printer"}


@pytest.mark.django_db(transaction=True)
def test_one_read_serves_every_channel_woken_and_a_backlog_of_several_pages_arrives_whole(settings):
    """The reader reads the woken channels together, and goes back for a
    channel whose page was full while still serving the others."""
    import json

    from django.db import transaction

    from events.core import log
    from events.outbox.storage import EventLogStorage

    settings.EVENTS_CLIENT_QUEUE = 2000
    backlog = 2 * log.PAGE + 50

    def seed() -> None:
        storage = EventLogStorage()
        with transaction.atomic():
            for n in range(backlog):
                storage.append_event("cashier", "new-order", json.dumps({"n": n}))
            for n in range(3):
                storage.append_event("display", "confirmed-order", json.dumps({"n": n}))

    async def scenario():
        hub = await get_hub()
        deafen(hub)
        cashier, display = hub.subscribe("cashier"), hub.subscribe("display")
        await in_thread(seed)
        hub.request_check("display")
        hub.request_check("cashier")
        await wait_for(lambda: hub.last_ids["cashier"] == backlog and hub.last_ids["display"] == 3)
        return [
            [event_id for event_id, _ in subscriber.frames if event_id is not None] for subscriber in (cashier, display)
        ]

    cashier_ids, display_ids = run(scenario())
    assert cashier_ids == list(range(1, backlog + 1))
    assert display_ids == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_message_naming_several_events_wakes_each_channel_and_a_malformed_one_wakes_none():
    import json

    async def scenario():
        hub = await get_hub()
        deafen(hub)
        for channel in ("cashier", "display", "printer"):
            hub.last_ids[channel] = 0
        woken = []
        for message in (
            {"events": "printer"},
            {"events": [{"channel": ["printer"], "pub_id": "1"}]},
            {"events": [{"pub_id": "1"}]},
            ["printer"],
            {"events": [{"channel": "cashier", "pub_id": "1"}, {"channel": "printer", "pub_id": "1"}]},
        ):
            hub._take_from_redis(json.dumps(message).encode())
            woken.append(sorted(hub.check_pending))
            hub.check_pending.clear()
        return woken

    assert run(scenario()) == [[], [], [], [], ["cashier", "printer"]]
