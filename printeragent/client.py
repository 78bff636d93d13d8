"""The server as the agent sees it: a few REST calls and the printer event
stream, over httpx (the stream read with httpx-sse's parser, `sse.read`), with the device's key in
`X-API-KEY` on every request.

Invariants:
- the client never retries on its own (httpx's transport makes one attempt):
  the only retry policy is `printing.Backoff`, applied by the agent around
  the stream and by each printer's queue, so there is one place to read it;
- every failure to reach or read the server is an `httpx.HTTPError` (a
  stream cut mid-chunk is `httpx.RemoteProtocolError`) or a `ServerError`
  (the server answered, with something else than asked)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from printeragent import sse

HEADER = "X-API-KEY"

# What the agent counts as "the server could not be reached or read".
UNREACHABLE = (httpx.HTTPError, OSError)


class ServerError(Exception):
    """The server answered, but not with what was asked (a refused key, a 5xx)."""

    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


@dataclass(frozen=True)
class Message:
    """One SSE message: `event` is None for an unnamed message (the id-only
    one that tells the stream's position), `data` the raw text."""

    event: str | None
    id: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)

    @classmethod
    def of(cls, frame: sse.Frame) -> Message:
        return cls(event=None if frame.event == sse.UNNAMED else frame.event, id=frame.id, data=frame.data)


class Server:
    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 10.0,
        stream_timeout: float = 45.0,
        transport: httpx.BaseTransport | None = None,
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        self.timeout = timeout
        # Longer than the server's keep-alive interval (15 s): silence past it
        # means the connection is dead, and the agent reconnects.
        self.stream_timeout = stream_timeout
        self.http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={HEADER: key},
            timeout=timeout,
            transport=transport or httpx.HTTPTransport(retries=0),
        )

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        response = self.http.request(method, path, json=body, headers={"Accept": "application/json"})
        if response.status_code >= 300:
            raise ServerError(response.status_code, response.text)
        return response.json() if response.content else None

    def printers(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/printers")

    def cash_registers(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/cash-registers")

    def report_printer_status(self, printer_id: str, status: str) -> None:
        self._call("PATCH", f"/v1/printers/{printer_id}", {"status": status})

    def events(self, last_event_id: str | None) -> Iterator[Message]:
        """The printer channel from after `last_event_id` (from now on when
        None), message by message, until the connection ends (a message cut
        off by the end is dropped)."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        timeout = httpx.Timeout(self.timeout, read=self.stream_timeout)
        with self.http.stream("GET", "/events/printer", headers=headers, timeout=timeout) as response:
            if response.status_code != 200:
                raise ServerError(response.status_code, response.read().decode("utf-8", "replace"))
            for frame in sse.read(response.iter_bytes()):
                if not frame.is_comment:
                    yield Message.of(frame)
