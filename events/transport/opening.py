"""How an event stream opens, shared by the streams this process serves
(events/transport/stream.py) and the ones Pushpin holds (events/transport/grip.py).

Invariant: a stream's first bytes tell the client its position, and the
client then receives every event after that position exactly once: either
replayed from the log, or live. When the log can no longer replay what the
client asked for, it gets a `stream-reset` instead, never a silent gap.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from events.core import log
from events.core.channels import CATALOGUE, default_events
from events.core.threads import in_thread
from events.transport.wire import event_frame, frame, wire_id

STREAM_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"connection", b"keep-alive"),
    (b"x-accel-buffering", b"no"),
]


# "printer:42" (django-eventstream's form, which we send) or "42": ASCII
# digits only (str.isdigit() accepts "²", which int() then refuses), and few
# enough of them that no client can make the server convert a huge number.
LAST_EVENT_ID = re.compile(r"(?:([a-z]{1,32}):)?([0-9]{1,18})", re.ASCII)
# What a stream-reset echoes of a Last-Event-ID it could not use.
ECHO_LIMIT = 64


def parse_last_event_id(raw: str, channel: str) -> int | None:
    """The event id a client last saw; None when it names another channel or
    is not an id at all (the caller answers with a stream-reset)."""
    match = LAST_EVENT_ID.fullmatch(raw.strip()) if len(raw) <= 64 else None
    if match is None or (match[1] is not None and match[1] != channel):
        return None
    return int(match[2])


def requested_events(values: list[str] | None, channel: str, by_cookie: bool = False) -> frozenset[str] | str:
    """The events a stream asked for with ?events=a,b (repeatable), or its
    channel's defaults without it (a cookie stream's, `by_cookie`); a
    message naming the first name that is not in the channel's catalogue
    instead."""
    if values is None:
        return default_events(channel, by_cookie)
    names = [name.strip() for value in values for name in value.split(",")]
    for name in names:
        if name not in CATALOGUE[channel]:
            shown = name[:ECHO_LIMIT] or "(empty)"
            return f"Unknown event {shown!r} for channel {channel}; one of {', '.join(CATALOGUE[channel])}."
    return frozenset(names)


def position_frame(channel: str, event_id: int) -> bytes:
    """The stream's position as an id-only message: EventSource records it
    as the last event id without dispatching anything, and clients that act
    on `data` see nothing."""
    return f"id: {wire_id(channel, event_id)}\n\n".encode()


def _control_frame(event_type: str, channel: str, event_id: int, **data) -> bytes:
    body = {"channel": channel, "lastEventId": wire_id(channel, event_id), **data}
    return frame(event_type, wire_id(channel, event_id), json.dumps(body, separators=(",", ":")))


@dataclass(frozen=True)
class Opening:
    """Where a new stream starts: `head` is the position announced by the
    id-only opening message (or `stream-reset`); `replay_after` the client's
    last id when the log can replay every event after it."""

    channel: str
    head: int
    replay_after: int | None = None
    reset: bool = False
    requested: str | None = None


async def plan_opening(channel: str, raw_last_id: str | None, head: int | None) -> Opening:
    """Decide how a stream opens. `head` is the position a stream without a
    Last-Event-ID starts at (the hub's); None reads it from the log. A client
    whose Last-Event-ID is the head costs no query: nothing to replay."""
    if raw_last_id is None:
        if head is None:
            head = (await in_thread(log.head_ids, (channel,)))[channel]
        return Opening(channel, head)
    last_id = parse_last_event_id(raw_last_id, channel)
    if last_id is not None and head is not None:
        if last_id == head:
            return Opening(channel, head)  # the client has everything: no query (a reconnect storm)
        if last_id > head:
            head = None  # the client heard of an event this process has not yet: the log decides
    complete = False
    if last_id is not None:
        log_head, complete = await in_thread(log.replay_start, channel, last_id)
        head = log_head if head is None else head
    elif head is None:
        head = (await in_thread(log.head_ids, (channel,)))[channel]
    if not complete:
        return Opening(channel, head, reset=True, requested=raw_last_id)
    return Opening(channel, head, replay_after=last_id)


async def write_opening(
    write,
    opening: Opening,
    *,
    events: frozenset[str] | None,
    upto: int | None = None,
    announce: bool = True,
    string_ids: bool = False,
) -> int:
    """Tell the client its position at once (an id-only message, so a drop
    before the first event loses nothing), replay what it missed (only the
    `events` it asked for), or tell it to reset when the log no longer has
    it. Returns the id of the last event the client now has.
    `announce=False` leaves out the position (a GRIP recovery continues a
    stream that is already open). `string_ids`: order ids as strings (a
    cookie stream)."""
    channel = opening.channel
    if opening.reset:
        await write(
            _control_frame(
                "stream-reset",
                channel,
                opening.head,
                reason="The events after this Last-Event-ID are no longer kept; reload the orders.",
                requestedLastEventId=(opening.requested or "")[:ECHO_LIMIT],
            )
        )
        return opening.head
    if opening.replay_after is None:
        if announce:
            await write(position_frame(channel, opening.head))
        return opening.head
    if announce:
        await write(position_frame(channel, opening.replay_after))
    return await write_replay(write, channel, opening.replay_after, events=events, upto=upto, string_ids=string_ids)


async def write_replay(
    write,
    channel: str,
    after: int,
    *,
    events: frozenset[str] | None = None,
    upto: int | None = None,
    string_ids: bool = False,
) -> int:
    """Every logged event of the channel after `after` (up to `upto` when
    given) whose type is in `events` (None: all), page by page, with string
    order ids if `string_ids`; returns the last id read (the client's
    position, even when the page had nothing for it). A page is bounded in
    count and in bytes (log.events_after) and written before the next is
    read: a client that does not read holds about one page in the server,
    whatever the size of the events."""
    last = after
    while upto is None or last < upto:
        read = await in_thread(log.events_after, channel, last)
        page = [e for e in read.events if upto is None or e.id <= upto]
        more = read.full and len(page) == len(read.events)
        del read  # not kept while the page is written
        wanted = page if events is None else [e for e in page if e.type in events]
        if wanted:
            await write(b"".join(event_frame(e, string_ids) for e in wanted))
        if page:
            last = page[-1].id
        if not more:
            break
    return last
