"""Who is listening right now, across every worker process.

Invariant: each process writes, at most once per EVENTS_PRESENCE_SECONDS,
ONE row (events.models.StreamSnapshot, keyed by host and PID) holding the
whole list of its open streams: channel, holder (a user or an API key),
client address and when the stream opened. Opening or closing a stream
writes nothing; the next snapshot shows the change. A row whose heartbeat is
older than three intervals is a dead process's: readers ignore it and the
writers delete it. So the live view is at most one interval behind, and a
SIGKILLed process's streams vanish within three intervals.

Streams held by Pushpin (events/transport/grip.py) are in no worker's memory: the
worker only answers the hold and, after GRIP_RECOVER_SECONDS of silence (up
to half as much again), a recovery request. Each answer records (or
re-confirms) the held stream in that process's snapshot; an entry not
re-confirmed for twice the longest recovery interval (events/transport/grip.py
longest_recover_seconds) is dropped. Limits of that record: a client that
leaves is still listed until then; the same channel and holder count once
per process (Pushpin may share one recovery answer between a listener's
connections at the same position), and "since" is when a process first saw
the hold; the address is the one the worker saw (Pushpin's, unless it
forwards the client's).

A snapshot names holders by id; the reader puts the user's username or the
key's name on them, so a renamed key shows its current name.

Heartbeats are compared with this process's clock: the workers of one site
are expected to keep time (NTP).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

USER, KEY = "user", "key"
EXPIRY_INTERVALS = 3
# Dead processes' rows are deleted by the writers this often (in intervals).
TRIM_EVERY = 10


def interval() -> float:
    return float(getattr(settings, "EVENTS_PRESENCE_SECONDS", 2.0))


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class HeldStream:
    """A stream Pushpin holds for a holder on a channel, as this process last
    answered for it."""

    address: str | None
    opened_at: float
    seen: float


def _holder(identity) -> tuple[str, str]:
    if identity.user_id is not None:
        return USER, str(identity.user_id)
    return KEY, str(identity.key_id)


def note_hold(held: dict, channel: str, identity, address: str | None, now: float | None = None) -> None:
    """Record or re-confirm a stream held by Pushpin (a hold or a recovery
    answered by this process). `held` is the hub's dict."""
    now = time.time() if now is None else now
    key = (channel, *_holder(identity))
    entry = held.get(key)
    if entry is None:
        held[key] = HeldStream(address=address, opened_at=now, seen=now)
    else:
        entry.seen = now
        entry.address = entry.address or address


def snapshot(subscribers: dict, held: dict, now: float | None = None) -> list[list]:
    """The list one process writes: its direct streams and the holds it
    answered lately (expired holds are removed from `held`), as groups
    `[channel, kind, id, address, held, [opened, ...]]`: one per channel,
    holder, address and kind of stream, with each stream's opening time in
    whole seconds since the epoch. Pure but for that pruning.

    Grouped, a snapshot costs one entry per distinct listener and a number
    per further stream of it; a dict per stream made the process's memory
    grow with every write (measured: docs/performance.md, issue 9)."""
    now = time.time() if now is None else now
    groups: dict[tuple, list[int]] = {}
    for channel, members in subscribers.items():
        for subscriber in members:
            if subscriber.identity is None or subscriber.closed:
                continue
            key = (channel, *_holder(subscriber.identity), subscriber.address, False)
            groups.setdefault(key, []).append(int(subscriber.opened_at))
    from events.access.holders import longest_recover_seconds

    horizon = now - 2 * longest_recover_seconds()
    for key, entry in list(held.items()):
        if entry.seen < horizon:
            del held[key]
            continue
        groups.setdefault((*key, entry.address, True), []).append(int(entry.opened_at))
    streams = [[*key, sorted(opened)] for key, opened in groups.items()]
    streams.sort(key=lambda group: (group[0], group[5][0]))
    return streams


def expand(group) -> list[dict]:
    """The streams of one snapshot entry, each as
    {"channel", "kind", "id", "address", "held", "openedAt"} (a datetime).
    Reads the grouped entries of `snapshot` and the one-dict-per-stream
    entries that processes of earlier versions write."""
    if isinstance(group, dict):
        opened = group.get("openedAt")
        return [dict(group, openedAt=datetime.fromisoformat(opened) if opened else None)]
    channel, kind, holder_id, address, held, opened = group
    common = {"channel": channel, "kind": kind, "id": holder_id, "address": address, "held": held}
    return [dict(common, openedAt=datetime.fromtimestamp(moment, tz=UTC)) for moment in opened]


# --- writing ------------------------------------------------------------------------


def write(process: str, streams: list[dict], *, trim: bool = False) -> None:
    """One upsert of this process's row (and, when `trim`, the deletion of
    dead processes' rows)."""
    from events.models import StreamSnapshot

    now = timezone.now()
    StreamSnapshot.objects.bulk_create(
        [StreamSnapshot(process=process, heartbeat=now, streams=streams)],
        update_conflicts=True,
        unique_fields=["process"],
        update_fields=["heartbeat", "streams"],
    )
    if trim:
        StreamSnapshot.objects.filter(heartbeat__lt=now - timedelta(seconds=EXPIRY_INTERVALS * interval())).delete()


async def publish_loop(hub) -> None:
    """The hub's task: every interval, this process's snapshot, written in a
    worker thread (the event loop never waits on the database). An interval
    with nothing to report after one that had nothing writes nothing, except
    a heartbeat once in a while to keep its trimming going."""
    process = process_name()
    # Whether the last snapshot written was empty, not the snapshot itself:
    # kept, it would hold a dict and strings per open stream between writes.
    wrote_empty = False
    count = 0
    while True:
        await asyncio.sleep(interval())
        count += 1
        streams = snapshot(hub.subscribers, hub.held_streams)
        trim = count % TRIM_EVERY == 0
        if hub.stream_counts is None:
            # Without Redis, the per-holder limit counts the other processes'
            # streams from their snapshots (events/transport/stream_limit.py).
            try:
                hub.remote_streams = await sync_to_async(others_streams, thread_sensitive=False)(process)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("could not read the other processes' open streams: %s", exc)
        if not streams and wrote_empty and not trim:
            continue
        try:
            await sync_to_async(write, thread_sensitive=False)(process, streams, trim=trim)
            wrote_empty = not streams
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("could not write the snapshot of open streams: %s", exc)


def others_streams(process: str, now: datetime | None = None) -> dict[str, int]:
    """The streams each holder ("user:ID" or "key:ID", events/access/identity.py)
    has open directly on the other live processes, from their snapshots
    (streams held by Pushpin are not counted: no worker serves them)."""
    from django.db import connections

    from events.models import StreamSnapshot

    now = timezone.now() if now is None else now
    fresh = StreamSnapshot.objects.filter(heartbeat__gte=now - timedelta(seconds=EXPIRY_INTERVALS * interval()))
    counts: dict[str, int] = {}
    try:
        for streams in fresh.exclude(process=process).values_list("streams", flat=True):
            for group in streams:
                if isinstance(group, list) and len(group) == 6 and not group[4]:
                    holder = f"{group[1]}:{group[2]}"
                    counts[holder] = counts.get(holder, 0) + len(group[5])
    finally:
        connections.close_all()
    return counts


# --- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveStream:
    channel: str
    kind: str  # "user" or "key"
    holder_id: str
    label: str
    address: str | None
    opened_at: datetime | None
    process: str
    held: bool


def live_streams(now: datetime | None = None) -> dict[str, list[LiveStream]]:
    """Every open stream of every live process, per channel, oldest first,
    each with its user's username or its key's name."""
    from django.contrib.auth import get_user_model

    from events.models import StreamSnapshot
    from users.models import ApiKey

    now = timezone.now() if now is None else now
    fresh = StreamSnapshot.objects.filter(heartbeat__gte=now - timedelta(seconds=EXPIRY_INTERVALS * interval()))
    rows = [
        (row.process, stream) for row in fresh.order_by("process") for group in row.streams for stream in expand(group)
    ]
    user_ids = {stream["id"] for _, stream in rows if stream.get("kind") == USER}
    key_ids = {stream["id"] for _, stream in rows if stream.get("kind") == KEY}
    User = get_user_model()
    users = {str(user.pk): user.get_username() for user in User.objects.filter(pk__in=user_ids)}
    keys = {key.pk: key.name for key in ApiKey.objects.filter(pk__in=key_ids)}
    result: dict[str, list[LiveStream]] = {}
    seen_holds: set[tuple] = set()
    for process, stream in rows:
        kind, holder_id = stream.get("kind"), str(stream.get("id"))
        if stream.get("held"):
            # Every process that answered for a held stream lists it: once.
            hold = (stream["channel"], kind, holder_id, stream.get("address"))
            if hold in seen_holds:
                continue
            seen_holds.add(hold)
        names = users if kind == USER else keys
        result.setdefault(stream["channel"], []).append(
            LiveStream(
                channel=stream["channel"],
                kind=kind,
                holder_id=holder_id,
                label=names.get(holder_id, f"{kind} {holder_id} (deleted)"),
                address=stream.get("address"),
                opened_at=stream["openedAt"],
                process=process,
                held=bool(stream.get("held")),
            )
        )
    for streams in result.values():
        streams.sort(key=lambda s: (s.opened_at or now, s.label))
    return dict(sorted(result.items()))
