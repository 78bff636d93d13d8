"""A request's response goes out before the readers of its events are woken
(events/transport/after_response.py), through the application Daphne serves
(config.asgi), with the real hub and event log in-process; and no wake-up is
lost on the way."""

import asyncio
import json

import pytest

from conftest import bearer
from events.outbox import publisher
from events.tests.test_hub import wait_for
from events.transport import after_response
from events.transport.hub import get_hub, stop_hub
from testsupport.asgi import body_then_silence, http_scope

STREAMS = 300


def request_scope(path: str, user, body: bytes) -> dict:
    bearer_headers = ((name.lower().encode(), value.encode()) for name, value in bearer(user).items())
    return http_scope("POST", path, body, [(b"content-type", b"application/json"), *bearer_headers])


@pytest.fixture
def wake_ups(monkeypatch):
    """The wake-ups of this process's readers (one per committed event), in
    order, each also sent for real."""
    sent: list = []
    wake = publisher._wake_this_process

    def noted(event):
        sent.append(("woken", event.channel))
        wake(event)

    monkeypatch.setattr(publisher, "_wake_this_process", noted)
    return sent


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_order_is_answered_before_any_of_many_printer_streams_is_woken_and_then_all_get_it(
    operator, menu, wake_ups, settings
):
    from config.asgi import application

    # Only a notification may bring the event: no periodic look at the log.
    settings.EVENTS_POLL_SECONDS = 3600

    body = json.dumps(
        {
            "table": "4",
            "customer": "Ann",
            "orderItems": [{"foodId": menu["margherita"].id, "quantity": 2}],
            "confirm": {"paymentMethod": "CASH"},
        }
    ).encode()
    scope = request_scope("/v1/orders", operator, body)

    async def scenario():
        try:
            hub = await get_hub()
            if getattr(settings, "EVENTSTREAM_REDIS", None):
                # Subscribing to Redis makes the hub read the log once: let
                # that read be over before the order exists.
                await wait_for(lambda: hub.redis_connected)
            await wait_for(lambda: not hub.check_pending)
            await asyncio.sleep(0.5)
            printers = [hub.subscribe("printer") for _ in range(STREAMS)]
            answered: list = []

            async def send(message):
                # What the streams had when the server was handed this.
                wake_ups.append((message["type"], sum(1 for printer in printers if printer.frames)))
                answered.append(message)

            await application(scope, body_then_silence(body), send)
            await wait_for(lambda: all(printer.frames for printer in printers))
            return answered, printers
        finally:
            await stop_hub()

    answered, printers = asyncio.run(scenario())
    assert answered[0]["status"] == 201
    order = json.loads(b"".join(message.get("body", b"") for message in answered[1:]))
    assert wake_ups == [
        ("http.response.start", 0),
        ("http.response.body", 0),
        ("woken", "cashier"),
        ("woken", "display"),
        ("woken", "printer"),
    ]
    frames = {frame for printer in printers for _, frame in printer.frames}
    assert len(frames) == 1
    kind, _, data = frames.pop().decode().strip().splitlines()
    assert kind == "event: confirmed-order"
    assert json.loads(data.removeprefix("data: "))["id"] == order["id"]


def test_wake_ups_of_a_request_that_fails_after_its_commit_are_sent_when_it_ends():
    woken = []

    async def fails_after_commit(scope, receive, send):
        # As an on_commit callback would, from the view's thread.
        assert await asyncio.to_thread(after_response.defer, lambda: woken.append("woken"))
        raise RuntimeError("the view failed after its transaction committed")

    async def send(message):
        raise AssertionError("no response was started")

    wrapped = after_response.NotifyAfterResponse(fails_after_commit)
    with pytest.raises(RuntimeError):
        asyncio.run(wrapped({"type": "http"}, body_then_silence(b""), send))
    assert woken == ["woken"]


def test_the_part_of_a_wake_up_for_the_loop_runs_on_the_loop_before_its_part_for_a_thread():
    import threading

    ran = []

    async def commits(scope, receive, send):
        def in_view_thread():
            return after_response.defer(
                lambda: ran.append(("thread part", threading.current_thread() is loop_thread)),
                here=lambda: ran.append(("loop part", threading.current_thread() is loop_thread)),
            )

        assert await asyncio.to_thread(in_view_thread)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message):
        ran.append(message["type"])

    async def serve():
        nonlocal loop_thread
        loop_thread = threading.current_thread()
        await after_response.NotifyAfterResponse(commits)({"type": "http"}, None, send)

    loop_thread = None
    asyncio.run(serve())
    assert ran == ["http.response.start", "http.response.body", ("loop part", True), ("thread part", False)]


def test_items_deferred_in_one_batch_reach_their_function_in_one_call_in_order():
    calls = []

    def publish_all(items):
        calls.append(list(items))

    async def commits_three(scope, receive, send):
        def in_view_thread():
            return all(after_response.defer(None, batch=(publish_all, n)) for n in (1, 2, 3))

        assert await asyncio.to_thread(in_view_thread)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message):
        pass

    asyncio.run(after_response.NotifyAfterResponse(commits_three)({"type": "http"}, None, send))
    assert calls == [[1, 2, 3]]


def test_outside_a_request_nothing_is_deferred_and_after_a_response_nothing_more_is():
    assert after_response.defer(lambda: None) is False
    later = []

    async def answers_then_commits(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        # A commit after the response: its readers are woken at once.
        later.append(after_response.defer(lambda: None))

    async def send(message):
        pass

    asyncio.run(after_response.NotifyAfterResponse(answers_then_commits)({"type": "http"}, None, send))
    assert later == [False]
