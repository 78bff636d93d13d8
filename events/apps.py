from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"

    def ready(self) -> None:
        from events import grip, receivers  # noqa: F401  (connects the signal receivers)

        grip.install_publisher()  # per-event-type filtering of streams held by Pushpin
