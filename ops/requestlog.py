"""The request id and one access line per request.

`RequestLog` (ASGI, just inside `proxies.ForwardedClient`) takes the
balancer's X-Request-ID when it is sane (1-128 characters of
[A-Za-z0-9._:@+=/-]) or makes one, sets it in `logformat.request_id` for
everything that serves the request, returns it in the response, and when
the response has ended logs one line on the `access` logger: method, path
with the names of its query parameters but never their values (tokens and
Pushpin's signed recovery links travel there: `?token=*`), status, duration,
client address and who asked (a username, or "key:" and an API key's name; "-" when
nobody signed in). It also counts the request for /metrics by view and status.

Health checks (/healthz, /readyz) and scrapes (/metrics) come every second
from the balancer: their lines are DEBUG, not shown at the default level.

`Who` (Django middleware) fills in the view's name and who asked, through a
small dict the ASGI scope carries (URLRouter copies the scope; the dict is
shared). It reads the user only when something already did: an anonymous
request costs no session query for it. A stream keeps what its request
holds here for its whole life, so the `send` wrapper is an object with
slots rather than a closure.

Invariant: no secret reaches the access line, and a response always carries
the X-Request-ID it was logged under.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from ops import metrics
from ops.logformat import request_id
from ops.patches.django import lazy_value

access_logger = logging.getLogger("access")

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")
SANE_PARAMETER = re.compile(r"[A-Za-z0-9._\[\]-]{1,40}")
MAX_PARAMETERS = 10


def masked_query(raw: bytes) -> str:
    """ "?token=*&events=*" for "token=abc&events=x": the names only."""
    if not raw:
        return ""
    names = []
    for part in raw.decode("latin-1").split("&")[:MAX_PARAMETERS]:
        name = part.split("=", 1)[0]
        names.append(name if SANE_PARAMETER.fullmatch(name) else "?")
    return "?" + "&".join(f"{name}=*" for name in names)


QUIET_PATHS = ("/healthz", "/readyz", "/metrics")


def incoming_request_id(headers) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class _SendWithId:
    """The `send` of one request: the response carries its request id, and
    its status is kept for the access line. A small object with slots, not
    a closure: a stream holds it for its whole life. The transport watches
    of the streams and of paced responses find Daphne's request through
    `inner` (events/transport/backpressure.py): without it they would see no
    transport and hold unread bytes unbounded."""

    __slots__ = ("inner", "rid", "status")

    def __init__(self, send, rid: str):
        self.inner = send
        self.rid = rid
        self.status = 500

    async def __call__(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", self.rid.encode())]}
        await self.inner(message)


class RequestLog:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope.get("headers", ()))
        token = request_id.set(rid)
        facts = {"view": None, "who": None}
        scope = {**scope, "ops": facts}
        started = time.monotonic()
        send_with_id = _SendWithId(send, rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.monotonic() - started
            path = scope.get("path", "")
            shown = path + masked_query(scope.get("query_string", b""))
            view = facts["view"] or ("events" if path.startswith("/events/") else "-")
            status = send_with_id.status
            metrics.observe_request(view, status, duration)
            client = (scope.get("client") or ("-",))[0] or "-"
            who = facts["who"] or "-"
            level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
            access_logger.log(
                level,
                '"%s %s" %d %.1fms %s %s',
                scope.get("method", "-"),
                shown,
                status,
                duration * 1000,
                client,
                who,
                extra={
                    "method": scope.get("method"),
                    "path": shown,
                    "status": status,
                    "duration_ms": round(duration * 1000, 1),
                    "client": client,
                    "user": who,
                    "view": view,
                },
            )
            request_id.reset(token)


def describe(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "api_key", None) is not None:
        return f"key:{user.username}"
    return user.get_username() if hasattr(user, "get_username") else str(user.username)


def user_if_known(request):
    """request.user if authentication already ran, without running it."""
    return lazy_value(request.__dict__.get("user"))


class Who:
    """Django middleware: the view's name and who asked, for `RequestLog`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        facts = getattr(request, "scope", {}).get("ops")
        if facts is not None:
            match = request.resolver_match
            facts["view"] = (match.view_name or match.route) if match is not None else None
            facts["who"] = describe(user_if_known(request))
        return response
