"""A Server-Sent Events client for tests and benchmarks, with timeouts so
that no test can hang on a silent server. It reads with the project's one
SSE reader (printeragent/sse.py: httpx-sse's parser), as the printer agent
and the benchmarks do."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field

import httpx

from printeragent import sse


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


class StreamEnded(AssertionError):
    """The server ended the stream, or reading it failed."""


_END = object()


class SSEStream:
    """Opens a stream and reads it in a thread; `next()` waits with a timeout,
    so a test can never hang on a silent server. A stream that ends or fails
    to read is reported as such (StreamEnded, with the error), never as
    silence."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, connect_timeout: float = 10.0):
        self.client = httpx.Client(timeout=httpx.Timeout(connect_timeout, read=None))
        self.response = self.client.send(self.client.build_request("GET", url, headers=headers or {}), stream=True)
        self.status_code = self.response.status_code
        self.headers = self.response.headers
        self.messages: queue.Queue = queue.Queue()
        self.closed = threading.Event()
        self.error: BaseException | None = None
        self._closing = False
        if self.status_code == 200 and self.headers.get("content-type", "").startswith("text/event-stream"):
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.body = self.response.read()
            self.response.close()

    def _read(self) -> None:
        try:
            for frame in sse.read(self.response.iter_bytes()):
                self.messages.put(SSEMessage(frame.event, frame.data, frame.id))
        except Exception as exc:
            if not self._closing:
                self.error = exc
        finally:
            self.closed.set()
            self.messages.put(_END)

    def next(self, timeout: float = 10.0, *, skip_comments: bool = True) -> SSEMessage:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self.messages.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise AssertionError(f"no event within {timeout}s") from None
            if message is _END:
                self.messages.put(_END)  # every later read sees the end too
                cause = f"reading failed: {self.error!r}" if self.error else "the server ended it"
                raise StreamEnded(f"the stream is closed ({cause})")
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

    def pending(self) -> list[SSEMessage]:
        """What has arrived and not been read yet, without waiting (the end
        of the stream, if it came, stays noted for next())."""
        found = []
        while True:
            try:
                message = self.messages.get_nowait()
            except queue.Empty:
                return found
            if message is _END:
                self.messages.put(_END)
                return found
            found.append(message)

    def assert_quiet(self, seconds: float) -> int:
        """Nothing but keep-alives for `seconds`, and at least one of them:
        silence alone would also pass on a dead stream. Returns how many
        keep-alives came (the server's interval must be shorter than
        `seconds`)."""
        deadline = time.monotonic() + seconds
        keepalives = 0
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = self.next(timeout=remaining, skip_comments=False)
            except StreamEnded:
                raise
            except AssertionError:
                break  # the window passed
            if (message.event, message.data) != ("comment", "keep-alive"):
                raise AssertionError(f"expected nothing but keep-alives, got {message}")
            keepalives += 1
        if keepalives == 0:
            raise AssertionError(f"no keep-alive within {seconds}s: the stream may be dead")
        return keepalives

    def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait for the server to end the stream (events before the end are
        skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.next(timeout=max(deadline - time.monotonic(), 0.001), skip_comments=True)
            except StreamEnded:
                return
            except AssertionError:
                raise AssertionError(f"the stream was still open after {timeout}s") from None

    def close(self) -> None:
        self._closing = True
        try:
            self.response.close()
        except Exception:
            pass
        self.client.close()

    def __enter__(self) -> SSEStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
