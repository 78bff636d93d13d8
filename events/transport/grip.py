"""GET /events/{channel} with Pushpin in front (GRIP).

Pushpin forwards the client's request to a worker, signed with a Grip-Sig
token. events/transport/stream.py runs the usual checks (401, 403, 400 as JSON, which
Pushpin relays as they are), then `respond` answers with the usual opening
(the id-only position message, the replay for a Last-Event-ID, or
`stream-reset`, written by events/transport/opening.py as for a direct stream) and
these instructions, after which Pushpin holds the connection and the worker
is done with it:

    Grip-Hold: stream
    Grip-Channel: events-printer; prev-id=41; filter=build-id; filter=require-sub,
        holder.<signed identity>; prev-id=0, events-printer.type.confirmed-order, …
    Grip-Set-Meta: id_format="printer:%(events-printer)s"
    Grip-Keep-Alive: : keep-alive\\n\\n; format=cstring; timeout=15
    Grip-Link: </events/printer?recover=1&events=…>; rel=next; timeout=60

Every committed event is published to Pushpin (events/outbox/publisher.py notify,
through `publish_event` below, as django-eventstream's send_event would) on
the channel `events-<channel>` with its id and prev-id, and `id: %I`, which
the build-id filter fills in from id_format: `id: printer:42`, as a direct
stream writes it.

Reliability (Pushpin's reliable mode): prev-id tells Pushpin where each
connection is. When a published event does not follow it (a publish that was
lost, arrived out of order, or never left a worker killed between commit and
publish) or when the stream has been idle for its recovery interval
(`recover_seconds`: GRIP_RECOVER_SECONDS plus up to half again), Pushpin
requests the next link with `Grip-Last: events-printer; last-id=41` and
appends the answer to the stream: the missed events from the log (no
position message; `stream-reset` if the log no longer has them) and a new
hold at the new position.

Event selection (?events=, or the channel's defaults): every publish carries
the meta `require_sub` naming its event type's channel, and a hold
subscribes to the type channels of its stream, so Pushpin's require-sub
filter drops the rest; the next link keeps the selection for recoveries.
Revocation: a hold also subscribes to its holder channel, which names the
listener (events/access/holders.py), and on which events/access/revocation.py publishes a
`close`.

A recovery request carries none of the client's headers. Its listener is
the holder channel that Pushpin names in its Grip-Last (it sends one for
every channel with a prev-id): signed with Django's signing, the identity
without its credential (only a digest), accepted only on a request with a
valid Grip-Sig (the channel never reaches the client: Pushpin consumes
Grip-* headers); the user must still be active and allowed the channel.

Why the listener is in a channel and not in the link (Pushpin 1.36's
handler, httpsession.cpp and handlerengine.cpp):

- Pushpin updates held streams (a new subscription about a second after a
  hold, each recovery interval of silence) through a rate limiter fixed
  at 10 batches a second, each batch the streams whose next link is the
  same URL, at most 100. A link per listener recovered 10 streams a second:
  after a reconnect storm of N listeners, their events waited up to N / 10
  seconds. One link per channel and selection recovers 1,000 a second.
- Pushpin's proxy shares one recovery request, and its answer, between the
  streams whose link has the same path and whose Grip-Last is the same; it
  ignores the query. The holder channel in Grip-Last keeps listeners apart,
  so an answer never hands one listener's hold (its holder channel) to
  another.
"""

from __future__ import annotations

import base64
import math
from urllib.parse import quote

import jwt
from django.conf import settings

from events.access.holders import HOLDER_POSITION, NEXT_PARAM, parse_grip_last, recover_seconds
from events.transport.opening import LAST_EVENT_ID, STREAM_HEADERS, plan_opening, write_opening
from events.transport.wire import KEEPALIVE_FRAME


def enabled() -> bool:
    return bool(getattr(settings, "GRIP_PROXIES", None) and getattr(settings, "GRIP_SIG_KEY", ""))


def _sig_key() -> bytes:
    """GRIP_SIG_KEY as Pushpin reads its sig_key: raw, or `base64:...`."""
    key = settings.GRIP_SIG_KEY
    if key.startswith("base64:"):
        return base64.b64decode(key[len("base64:") :])
    return key.encode()


def signed_by_proxy(headers: dict[str, str]) -> bool:
    """Whether the request came through our Pushpin: a Grip-Sig JWT signed
    with GRIP_SIG_KEY and not expired. False whenever GRIP is not configured."""
    if not enabled():
        return False
    token = headers.get("grip-sig")
    if not token:
        return False
    try:
        jwt.decode(token, _sig_key(), algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return False
    return True


def grip_channel(channel: str) -> str:
    """django-eventstream's GRIP channel name (utils.publish_event)."""
    return f"events-{channel}"


def event_channel(channel: str, event_type: str) -> str:
    """A channel nothing is published on: a hold subscribes to the one of
    each event type its stream receives, and every event is published with
    `require_sub` naming its type's, so Pushpin's require-sub filter drops
    the events a stream did not ask for (?events=, or the opt-in ones)."""
    return f"{grip_channel(channel)}.type.{event_type}"


def publish_event(channel, event_type, data, pub_id, pub_prev_id, skip_user_ids=None, **publish_kwargs) -> None:
    """Stands in for django-eventstream's utils.publish_event (installed by
    events/apps.py through ops/patches/eventstream.py): the same item on the
    same channel, with the id filled in by build-id, plus the `require_sub`
    meta that lets each held stream receive only its own event types.
    (skip_user_ids is never used here.)"""
    from django_eventstream.utils import sse_encode_event
    from django_grip import publish
    from gripcontrol import HttpStreamFormat

    content = sse_encode_event(event_type, data, event_id="%I" if pub_id else None, escape=bool(pub_id))
    publish(
        grip_channel(channel),
        HttpStreamFormat(content, content_filters=["build-id"] if pub_id else []),
        id=pub_id,
        prev_id=pub_prev_id,
        meta={"require_sub": event_channel(channel, event_type)},
        **publish_kwargs,
    )


def next_link(path: str, events: frozenset[str]) -> str:
    """The recovery link: the same for every stream of a channel and
    selection (it keeps ?events=), so that Pushpin's update limiter takes
    them a hundred at a time."""
    # A comma would end the Grip-Link header value: it is written %2C.
    selection = quote(",".join(sorted(events)), safe="")
    return f"{path}?{NEXT_PARAM}=1&events={selection}"


# --- headers --------------------------------------------------------------------------


def _cstring(data: str) -> str:
    return data.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def hold_headers(
    channel: str, position: int, link: str, holder_channel: str, events: frozenset[str]
) -> list[tuple[bytes, bytes]]:
    """The instructions for Pushpin to hold a stream at `position`, for the
    `events` it receives, also subscribed to its holder's channel
    (events/access/revocation.py closes it)."""
    name = grip_channel(channel)
    subscriptions = ", ".join(
        [f"{holder_channel}; prev-id={HOLDER_POSITION}", *(event_channel(channel, e) for e in sorted(events))]
    )
    # Pushpin sends the keep-alive after `timeout` seconds of silence, less up
    # to one second of jitter; it takes whole seconds.
    keepalive = max(1, math.ceil(settings.EVENTS_KEEPALIVE_SECONDS))
    headers = {
        "grip-hold": "stream",
        "grip-channel": f"{name}; prev-id={position}; filter=build-id; filter=require-sub, {subscriptions}",
        "grip-set-meta": f'id_format="{channel}:%({name})s"',
        "grip-keep-alive": f"{_cstring(KEEPALIVE_FRAME.decode())}; format=cstring; timeout={keepalive}",
        # An idle stream asks for its next link this often: it bounds how late
        # an event whose publish was lost arrives, and re-checks the listener.
        "grip-link": f"<{link}>; rel=next; timeout={recover_seconds()}",
    }
    return [(key.encode(), value.encode("latin-1")) for key, value in headers.items()]


def escape_body(body: bytes) -> bytes:
    """Pushpin runs the build-id filter over the body of a hold response too:
    a literal % (a customer's note) must be written %%."""
    return body.replace(b"%", b"%%")


# --- the response ---------------------------------------------------------------------


async def respond(
    send,
    *,
    path: str,
    headers: dict[str, str],
    query: dict[str, list[str]],
    holder_channel: str,
    channel: str,
    events: frozenset[str],
    raw_last_id: str | None,
    head: int,
) -> None:
    """Answer a request that Pushpin signed, after the usual checks: the
    opening (or, for a recovery, what the connection missed) and a hold.
    `head` is the channel's last id as this process's hub knows it."""
    recovering = NEXT_PARAM in query
    if recovering:
        position = parse_grip_last(headers.get("grip-last", "")).get(grip_channel(channel))
        if position is None or LAST_EVENT_ID.fullmatch(position) is None:
            # Pushpin names the position in every recovery; without it the
            # connection's place is unknown. End the stream: the client
            # reconnects with its Last-Event-ID and gets the replay.
            await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return
        raw_last_id = position

    # The position must be in the headers, before the body: the hub's head
    # (no query), and the replay goes exactly up to it. Events after it reach
    # Pushpin as publishes; one that Pushpin saw before it took this hold
    # (the hub lags the log by a notification) makes the next publish's
    # prev-id disagree with the hold's, and Pushpin recovers from the
    # position through the next link.
    opening = await plan_opening(channel, raw_last_id, head)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                *STREAM_HEADERS,
                *hold_headers(channel, opening.head, next_link(path, events), holder_channel, events),
            ],
        }
    )

    async def write(body: bytes) -> None:
        await send({"type": "http.response.body", "body": escape_body(body), "more_body": True})

    await write_opening(write, opening, events=events, upto=opening.head, announce=not recovering)
    await send({"type": "http.response.body", "body": b""})
