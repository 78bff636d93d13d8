"""Several Daphne processes joined by Redis: an order confirmed on one
reaches the streams of another, and a Redis restart leaves nobody deaf.
Each test runs its own redis-server on a free port."""

import time

import pytest

from events.tests.test_delivery import stream
from testsupport import RedisServer, redis_server_installed, require_service

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server(tmp_path):
    require_service("redis-server", *redis_server_installed())
    server = RedisServer(tmp_path / "redis.log").start()
    yield server
    server.stop()


def test_an_order_confirmed_on_one_process_reaches_the_streams_of_another(
    daphne, redis_server, operator, menu, api_for
):
    # A poll interval far beyond the test's waits: only Redis can deliver in time.
    env = {"REDIS_URL": redis_server.url, "EVENTS_POLL_SECONDS": "300"}
    a, b = daphne(**env), daphne(**env)
    on_a = api_for(a, operator)
    with stream(b, operator, "printer") as printer_on_b, stream(b, operator, "display") as board_on_b:
        assert printer_on_b.next().is_position
        assert board_on_b.next().is_position
        order = on_a.create_order(menu["margherita"].id)
        assert on_a.confirm(order["id"]).status_code == 200
        printed = printer_on_b.next(timeout=10)
        assert (printed.event, printed.id, printed.json()["id"]) == ("confirmed-order", "printer:1", order["id"])
        shown = board_on_b.next(timeout=10)
        # clients-heads.md E3: the stations' states too (none on this menu).
        assert shown.json() == {
            "displayCode": order["displayCode"],
            "ticketNumber": 1,
            "id": order["id"],
            "ordersStations": [],
        }


@pytest.mark.parametrize("downtime", [0, 4], ids=["quick-restart", "four-seconds-down"])
def test_a_redis_restart_leaves_no_process_deaf_and_loses_nothing(
    daphne, redis_server, operator, menu, api_for, downtime
):
    env = {"REDIS_URL": redis_server.url, "EVENTS_POLL_SECONDS": "300"}
    a, b = daphne(**env), daphne(**env)
    on_a = api_for(a, operator)
    food = menu["margherita"].id
    with stream(b, operator, "cashier") as cashier_on_b:
        assert cashier_on_b.next().is_position
        before = on_a.create_order(food, customer="before")
        assert cashier_on_b.next(timeout=10).json()["id"] == before["id"]

        redis_server.stop()
        # Orders keep working while Redis is down; their events are in the log.
        during = on_a.create_order(food, customer="during")
        time.sleep(downtime)
        redis_server.start()

        after = on_a.create_order(food, customer="after")
        received = cashier_on_b.collect(2, timeout=20)
        assert [m.json()["id"] for m in received] == [during["id"], after["id"]]
        assert [m.id for m in received] == ["cashier:2", "cashier:3"]

    # A client that reconnects to the other process misses nothing either.
    with stream(a, operator, "cashier", last_event_id="cashier:1") as cashier_on_a:
        assert cashier_on_a.next().is_position
        assert [m.json()["id"] for m in cashier_on_a.collect(2)] == [during["id"], after["id"]]


def test_a_process_streams_its_own_events_at_once_while_redis_is_down(daphne, redis_server, operator, menu, api_for):
    """A process's own commits wake its hub directly, not through Redis: with
    Redis gone and the log poll minutes away, its printer still prints."""
    a = daphne(REDIS_URL=redis_server.url, EVENTS_POLL_SECONDS="300")
    on_a = api_for(a, operator)
    with stream(a, operator, "printer") as printer_on_a:
        assert printer_on_a.next().is_position
        redis_server.stop()
        order = on_a.create_order(menu["margherita"].id)
        assert on_a.confirm(order["id"]).status_code == 200
        printed = printer_on_a.next(timeout=10)
        assert (printed.event, printed.id, printed.json()["id"]) == ("confirmed-order", "printer:1", order["id"])


@pytest.mark.django_db
def test_events_committed_together_reach_the_other_processes_in_one_message_naming_this_one(redis_server, monkeypatch):
    import json

    import redis
    from django_eventstream import eventstream
    from django_eventstream.event import Event

    from events.core import log
    from events.outbox import publisher

    monkeypatch.setattr(eventstream, "redis_client", publisher.DeploymentRedis(redis.Redis.from_url(redis_server.url)))
    listener = redis.Redis.from_url(redis_server.url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(log.redis_channel())
    events = [Event("cashier", "order-status-update", {}, 7), Event("display", "confirmed-order", {}, 3)]
    events.append(Event("printer", "confirmed-order", {}, 5))
    publisher.notify_others(events)

    messages = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(messages) < 2:
        message = listener.get_message(timeout=0.2)
        if message is not None:
            messages.append(json.loads(message["data"]))
    listener.close()
    assert messages == [
        {
            "events": [
                {"channel": "cashier", "pub_id": "7"},
                {"channel": "display", "pub_id": "3"},
                {"channel": "printer", "pub_id": "5"},
            ],
            "origin": log.origin(),
        }
    ]


def test_the_redis_listener_ends_when_cancelled_at_any_moment_of_its_connection(redis_server, settings):
    """On Python 3.11 redis-py's connection handshake can swallow a
    cancellation (asyncio.wait_for); the listener must end all the same, or a
    server's shutdown (and asyncio.run) waits for it for ever. Cancelled 200
    times, from the moment it starts to well after it subscribed."""
    import asyncio

    from redis.connection import parse_url

    from events.transport.hub import Hub

    settings.EVENTSTREAM_REDIS = parse_url(redis_server.url)

    async def cancel_at(delays):
        hub = Hub()
        still_running = []
        for delay in delays:
            listener = asyncio.create_task(hub._redis_loop())
            await asyncio.sleep(delay)
            listener.cancel()
            _, pending = await asyncio.wait([listener], timeout=5)
            if pending:
                still_running.append(delay)
                while not listener.done():  # let the loop end
                    listener.cancel()
                    await asyncio.wait([listener], timeout=0.5)
        return still_running

    delays = [i * 0.0001 for i in range(200)]  # 0 to 20 ms
    assert asyncio.run(cancel_at(delays)) == []
