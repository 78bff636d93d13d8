"""Daphne's internals this project relies on (Daphne 4.2.3).

- `daphne.server.HTTPFactory`: `Server.run` builds its HTTP factory from
  this module name, with no parameter for another class; `use_http_factory`
  points the name at a subclass (config/serve.py's, which builds channels
  with deadlines and JSON refusals). The rest of config/serve.py goes
  through Daphne's public hooks: `CommandLineInterface.server_class` and
  `Server`'s constructor arguments.
- An ASGI `send` made by Daphne is `functools.partial(Server.handle_reply,
  request)`: `twisted_request` finds the Twisted request (and its channel)
  behind it, for the back-pressure of streams (events/transport/backpressure.py) and
  REST responses (config/pacing.py).
- `WebRequest.handle_reply` writes an `http.response.body` with more_body
  as Twisted's `Request.write`, once the response has started and until it
  has finished or its connection is gone (`_response_started`, `finished`,
  `channel`, `_disconnected`): `write_body_now` does the same from the
  event loop without a coroutine, for a live stream's events
  (events/transport/stream.py).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from twisted.web import http

if TYPE_CHECKING:
    from daphne.http_protocol import HTTPFactory

WRITTEN_FOR = "4.2.3"

# Looked up once: twisted.web.http is wrapped by Twisted's deprecation proxy,
# which makes every attribute read on the module cost a few microseconds, and
# a fan-out to 2,000 streams reads it 2,000 times.
_request_write = http.Request.write


def use_http_factory(factory_class: type[HTTPFactory]) -> None:
    """Make every Daphne Server of this process listen with `factory_class`."""
    # Imported here: importing daphne.server installs Twisted's asyncio
    # reactor, which only a process that serves with Daphne wants.
    from daphne import server

    server.HTTPFactory = factory_class


def write_body_now(request, body: bytes) -> bool:
    """Write `body` as the next piece of the started, streamed response of
    the Twisted `request`, as Daphne's send of a body with more_body does;
    False, with nothing written, where that send would write nothing (the
    response has not started or has finished, the client is gone)."""
    if not request._response_started or request.finished or request.channel is None or request._disconnected:
        return False
    _request_write(request, body)
    return True


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
