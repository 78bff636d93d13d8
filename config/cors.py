"""CORS for ASGI applications that run outside Django's middleware (the
events endpoint), with django-cors-headers' own middleware and settings.

Invariant: a request to such an application gets exactly the CORS headers
that CorsMiddleware would give the same request inside Django (the same
CORS_ALLOWED_ORIGINS, CORS_URLS_REGEX, allowed and exposed headers), added to
whatever the application answers, refusals included; a preflight (OPTIONS
with Access-Control-Request-Method) is answered here as CorsMiddleware
answers it. A request without an Origin header costs nothing."""

from __future__ import annotations

import io

from corsheaders.middleware import CorsMiddleware
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse


def _cors_response(scope) -> tuple[HttpResponse, bool]:
    """CorsMiddleware's answer to this request: (its preflight response,
    True), or (an empty response carrying the headers it would add, False)."""
    request = ASGIRequest(scope, io.BytesIO())
    passed_through = HttpResponse()
    response = CorsMiddleware(lambda _request: passed_through)(request)
    return response, response is not passed_through


def _header_pairs(response: HttpResponse) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.items()
        if name.lower().startswith("access-control-") or name.lower() == "vary"
    ]


def with_cors(app):
    """Wrap an ASGI HTTP application with django-cors-headers' behaviour.
    A plain function that returns the application's own coroutine for a
    request without an Origin header: an open stream keeps no frame of this
    wrapper."""

    async def with_origin(scope, receive, send) -> None:
        response, is_preflight = _cors_response(scope)
        headers = _header_pairs(response)
        if is_preflight:
            await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if not headers:
            await app(scope, receive, send)
            return

        async def send_with_cors(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await app(scope, receive, send_with_cors)

    def cors_app(scope, receive, send):
        if scope["type"] != "http" or not any(name == b"origin" for name, _ in scope["headers"]):
            return app(scope, receive, send)
        return with_origin(scope, receive, send)

    return cors_app
