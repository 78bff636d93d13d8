"""Bounding what the server holds for a client that does not read.

Daphne gives the ASGI application no back-pressure: `send()` of a body
returns at once, and the bytes wait in the Twisted transport's write buffer
(FileDescriptor.dataBuffer) for as long as the client does not read. That
buffer has no limit of its own. But Twisted does tell a *streaming producer*
when it is full: past its bufferSize (64 KiB) the transport pauses its
producer (the HTTPChannel), which pauses the request's producer, and resumes
them once the buffer has drained.

So each stream finds the HTTPChannel of its Twisted request (Daphne's
`send` is `functools.partial(Server.handle_reply, request)`) and, before
each write, reads whether the transport has paused it
(HTTPChannel._waitingForTransport, set by pauseProducing and cleared by
resumeProducing; both Twisted's and Daphne's internals are read through
ops/patches/); it counts the bytes it writes while paused. Only this
stream writes on its connection, so the flag cannot go down and up again
between two of its writes unseen: reading it is what a registered producer
would be told. Registering one costs each open stream about 1.6 KB (setting
the channel's producer attributes makes CPython copy its instance dict).

The watch also carries the Twisted request: a live stream that waits with
nothing queued is written by the hub's delivery through it
(events/transport/stream.py `_Stream.write_now`), the watch read before
each of those writes too.

Invariant: a stream's unsent bytes in this process stay below the transport's
bufferSize plus EVENTS_MAX_UNSENT_BYTES plus one write (one replay page, or
one batch of live frames); past the bound the stream ends, and the client
resumes with Last-Event-ID when it reads again. Behind another ASGI server
(no Twisted request to find) there is no watch and no bound from here.
"""

from __future__ import annotations

from ops.patches.daphne import twisted_request
from ops.patches.twisted import transport_paused


class TransportWatch:
    """The bytes a stream wrote while its HTTPChannel was paused."""

    __slots__ = ("request", "channel", "limit", "unsent_while_paused")

    def __init__(self, request, limit: int):
        self.request = request  # Daphne's Twisted request: a live stream writes to it (stream.py)
        self.channel = request.channel
        self.limit = limit
        self.unsent_while_paused = 0

    def wrote(self, size: int) -> None:
        """Called before each write is handed to Twisted."""
        if transport_paused(self.channel):
            self.unsent_while_paused += size
        else:
            self.unsent_while_paused = 0  # the buffer drained since the last write

    @property
    def over_limit(self) -> bool:
        return self.unsent_while_paused > self.limit


def watch(send, limit: int) -> TransportWatch | None:
    request = twisted_request(send)
    if request is None or getattr(request, "channel", None) is None:
        return None
    return TransportWatch(request, limit)
