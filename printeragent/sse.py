"""Reading Server-Sent Events, for every client in this project: the printer
agent (`client.Server.events`), the tests' `testsupport.sse.SSEStream`, the
tests' raw-socket streams (`events/tests/rawstream.py`) and the benchmarks'
raw-socket subscribers (`bench/client.py`, `bench/storm_client.py`).

The parsing is httpx-sse's: its line splitter (`\\r\\n`, `\\r` or `\\n`, a line
may straddle two reads) and its field decoder (`event`, `data`, `id`,
`retry`, a space after the colon dropped). `Reader` feeds them bytes as they
come off a socket or out of an httpx response, so a client holding thousands
of streams on raw sockets reads them with the same code as the agent.

Invariants (what this module adds to httpx-sse):
- a comment line (`: keep-alive`) is reported as a Frame of event "comment"
  (the tests count keep-alives; httpx-sse drops comments, as the spec says);
- a message is dispatched only when it had a field line: httpx-sse keeps the
  last id, as the spec says, and dispatches on any blank line while it has
  one, so each keep-alive after an id would come out as a new id-only
  message (our streams' "position");
- a message cut off by the end of the stream is never dispatched.

httpx-sse's decoders live in its private `_decoders` module: `WRITTEN_FOR`
names the version this was written for (the pin in requirements.txt), which
ops/tests/test_patches.py checks with the decoders' methods used here, and
printeragent/tests/test_sse.py reads our streams' shapes through them, so an
upgrade that changes them fails there first.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from httpx_sse._decoders import SSEDecoder, SSELineDecoder

WRITTEN_FOR = "0.4.3"  # httpx-sse

COMMENT = "comment"
UNNAMED = "message"  # the event type of a message without an `event:` line


@dataclass(frozen=True, slots=True)
class Frame:
    """One message (`event` "message" when unnamed) or one comment line
    (`event` "comment", `data` its text after the colon, stripped)."""

    event: str
    data: str = ""
    id: str | None = None

    @property
    def is_comment(self) -> bool:
        return self.event == COMMENT


class Reader:
    """Bytes in, frames out, for one stream."""

    __slots__ = ("text", "lines", "fields", "had_field")

    def __init__(self) -> None:
        self.text = codecs.getincrementaldecoder("utf-8")("replace")
        self.lines = SSELineDecoder()
        self.fields = SSEDecoder()
        self.had_field = False

    def feed(self, data: bytes) -> list[Frame]:
        text = self.text.decode(data)
        return self._frames(self.lines.decode(text)) if text else []

    def end(self) -> list[Frame]:
        """What the last bytes complete (a comment; never a message, which
        needs its blank line)."""
        text = self.text.decode(b"", final=True)
        lines = self.lines.decode(text) if text else []
        return [frame for frame in self._frames([*lines, *self.lines.flush()]) if frame.is_comment]

    def _frames(self, lines: Iterable[str]) -> list[Frame]:
        found = []
        for line in lines:
            if line.startswith(":"):
                found.append(Frame(COMMENT, line[1:].strip()))
                continue
            sse = self.fields.decode(line)
            if line:
                self.had_field = True
            elif self.had_field:
                self.had_field = False
                if sse is not None:
                    found.append(Frame(sse.event or UNNAMED, sse.data, sse.id or None))
        return found


def frames(data: bytes) -> list[Frame]:
    """The complete frames in `data`, one stream's bytes from its start."""
    return Reader().feed(data)


def read(chunks: Iterable[bytes]) -> Iterator[Frame]:
    """Frames as the chunks of one stream come (an httpx response's
    `iter_bytes()`), until they end."""
    reader = Reader()
    for chunk in chunks:
        yield from reader.feed(chunk)
    yield from reader.end()
