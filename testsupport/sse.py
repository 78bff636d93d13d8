"""A Server-Sent Events client for tests and benchmarks, with timeouts so
that no test can hang on a silent server."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class SSEMessage:
    event: str  # "comment" for a ": …" line
    data: str = ""
    id: str | None = None
    received_at: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.data)

    @property
    def is_position(self) -> bool:
        """An id-only message: the stream's position, sent on opening."""
        return self.event == "message" and self.data == "" and self.id is not None


class SSEStream:
    """Opens a stream and reads it in a thread; `next()` waits with a timeout,
    so a test can never hang on a silent server."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, connect_timeout: float = 10.0):
        self.client = httpx.Client(timeout=httpx.Timeout(connect_timeout, read=None))
        self.response = self.client.send(self.client.build_request("GET", url, headers=headers or {}), stream=True)
        self.status_code = self.response.status_code
        self.headers = self.response.headers
        self.messages: queue.Queue[SSEMessage] = queue.Queue()
        self.closed = threading.Event()
        if self.status_code == 200 and self.headers.get("content-type", "").startswith("text/event-stream"):
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.body = self.response.read()
            self.response.close()

    def _read(self) -> None:
        event, data, event_id = "message", [], None
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if data or event_id is not None:
                        self.messages.put(SSEMessage(event, "\n".join(data), event_id))
                    event, data, event_id = "message", [], None
                elif line.startswith(":"):
                    self.messages.put(SSEMessage("comment", line[1:].strip()))
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
                    elif name == "id":
                        event_id = value
        except Exception:
            pass
        finally:
            self.closed.set()

    def next(self, timeout: float = 10.0, *, skip_comments: bool = True) -> SSEMessage:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self.messages.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise AssertionError(f"no event within {timeout}s") from None
            if skip_comments and message.event == "comment":
                continue
            return message

    def collect(self, count: int, timeout: float = 30.0, *, event: str | None = None) -> list[SSEMessage]:
        """The next `count` events (of one kind when `event` is given)."""
        deadline = time.monotonic() + timeout
        found: list[SSEMessage] = []
        while len(found) < count:
            message = self.next(timeout=max(deadline - time.monotonic(), 0.001))
            if event is None or message.event == event:
                found.append(message)
        return found

    def close(self) -> None:
        try:
            self.response.close()
        except Exception:
            pass
        self.client.close()

    def __enter__(self) -> SSEStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
