"""The baseline of bench/unread_responses.py: the project as it was served
before REST responses were paced, i.e. config/asgi.py without PacedResponses
(run with DJANGO_SETTINGS_MODULE=bench.before_settings: no page byte bound,
the schema built per request)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.before_settings")

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from events.transport.stream import events_app  # noqa: E402

application = ProtocolTypeRouter(
    {"http": URLRouter([re_path(r"^events(?:/|$)", events_app), re_path(r"", django_application)])}
)
