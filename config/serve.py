"""`python -m config.serve [daphne's options] config.asgi:application`:
Daphne, with deadlines for request headers and bodies.

Daphne (through Twisted) only has an idle timeout, reset by every byte: a
client that sends a header line every few seconds holds its connection for
ever, and a few thousand such clients exhaust the process's sockets. Here
every connection must complete a request's headers within
HTTP_HEADER_TIMEOUT_SECONDS (default 15) of connecting, and again of the end
of its previous response (a kept-alive connection); otherwise it is closed.
A request whose headers are complete is not affected, however long its
response (an event stream) lasts. The deadline for the next request starts
when a response ends, even if the client has not read all of it yet: a
client that stops reading loses the unread rest of a closed stream (and
resumes with its Last-Event-ID) instead of keeping the server's buffer.

Daphne reads a request's whole body before the application sees it, into
memory, or into a temporary file past 100 KB or for a chunked body
(Twisted's Request.gotLength): a slow upload holds a socket and a file. So
a body, too, must arrive whole within HTTP_BODY_TIMEOUT_SECONDS (default 30)
of its headers, and at least HTTP_BODY_MIN_BYTES_PER_SECOND of it in every
HTTP_BODY_RATE_WINDOW_SECONDS; otherwise the client gets a 408 JSON and the
connection is closed. One client address has at most
HTTP_MAX_UPLOADS_PER_ADDRESS bodies in flight in a process (the address
Daphne gives the application: its X-Forwarded-For one with
--proxy-headers), and a process at most HTTP_MAX_UPLOADS in all; the next is
a 429 JSON before any of its body is read. A
Content-Length over HTTP_MAX_BODY_BYTES is a 413 JSON before any of the body
is read (so before a temporary file exists), a chunked body once it passes
that size. After a refusal the server stops sending and discards what
still arrives (a client busy sending its body reads the refusal instead of a
reset) for at most REFUSAL_GRACE_SECONDS.

Invariants: no connection is held open by the server without a complete
request for longer than HTTP_HEADER_TIMEOUT_SECONDS, nor with an incomplete
body for longer than HTTP_BODY_TIMEOUT_SECONDS (plus the reactor's timer
granularity); the bodies in flight never exceed HTTP_MAX_UPLOADS_PER_ADDRESS
from one address nor HTTP_MAX_UPLOADS in all, so the descriptors they hold
(a socket and at most one temporary file each) never exceed twice that.
`daphne config.asgi:application` still works, without these limits and
with Twisted's and Daphne's own bare refusals.

It subclasses Twisted's HTTPChannel (allHeadersReceived, rawDataReceived,
allContentReceived, and its `length`, set from Content-Length or None when
chunked; through config/protocol_errors.py, whose JSON it also answers the
requests Twisted cannot read with) and Daphne's HTTPFactory (with Daphne's
request class made JSON for its own errors), and runs Daphne's command line
with its `server_class` hook: a Server that listens with a backlog and
writes no access log. The two things no hook offers, the factory class
Daphne's Server builds and the Twisted internals the channel needs, are in
ops/patches/daphne.py and ops/patches/twisted.py, with the versions they
were written for.

It also listens (every TCP endpoint, -b/-p or -e, that does not set its
own `backlog=`) with a backlog of HTTP_LISTEN_BACKLOG connections
(default 4,096; the kernel caps it at net.core.somaxconn) instead of
Twisted's 50: when every screen reconnects at once, connections the process
has not accepted yet wait in that queue, where with 50 the kernel drops
their SYN and the client retries only after 1, 3, 7, 15 … seconds.

Before it listens, it checks that the database answers: if not, one line
names the database (password masked) and why, and the exit status is 1
(ops/startup.py; STARTUP_TRACEBACK=1 shows the traceback too). Daphne's
own access log is off: ops/requestlog.py writes one line per request with
the client's real address and the request id.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

from daphne import http_protocol
from django.conf import settings

from config import protocol_errors
from ops.patches import daphne as daphne_patches
from ops.patches import twisted as twisted_patches
from ops.patches.twisted import SendNowChannel
from ops.proxies import client_address

# How long a refused client has to read its refusal (while what it still
# sends is discarded) before the connection is cut anyway.
REFUSAL_GRACE_SECONDS = 5.0


class UploadsInFlight:
    """Request bodies being received in one process, per client address and
    in all."""

    def __init__(self, limit: int, total_limit: int):
        self.limit = limit
        self.total_limit = total_limit
        self.total = 0
        self.by_address: dict[str, int] = {}

    def take(self, address: str) -> bool:
        held = self.by_address.get(address, 0)
        if held >= self.limit or self.total >= self.total_limit:
            return False
        self.by_address[address] = held + 1
        self.total += 1
        return True

    def give_back(self, address: str) -> None:
        held = self.by_address.get(address, 0) - 1
        self.total -= 1
        if held > 0:
            self.by_address[address] = held
        else:
            self.by_address.pop(address, None)


class DeadlineChannel(SendNowChannel, protocol_errors.JsonRefusalsChannel):
    """An HTTP/1.1 channel that closes itself when a request's headers, or
    its body, are not complete in time, and refuses a body that is too large
    or one too many in flight (from its address, or in all) before reading
    it."""

    header_timeout: float = 15.0
    limits: BodyLimits | None = None
    uploads: UploadsInFlight | None = None
    _deadline = None
    # The body being received: its client's address (holding a place in
    # `uploads`), its bytes so far, and those at the last rate check.
    _upload_address: str | None = None
    _body_bytes = 0
    _body_bytes_checked = 0
    _rate_check = None
    _refused = False

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.callLater(self.header_timeout, self._headers_too_late)

    def _disarm(self) -> None:
        for name in ("_deadline", "_rate_check"):
            call = getattr(self, name)
            if call is not None and call.active():
                call.cancel()
            setattr(self, name, None)

    def _headers_too_late(self) -> None:
        self._deadline = None
        if self.transport is not None:
            self.transport.abortConnection()

    def connectionMade(self) -> None:  # noqa: N802
        super().connectionMade()
        self._arm()

    def allHeadersReceived(self) -> None:  # noqa: N802
        self._disarm()
        if self.length != 0 and self.limits is not None and not self._body_admitted():
            return
        super().allHeadersReceived()

    def _body_admitted(self) -> bool:
        """Whether the body the headers announce may be read; else it is
        refused, and nothing more is read from the connection."""
        limits = self.limits
        if self.length is not None and self.length > limits.max_bytes:
            self._refuse(413, b"Content Too Large", "Request body too large")
            return False
        address = self._client_address()
        if not self.uploads.take(address):
            self._refuse(
                429,
                b"Too Many Requests",
                "Too many request bodies in progress"
                if self.uploads.total >= self.uploads.total_limit
                else "Too many request bodies in progress from this address",
                {b"Retry-After": b"%d" % math.ceil(limits.timeout)},
            )
            return False
        self._upload_address = address
        self._body_bytes = self._body_bytes_checked = 0
        self._deadline = self.callLater(limits.timeout, self._body_too_slow)
        if limits.min_rate and limits.window:
            self._rate_check = self.callLater(limits.window, self._check_rate)
        return True

    def _client_address(self) -> str:
        """The client's address as the application will see it: the peer's,
        or X-Forwarded-For's when the peer is one of TRUSTED_PROXIES
        (ops/proxies.py), so that clients behind the balancer each have
        their own uploads in flight instead of sharing the proxy's."""
        peer = str(getattr(self.transport.getPeer(), "host", ""))
        forwarded = self.requests[-1].requestHeaders.getRawHeaders(b"x-forwarded-for") or []
        values = [value.decode("latin-1") for value in forwarded]
        return client_address(peer, values, settings.TRUSTED_PROXIES) or ""

    def rawDataReceived(self, data: bytes) -> None:  # noqa: N802
        if self._upload_address is not None:
            self._body_bytes += len(data)
            if self.length is None and self._body_bytes > self.limits.max_bytes:
                # A chunked body announces no length: refused once it passes.
                self._refuse(413, b"Content Too Large", "Request body too large")
                return
        super().rawDataReceived(data)

    def _check_rate(self) -> None:
        self._rate_check = None
        limits = self.limits
        if self._upload_address is None:
            return
        if self._body_bytes - self._body_bytes_checked < limits.min_rate * limits.window:
            self._body_too_slow()
            return
        self._body_bytes_checked = self._body_bytes
        self._rate_check = self.callLater(limits.window, self._check_rate)

    def _body_too_slow(self) -> None:
        self._refuse(408, b"Request Timeout", "Request body not received in time")

    def _refuse(self, status: int, reason: bytes, message: str, headers: dict[bytes, bytes] | None = None) -> None:
        """Answer with a JSON refusal and stop sending; whatever still
        arrives is discarded unread (so a client busy sending its body gets
        the answer, not a reset), and the connection is cut
        REFUSAL_GRACE_SECONDS later if the client has not closed it."""
        self._end_upload()
        if self.transport is None or self.transport.disconnecting or self._refused:
            return
        self._refused = True
        self.dataReceived = self.rawDataReceived = self.lineReceived = _ignore
        protocol_errors.refuse(self, status, reason, message, headers, drain=True)
        self._deadline = self.callLater(REFUSAL_GRACE_SECONDS, self._headers_too_late)

    def _end_upload(self) -> None:
        self._disarm()
        if self._upload_address is not None:
            self.uploads.give_back(self._upload_address)
            self._upload_address = None

    def allContentReceived(self) -> None:  # noqa: N802
        self._end_upload()
        super().allContentReceived()

    def requestDone(self, request) -> None:  # noqa: N802
        super().requestDone(request)
        if self.persistent and self.transport is not None and not self.transport.disconnecting:
            self._arm()  # the next request's headers are due in time too

    def connectionLost(self, reason) -> None:  # noqa: N802
        self._end_upload()
        self._disarm()
        super().connectionLost(reason)


def _ignore(*args) -> None:
    return None


@dataclass(frozen=True)
class BodyLimits:
    timeout: float
    min_rate: int
    window: float
    max_bytes: int


class DeadlineFactory(http_protocol.HTTPFactory):
    """Daphne's HTTP factory, building DeadlineChannels that share one count
    of the uploads in flight per address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = body_limits()
        self.uploads = UploadsInFlight(*max_uploads())

    def protocol(self):
        channel = DeadlineChannel()
        channel.header_timeout = header_timeout()
        channel.limits = self.limits
        channel.uploads = self.uploads
        return twisted_patches.channel_protocol(channel)

    def buildProtocol(self, addr):  # noqa: N802
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = protocol_errors.JsonErrorRequest  # Daphne's sets its WebRequest
        return protocol


def header_timeout() -> float:
    from django.conf import settings

    return settings.HTTP_HEADER_TIMEOUT_SECONDS


def body_limits() -> BodyLimits:
    from django.conf import settings

    return BodyLimits(
        timeout=settings.HTTP_BODY_TIMEOUT_SECONDS,
        min_rate=settings.HTTP_BODY_MIN_BYTES_PER_SECOND,
        window=settings.HTTP_BODY_RATE_WINDOW_SECONDS,
        max_bytes=settings.HTTP_MAX_BODY_BYTES,
    )


def max_uploads() -> tuple[int, int]:
    """Bodies in flight at once: per client address, and in all."""
    from django.conf import settings

    return settings.HTTP_MAX_UPLOADS_PER_ADDRESS, settings.HTTP_MAX_UPLOADS


def listen_backlog() -> int:
    from django.conf import settings

    return settings.HTTP_LISTEN_BACKLOG


def with_backlog(endpoints: list[str], backlog: int) -> list[str]:
    """Twisted endpoint strings, each TCP one with `backlog` unless it sets
    its own."""
    return [
        f"{found}:backlog={backlog}" if found.startswith("tcp:") and ":backlog=" not in found else found
        for found in endpoints
    ]


def refuse_without_database() -> None:
    from ops.startup import database_problem, traceback_wanted

    if traceback_wanted():
        from django.db import connection

        connection.ensure_connection()  # raises, with its traceback
        return
    problem = database_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    header_timeout()  # a bad value stops the server before it listens
    refuse_without_database()
    body_limits()
    max_uploads()
    from daphne import cli, server

    class DeadlineServer(server.Server):
        """Daphne's server, listening with HTTP_LISTEN_BACKLOG and without
        Daphne's access log (ops/requestlog.py writes one line per request,
        with the client's real address and the request id)."""

        def __init__(self, *args, endpoints=None, action_logger=None, **kwargs):
            backlogged = with_backlog(endpoints or [], listen_backlog())
            super().__init__(*args, endpoints=backlogged, action_logger=None, **kwargs)

    class CommandLine(cli.CommandLineInterface):
        server_class = DeadlineServer

    daphne_patches.use_http_factory(DeadlineFactory)
    CommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
