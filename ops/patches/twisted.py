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

Invariant: these only change the bytes written to a connection Twisted has
already given up on, and read state; when and why Twisted refuses stays its.
"""

from __future__ import annotations

from typing import Literal

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


def channel_protocol(channel: http.HTTPChannel):
    """`channel` wrapped as twisted.web's HTTPFactory wraps its own."""
    return http._GenericHTTPChannelProtocol(channel)


def transport_paused(channel) -> bool:
    """Whether the transport has paused `channel` (its buffer is full)."""
    return getattr(channel, "_waitingForTransport", False)
