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

`Who` (Django middleware) fills in the view's name and who asked, through
the request's `RequestFacts`, which the ASGI scope carries as `ops` (a
scope copied further down shares it). It reads the user only when something
already did: an anonymous request costs no session query for it. The stream
endpoint names who opened a stream the same way.

A stream is a request that lasts, and keeps what its request holds here for
its whole life: so `RequestLog` keeps no coroutine of its own per request,
only two objects with slots (`RequestFacts`, the `send` it hands on, and
`_LoggedRequest`, which runs the application's coroutine and writes the
access line when it ends) and its copy of the scope.

Invariant: no secret reaches the access line, and a response always carries
the X-Request-ID it was logged under.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Coroutine

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


class RequestFacts:
    """One request's `send` and what its access line needs to know.

    As the `send` it hands the application, it adds the X-Request-ID header
    to the response and keeps its status. `Who` (Django's requests) and the
    stream endpoint (events/transport/stream.py) set `view` and `who`; they
    find this object in the scope as `scope["ops"]`. An object with slots,
    not a closure: a stream holds it for its whole life. The transport
    watches of the streams and of paced responses find Daphne's request
    through `inner` (events/transport/backpressure.py): without it they
    would see no transport and hold unread bytes unbounded."""

    __slots__ = ("inner", "rid", "status", "view", "who")

    def __init__(self, send, rid: str):
        self.inner = send
        self.rid = rid
        self.status = 500
        self.view: str | None = None
        self.who: str | None = None

    async def __call__(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", self.rid.encode())]}
        await self.inner(message)


class _LoggedRequest(Coroutine):
    """The application's coroutine for one request, run step by step, with
    the request id set in `logformat.request_id` from its first step and
    the access line written when it ends (returns, raises or is closed).

    This is the coroutine protocol written out (send, throw, close) rather
    than an `async def` that awaits the application: a stream is a request
    that lasts, and this object with slots is all it keeps of `RequestLog`,
    where a coroutine would keep its frame (about 0.5 KB) and its locals.
    The application is called at the first step, inside the task that runs
    the request, so the request id is set in that task's context only."""

    __slots__ = ("app", "scope", "receive", "facts", "started", "running", "token", "ended")

    def __init__(self, app, scope, receive, facts: RequestFacts):
        self.app = app
        self.scope = scope
        self.receive = receive
        self.facts = facts
        self.started = time.monotonic()
        self.running = None
        self.token = None
        self.ended = False

    def __await__(self):
        return self

    def __next__(self):
        return self.send(None)

    def send(self, value):
        try:
            if self.running is None:
                self._start()
            return self.running.send(value)
        except BaseException:  # the application has ended, whatever way
            self._end()
            raise

    def throw(self, typ, val=None, tb=None):
        try:
            if self.running is None:
                self._start()
            if val is None and tb is None:
                return self.running.throw(typ)
            return self.running.throw(typ, val, tb)
        except BaseException:
            self._end()
            raise

    def close(self) -> None:
        if self.running is None or self.ended:
            return
        try:
            self.running.close()
        finally:
            self._end()

    def _start(self) -> None:
        self.token = request_id.set(self.facts.rid)
        app, receive = self.app, self.receive
        self.app = self.receive = None
        self.running = app(self.scope, receive, self.facts)

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        facts, scope = self.facts, self.scope
        duration = time.monotonic() - self.started
        path = scope.get("path", "")
        shown = path + masked_query(scope.get("query_string", b""))
        view = facts.view or ("events" if path.startswith("/events/") else "-")
        status = facts.status
        metrics.observe_request(view, status, duration)
        client = (scope.get("client") or ("-",))[0] or "-"
        who = facts.who or "-"
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
        if self.token is not None:
            request_id.reset(self.token)
            self.token = None


class RequestLog:
    """The ASGI wrapper. Its `__call__` is a plain function that returns a
    `_LoggedRequest` (an awaitable with slots), not a coroutine function:
    marked as a single-callable ASGI 3 application for the servers and test
    harnesses that ask (asgiref's `guarantee_single_callable`)."""

    _asgi_single_callable = True

    def __init__(self, app):
        self.app = app

    def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        facts = RequestFacts(send, incoming_request_id(scope.get("headers", ())))
        # A copy: the server's own scope is left as it was (and, with Daphne,
        # freed: nothing else keeps it).
        return _LoggedRequest(self.app, {**scope, "ops": facts}, receive, facts)


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
            facts.view = (match.view_name or match.route) if match is not None else None
            facts.who = describe(user_if_known(request))
        return response
