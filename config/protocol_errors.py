"""JSON for the requests that Daphne's HTTP parser (Twisted) refuses before
any ASGI application sees them: a header block over Twisted's limits (16 KiB,
500 headers), a malformed request line, Content-Length or chunked body, and a
malformed multipart body on POST (Twisted parses those itself). Twisted
answers those with a bare "400 Bad Request" and no body, and closes without a
word on a single line over 16 KiB; `JsonRefusalsChannel` answers them with a
JSON body with a "message" like every other refusal: 414 for a request line
too long, 431 for headers too large, else 400. It builds on
ops/patches/twisted.py, where the private parts of Twisted it needs are.

Daphne itself answers a few requests before the application sees them
(WebRequest.basic_error): a header value with bytes RFC 9110 forbids (400;
a bad header name, path or query string Twisted refuses first), and its
own 500 and 503. `JsonErrorRequest` gives those the same JSON body, with
Daphne's status and wording.

Invariant: only the bytes written to a connection that Twisted or Daphne
has already given up on change; when and why they give up stay theirs.
Both are subclasses, used by config/serve.py's factory (so by every worker
started with `python -m config.serve`); plain `daphne` answers as Twisted
and Daphne do."""

from __future__ import annotations

import json

from daphne import http_protocol

from ops.patches.twisted import UnreadableKind, UnreadableRequestChannel

_ANSWERS: dict[UnreadableKind, tuple[int, bytes, str]] = {
    "request line too long": (414, b"URI Too Long", "Request line too long"),
    "headers too large": (431, b"Request Header Fields Too Large", "Request headers too large"),
    "bad request": (400, b"Bad Request", "Bad request: the request could not be read"),
}


def refuse(
    channel, status: int, reason: bytes, message: str, headers: dict[bytes, bytes] | None = None, *, drain=False
) -> None:
    """Write a JSON refusal with `Connection: close` on a Twisted HTTP
    channel and close it once written. With `drain`, only its sending side
    is closed (the caller discards what still arrives and closes the rest):
    a client still sending its body then reads the refusal instead of a
    reset. Also used by config/serve.py for the request bodies it refuses
    before Daphne sees them."""
    body = json.dumps({"message": message}).encode()
    extra = b"".join(b"%s: %s\r\n" % (name, value) for name, value in (headers or {}).items())
    channel.transport.write(
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n%s"
        % (status, reason, len(body), extra, body)
    )
    if drain and hasattr(channel.transport, "loseWriteConnection"):
        channel.transport.loseWriteConnection()
    else:
        channel.loseConnection()


class JsonRefusalsChannel(UnreadableRequestChannel):
    """An HTTPChannel whose refusals of unreadable requests are JSON."""

    def unreadable_request(self, kind: UnreadableKind) -> None:
        refuse(self, *_ANSWERS[kind])


class JsonErrorRequest(http_protocol.WebRequest):
    """Daphne's request, with its own error answers in JSON."""

    def basic_error(self, status: int, status_text: bytes, body: str) -> None:
        content = json.dumps({"message": body.rstrip(".")}).encode()
        headers = [(b"Content-Type", b"application/json"), (b"Content-Length", b"%d" % len(content))]
        self.handle_reply({"type": "http.response.start", "status": status, "headers": headers})
        self.handle_reply({"type": "http.response.body", "body": content})
