"""The floor under Daphne: the smallest ASGI broadcaster, no Django, no
database, no authentication. It has the shape of events/transport/stream.py (one task
per stream waiting on an asyncio.Event, one `send` per wake-up), so the gap
between it and the project is what the project's own code costs, and the gap
between it and bench/raw_broadcaster.py is what Daphne (Twisted) costs.

    daphne bench.daphne_floor:application

GET /sub            a stream: `stream-open`, then every published event
POST /publish?size= one ~size-byte `confirmed-order` event to every stream
GET /health         200
Keep-alives with the project's policy (events/transport/hub.py `Hub._ticker`): ticks
every min(1 s, interval / 4) on a fixed rhythm (a late tick does not shift
the next ones, and no burst follows a stall), and a stream is due once it has
been silent for EVENTS_KEEPALIVE_SECONDS (default 15) minus one tick. So a
gap measured against this floor compares implementations, not policies."""

from __future__ import annotations

import asyncio
import json
import os
from urllib.parse import parse_qs

KEEPALIVE = float(os.environ.get("EVENTS_KEEPALIVE_SECONDS", "15"))
KEEPALIVE_FRAME = b": keep-alive\n\n"
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"connection", b"keep-alive"),
    (b"x-accel-buffering", b"no"),
]


class Stream:
    __slots__ = ("frames", "wakeup", "last_write", "closed")

    def __init__(self, now: float):
        self.frames: list[bytes] = []
        self.wakeup = asyncio.Event()
        self.last_write = now
        self.closed = False


streams: set[Stream] = set()
state = {"seq": 0, "ticker": None}


def payload_of_size(seq: int, size: int) -> str:
    base = json.dumps({"id": seq, "pad": ""})
    return json.dumps({"id": seq, "pad": "x" * max(0, size - len(base))})


async def ticker() -> None:
    loop = asyncio.get_running_loop()
    tick = min(1.0, KEEPALIVE / 4)
    due_after = KEEPALIVE - tick
    next_tick = loop.time() + tick
    while True:
        await asyncio.sleep(max(0.0, next_tick - loop.time()))
        now = loop.time()
        next_tick = max(next_tick + tick, now)
        for stream in streams:
            if now - stream.last_write >= due_after and not stream.frames:
                stream.frames.append(KEEPALIVE_FRAME)
                stream.wakeup.set()


async def application(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    if state["ticker"] is None:
        state["ticker"] = asyncio.ensure_future(ticker())
    path = scope["path"]
    if path == "/sub":
        await _stream(receive, send)
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    if path == "/publish":
        state["seq"] += 1
        size = int(parse_qs(scope["query_string"].decode()).get("size", ["1024"])[0])
        frame = f"event: confirmed-order\nid: floor:{state['seq']}\ndata: {payload_of_size(state['seq'], size)}\n\n"
        data = frame.encode()
        for stream in streams:
            stream.frames.append(data)
            stream.wakeup.set()
        body = json.dumps({"id": state["seq"]}).encode()
    else:
        body = b'{"ok": true}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _stream(receive, send) -> None:
    loop = asyncio.get_running_loop()
    stream = Stream(loop.time())
    streams.add(stream)

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        stream.closed = True
        stream.wakeup.set()

    watcher = asyncio.ensure_future(watch())
    try:
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        await send({"type": "http.response.body", "body": b"event: stream-open\ndata:\n\n", "more_body": True})
        while True:
            await stream.wakeup.wait()
            stream.wakeup.clear()
            if stream.closed:
                return
            frames, stream.frames = stream.frames, []
            if frames:
                await send({"type": "http.response.body", "body": b"".join(frames), "more_body": True})
                stream.last_write = loop.time()
    except OSError:
        pass
    finally:
        watcher.cancel()
        streams.discard(stream)
