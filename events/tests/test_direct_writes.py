"""A live stream that waits with nothing queued is written by the hub's
delivery itself, with no task woken per stream; anything that needs the
stream's own task (a client gone or not reading, frames already queued)
still goes through it, in order."""

import asyncio
import time

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web import http

from events.transport.backpressure import TransportWatch
from events.transport.hub import Subscriber
from events.transport.stream import _Stream


def started_response() -> tuple[http.Request, StringTransport]:
    """A Twisted request whose streamed response has started, as Daphne's
    is once the stream's headers were sent."""
    channel = http.HTTPChannel()
    channel.callLater = Clock().callLater
    transport = StringTransport()
    channel.makeConnection(transport)
    request = http.Request(channel)
    request.clientproto = b"HTTP/1.1"
    request.method = b"GET"
    request._response_started = True  # Daphne's WebRequest sets it on http.response.start
    request.write(b"")  # the headers
    transport.clear()
    return request, transport


class LoopClock:
    """What a stream reads of its event loop outside a task: the time."""

    time = staticmethod(time.monotonic)


async def never_called(message):
    raise AssertionError(f"the stream's task wrote {message!r}")


def live_stream(limit: int = 1 << 20):
    request, transport = started_response()
    subscriber = Subscriber("printer", 10, 0.0)
    stream = _Stream(never_called, subscriber, LoopClock(), TransportWatch(request, limit))
    subscriber.writer = stream  # as `run` does while it waits
    return stream, subscriber, request, transport


def test_an_event_for_a_live_idle_stream_reaches_its_connection_without_waking_it():
    stream, subscriber, _, transport = live_stream()
    subscriber.push(7, b"id: printer:7\ndata: {}\n\n")
    assert transport.value() == b"18\r\nid: printer:7\ndata: {}\n\n\r\n"
    assert not subscriber.wakeup.is_set()
    assert subscriber.frames == []
    assert stream.last == 7


def test_a_keep_alive_is_written_the_same_way():
    _, subscriber, _, transport = live_stream()
    subscriber.push(None, b":\n\n")
    assert transport.value() == b"3\r\n:\n\n\r\n"


def test_an_event_the_stream_sent_already_is_not_sent_again():
    stream, subscriber, _, transport = live_stream()
    stream.last = 9  # the replay wrote up to 9
    subscriber.push(9, b"id: printer:9\n\n")
    assert transport.value() == b""
    assert not subscriber.wakeup.is_set()


def test_a_frame_behind_queued_frames_waits_behind_them():
    _, subscriber, _, transport = live_stream()
    subscriber.frames.append((3, b"three"))
    subscriber.push(4, b"four")
    assert transport.value() == b""
    assert subscriber.frames == [(3, b"three"), (4, b"four")]
    assert subscriber.wakeup.is_set()


def test_a_frame_for_a_client_that_is_gone_goes_to_the_streams_task():
    _, subscriber, request, transport = live_stream()
    request.connectionLost(Exception("gone"))
    subscriber.push(5, b"five")
    assert transport.value() == b""
    assert subscriber.frames == [(5, b"five")]
    assert subscriber.wakeup.is_set()
    assert subscriber.writer is None


def test_a_frame_for_a_client_over_its_unread_limit_goes_to_the_streams_task():
    _, subscriber, request, transport = live_stream(limit=3)
    request.channel.pauseProducing()  # the transport's buffer is full: the client does not read
    subscriber.push(6, b"six bytes")
    assert transport.value() == b""
    assert subscriber.frames == [(6, b"six bytes")]
    assert subscriber.writer is None


def test_the_stream_offers_itself_as_writer_only_while_it_waits():
    async def scenario():
        request, _ = started_response()
        subscriber = Subscriber("printer", 10, 0.0)
        sent = []

        async def send(message):
            sent.append(message["body"])

        stream = _Stream(send, subscriber, asyncio.get_running_loop(), TransportWatch(request, 1 << 20))
        task = asyncio.ensure_future(stream.run())
        await asyncio.sleep(0)
        assert subscriber.writer is stream
        subscriber.writer = None  # as when a frame had to be queued
        subscriber.push(8, b"eight")
        await asyncio.sleep(0)
        assert sent == [b"eight"]
        assert subscriber.writer is stream  # waiting again
        subscriber.close()
        await task
        assert subscriber.writer is None

    asyncio.run(scenario())


def test_without_daphnes_request_the_stream_writes_through_its_task_only():
    async def scenario():
        subscriber = Subscriber("printer", 10, 0.0)
        sent = []

        async def send(message):
            sent.append(message["body"])

        stream = _Stream(send, subscriber, asyncio.get_running_loop(), None)
        task = asyncio.ensure_future(stream.run())
        await asyncio.sleep(0)
        assert subscriber.writer is None
        subscriber.push(2, b"two")
        await asyncio.sleep(0)
        assert sent == [b"two"]
        subscriber.close()
        await task

    asyncio.run(scenario())


def test_a_write_that_fails_ends_that_stream_and_not_the_delivery(caplog):
    _, failing, request, _ = live_stream()

    def broken(iovec):
        raise RuntimeError("a bug below")

    request.channel.writeSequence = broken
    _, healthy, _, transport = live_stream()
    for subscriber in (failing, healthy):
        subscriber.push(11, b"eleven")
    assert failing.closed
    assert failing.writer is None
    assert failing.frames == []
    assert transport.value() == b"6\r\neleven\r\n"
    assert "could not write to a printer stream" in caplog.text
