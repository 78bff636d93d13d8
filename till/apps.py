from django.apps import AppConfig


class TillConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "till"
    verbose_name = "Till and waiter pad"
