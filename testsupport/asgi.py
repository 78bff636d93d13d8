"""Calling the ASGI application in-process, as Daphne would."""

from __future__ import annotations

import asyncio


def http_scope(method: str, path: str, body: bytes = b"", headers=(), host: bytes = b"testserver") -> dict:
    """The scope Daphne makes for a request from 127.0.0.1 to `host` with
    `body` (its Content-Length set) and `headers` (lower-case bytes pairs)
    after the Host."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def body_then_silence(body: bytes):
    """An ASGI `receive`: the request's body, then a client that stays (no
    disconnect, which would make Django drop the request)."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()

    return receive
