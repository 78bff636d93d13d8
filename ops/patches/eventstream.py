"""django-eventstream's internals this project relies on (5.3.4).

The project records and announces its events itself (events/outbox/publisher.py);
only the library's own `send_event`, which benchmarks call, still goes
through the library's module globals, and no setting reaches them:

- `django_eventstream.eventstream.publish_event`: send_event's GRIP
  publish, imported by name from its utils. `publish_through` points it at
  the project's (events/transport/grip.py: the same item, plus the `require_sub`
  meta that lets each stream Pushpin holds receive only its event types).
- `django_eventstream.eventstream.redis_client`: the Redis client the
  library builds from EVENTSTREAM_REDIS at import, on which send_event
  publishes to one fixed channel name for every deployment.
  `wrap_redis_client` wraps it (events/outbox/publisher.py's DeploymentRedis sends
  to this deployment's channel); `redis_client` is how events/outbox/publisher.py
  reads it to announce the project's own events the same way.
"""

from __future__ import annotations

from collections.abc import Callable

WRITTEN_FOR = "5.3.4"


def publish_through(publish_event: Callable[..., None]) -> None:
    """Make send_event publish to Pushpin with `publish_event`, which takes
    the library's arguments (channel, event_type, data, pub_id, pub_prev_id,
    skip_user_ids=None, **publish_kwargs)."""
    from django_eventstream import eventstream

    eventstream.publish_event = publish_event


def redis_client():
    """The library's Redis client, or None without EVENTSTREAM_REDIS."""
    from django_eventstream import eventstream

    return eventstream.redis_client


def wrap_redis_client(wrapper: type) -> None:
    """Replace the library's Redis client by `wrapper(client)`, once."""
    from django_eventstream import eventstream

    if eventstream.redis_client is not None and not isinstance(eventstream.redis_client, wrapper):
        eventstream.redis_client = wrapper(eventstream.redis_client)
