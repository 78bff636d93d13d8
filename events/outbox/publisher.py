"""The transactional outbox: events are recorded with the change that causes
them and announced after it commits.

Invariant: an event is in the log if and only if the transaction that caused
it committed; a committed event is never lost. `record` appends the event to
django-eventstream's log (its tables, its per-channel ids, through
events/outbox/storage.py) inside the caller's open transaction, so a confirmed order
and its three `confirmed-order` events commit or roll back together, and a
rollback takes no id. Only after the commit does `notify` tell the listeners,
with django-eventstream's own means: its listener manager in this process,
its Redis message to the other processes, its GRIP publish to Pushpin. In a
request, that notification waits for the request's response to be handed to
the server (events/transport/after_response.py), so a cashier's confirm is answered
when it commits, not after its fan-out.

A Redis message is a wake-up only ("channel printer has an event N"), on this
deployment's own pub/sub channel (events/core/log.py redis_channel; the library's
send_event is pointed there too by install_redis_channel): the hubs read
every payload and id from their own log (events/transport/hub.py). This
process's own hub is woken directly, before the publish, and skips the
message when it comes back (it names this process: events/core/log.py origin).

A notification that never happens (the process was killed right after the
commit, Redis is down, Pushpin did not take the publish) delays the event and
never loses it: every process's hub reads the log when it sees a gap, on a
Redis reconnect and every EVENTS_POLL_SECONDS (events/transport/hub.py), a restarted
process starts from the log, and Pushpin recovers an id it missed from a
worker (events/transport/grip.py). So a notification failure is logged, never raised:
the client's committed write must not become a 500.

Deadlock freedom on PostgreSQL: each channel's counter row stays locked from
its first event in a transaction until the commit. A transaction that records
on several channels takes them in the order of events.core.channels.CHANNELS
(cashier, display, printer), as the receivers do, and records after its other
writes; two transactions then never wait for each other in a cycle.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django_eventstream.event import Event

from events.core import log
from events.core.channels import CATALOGUE
from events.outbox.storage import EventLogStorage
from events.transport import after_response
from ops import metrics
from ops.patches import eventstream as eventstream_patches

logger = logging.getLogger(__name__)

_storage = EventLogStorage()


class EventNotInCatalogue(ValueError):
    """A channel may carry only the events API.md lists for it."""


def record(channel: str, event_type: str, payload: dict[str, Any]) -> int:
    """Record an event in the current transaction and return its id; it is
    delivered after that transaction commits, and does not exist if it rolls
    back. The one entry point for code that causes events (receivers,
    services). Raises outside a transaction (atomic) and for an event that
    is not in the channel's catalogue."""
    return record_all([(channel, event_type, payload)])[0]


def record_all(events: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
    """`record` for the events of one save, (channel, type, payload) each,
    on distinct channels in the order of events.core.channels.CHANNELS: two
    statements whatever their number (events/outbox/storage.py)."""
    for channel, event_type, _ in events:
        if event_type not in CATALOGUE.get(channel, ()):
            raise EventNotInCatalogue(f"{event_type!r} is not an event of the {channel!r} channel")
    if not connection.in_atomic_block:
        raise TransactionManagementError("record() must run inside the transaction that causes the event")
    stored = _storage.append_many_in_transaction(
        [(channel, event_type, json.dumps(payload, cls=DjangoJSONEncoder)) for channel, event_type, payload in events]
    )
    for event in stored:
        transaction.on_commit(_notifier(event), robust=True)
    return [event.id for event in stored]


def _notifier(event: Event):
    def notify_after_commit() -> None:
        metrics.event_recorded(event.channel, event.type)
        metrics.event_committed(event.channel, event.id)
        # In a request, after its response has gone (events/transport/after_response.py):
        # the cashier is not kept waiting by the fan-out.
        others = (notify_others, event) if _others_listen() else None
        if not after_response.defer(None, here=functools.partial(_wake_this_process, event), batch=others):
            notify(event)

    # Django names a failed callback in its log by its qualified name.
    notify_after_commit.__qualname__ = f"notify({event.channel}:{event.id} {event.type})"
    return notify_after_commit


def publish(channel: str, event_type: str, payload: dict[str, Any]) -> int:
    """Record an event in a transaction of its own (or the caller's), for
    code that has no other write to join: tests, tools."""
    with transaction.atomic():
        return record(channel, event_type, payload)


def notify(event: Event) -> None:
    """Tell the listeners of a committed event, as django-eventstream's
    send_event does after its append: this process's hub (directly with
    Redis, else through the library's listener manager), the other processes
    through Redis when configured, then Pushpin. Each failure is logged; the
    log already holds the event."""
    _wake_this_process(event)
    notify_others([event])


def _others_listen() -> bool:
    """Whether anyone outside this process is told of events: other
    processes through Redis, Pushpin through GRIP."""
    return eventstream_patches.redis_client() is not None or bool(getattr(settings, "GRIP_PROXIES", None))


def notify_others(events: list[Event]) -> None:
    """The part of `notify` that may block, for events committed together
    (a request's): one Redis message naming them all, for the other
    processes (this one's hub skips it: events/core/log.py origin), and
    Pushpin's publish of each."""
    from events.transport.grip import publish_event  # the library's, plus per-event-type filtering

    redis_client = eventstream_patches.redis_client()
    if redis_client is not None:
        try:
            named = [{"channel": event.channel, "pub_id": str(event.id)} for event in events]
            redis_client.publish(log.redis_channel(), json.dumps({"events": named, "origin": log.origin()}))
        except Exception as exc:
            logger.warning(
                "event(s) %s: in the log, not announced on Redis (%s); the hubs' log poll delivers them",
                ", ".join(f"{event.channel}:{event.id}" for event in events),
                exc,
            )
    for event in events:
        try:
            publish_event(event.channel, event.type, event.data, str(event.id), str(event.id - 1), blocking=False)
        except Exception as exc:
            logger.warning(
                "event %s:%s is in the log but Pushpin did not take its publish (%s); Pushpin recovers it",
                event.channel,
                event.id,
                exc,
            )


def _wake_this_process(event: Event) -> None:
    """Wake this process's hub; never blocks (events/transport/after_response.py
    runs it on the loop). With Redis the hub is woken directly and skips the
    echo of this process's message; without, through the library's listener
    manager, as send_event would. A failure is logged: the log keeps the event."""
    from django_eventstream.views import get_listener_manager

    from events.transport.hub import running_hub

    try:
        if eventstream_patches.redis_client() is None:
            get_listener_manager().add_to_queues(event.channel, event)
            return
        hub = running_hub()
        if hub is not None and not hub.loop.is_closed():  # closed: shutting down
            hub.loop.call_soon_threadsafe(hub.wake_here, event.channel, event.id)
    except Exception as exc:
        logger.warning("event %s:%s is in the log but waking this process failed (%s)", event.channel, event.id, exc)


class DeploymentRedis:
    """django-eventstream's Redis client, publishing on this deployment's
    channel whatever channel name it is given: the library's send_event
    (benchmarks use it) names one fixed channel for every deployment."""

    def __init__(self, client):
        self.client = client

    def publish(self, _channel: str, message: str):
        return self.client.publish(log.redis_channel(), message)

    def __getattr__(self, name: str):
        return getattr(self.client, name)


def install_redis_channel() -> None:
    """Point the library's Redis publishing at this deployment's channel
    (events/apps.py)."""
    eventstream_patches.wrap_redis_client(DeploymentRedis)


def joined_transaction():
    """For receivers: the save's own transaction when there is one (always
    for services, which are atomic, and the admin). A save made in
    autocommit mode has committed already; its event then gets a
    transaction of its own, right after."""
    return transaction.atomic(savepoint=False)
