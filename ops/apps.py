import logging

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Python's warnings become log lines, formatted like every other
        # (one JSON object a line with LOG_FORMAT=json).
        logging.captureWarnings(True)
