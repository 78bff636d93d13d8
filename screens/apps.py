from django.apps import AppConfig


class ScreensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screens"
    verbose_name = "Kitchen display and board"
