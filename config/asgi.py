"""ASGI entry point for Daphne, routed by Channels: /events/ goes to the SSE
endpoint (events/stream.py, which reads the session user through Channels'
session and auth middleware), everything else to Django, whose responses
are paced by their client's reading (config/pacing.py).

Serve it with `python -m config.serve ... config.asgi:application` (as `make
run` does) for the request header and body deadlines; plain `daphne` works
too."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

from config import protocol_errors  # noqa: E402

protocol_errors.install()  # JSON also for what Daphne's parser refuses itself

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs the apps loaded)
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from config.pacing import PacedResponses  # noqa: E402
from events.stream import events_app  # noqa: E402

# REST responses go out no faster than their client reads them (streams
# watch their transport themselves).
paced_django_application = PacedResponses(django_application, timeout=settings.HTTP_SEND_TIMEOUT_SECONDS)

application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [
                re_path(r"^events(?:/|$)", events_app),
                re_path(r"", paced_django_application),
            ]
        ),
    }
)
