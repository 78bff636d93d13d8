"""How every log line looks, and the request id it carries.

LOG_FORMAT=text (the default) is for a person at a terminal:

    2026-12-07 03:41:12,345 INFO access [4f1c…] "GET /v1/orders" 200 12.3ms 203.0.113.7 olga

LOG_FORMAT=json makes every line one JSON object (python-json-logger) with
`timestamp`, `level`, `logger`, `message` and `request_id`, plus the fields a
line adds (the access line's `method`, `path`, `status` …) and `exc_info`
when there is a traceback.

Invariants: the request id of the request being served is in a context
variable, so a line logged anywhere while serving it (a thread it runs in, a
stream's task) carries it; outside a request it is "-". Expected refusals
(django.request's 4xx lines, each with a traceback for a 403) are dropped:
the access line already says it once. Imports nothing of the project.
"""

from __future__ import annotations

import contextvars
import logging

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (a handler's filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class QuietRefusals(logging.Filter):
    """Django's lines for 4xx answers (django.request, django.security.csrf):
    a 403 comes with a whole traceback, and every refusal is already one
    access line."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        return not (record.name.startswith("django.") and isinstance(status, int) and 400 <= status < 500)


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        JSON_FIELDS,
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,  # "timestamp": ISO 8601 in UTC
        json_ensure_ascii=False,
    )


def logging_config(*, log_format: str, level: str, events_level: str) -> dict:
    """settings.LOGGING for LOG_FORMAT `log_format` ("text" or "json")."""
    formatter = "ops.logformat.json_formatter" if log_format == "json" else "ops.logformat.text_formatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter}},
        "filters": {
            "request_id": {"()": "ops.logformat.RequestIdFilter"},
            "quiet_refusals": {"()": "ops.logformat.QuietRefusals"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["request_id", "quiet_refusals"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "events": {"level": events_level},
            "access": {"level": "INFO"},
            # Django's own handlers for these would print a second, unformatted line.
            "django": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }
