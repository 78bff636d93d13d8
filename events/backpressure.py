"""Bounding what the server holds for a client that does not read.

Daphne gives the ASGI application no back-pressure: `send()` of a body
returns at once, and the bytes wait in the Twisted transport's write buffer
(FileDescriptor.dataBuffer) for as long as the client does not read. That
buffer has no limit of its own. But Twisted does tell a *streaming producer*
when it is full: past its bufferSize (64 KiB) the transport pauses its
producer (the HTTPChannel), which pauses the request's producer, and resumes
them once the buffer has drained.

So each stream registers a producer on its Twisted request (Daphne's `send`
is `functools.partial(Server.handle_reply, request)`) and counts the bytes it
writes while paused.

Invariant: a stream's unsent bytes in this process stay below the transport's
bufferSize plus EVENTS_MAX_UNSENT_BYTES plus one write (one replay page, or
one batch of live frames); past the bound the stream ends, and the client
resumes with Last-Event-ID when it reads again. Behind another ASGI server
(no Twisted request to find) there is no watch and no bound from here.
"""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger(__name__)


class TransportWatch:
    """A streaming producer (IPushProducer) on one Twisted request."""

    def __init__(self, request, limit: int):
        self.request = request
        self.limit = limit
        self.unsent_while_paused = 0
        # Registration does not report a transport that is already full.
        self.paused = bool(getattr(request.channel, "_waitingForTransport", False))
        self.registered = False
        try:
            request.registerProducer(self, True)
            self.registered = True
        except (ValueError, RuntimeError):  # someone else's producer is registered
            logger.warning("no write watch on %r: a producer is already registered", request)

    # IPushProducer, called by Twisted on the reactor's (the event loop's) thread.
    def pauseProducing(self) -> None:  # noqa: N802
        self.paused = True

    def resumeProducing(self) -> None:  # noqa: N802
        self.paused = False
        self.unsent_while_paused = 0

    def stopProducing(self) -> None:  # noqa: N802
        self.paused = True

    def wrote(self, size: int) -> None:
        if self.paused:
            self.unsent_while_paused += size

    @property
    def over_limit(self) -> bool:
        return self.unsent_while_paused > self.limit

    def release(self) -> None:
        """Unregister before the response ends (Twisted requires it)."""
        if self.registered:
            self.registered = False
            if self.request.channel is None:
                return  # the connection is gone, and Twisted dropped the producer with it
            try:
                self.request.unregisterProducer()
            except Exception:
                logger.exception("could not unregister a write watch")


def twisted_request(send):
    """The Twisted request behind an ASGI `send` that Daphne made (through
    any wrapper that keeps the original as `inner`), or None."""
    for _ in range(8):
        if isinstance(send, functools.partial):
            for arg in send.args:
                if hasattr(arg, "registerProducer") and hasattr(arg, "channel"):
                    return arg
            return None
        send = getattr(send, "inner", None)
        if send is None:
            return None
    return None


def watch(send, limit: int) -> TransportWatch | None:
    request = twisted_request(send)
    if request is None or getattr(request, "channel", None) is None:
        return None
    return TransportWatch(request, limit)
