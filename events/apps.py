from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"

    def ready(self) -> None:
        from events.outbox import (  # noqa: F401  (connect the signal receivers)
            device_receivers,
            publisher,
            receivers,
            stations,
        )
        from events.transport import grip
        from ops.patches import eventstream

        eventstream.publish_through(grip.publish_event)  # per-event-type filtering of streams held by Pushpin
        publisher.install_redis_channel()  # the library's send_event wakes this deployment only
