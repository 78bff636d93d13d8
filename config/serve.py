"""`python -m config.serve [daphne's options] config.asgi:application`:
Daphne, with a deadline for request headers.

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

Invariant: no connection is held open by the server without a complete
request for longer than HTTP_HEADER_TIMEOUT_SECONDS (plus the reactor's
timer granularity). `daphne config.asgi:application` still works, without
this deadline.

It also listens (-b/-p) with a backlog of HTTP_LISTEN_BACKLOG connections
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

import os
import sys

from daphne import http_protocol
from twisted.web import http


class HeaderDeadlineChannel(http.HTTPChannel):
    """An HTTP/1.1 channel that closes itself when a request's headers are
    not complete in time."""

    header_timeout: float = 15.0
    _deadline = None

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.callLater(self.header_timeout, self._headers_too_late)

    def _disarm(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _headers_too_late(self) -> None:
        self._deadline = None
        if self.transport is not None:
            self.transport.abortConnection()

    def connectionMade(self) -> None:  # noqa: N802
        super().connectionMade()
        self._arm()

    def allHeadersReceived(self) -> None:  # noqa: N802
        self._disarm()
        super().allHeadersReceived()

    def requestDone(self, request) -> None:  # noqa: N802
        super().requestDone(request)
        if self.persistent and self.transport is not None and not self.transport.disconnecting:
            self._arm()  # the next request's headers are due in time too

    def connectionLost(self, reason) -> None:  # noqa: N802
        self._disarm()
        super().connectionLost(reason)


class HeaderDeadlineFactory(http_protocol.HTTPFactory):
    """Daphne's HTTP factory, building HeaderDeadlineChannels."""

    def protocol(self):
        channel = HeaderDeadlineChannel()
        channel.header_timeout = header_timeout()
        # twisted.web's own factory wraps its channel the same way (it is
        # what lets HTTP/2 be negotiated; plain HTTP/1.1 passes through).
        return http._GenericHTTPChannelProtocol(channel)


def header_timeout() -> float:
    from django.conf import settings

    return settings.HTTP_HEADER_TIMEOUT_SECONDS


def listen_backlog() -> int:
    from django.conf import settings

    return settings.HTTP_LISTEN_BACKLOG


def _with_backlog(build):
    def endpoints(*args, **kwargs) -> list[str]:
        backlog = listen_backlog()
        return [f"{found}:backlog={backlog}" if found.startswith("tcp:") else found for found in build(*args, **kwargs)]

    return endpoints


def _no_access_log(stream):
    return None


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
    from daphne import cli, server

    # daphne.server.Server.run builds its factory from this name.
    server.HTTPFactory = HeaderDeadlineFactory
    # The CLI turns -b/-p into Twisted endpoint strings through this name.
    cli.build_endpoint_description_strings = _with_backlog(cli.build_endpoint_description_strings)
    # The access log is ops/requestlog.py's (real client address, request id).
    cli.AccessLogGenerator = _no_access_log
    cli.CommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
