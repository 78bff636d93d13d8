"""Twisted's HTTP server internals this project relies on (Twisted 26.10.0).

- `HTTPChannel._respondToBadRequestAndDisconnect`: the one place where
  Twisted's parser answers a request it cannot read (a malformed request
  line, header or chunked body, too many or too large headers, a malformed
  multipart body), with a bare "400 Bad Request". `UnreadableRequestChannel`
  overrides it, and the public `lineLengthExceeded` (a single line over 16
  KiB, closed without a word), to call `unreadable_request(kind)`, telling
  apart a request line too long, headers too large and the rest by the
  channel's private `__first_line` (name-mangled), `_receivedHeaderSize` and
  `_receivedHeaderCount`.
- `_GenericHTTPChannelProtocol`: the wrapper twisted.web's own HTTPFactory
  puts around each channel (it negotiates HTTP/2; HTTP/1.1 passes through),
  for a factory that builds its own channels.
- `HTTPChannel._waitingForTransport`: whether the transport has paused the
  channel (its write buffer is over 64 KiB), read before each write instead
  of registering a producer per stream.
- A TCP transport's write buffer (`tcp.Connection`'s `dataBuffer`, `offset`,
  `_tempDataLen`, `_writeDisconnecting`, `_writeDisconnected`, `TLS`) and
  its `writeSomeData`: `SendNowChannel` hands a response body to the socket
  at once when nothing waits before it in that buffer. Twisted's own
  `write` only appends to the buffer and asks the reactor to say when the
  socket is writable (an add and a remove of the writer in the event loop,
  and one more turn of the loop, for every event on every stream).

Invariant: the refusals only change the bytes written to a connection
Twisted has already given up on, and the reads only read state; when and
why Twisted refuses stays its. `SendNowChannel` changes when a body's bytes
reach the socket, never their order.
"""

from __future__ import annotations

from typing import Literal

from twisted.internet import tcp
from twisted.web import http

WRITTEN_FOR = "26.10.0"

UnreadableKind = Literal["request line too long", "headers too large", "bad request"]


class UnreadableRequestChannel(http.HTTPChannel):
    """An HTTPChannel that calls `unreadable_request(kind)` where Twisted
    would answer a bare 400 (or close without a word on a line over its
    limit). Subclasses answer; by default, as Twisted does."""

    _line_too_long = False

    def unreadable_request(self, kind: UnreadableKind) -> None:
        super()._respondToBadRequestAndDisconnect()

    def _respondToBadRequestAndDisconnect(self) -> None:  # noqa: N802  (Twisted's private name)
        self.unreadable_request(self._unreadable_kind())

    def lineLengthExceeded(self, line: bytes) -> None:  # noqa: N802
        self._line_too_long = True
        self._respondToBadRequestAndDisconnect()

    def _unreadable_kind(self) -> UnreadableKind:
        if self._line_too_long:
            # Still waiting for the request line: it is the one too long.
            return "request line too long" if self._HTTPChannel__first_line else "headers too large"
        if self._receivedHeaderSize > self.totalHeadersSize or self._receivedHeaderCount > self.maxHeaders:
            return "headers too large"
        return "bad request"


def send_now(transport, data: bytes) -> bool:
    """Write `data` to a plain TCP socket at once if nothing is waiting in
    its transport's buffer, what the socket does not take left there for
    Twisted to send when it can. False (nothing done) where Twisted must
    write it its own way: another transport (TLS, a test's), bytes already
    waiting (they go first), a connection closing or lost. Twisted's
    writeSomeData sends what the socket takes now, and reports a lost
    connection without acting on it: then Twisted's own write finds out."""
    if (
        not isinstance(transport, tcp.Connection)
        or transport.TLS
        or not transport.connected
        or transport.disconnecting
        or transport._writeDisconnecting
        or transport._writeDisconnected
        or transport._tempDataLen
        or len(transport.dataBuffer) > transport.offset
    ):
        return False
    sent = transport.writeSomeData(data)
    if isinstance(sent, BaseException):
        return False
    if sent < len(data):
        transport.write(data[sent:])
    return True


class SendNowChannel(http.HTTPChannel):
    """An HTTPChannel whose response bodies go to the socket when written
    (`send_now`), not on the event loop's next turn. The headers still go
    Twisted's way, so a response's first body follows them in the buffer;
    a stream's later events, each a write of its own, go at once.

    Invariant: bytes reach the socket in the order they were written; only
    when they are sent changes."""

    def write(self, data: bytes) -> None:
        if not send_now(self.transport, data):
            self.transport.write(data)

    def writeSequence(self, iovec) -> None:  # noqa: N802  (Twisted's name)
        if not send_now(self.transport, b"".join(iovec)):
            self.transport.writeSequence(iovec)


def channel_protocol(channel: http.HTTPChannel):
    """`channel` wrapped as twisted.web's HTTPFactory wraps its own."""
    return http._GenericHTTPChannelProtocol(channel)


def transport_paused(channel) -> bool:
    """Whether the transport has paused `channel` (its buffer is full)."""
    return getattr(channel, "_waitingForTransport", False)
