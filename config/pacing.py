"""REST responses sent no faster than their client reads them.

Daphne gives the application no back-pressure (events/transport/backpressure.py): a
response's body goes straight into the Twisted transport's write buffer,
whole, whether or not the client reads, and stays there until the client
reads it or the connection ends. Twenty clients asking for a 10 MB page
without reading held 20 × 10 MB in that buffer, plus what building them
left behind.

PacedResponses wraps the Django application. It hands a response's body to
Daphne in pieces of at most CHUNK_BYTES, and before each piece, if the
transport has paused its HTTPChannel (its buffer is over Twisted's 64 KiB),
waits until the transport resumes it (the buffer drained: the client read),
by registering a streaming producer on the Twisted request for the time of
the wait. A client that reads nothing for HTTP_SEND_TIMEOUT_SECONDS (the
kernel's unsent bytes for its socket do not go down: a slow reader is not a
stalled one) has its connection closed, and the rest of the response is dropped (not raised: an
exception after a response started can break Daphne for later connections).

Invariant: for a response served under Daphne, the bytes this process holds
for a client that does not read are at most the transport's buffer (64 KiB,
plus the piece that filled it) plus the rendered body, which Django keeps
until it is sent (a page of orders is bounded by ORDERS_PAGE_MAX_BYTES), and
only for as long as the client keeps reading (HTTP_SEND_TIMEOUT_SECONDS
without progress ends it).
Behind another ASGI server (no Twisted request) bodies pass through as they
are.

It reads HTTPChannel's `_waitingForTransport` and finds the Twisted request
behind Daphne's `send` as events/transport/backpressure.py does (through ops/patches/,
which names the versions), registers an
IPushProducer through the public Request.registerProducer, and aborts the
transport; Linux's SIOCOUTQ tells progress (elsewhere a wait is one stall).
"""

from __future__ import annotations

import asyncio
import fcntl
import struct
import termios

from ops.patches.daphne import twisted_request
from ops.patches.twisted import transport_paused

CHUNK_BYTES = 64 * 1024


class _Resumed:
    """A streaming producer registered for one wait: resolves `waiting` with
    True when the transport resumes, False when the connection stops."""

    def __init__(self, waiting: asyncio.Future):
        self.waiting = waiting

    def pauseProducing(self) -> None:  # noqa: N802
        pass

    def resumeProducing(self) -> None:  # noqa: N802
        if not self.waiting.done():
            self.waiting.set_result(True)

    def stopProducing(self) -> None:  # noqa: N802
        if not self.waiting.done():
            self.waiting.set_result(False)


class _PacedSend:
    """The `send` of one response: pieces, each after the buffer drained."""

    def __init__(self, send, request, timeout: float):
        self.inner = send  # twisted_request finds the request through it (streams too)
        self.request = request
        self.timeout = timeout
        self.cut = False

    async def __call__(self, message: dict) -> None:
        if self.cut:
            return
        if message["type"] != "http.response.body":
            await self.inner(message)
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        pieces = [body[start : start + CHUNK_BYTES] for start in range(0, len(body), CHUNK_BYTES)] or [b""]
        for number, piece in enumerate(pieces):
            if not await self._drained():
                return
            await self.inner(
                {"type": "http.response.body", "body": piece, "more_body": more or number < len(pieces) - 1}
            )

    async def _drained(self) -> bool:
        """Wait while the transport is paused; False (and the connection
        closed) when the client is gone, or has read nothing for the
        timeout."""
        channel = self.request.channel
        if channel is None:
            self.cut = True
            return False
        if not transport_paused(channel) or self.request.producer is not None:
            return True  # not paused (or someone else's producer: not ours to wait on)
        waiting = asyncio.get_running_loop().create_future()
        self.request.registerProducer(_Resumed(waiting), True)
        try:
            resumed = await self._resumed_while_read(waiting, channel.transport)
        finally:
            if self.request.channel is not None:
                self.request.unregisterProducer()
            else:
                self.request.producer = None
        if resumed and self.request.channel is not None:
            return True
        self.cut = True
        transport = getattr(self.request.channel, "transport", None)
        if transport is not None:
            transport.abortConnection()
        return False

    async def _resumed_while_read(self, waiting: asyncio.Future, transport) -> bool:
        """Whether the transport resumes before the client stops reading for
        the timeout. Twisted resumes only once its own buffer is empty, which
        needs the kernel's send buffer (up to megabytes) to have room: a
        slow reader makes progress long before that, seen as the kernel's
        unsent bytes going down."""
        step = min(1.0, self.timeout / 4)
        unsent = _kernel_unsent(transport)
        stalled = 0.0
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(waiting), step)
            except TimeoutError:
                pass
            now = _kernel_unsent(transport)
            if now is not None and unsent is not None and now < unsent:
                stalled = 0.0
            else:
                stalled += step
            unsent = now
            if stalled >= self.timeout:
                return False


def _kernel_unsent(transport) -> int | None:
    """Bytes in the socket's kernel send queue not yet acknowledged (Linux
    SIOCOUTQ), or None where it cannot be read."""
    try:
        buffer = fcntl.ioctl(transport.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (AttributeError, OSError, ValueError):
        return None
    return struct.unpack("i", buffer)[0]


class PacedResponses:
    """ASGI middleware: HTTP response bodies paced by the client's reading."""

    def __init__(self, app, timeout: float):
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope, receive, send):
        request = twisted_request(send) if scope["type"] == "http" else None
        if request is None:
            return await self.app(scope, receive, send)
        return await self.app(scope, receive, _PacedSend(send, request, self.timeout))
