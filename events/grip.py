"""GET /events/{channel} with Pushpin in front (GRIP).

Pushpin forwards the client's request to a worker, signed with a Grip-Sig
token. events/stream.py runs the usual checks (401, 403, 400 as JSON, which
Pushpin relays as they are), then `respond` answers with the usual opening
(the id-only position message, the replay for a Last-Event-ID, or
`stream-reset`, written by events/opening.py as for a direct stream) and
these instructions, after which Pushpin holds the connection and the worker
is done with it:

    Grip-Hold: stream
    Grip-Channel: events-printer; prev-id=41; filter=build-id; filter=require-sub,
        holder-<identity digest>, events-printer.type.confirmed-order, …
    Grip-Set-Meta: id_format="printer:%(events-printer)s"
    Grip-Keep-Alive: : keep-alive\\n\\n; format=cstring; timeout=15
    Grip-Link: </events/printer?recover=<token>>; rel=next; timeout=60

django-eventstream's send_event publishes every event to Pushpin on the
channel `events-<channel>` with its id and prev-id, and `id: %I`, which the
build-id filter fills in from id_format: `id: printer:42`, as a direct stream
writes it.

Reliability (Pushpin's reliable mode): prev-id tells Pushpin where each
connection is. When a published event does not follow it (a publish that was
lost, arrived out of order, or never left a worker killed between commit and
publish) or when the stream has been idle for GRIP_RECOVER_SECONDS, Pushpin
requests the next link with `Grip-Last: events-printer; last-id=41` and
appends the answer to the stream: the missed events from the log (no
position message; `stream-reset` if the log no longer has them) and a new
hold at the new position.

Event selection (?events=, or the channel's defaults): every publish carries
the meta `require_sub` naming its event type's channel, and a hold
subscribes to the type channels of its stream, so Pushpin's require-sub
filter drops the rest; the next link keeps the selection for recoveries.
Revocation: a hold also subscribes to its holder's channel, on which
events/revocation.py publishes a `close`.

A recovery request carries none of the client's headers. It is
authenticated by the token in the link, signed with Django's signing, bound
to the identity (its credential only as a digest) and the channel, and accepted only on a request with a valid
Grip-Sig (the link never reaches the client: Pushpin consumes Grip-*
headers); the user must still be active and an admin or operator. Pushpin may
share one recovery answer between connections at the same position on the
same channel, so a link can carry another listener's token for that channel.
"""

from __future__ import annotations

import base64
import math
from urllib.parse import quote

import jwt
from django.conf import settings
from django.core import signing

from events.hub import KEEPALIVE_FRAME
from events.identity import Identity
from events.opening import LAST_EVENT_ID, STREAM_HEADERS, plan_opening, write_opening

NEXT_PARAM = "recover"
# A busy stream may go long without a recovery; a token older than this is
# refused at its next recovery (Pushpin retries, then closes the stream) and
# the client reconnects with its Last-Event-ID: nothing is lost.
NEXT_TOKEN_SECONDS = 24 * 3600
_TOKEN_SALT = "events.grip-next"


def enabled() -> bool:
    return bool(getattr(settings, "GRIP_URL", "") and getattr(settings, "GRIP_SIG_KEY", ""))


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
    events/apps.py): the same item on the same channel, with the id filled
    in by build-id, plus the `require_sub` meta that lets each held stream
    receive only its own event types. (skip_user_ids is never used here.)"""
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


def install_publisher() -> None:
    import django_eventstream.eventstream

    django_eventstream.eventstream.publish_event = publish_event


# --- the next link's token --------------------------------------------------------


def next_token(holder: Identity, channel: str) -> str:
    """The next link's token: the stream's identity without its credential
    (the link shows in Pushpin's logs), only the credential's digest."""
    data = {
        "c": channel,
        "t": holder.kind,
        "u": holder.user_id,
        "k": holder.key_id,
        "e": holder.expires_at,
        "h": holder.auth_hash,
        "d": holder.credential_digest(),
        "j": holder.token_id,
    }
    return signing.dumps(data, salt=_TOKEN_SALT, compress=False)


def identity_from_next_token(token: str, channel: str) -> Identity | None:
    """The identity in a valid next-link token for `channel`, else None."""
    try:
        data = signing.loads(token, salt=_TOKEN_SALT, max_age=NEXT_TOKEN_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("c") != channel:
        return None
    try:
        holder = Identity(
            str(data["t"]),
            user_id=data["u"],
            key_id=data["k"],
            expires_at=data["e"],
            auth_hash=str(data["h"]),
            known_digest=str(data["d"]),
            token_id=str(data.get("j") or ""),
        )
        return holder
    except (KeyError, TypeError):
        return None


def next_link(path: str, holder: Identity, channel: str, events: frozenset[str]) -> str:
    """The recovery link; it keeps the stream's ?events= selection."""
    # A comma would end the Grip-Link header value: it is written %2C.
    selection = quote(",".join(sorted(events)), safe="")
    return f"{path}?{NEXT_PARAM}={quote(next_token(holder, channel), safe='')}&events={selection}"


# --- headers --------------------------------------------------------------------------


def parse_grip_last(value: str) -> dict[str, str]:
    """`events-printer; last-id=41, events-cashier; last-id=7` → {channel: last id}."""
    found: dict[str, str] = {}
    for part in value.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        for param in params:
            key, _, raw = param.partition("=")
            if name and key.strip().lower() == "last-id":
                found[name] = raw.strip().strip('"')
    return found


def _cstring(data: str) -> str:
    return data.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def hold_headers(
    channel: str, position: int, link: str, holder_channel: str, events: frozenset[str]
) -> list[tuple[bytes, bytes]]:
    """The instructions for Pushpin to hold a stream at `position`, for the
    `events` it receives, also subscribed to its holder's channel
    (events/revocation.py closes it)."""
    name = grip_channel(channel)
    subscriptions = ", ".join([holder_channel, *(event_channel(channel, e) for e in sorted(events))])
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
        "grip-link": f"<{link}>; rel=next; timeout={settings.GRIP_RECOVER_SECONDS}",
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
    holder: Identity,
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
                *hold_headers(channel, opening.head, next_link(path, holder, channel, events), holder_channel, events),
            ],
        }
    )

    async def write(body: bytes) -> None:
        await send({"type": "http.response.body", "body": escape_body(body), "more_body": True})

    await write_opening(write, opening, events=events, upto=opening.head, announce=not recovering)
    await send({"type": "http.response.body", "body": b""})
