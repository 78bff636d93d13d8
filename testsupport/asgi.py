"""Calling the ASGI application in-process, as Daphne would."""

from __future__ import annotations

import asyncio


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
