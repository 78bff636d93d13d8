"""GET /events/{channel}: the Server-Sent Events endpoint, as a small ASGI
application in front of Django (config/asgi.py routes /events/ here).

django-eventstream's own view answers refusals with HTTP 200 streams, sends
a named keep-alive every 20 s, holds a thread (and with storage a database
connection) per stream and drops bursts; this endpoint keeps the library's
event log, ids and publishing, and serves streams from the process's hub
(events/transport/hub.py) instead.

Order of checks, as the contract fixes it: authentication (401), role (403),
channel (400), then ?events= (400) and the per-holder stream limit (429);
every refusal is a JSON body, never an event stream. Who is asking:
events/access/authentication.py; how a stream opens: events/transport/opening.py; a client
that does not read: events/transport/backpressure.py; a right that ends:
events/access/revocation.py.

Behind Pushpin (settings.GRIP_URL and GRIP_SIG_KEY, and a request that
Pushpin signed) the same checks run, and events/transport/grip.py answers with the same
opening and replay plus the instructions for Pushpin to hold the stream.

Once open, a stream that waits with nothing queued offers itself to the hub
as its subscriber's writer: the hub's delivery writes each event (and each
keep-alive) to its connection at once, through Daphne's Twisted request,
instead of waking one task per stream; the stream's task takes over whatever
needs it (frames queued, a replay after an overflow, a client gone or not
reading) and writes those in order.

A stream opened with the mysagra cookie (today's MySagra clients,
clients-heads.md E2/E7) receives the whole catalogue of its channel by
default and its order ids as strings; this process serves it itself, also
behind Pushpin (which relays it), since Pushpin's publishes carry the log's
integer ids.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from django.conf import settings
from django.db import DatabaseError

from config.cors import with_cors
from events.access.authentication import (  # noqa: F401  (pages share the roles)
    LISTENER_ROLES,
    authenticate,
    credential_key,
    from_session,
)
from events.access.credentials import cache_key
from events.access.identity import Identity
from events.core.channels import CHANNELS
from events.core.threads import in_thread
from events.presence import presence
from events.transport import backpressure, grip
from events.transport.backpressure import TransportWatch
from events.transport.hub import Subscriber, get_hub
from events.transport.opening import STREAM_HEADERS, plan_opening, requested_events, write_opening, write_replay
from ops.patches.daphne import write_body_now

logger = logging.getLogger(__name__)


# --- authentication -------------------------------------------------------------


async def _principal(scope, headers: dict[str, str], query: dict[str, list[str]], via_grip: bool, hub):
    """Headers and query first (remembered by the process's credential
    cache, events/access/credentials.py, so that a reconnect storm costs no query
    per opening); else the session user that Channels' SessionMiddleware
    and AuthMiddleware put in the scope."""
    key = credential_key(headers, query, via_grip)
    principal = hub.credentials.get(key)
    if principal is not None:
        return principal
    client = scope.get("client") or (None, None)
    principal = await in_thread(authenticate, headers, query, via_grip, client[0])
    if principal is not None:
        hub.credentials.put(key, principal)
    elif key is None:
        user = scope.get("user")
        if user is not None and user.is_authenticated:
            principal = await in_thread(from_session, scope.get("session"), user)
    return principal


# --- responses -------------------------------------------------------------------


async def _send_json(send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _host_allowed(host: str) -> bool:
    from django.http.request import split_domain_port, validate_host

    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


async def _unavailable(send, exc: Exception) -> None:
    """The database is down: a JSON 503 the client can retry, not a crash page."""
    logger.warning("refused a stream, database unavailable: %s", exc)
    await _send_json(send, 503, {"message": "Service unavailable, retry shortly"}, [(b"retry-after", b"5")])


# --- the endpoint ----------------------------------------------------------------


class _GuardedSend:
    """The server's `send`, remembering how far the response got, so that a
    failure can still end it properly."""

    __slots__ = ("inner", "started", "finished", "watch")

    def __init__(self, send):
        self.inner = send
        self.started = False
        self.finished = False
        self.watch: TransportWatch | None = None

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body":
            if not message.get("more_body", False):
                self.finished = True
            elif self.watch is not None:
                self.watch.wrote(len(message.get("body", b"")))
        await self.inner(message)

    async def end_after_error(self) -> None:
        try:
            if not self.started:
                await _send_json(self, 500, {"message": "Internal server error"})
            elif not self.finished:
                await self({"type": "http.response.body", "body": b"", "more_body": False})
        except Exception:
            logger.exception("could not end a failed event stream")


@with_cors  # CORS_ALLOWED_ORIGINS, as for the rest of the API (config/cors.py)
async def events_app(scope, receive, send) -> None:
    """The endpoint. No exception leaves it: an error is logged, and the
    response ends as a JSON 500 (503 when the database is unreachable), or,
    once the stream has started, with a last empty body (the client
    reconnects with its Last-Event-ID). Daphne must never see an exception
    from a streaming response: it can leave the server unable to serve later
    connections. Channels' session middleware runs inside this guard, for a
    request that carries a cookie (without one, there is no session to find)."""
    guarded = _GuardedSend(send)
    try:
        if any(name == b"cookie" for name, _ in scope["headers"]):
            accepted = await _check_with_session(scope, receive, guarded)
        else:
            accepted = await _check(scope, guarded)
        if accepted is not None:
            await _serve(accepted, receive, guarded)
    except DatabaseError as exc:
        if guarded.started:
            logger.exception("event stream %s failed", scope.get("path"))
            await guarded.end_after_error()
        else:
            await _unavailable(guarded, exc)
    except Exception:
        logger.exception("event stream %s failed", scope.get("path"))
        await guarded.end_after_error()


async def _check_with_session(scope, receive, send) -> _Accepted | None:
    """_check, with the session user that Channels' CookieMiddleware,
    SessionMiddleware and AuthMiddleware put in the scope. The middleware
    runs for the checks (and their refusals) only, not for the life of the
    stream, so an open stream does not keep its coroutine frames and scope
    copies (about 5 KB each). Nothing is lost: a stream never changes the
    session, so the middleware has nothing to save or set once it is open."""
    accepted = None

    async def check(scope, receive, send) -> None:
        nonlocal accepted
        accepted = await _check(scope, send)

    await AuthMiddlewareStack(check)(scope, receive, send)
    return accepted


@dataclass(frozen=True, slots=True)
class _Accepted:
    """What an open stream keeps of its request once every check passed: not
    the headers, the query or the user instance."""

    channel: str
    identity: Identity
    events: frozenset[str]
    raw_last_id: str | None
    address: str | None
    head_only: bool  # a HEAD request
    string_ids: bool  # order ids as strings: opened with the mysagra cookie


def _note_who(scope, principal) -> None:
    """Who opened the stream, for its access line (ops/requestlog.py)."""
    facts = scope.get("ops")
    if facts is not None:
        subject = principal.subject
        facts.who = f"key:{subject.name}" if principal.identity.key_id is not None else subject.get_username()


def _too_many(channel_count: int) -> dict:
    return {"message": f"Too many open event streams (at most {channel_count} per user or device)"}


def _headers(scope) -> dict[str, str]:
    """The request's headers by lower-case name; a repeated one (Pushpin
    sends a Grip-Last per channel) joined with ", ", as HTTP allows."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


async def _check(scope, send) -> _Accepted | None:
    """Every check of the contract but the per-holder limit, each refusal
    answered; None once answered (Pushpin's holds included)."""
    if scope["method"] not in ("GET", "HEAD"):
        await _send_json(send, 405, {"message": "Method not allowed"}, [(b"allow", b"GET")])
        return None
    headers = _headers(scope)
    if not _host_allowed(headers.get("host", "")):
        # What Django does for every other URL (this endpoint bypasses it).
        await _send_json(send, 400, {"message": "Bad request: host not allowed"})
        return None
    # Blank values kept: "?events=" names no event, which is a 400.
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    channel = scope["path"][len("/events/") :].strip("/") if scope["path"].startswith("/events/") else ""
    via_grip = grip.signed_by_proxy(headers)  # always False while GRIP is not configured
    try:
        hub = await get_hub()
        principal = await _principal(scope, headers, query, via_grip, hub)
    except DatabaseError as exc:
        await _unavailable(send, exc)
        return None
    if principal is None:
        await _send_json(
            send, 401, {"message": "Authentication required"}, [(b"www-authenticate", b'Bearer realm="api"')]
        )
        return None
    _note_who(scope, principal)
    if not principal.may_listen(channel):
        await _send_json(send, 403, {"message": "Insufficient permissions"})
        return None
    if channel not in CHANNELS:
        await _send_json(
            send,
            400,
            {
                "message": "Validation error",
                "errors": [{"field": "channel", "message": f"Must be one of {', '.join(CHANNELS)}."}],
            },
        )
        return None
    events = requested_events(query.get("events"), channel, principal.by_cookie)
    if isinstance(events, str):
        await _send_json(send, 400, {"message": "Validation error", "errors": [{"field": "events", "message": events}]})
        return None
    raw_last_id = headers.get("last-event-id") or (query.get("lastEventId") or [None])[0] or None
    if via_grip and scope["method"] == "GET" and not principal.by_cookie:
        # Pushpin holds the stream; this process answers with the opening,
        # and remembers the holder, to close the stream if its right ends.
        holder_channel = principal.holder_channel
        hub.pushpin_holds[principal.identity] = hub.loop.time()
        # Its recoveries name that channel: they find the listener remembered.
        hub.credentials.put(cache_key("holder", holder_channel), principal)
        presence.note_hold(hub.held_streams, channel, principal.identity, _client_address(scope))
        await grip.respond(
            send,
            path=scope["path"],
            headers=headers,
            query=query,
            holder_channel=holder_channel,
            channel=channel,
            events=events,
            raw_last_id=raw_last_id,
            head=hub.last_ids[channel],
        )
        return None
    # A cookie stream is served by this process even behind Pushpin, which
    # relays it as it is: Pushpin's publishes carry the integer order ids of
    # the log, a cookie stream the string ones (clients-heads.md, O1/E7).
    return _Accepted(
        channel,
        principal.identity,
        events,
        raw_last_id,
        _client_address(scope),
        scope["method"] == "HEAD",
        principal.by_cookie,
    )


async def _serve(accepted: _Accepted, receive, response: _GuardedSend) -> None:
    """The stream, from the per-holder limit to its end."""
    try:
        hub = await get_hub()
    except DatabaseError as exc:
        await _unavailable(response, exc)
        return
    limit = settings.EVENTS_MAX_STREAMS_PER_USER
    holder = accepted.identity.holder
    # Counted over every worker (events/transport/stream_limit.py) until released.
    if not await hub.admit(holder, limit):
        await _send_json(response, 429, _too_many(limit), [(b"retry-after", b"5")])
        return
    # No await between counting, subscribing and reading the head: the limit
    # holds, and every event after `head` reaches this subscriber's queue.
    subscriber = hub.subscribe(
        accepted.channel, accepted.identity, accepted.events, accepted.address, accepted.string_ids
    )
    head = hub.last_ids[accepted.channel]
    watcher = asyncio.ensure_future(_watch_disconnect(receive, subscriber))
    try:
        await response({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        if accepted.head_only:
            await response({"type": "http.response.body", "body": b""})
            return
        response.watch = backpressure.watch(response.inner, settings.EVENTS_MAX_UNSENT_BYTES)
        stream = _Stream(response, subscriber, hub.loop, response.watch)
        try:
            await stream.open(accepted.raw_last_id, head)
            await stream.run()
        except ClientTooSlow:
            logger.info("closed a %s stream whose client does not read", accepted.channel)
        if not response.finished:
            await response({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:
        pass  # the client went away mid-write
    finally:
        watcher.cancel()
        hub.unsubscribe(subscriber)
        hub.release(holder)


def _client_address(scope) -> str | None:
    return (scope.get("client") or (None, None))[0]


async def _watch_disconnect(receive, subscriber: Subscriber) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscriber.close()
            return


class ClientTooSlow(Exception):
    """The client left more than EVENTS_MAX_UNSENT_BYTES unread."""


class _Stream:
    __slots__ = ("send", "subscriber", "channel", "loop", "last", "watch")

    def __init__(
        self, send, subscriber: Subscriber, loop: asyncio.AbstractEventLoop, watch: TransportWatch | None = None
    ):
        self.send = send
        self.subscriber = subscriber
        self.channel = subscriber.channel
        self.loop = loop
        self.last = 0
        self.watch = watch

    def write_now(self, event_id: int | None, data: bytes) -> bool:
        """Write a frame from the hub's delivery, with no task woken: only
        while `run` waits with nothing queued (it sets itself as the
        subscriber's writer then), so frames keep their order. False (the
        frame is queued for `run`) where the stream must act: its client is
        gone, or has left too much unread. A write that fails ends this
        stream (its client resumes with Last-Event-ID) and never the
        delivery to the other streams."""
        if event_id is not None and event_id <= self.last:
            return True  # sent already (the replay's overlap)
        watch = self.watch
        watch.wrote(len(data))
        try:
            written = not watch.over_limit and write_body_now(watch.request, data)
        except Exception:
            logger.exception("could not write to a %s stream; ending it", self.channel)
            self.subscriber.writer = None
            self.subscriber.close()
            return True
        if not written:
            self.subscriber.writer = None
            return False
        self.subscriber.last_write = self.loop.time()
        if event_id is not None:
            self.last = event_id
        return True

    async def write(self, body: bytes) -> None:
        await self.send({"type": "http.response.body", "body": body, "more_body": True})
        self.subscriber.last_write = self.loop.time()
        if self.watch is not None and self.watch.over_limit:
            raise ClientTooSlow

    async def open(self, raw_last_id: str | None, head: int) -> None:
        opening = await plan_opening(self.channel, raw_last_id, head)
        self.last = await write_opening(
            self.write, opening, events=self.subscriber.events, string_ids=self.subscriber.string_ids
        )

    async def replay(self) -> None:
        self.last = await write_replay(
            self.write, self.channel, self.last, events=self.subscriber.events, string_ids=self.subscriber.string_ids
        )

    async def run(self) -> None:
        subscriber = self.subscriber
        while True:
            if self.watch is not None:
                subscriber.writer = self  # behind Daphne: the hub writes while this waits
            try:
                await subscriber.wakeup.wait()
            finally:
                subscriber.writer = None
            subscriber.wakeup.clear()
            if subscriber.closed:
                return
            if subscriber.overflow:
                subscriber.overflow = False
                await self.replay()
                continue
            chunks = []
            for event_id, data in subscriber.frames:
                if event_id is None:
                    if not chunks:
                        chunks.append(data)  # keep-alive
                elif event_id > self.last:
                    chunks.append(data)
                    self.last = event_id
            subscriber.frames.clear()
            if chunks:
                await self.write(b"".join(chunks))
