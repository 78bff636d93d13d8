"""The agent's journal on disk: the id of the last event fully printed, and
the event being printed right now with how many of its tickets are done.

Invariants:
- the file is replaced atomically (write a sibling, fsync, rename, fsync the
  directory), so after a crash it holds the old or the new state, never a mix;
- `last_event_id` moves only after every ticket of that event is out, so a
  restart of the server or a dropped connection resumes after it and prints
  nothing twice;
- before a ticket is sent, `in_flight` names its event and index; a crash of
  the agent therefore leaves at most that one ticket in doubt, and the agent
  reprints only that ticket (marked as a possible duplicate) when the server
  replays the event.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InFlight:
    event_id: str
    ticket: int  # index of the ticket being printed; the ones before it are out


class StateFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.last_event_id: str | None = None
        self.in_flight: InFlight | None = None
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            # Never start from scratch silently: that would reprint or skip
            # a whole evening. A person must look at the file.
            raise RuntimeError(f"cannot read the agent's state file {self.path}: {exc}") from exc
        self.last_event_id = raw.get("lastEventId")
        flight = raw.get("inFlight")
        self.in_flight = InFlight(flight["eventId"], int(flight["ticket"])) if flight else None

    def _write(self) -> None:
        body = {
            "lastEventId": self.last_event_id,
            "inFlight": (
                {"eventId": self.in_flight.event_id, "ticket": self.in_flight.ticket} if self.in_flight else None
            ),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(body, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def begin(self, event_id: str, ticket: int) -> None:
        """Journal that ticket `ticket` of `event_id` is about to be sent."""
        self.in_flight = InFlight(event_id, ticket)
        self._write()

    def done(self, event_id: str) -> None:
        """Every ticket of `event_id` is out: resume after it from now on."""
        self.last_event_id = event_id
        self.in_flight = None
        self._write()

    def resumed_ticket(self, event_id: str) -> int | None:
        """The ticket that was being printed when the agent stopped, if this
        is that event: the tickets before it are not printed again."""
        if self.in_flight is not None and self.in_flight.event_id == event_id:
            return self.in_flight.ticket
        return None
