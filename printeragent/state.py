"""The agent's journal on disk: where the printer stream resumes, and the
events after that position whose tickets are not all out yet.

Each printer has its own queue, so printers progress at different speeds: the
bar may be ten events ahead of a kitchen printer that is switched off.

Invariants:
- the file is replaced atomically (write a sibling, fsync, rename, fsync the
  directory), so after a crash it holds the old or the new state, never a mix;
- `last_event_id`, the position the stream resumes from, is the last event of
  the longest run of received events whose tickets are all out; it never
  passes an event with a ticket still waiting on any printer, so a restarted
  agent is sent that event again;
- every event received after the position is listed (`pending`) with its
  tickets that are out (`printed`: the printer answered a status query after
  the ticket) and those that were started (`begun`: bytes of it may have
  reached the printer). When the event comes again after a kill -9 or a power
  cut, only its tickets that are not out are printed, those begun headed
  POSSIBLE DUPLICATE; a ticket never started prints unmarked, and a ticket
  that is out is never printed again;
- the reader and the printers' threads all call in: one lock orders them.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Pending:
    event_id: str
    count: int | None  # None: known from a journal of an older agent until the event comes again
    printed: set[int] = field(default_factory=set)
    begun: set[int] = field(default_factory=set)
    in_hand: bool = False  # queued on the printers by this process (never saved)

    def complete(self) -> bool:
        return self.count is not None and all(index in self.printed for index in range(self.count))


class StateFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.last_event_id: str | None = None
        self.pending: dict[str, Pending] = {}  # in the stream's order
        # Completed since the reader last (re)connected: a replay may still
        # bring them, as the position it asked from was read before.
        self._finished: set[str] = set()
        self._lock = threading.Lock()
        self._load()

    # --- the file -------------------------------------------------------------------

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.last_event_id = raw.get("lastEventId")
            for item in raw.get("pending", []):
                count = item["tickets"]
                self.pending[item["eventId"]] = Pending(
                    item["eventId"],
                    None if count is None else int(count),
                    {int(index) for index in item["printed"]},
                    {int(index) for index in item["begun"]},
                )
            flight = raw.get("inFlight")
            if flight:
                # Written by the agent before per-printer queues: the tickets
                # before this one were out, this one was being sent.
                ticket = int(flight["ticket"])
                self.pending.setdefault(
                    flight["eventId"], Pending(flight["eventId"], None, set(range(ticket)), {ticket})
                )
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # Never start from scratch silently: that would reprint or skip
            # a whole evening. A person must look at the file.
            raise RuntimeError(f"cannot read the agent's state file {self.path}: {exc!r}") from exc

    def _write(self) -> None:
        body = {
            "lastEventId": self.last_event_id,
            "pending": [
                {
                    "eventId": entry.event_id,
                    "tickets": entry.count,
                    "printed": sorted(entry.printed),
                    "begun": sorted(entry.begun),
                }
                for entry in self.pending.values()
            ],
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

    def _advance(self) -> None:
        """Move the position over the events at the head that are complete."""
        while self.pending:
            head = next(iter(self.pending.values()))
            if not head.complete():
                return
            self.last_event_id = head.event_id
            del self.pending[head.event_id]
            self._finished.add(head.event_id)

    # --- the reader -----------------------------------------------------------------

    def resume_from(self) -> str | None:
        """The position to open the stream from. Every event completed so far
        is at or before it (the position only moves over completed events)
        and will not come again; those completed from now on may."""
        with self._lock:
            self._finished.clear()
            return self.last_event_id

    def in_hand(self, event_id: str) -> bool:
        """This process already queued the event's tickets: it comes again
        after a reconnection, since the position waits for slow printers
        (or was read just before the event completed)."""
        with self._lock:
            entry = self.pending.get(event_id)
            return (entry is not None and entry.in_hand) or event_id in self._finished

    def receive(self, event_id: str, count: int) -> list[tuple[int, bool]]:
        """Journal an event of `count` tickets and return the tickets to print
        now: (index, possible duplicate) for each one not out yet; [] if the
        event is in hand already."""
        with self._lock:
            entry = self.pending.setdefault(event_id, Pending(event_id, count))
            if entry.in_hand:
                return []
            entry.count, entry.in_hand = count, True
            todo = [(index, index in entry.begun) for index in range(count) if index not in entry.printed]
            self._advance()
            self._write()
            return todo

    def position(self, event_id: str) -> None:
        """The stream's position on a first connection: resume from it."""
        with self._lock:
            if self.last_event_id is None and not self.pending:
                self.last_event_id = event_id
                self._write()

    def reset(self, event_id: str) -> list[str]:
        """The server cannot replay what follows our position: go on from
        `event_id`. Returns the pending events this process does not hold,
        which can no longer be printed (those it holds still print)."""
        with self._lock:
            lost = [entry.event_id for entry in self.pending.values() if not entry.in_hand]
            self.pending.clear()  # their tickets no longer hold the position back
            self.last_event_id = event_id
            self._write()
            return lost

    # --- the printers ---------------------------------------------------------------

    def begin(self, event_id: str, index: int) -> None:
        """Ticket `index` of `event_id` is about to be sent: from now on it may
        be on paper."""
        with self._lock:
            entry = self.pending.get(event_id)
            if entry is not None and index not in entry.begun:
                entry.begun.add(index)
                self._write()

    def printed(self, event_id: str, index: int) -> None:
        """The printer answered after ticket `index` of `event_id`: it is out."""
        with self._lock:
            entry = self.pending.get(event_id)
            if entry is None:
                return  # dropped by a stream reset
            entry.printed.add(index)
            entry.begun.discard(index)
            self._advance()
            self._write()
