"""ASGI entry point for Daphne: /events/ goes to the SSE endpoint, the rest
to Django."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

from config import protocol_errors  # noqa: E402

protocol_errors.install()  # JSON also for what Daphne's parser refuses itself

from events.stream import events_app  # noqa: E402  (needs the apps loaded)


async def application(scope, receive, send):
    if scope["type"] == "http" and (scope["path"] == "/events" or scope["path"].startswith("/events/")):
        await events_app(scope, receive, send)
    else:
        await django_application(scope, receive, send)
