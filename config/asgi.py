"""ASGI entry point for Daphne, routed by `routed` below: /events/ goes to the SSE
endpoint (events/transport/stream.py, which reads the session user through Channels'
session and auth middleware), every other HTTP request to Django, whose
responses are paced by their client's reading (config/pacing.py) and go out
before the readers of the events they caused are woken
(events/transport/after_response.py), and every WebSocket upgrade is refused (403);
in front of them all, the client's real address (ops/proxies.py, when
TRUSTED_PROXIES names a proxy) and the access log (ops/requestlog.py).

Serve it with `python -m config.serve ... config.asgi:application` (as `make
run` does) for the request header and body deadlines and JSON for the
requests Daphne's parser refuses itself (config/protocol_errors.py); plain
`daphne` works too, without them."""

import os
import re

from config import django_handler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django's ASGI handler, its middleware and view in one hop to the request's thread.
django_application = django_handler.application()

from channels.security.websocket import WebsocketDenier  # noqa: E402  (needs the apps loaded)
from django.conf import settings  # noqa: E402

from config.pacing import PacedResponses  # noqa: E402
from events.transport.after_response import NotifyAfterResponse  # noqa: E402
from events.transport.stream import events_app  # noqa: E402
from ops.proxies import ForwardedClient  # noqa: E402
from ops.requestlog import RequestLog  # noqa: E402

# REST responses go out no faster than their client reads them (streams
# watch their transport themselves).
# The events a request caused wake their readers once its response (its
# first paced piece) is on its way: the cashier does not wait for the fan-out.
paced_django_application = NotifyAfterResponse(
    PacedResponses(django_application, timeout=settings.HTTP_SEND_TIMEOUT_SECONDS)
)

websocket_denier = WebsocketDenier.as_asgi()
EVENTS_PATH = re.compile(r"/*events(?:/|$)")


def routed(scope, receive, send):
    """/events/ to the streams, every other HTTP request to Django, and every
    WebSocket upgrade closed before it is accepted (which Daphne answers with a
    403, rather than a 500 and a traceback for a scope type with no
    application). What Channels' ProtocolTypeRouter and URLRouter did, as a
    plain function that returns the chosen application's coroutine: an open
    stream keeps no router coroutine and no copy of its scope (about 1.3 KB
    with Channels' two routers)."""
    if scope["type"] == "http":
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        chosen = events_app if EVENTS_PATH.match(path) else paced_django_application
        return chosen(scope, receive, send)
    if scope["type"] == "websocket":
        return websocket_denier(scope, receive, send)
    return _unknown_scope_type(scope["type"])


async def _unknown_scope_type(kind: str) -> None:
    raise ValueError(f"No application configured for scope type {kind!r}")


# Outermost: the client's address and scheme from the proxies we trust
# (ops/proxies.py), then the request id and the access line
# (ops/requestlog.py), for Django and the streams alike.
application = RequestLog(routed)
if settings.TRUSTED_PROXIES:
    # Only then: a stream would keep the wrapper's coroutine for nothing.
    application = ForwardedClient(application, settings.TRUSTED_PROXIES)
