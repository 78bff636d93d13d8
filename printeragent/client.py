"""The server as the agent sees it: a few REST calls and the printer event
stream, over the standard library's HTTP client, with the device's key in
`X-API-KEY` on every request."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

HEADER = "X-API-KEY"


class ServerError(Exception):
    """The server answered, but not with what was asked (a refused key, a 5xx)."""

    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


@dataclass(frozen=True)
class Message:
    """One SSE message: `event` is None for an id-only message (the stream's
    position), `data` the raw text."""

    event: str | None
    id: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class Server:
    def __init__(self, url: str, key: str, *, timeout: float = 10.0, stream_timeout: float = 45.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.base = parts.path.rstrip("/")
        self.key = key
        self.timeout = timeout
        # Longer than the server's keep-alive interval (15 s): silence past it
        # means the connection is dead, and the agent reconnects.
        self.stream_timeout = stream_timeout

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=timeout)

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        connection = self._connection(self.timeout)
        try:
            headers = {HEADER: self.key, "Accept": "application/json"}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, self.base + path, body=payload, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            if response.status >= 300:
                raise ServerError(response.status, text)
            return json.loads(text) if text else None
        finally:
            connection.close()

    def printers(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/printers")

    def cash_registers(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/cash-registers")

    def report_printer_status(self, printer_id: str, status: str) -> None:
        self._call("PATCH", f"/v1/printers/{printer_id}", {"status": status})

    def events(self, last_event_id: str | None) -> Iterator[Message]:
        """The printer channel from after `last_event_id` (from now on when
        None), message by message, until the connection ends."""
        connection = self._connection(self.stream_timeout)
        try:
            headers = {HEADER: self.key, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            connection.request("GET", self.base + "/events/printer", headers=headers)
            response = connection.getresponse()
            if response.status != 200:
                raise ServerError(response.status, response.read().decode("utf-8", "replace"))
            yield from parse_stream(response)
        finally:
            connection.close()


def parse_stream(response) -> Iterator[Message]:
    """The event-stream format: `field: value` lines, a blank line ends a
    message, lines starting with ':' are comments (keep-alives)."""
    event: str | None = None
    event_id: str | None = None
    data: list[str] = []
    has_fields = False
    while True:
        raw = response.readline()
        if not raw:
            return  # the server closed the stream; a partial message is dropped
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if has_fields:
                yield Message(event=event, id=event_id, data="\n".join(data))
            event, event_id, data, has_fields = None, None, [], False
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event, has_fields = value, True
        elif name == "id":
            event_id, has_fields = value, True
        elif name == "data":
            data.append(value)
            has_fields = True
