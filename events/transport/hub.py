"""One fan-out hub per Daphne process.

Every event is numbered and stored in django-eventstream's log inside the
transaction that causes it (events/outbox/publisher.py), and processes are notified
after the commit: in-process through the library's listener manager, or
across processes through Redis, on this deployment's own pub/sub channel
(events/core/log.py redis_channel). The hub is the one listener of this process.

Invariant: the hub delivers only what it read from its own event log. A
notification (an in-process one, a Redis message) is a wake-up and nothing
more: its payload and id are never delivered. A wake-up for a channel makes
its pump read the log from the last delivered id, once however many wake-ups
came meanwhile (one read per wake, batched), and so do the library's
overflow flag, a Redis reconnect and the periodic check. Every frame is made
once and handed to every open stream on its channel, in id order, without
gaps. So a message from another deployment sharing the Redis server, or a
forged one, can at worst cost a read; a lost notification delays an event,
never loses it. Streams are plain asyncio objects: no thread and no database
connection per stream.

One reader serves every channel: the channels woken since its last read
are read together, on one connection in one worker thread (a confirmation
wakes three), and delivered channel by channel in the order of
events.core.channels.CHANNELS. In a deployment with Redis, the events this
process recorded wake its hub directly (`wake_here`, from
events/outbox/publisher.py) and their Redis messages, which name this
process as their origin (events/core/log.py origin), are not read again when
they come back: the other processes' are.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

from django.conf import settings

from events.access import revocation
from events.access.credentials import CredentialCache
from events.core import log
from events.core.channels import CHANNELS
from events.core.threads import in_thread
from events.presence import presence
from events.transport import memory, stream_limit
from events.transport.wire import KEEPALIVE_FRAME, event_frame
from ops import metrics

logger = logging.getLogger(__name__)

# An event id in a wake-up message: ASCII digits only ("²" is a digit to str.isdigit()).
EVENT_ID = re.compile(r"[0-9]{1,18}", re.ASCII)
REDIS_READ_SECONDS = 1.0  # the longest a swallowed cancellation goes unnoticed (Hub._redis_loop)


class Subscriber:
    """One open stream. The hub appends frames; the stream's writer sends
    them. A writer that falls too far behind is marked `overflow` and goes back
    to the log for what it missed. While the stream is live and idle, its
    `writer` takes a frame at once instead (no task woken per stream)."""

    __slots__ = (
        "channel",
        "identity",
        "events",
        "frames",
        "wakeup",
        "overflow",
        "closed",
        "last_write",
        "limit",
        "address",
        "opened_at",
        "string_ids",
        "writer",
    )

    def __init__(
        self,
        channel: str,
        limit: int,
        now: float,
        identity=None,
        events: frozenset[str] | None = None,
        address: str | None = None,
        string_ids: bool = False,
    ):
        self.channel = channel
        # Order ids as strings (a cookie stream): it is handed those frames.
        self.string_ids = string_ids
        # The event types this stream receives (?events=); None: all.
        self.events = events
        # Who holds the stream (events/access/identity.py); None for in-process tests.
        self.identity = identity
        # A list: the writer takes all of them at once (an empty deque costs
        # every idle stream some 600 bytes more).
        self.frames: list[tuple[int | None, bytes]] = []
        self.wakeup = asyncio.Event()
        self.overflow = False
        self.closed = False
        self.last_write = now
        self.limit = limit
        # For the live view of open streams (events/presence.py).
        self.address = address
        self.opened_at = time.time()
        # While its stream is live and waiting with nothing queued, what
        # writes a frame to it at once (events/transport/stream.py _Stream).
        self.writer = None

    def push(self, event_id: int | None, data: bytes, event_type: str | None = None) -> None:
        if self.overflow:
            return
        if event_type is not None and self.events is not None and event_type not in self.events:
            return
        # Written at once while nothing waits before it; else queued, in order.
        if self.writer is not None and not self.frames and self.writer.write_now(event_id, data):
            return
        if len(self.frames) >= self.limit:
            self.overflow = True
            self.frames.clear()
        else:
            self.frames.append((event_id, data))
        self.wakeup.set()

    def close(self) -> None:
        self.closed = True
        self.wakeup.set()


class _LibraryListener:
    """Stands in django-eventstream's listener manager for the whole process
    (the shape of its views.Listener). The manager calls wake_threadsafe from
    the publishing thread; the hub drains on its own loop."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self.loop = hub.loop
        self.user_id = "events-hub"
        self.channels = set(CHANNELS)
        self.channel_items: dict = {}
        self.overflow = False
        self.error = ""

    def wake_threadsafe(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.hub.take_from_library, self)
        except RuntimeError:
            pass  # the loop is closed (shutdown): the log keeps the event


class Hub:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.subscribers: dict[str, set[Subscriber]] = {channel: set() for channel in CHANNELS}
        # Open streams per holder (a user or a device), for the per-holder
        # limit and for closing a holder's streams when its right ends.
        self.by_holder: dict[str, set[Subscriber]] = {}
        # Identities of streams held by Pushpin that this process opened or
        # renewed: identity -> when last seen (loop time). Their holder
        # channel is derived from the identity (events/transport/grip.py).
        self.pushpin_holds: dict = {}
        # The same holds as the live view lists them (events/presence.py):
        # (channel, "user"|"key", id) -> presence.HeldStream.
        self.held_streams: dict = {}
        # Credentials checked lately, for openings without a query.
        self.credentials = CredentialCache.from_settings()
        self.last_ids: dict[str, int] = {}
        # The channels whose log the reader is to read (coalesced wake-ups),
        # and what wakes the reader.
        self.check_pending: set[str] = set()
        self.pending = asyncio.Event()
        self.ready = asyncio.Event()
        self.redis_connected = False
        self.tasks: list[asyncio.Task] = []
        self.library_listener: _LibraryListener | None = None
        # The per-holder stream limit over every worker (events/transport/stream_limit.py):
        # counted in Redis when there is one, else this process's streams
        # plus the other processes' as their presence snapshots list them.
        self.stream_counts: stream_limit.RedisStreamCounts | None = None
        self.remote_streams: dict[str, int] = {}
        # Gives the memory of closed streams back to the system (glibc).
        self.trimmer = memory.Trimmer(self.loop)

    # --- life cycle -----------------------------------------------------------

    async def start(self) -> None:
        self.last_ids = await in_thread(log.head_ids, CHANNELS)
        self.tasks.append(self.loop.create_task(self._reader(), name="events-reader"))
        self.tasks.append(self.loop.create_task(self._ticker(), name="events-ticker"))
        self.tasks.append(self.loop.create_task(revocation.watch(self), name="events-revocation"))
        self.tasks.append(self.loop.create_task(presence.publish_loop(self), name="events-presence"))
        if getattr(settings, "EVENTSTREAM_REDIS", None):
            self.tasks.append(self.loop.create_task(self._redis_loop(), name="events-redis"))
            self.stream_counts = stream_limit.RedisStreamCounts(self)
            self.tasks.append(self.loop.create_task(self.stream_counts.heartbeat_loop(), name="events-stream-count"))
        else:
            from django_eventstream.views import get_listener_manager

            self.library_listener = _LibraryListener(self)
            get_listener_manager().add_listener(self.library_listener)
        self.ready.set()

    async def stop(self) -> None:
        if self.library_listener is not None:
            from django_eventstream.views import get_listener_manager

            get_listener_manager().remove_listener(self.library_listener)
            self.library_listener = None
        # Cancelled until done: a cancellation can be swallowed inside
        # redis-py (see _redis_loop).
        pending = [task for task in self.tasks if not task.done()]
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        self.trimmer.cancel()
        if self.stream_counts is not None:
            await self.stream_counts.close()
        for subscribers in self.subscribers.values():
            for subscriber in subscribers:
                subscriber.close()

    # --- subscribers ----------------------------------------------------------

    def subscribe(
        self,
        channel: str,
        identity=None,
        events: frozenset[str] | None = None,
        address: str | None = None,
        string_ids: bool = False,
    ) -> Subscriber:
        subscriber = Subscriber(
            channel, settings.EVENTS_CLIENT_QUEUE, self.loop.time(), identity, events, address, string_ids
        )
        self.subscribers[channel].add(subscriber)
        if identity is not None:
            self.by_holder.setdefault(identity.holder, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers[subscriber.channel].discard(subscriber)
        self.trimmer.stream_closed()
        if subscriber.identity is not None:
            held = self.by_holder.get(subscriber.identity.holder)
            if held is not None:
                held.discard(subscriber)
                if not held:
                    del self.by_holder[subscriber.identity.holder]

    def open_streams(self, holder: str) -> int:
        """How many streams this process serves for a user or device."""
        return len(self.by_holder.get(holder, ()))

    async def admit(self, holder: str, limit: int) -> bool:
        """Whether `holder` may open one more stream, all workers counted;
        if so it is counted until `release`. Without Redis this does not
        suspend: nothing runs between the count and the caller's subscribe."""
        if self.stream_counts is not None:
            return await self.stream_counts.admit(holder, limit)
        return self.open_streams(holder) + self.remote_streams.get(holder, 0) < limit

    def release(self, holder: str) -> None:
        """A stream that `admit` counted has ended."""
        if self.stream_counts is not None:
            self.stream_counts.release(holder)

    # --- sources --------------------------------------------------------------

    def take_from_library(self, listener: _LibraryListener) -> None:
        from django_eventstream.views import get_listener_manager

        with get_listener_manager().lock:
            items, listener.channel_items = listener.channel_items, {}
            overflow, listener.overflow = listener.overflow, False
        for channel, events in items.items():
            if channel in self.last_ids and any(self._is_news(channel, event.id) for event in events):
                self.request_check(channel)
        if overflow:
            for channel in CHANNELS:
                self.request_check(channel)

    def _is_news(self, channel: str, event_id) -> bool:
        """Whether a wake-up names an id past the last one delivered (or no
        readable id at all): only then is the log worth a read."""
        match = EVENT_ID.fullmatch(str(event_id)) if event_id is not None else None
        return match is None or int(match[0]) > self.last_ids[channel]

    def request_check(self, channel: str) -> None:
        """Ask the reader to read the channel's log once (coalesced)."""
        self.check_pending.add(channel)
        self.pending.set()

    def wake_here(self, channel: str, event_id: int) -> None:
        """A wake-up from this process (its own commit), on the loop: read
        the log now rather than when Redis echoes it back."""
        if channel in self.last_ids and self._is_news(channel, event_id):
            self.request_check(channel)

    async def _redis_loop(self) -> None:
        """django-eventstream's own Redis listener stops for good when Redis
        restarts; this one reconnects (redis-py retries a few times itself,
        then this loop takes over with backoff) and, on every subscription,
        reads the log for what was published while it was away.

        It reads with a timeout and looks for a pending cancellation after
        each read: on Python 3.11, redis-py's connection handshake awaits
        `asyncio.wait_for`, which can swallow a cancellation that arrives as
        the awaited write completes, and the task would then wait on the
        subscription for ever (seen as a hang at the end of `asyncio.run`)."""
        from redis.asyncio import Redis

        backoff = 0.1
        while True:
            client = Redis(**settings.EVENTSTREAM_REDIS)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(log.redis_channel())
                while True:
                    _raise_if_cancelled()
                    message = await pubsub.get_message(timeout=REDIS_READ_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "message":
                        self._take_from_redis(message["data"])
                    elif message["type"] == "subscribe":
                        # The first subscription, or redis-py's own silent
                        # reconnection after a Redis restart: either way,
                        # whatever was published meanwhile is only in the log.
                        self.redis_connected = True
                        backoff = 0.1
                        for channel in CHANNELS:
                            self.request_check(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, reset, timeout …
                if self.redis_connected:
                    logger.warning("lost Redis (%s); reconnecting, the event log covers the gap", exc)
            finally:
                self.redis_connected = False
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:
                    pass
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    def _take_from_redis(self, raw: bytes) -> None:
        """A wake-up: each channel named is read from the log (a payload, if
        the message carries one, is ignored). A message names one event
        ({"channel", "pub_id"}, as django-eventstream's send_event writes
        it) or several ({"events": [{"channel", "pub_id"}, ...]}, a
        request's, from events/outbox/publisher.py)."""
        try:
            message = json.loads(raw)
            if message.get("origin") == log.origin():
                return  # this process's own: its hub was woken directly (wake_here)
            named = message["events"] if "events" in message else [message]
            wakes = [(item["channel"], item.get("pub_id")) for item in named]
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("ignored a malformed message on %s", log.redis_channel())
            return
        for channel, event_id in wakes:
            if isinstance(channel, str) and channel in self.last_ids and self._is_news(channel, event_id):
                self.request_check(channel)

    # --- delivery ---------------------------------------------------------------

    async def _reader(self) -> None:
        again: list[str] = []  # channels whose last page was full
        while True:
            if not again:
                await self.pending.wait()
            self.pending.clear()
            # Wake-ups from now on queue one more read: none is lost.
            wanted = self.check_pending.union(again)
            self.check_pending.clear()
            channels = [channel for channel in CHANNELS if channel in wanted]
            if not channels:
                continue
            try:
                again = await self._read_once(channels)
            except Exception:
                logger.exception("could not read the event log for %s; retrying", ", ".join(channels))
                await asyncio.sleep(0.5)
                again = channels

    async def _read_once(self, channels: list[str]) -> list[str]:
        """Read and deliver one page of each channel; the channels that may
        have more."""
        pages = await in_thread(log.events_after_each, {channel: self.last_ids[channel] for channel in channels})
        more = []
        for channel in channels:
            page = pages[channel]
            delivered = False
            for event in page.events:
                if event.id == self.last_ids[channel] + 1:
                    self._deliver(event)
                    delivered = True
            # A page that starts past a gap (trimmed events) delivers nothing:
            # reading it again would spin.
            if page.full and delivered:
                more.append(channel)
        return more

    def _deliver(self, event: log.LogEvent) -> None:
        self.last_ids[event.channel] = event.id
        metrics.event_handed_over(event.channel, event.id)  # once per event, not per stream
        data = event_frame(event)
        with_string_ids = None  # made once, if a cookie stream is open
        for subscriber in self.subscribers[event.channel]:
            if subscriber.string_ids:
                if with_string_ids is None:
                    with_string_ids = event_frame(event, string_ids=True)
                subscriber.push(event.id, with_string_ids, event.type)
            else:
                subscriber.push(event.id, data, event.type)

    async def _ticker(self) -> None:
        """Keep-alives for streams that have been silent for the interval, and
        the periodic look at the log (one query per process, not per stream)."""
        keepalive = settings.EVENTS_KEEPALIVE_SECONDS
        poll = settings.EVENTS_POLL_SECONDS
        tick = min(1.0, keepalive / 4, poll)
        # A stream is due one tick early, so that no silence outlasts the
        # interval however the ticks fall; ticks keep a fixed rhythm.
        due_after = keepalive - tick
        next_tick = self.loop.time() + tick
        next_poll = self.loop.time() + poll
        while True:
            await asyncio.sleep(max(0.0, next_tick - self.loop.time()))
            now = self.loop.time()
            next_tick = max(next_tick + tick, now)  # no burst of ticks after a stall
            for subscribers in self.subscribers.values():
                for subscriber in subscribers:
                    if now - subscriber.last_write >= due_after and not subscriber.frames:
                        subscriber.push(None, KEEPALIVE_FRAME)
            if now >= next_poll:
                next_poll = now + poll
                try:
                    heads = await in_thread(log.head_ids, CHANNELS)
                except Exception as exc:
                    logger.warning("could not read event heads: %s", exc)
                    continue
                for channel, head in heads.items():
                    if head > self.last_ids[channel]:
                        self.request_check(channel)


_hub_task: asyncio.Task | None = None


async def _start_hub() -> Hub:
    hub = Hub()
    await hub.start()
    return hub


def _raise_if_cancelled() -> None:
    """Raise the cancellation that a library swallowed: the task still counts
    it (`Task.cancelling`) until it is handled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _failed(task: asyncio.Task) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


async def get_hub() -> Hub:
    """The process's hub, started on first use on the server's event loop
    (a failed start is retried by the next caller)."""
    global _hub_task
    loop = asyncio.get_running_loop()
    if _hub_task is None or _hub_task.get_loop() is not loop or _failed(_hub_task):
        _hub_task = loop.create_task(_start_hub())
    return await asyncio.shield(_hub_task)


async def stop_hub() -> None:
    """Stop this process's hub (tests; a server's shutdown ends the loop)."""
    global _hub_task
    task, _hub_task = _hub_task, None
    if task is not None and not _failed(task):
        await (await task).stop()


def running_hub() -> Hub | None:
    """This process's hub if it has started, else None; never starts one
    (ops/metrics reads its delivery position when scraped)."""
    task = _hub_task
    if task is None or not task.done() or _failed(task):
        return None
    return task.result()
