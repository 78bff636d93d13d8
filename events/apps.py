from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"

    def ready(self) -> None:
        from events import device_receivers, grip, receivers, stations  # noqa: F401  (connect the signal receivers)

        grip.install_publisher()  # per-event-type filtering of streams held by Pushpin
