from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"

    def ready(self) -> None:
        from events import device_receivers, receivers, stations  # noqa: F401  (connect the signal receivers)
