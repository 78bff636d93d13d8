"""A cheap load client: thousands of SSE subscribers and a few HTTP callers
in one asyncio process, on raw sockets (no HTTP library).

Subscribers are asyncio Protocols rather than StreamReader pairs: one
callback per read, no task per connection, so 5,000 of them cost the client
little and the time they record is the time the bytes came off the socket.
They speak HTTP/1.1 and undo chunked transfer encoding, as a browser's
EventSource would, and read the event stream with the project's one SSE
reader (printeragent/sse.py, httpx-sse's parser fed bytes): httpx-sse's own
client wants an httpx response, one thread or task per stream, which at
5,000 streams would cost more than the server under test. Every operation has a timeout; everything goes to
127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from printeragent.sse import Frame, Reader

HOST = "127.0.0.1"
monotonic = time.monotonic


# --- plain HTTP requests (keep-alive) --------------------------------------------------


class HttpError(RuntimeError):
    pass


class HttpConn:
    """One keep-alive HTTP/1.1 connection for request/response calls."""

    def __init__(self, port: int, host: str = HOST):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, bytes]:
        return await asyncio.wait_for(self._request(method, path, body, headers or {}), timeout)

    async def _request(self, method: str, path: str, body: object, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            await self._connect()
        payload = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        status_line = await self.reader.readline()
        if not status_line:
            # The server closed an idle keep-alive connection: retry once on a new one.
            self.close()
            await self._connect()
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            data = bytearray()
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
            content = bytes(data)
        elif length is not None:
            content = await self.reader.readexactly(length)
        else:
            content = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, content

    async def json(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201), **kwargs):
        status, content = await self.request(method, path, **kwargs)
        if status not in expect:
            raise HttpError(f"{method} {path} -> {status}: {content[:500]!r}")
        return json.loads(content) if content else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- SSE subscribers ----------------------------------------------------------------------


@dataclass
class Trial:
    """One fan-out: done when `expected` subscribers have the target event."""

    expected: int
    received: int = 0
    first: float = 0.0
    last: float = 0.0
    event_id: bytes | None = None
    mismatched: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def hit(self, event_id: bytes, now: float) -> None:
        if self.event_id is None:
            self.event_id, self.first = event_id, now
        elif event_id != self.event_id:
            self.mismatched += 1
            return
        self.received += 1
        self.last = now
        if self.received >= self.expected:
            self.done.set()


class Subscriber(asyncio.Protocol):
    __slots__ = (
        "fleet", "request", "transport", "status", "header_buf", "headers_done", "chunked", "chunk_buf",
        "chunk_left", "need_crlf", "reader", "opened", "closed", "last_frame", "max_gap", "frames", "targets",
        "last_target_id", "data_len", "waiter",
    )  # fmt: skip

    def __init__(self, fleet: Fleet, request: bytes):
        self.fleet = fleet
        self.request = request
        self.transport = None
        self.status = 0
        self.header_buf = bytearray()
        self.headers_done = False
        self.chunked = False
        self.chunk_buf = bytearray()
        self.chunk_left = 0
        self.need_crlf = False
        self.reader = Reader()
        self.opened = False
        self.closed = False
        self.last_frame = 0.0
        self.max_gap = 0.0
        self.frames = 0
        self.targets = 0
        self.last_target_id: bytes | None = None
        self.data_len = 0
        self.waiter: asyncio.Future | None = None  # resolved on the first frame, a refusal or a close

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    # -- asyncio callbacks
    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.fleet.on_closed(self)
        self._wake()

    def data_received(self, data: bytes) -> None:
        now = monotonic()
        if not self.headers_done:
            self.header_buf += data
            end = self.header_buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.header_buf[:end]).lower()
            data = bytes(self.header_buf[end + 4 :])
            self.header_buf = bytearray()
            self.headers_done = True
            self.status = int(head.split(None, 2)[1])
            self.chunked = b"transfer-encoding: chunked" in head
            if self.status != 200:
                self.fleet.on_refused(self)
                self._wake()
                self.transport.close()
                return
        if self.chunked:
            data = self._dechunk(data)
        for frame in self.reader.feed(data):
            self._frame(frame, now)

    def _dechunk(self, data: bytes) -> bytes:
        cbuf = self.chunk_buf
        cbuf += data
        out = bytearray()
        while True:
            if self.chunk_left:
                take = min(self.chunk_left, len(cbuf))
                if not take:
                    break
                out += cbuf[:take]
                del cbuf[:take]
                self.chunk_left -= take
                if self.chunk_left:
                    break
                self.need_crlf = True
            if self.need_crlf:
                if len(cbuf) < 2:
                    break
                del cbuf[:2]
                self.need_crlf = False
            end = cbuf.find(b"\r\n")
            if end < 0:
                break
            size = int(bytes(cbuf[:end]).split(b";")[0], 16)
            del cbuf[: end + 2]
            if size == 0:
                break
            self.chunk_left = size
        return bytes(out)

    def _frame(self, frame: Frame, now: float) -> None:
        if self.frames:
            gap = now - self.last_frame
            if gap > self.max_gap:
                self.max_gap = gap
        self.last_frame = now
        self.frames += 1
        if not self.opened:
            self.opened = True
            self.fleet.on_open(self)
            self._wake()
        if frame.is_comment:
            return  # keep-alive or padding
        fleet = self.fleet
        if frame.event == fleet.target:
            event_id = (frame.id or "").encode()
            self.targets += 1
            self.last_target_id = event_id
            if not self.data_len:
                self.data_len = len(frame.data.encode())
            fleet.on_target(self, event_id, now)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()


class Fleet:
    """Many subscribers of one URL."""

    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None, target: str = "confirmed-order"):
        lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: text/event-stream", "Cache-Control: no-cache"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.port = port
        self.path = path
        self.target = target
        self.subscribers: list[Subscriber] = []
        self.open_count = 0
        self.refused = 0
        self.lost = 0
        self.trial: Trial | None = None

    # -- callbacks from subscribers
    def on_open(self, sub: Subscriber) -> None:
        self.open_count += 1

    def on_refused(self, sub: Subscriber) -> None:
        self.refused += 1

    def on_closed(self, sub: Subscriber) -> None:
        if sub.opened:
            self.lost += 1

    def on_target(self, sub: Subscriber, event_id: bytes, now: float) -> None:
        if self.trial is not None:
            self.trial.hit(event_id, now)

    # -- operations
    async def grow(self, total: int, *, concurrency: int = 64, timeout: float = 120.0) -> float:
        """Open subscribers until `total` are open; returns the seconds it took.
        Connections are made `concurrency` at a time (each waits for its first
        frame), so a server's accept backlog never overflows."""
        loop = asyncio.get_running_loop()
        started = monotonic()
        need = total - len(self.subscribers)
        if need <= 0:
            return 0.0
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                sub = Subscriber(self, self.request)
                sub.waiter = loop.create_future()
                self.subscribers.append(sub)
                await loop.create_connection(lambda: sub, HOST, self.port)
                await sub.waiter
                sub.waiter = None

        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(need))), timeout)
        if self.refused:
            raise RuntimeError(f"{self.refused} subscriber(s) of {self.path} refused")
        return monotonic() - started

    async def fan_out(self, trigger, *, timeout: float = 15.0) -> dict[str, float]:
        """Run `trigger()` (the publishing request) and wait until every open
        subscriber has the target event. Times are from time.monotonic()."""
        expected = sum(1 for sub in self.subscribers if sub.opened and not sub.closed)
        trial = Trial(expected)
        self.trial = trial
        try:
            sent = monotonic()
            await trigger()
            responded = monotonic()
            await asyncio.wait_for(trial.done.wait(), timeout)
        finally:
            self.trial = None
        if trial.mismatched:
            raise RuntimeError(f"{trial.mismatched} subscriber(s) got another event than {trial.event_id!r}")
        return {
            "sent": sent,
            "responded": responded,
            "first": trial.first,
            "last": trial.last,
            "event_id": trial.event_id,
        }

    def reset_gaps(self) -> None:
        for sub in self.subscribers:
            sub.max_gap = 0.0

    def gaps(self, now: float) -> list[float]:
        """Per open stream: the longest silence seen since reset_gaps(),
        counting the silence still running now."""
        return [max(sub.max_gap, now - sub.last_frame) for sub in self.subscribers if sub.opened and not sub.closed]

    def live(self) -> int:
        return sum(1 for sub in self.subscribers if sub.opened and not sub.closed)

    def close(self) -> None:
        for sub in self.subscribers:
            sub.close()
        self.subscribers = []
        self.open_count = 0


async def replay_once(port: int, path: str, headers: dict[str, str], count: int, timeout: float = 60.0) -> float:
    """Open one stream with a Last-Event-ID and time the arrival of `count`
    target events, from before the connection was made."""
    fleet = Fleet(port, path, headers)
    received = asyncio.Event()
    state = {"n": 0, "last": 0.0}

    def on_target(sub, event_id, now):
        state["n"] += 1
        state["last"] = now
        if state["n"] >= count:
            received.set()

    fleet.on_target = on_target
    started = monotonic()
    try:
        await fleet.grow(1, concurrency=1, timeout=timeout)
        await asyncio.wait_for(received.wait(), timeout)
    finally:
        fleet.close()
    return state["last"] - started
