"""One printer's queue and the thread that empties it.

Invariants:
- each printer has its own queue and thread, and only that thread talks to
  that printer: its tickets go out one at a time in the order their events
  came, and a printer that is off or broken holds up its own tickets only;
- a ticket counts as printed only once the printer answered a real-time
  status query (DLE EOT 1, python-escpos `query_status`) sent after the
  ticket's last byte, and answered "online": it read the whole ticket.
  Without that answer the ticket is sent again, in full, headed POSSIBLE
  DUPLICATE, once the printer answers a status query before it;
- the journal (`state`) hears of a ticket before its first byte (`begin`)
  and after the printer's answer (`printed`), so a kill -9 between the two
  leaves that ticket marked for a reprint, and nothing else in doubt;
- a ticket headed POSSIBLE DUPLICATE never opens the cash drawer
  (`tickets.draw`).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from escpos.constants import RT_MASK_ONLINE, RT_STATUS_ONLINE
from escpos.exceptions import DeviceNotFoundError

from printeragent.state import StateFile
from printeragent.tickets import Ticket, draw

logger = logging.getLogger("printeragent")

ONLINE, OFFLINE, ERROR = "ONLINE", "OFFLINE", "ERROR"


class NoAnswer(OSError):
    """The printer did not answer a status query (closed, reset or silent)."""


class NotReady(Exception):
    """The printer answered that it is offline (cover open, paper out)."""


class Backoff:
    """Waits that double from `first` up to `most`, reset on success: the
    agent's one retry policy, for the server's stream (`agent.Agent.run`)
    and for each printer (`PrinterQueue`); the HTTP client never retries."""

    def __init__(self, first: float = 0.5, most: float = 10.0):
        self.first, self.most = first, most
        self.current = first

    def next(self) -> float:
        wait = self.current
        self.current = min(self.current * 2, self.most)
        return wait

    def reset(self) -> None:
        self.current = self.first


def ready(printer) -> None:
    """Ask the printer for its real-time status; raise NoAnswer or NotReady
    unless it answers that it is online. Real-time commands are read in the
    order they arrive, so an answer to a query sent after a ticket means the
    printer has read the whole ticket."""
    answer = printer.query_status(RT_STATUS_ONLINE)
    if not answer:
        raise NoAnswer("no answer to the status query")
    if answer[0] & RT_MASK_ONLINE:
        raise NotReady(f"the printer says it is offline (status {answer[0]:#04x})")


@dataclass(frozen=True)
class Job:
    event_id: str
    index: int
    count: int
    ticket: Ticket
    possible_duplicate: bool

    @property
    def reference(self) -> str:
        return f"{self.event_id} {self.index + 1}/{self.count}"


class PrinterQueue:
    """The tickets waiting for one printer, and the thread that prints them."""

    def __init__(
        self,
        printer_id: str,
        *,
        state: StateFile,
        address: Callable[[str], tuple[str, int] | None],
        open_printer: Callable[[str, int], object],
        report: Callable[..., None],
        refresh: Callable[[], None],
        backoff: Backoff,
        stopping: threading.Event,
        named: Callable[[str], str] = str,
    ):
        self.printer_id = printer_id
        self.named = named  # how a log line names the printer: by its name, as staff know it
        self.state, self.address, self.open_printer = state, address, open_printer
        self.report, self.refresh, self.backoff, self.stopping = report, refresh, backoff, stopping
        self._jobs: deque[Job] = deque()
        self._busy = 0  # jobs queued or being printed
        self._changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, name=f"printer {printer_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def put(self, job: Job) -> None:
        with self._changed:
            self._jobs.append(job)
            self._busy += 1
            self._changed.notify_all()

    def idle(self) -> bool:
        with self._changed:
            return self._busy == 0

    def join(self, timeout: float | None = None) -> None:
        with self._changed:
            self._changed.notify_all()
        self.thread.join(timeout)

    def _next(self) -> Job | None:
        with self._changed:
            while not self._jobs:
                if self.stopping.is_set():
                    return None
                self._changed.wait(timeout=0.5)
            return self._jobs.popleft()

    def _run(self) -> None:
        self.probe()
        while not self.stopping.is_set():
            job = self._next()
            if job is None:
                return
            try:
                self.print(job)
            except Exception:  # noqa: BLE001 - this thread must outlive any one failure
                # Raised after the printer's answer (the journal could not be
                # written): the ticket may be out, so it is tried again marked.
                logger.exception("printer %s: %s failed; trying it again", self.named(self.printer_id), job.reference)
                with self._changed:
                    self._jobs.appendleft(replace(job, possible_duplicate=True))
                    self._busy += 1
                self.stopping.wait(self.backoff.next())
            finally:
                with self._changed:
                    self._busy -= 1

    def _open(self):
        address = self.address(self.printer_id)
        if address is None:
            raise DeviceNotFoundError(f"printer {self.printer_id} has no address any more")
        return self.open_printer(*address)

    def probe(self) -> None:
        """Tell the server whether the printer answers, before any ticket."""
        try:
            printer = self._open()
            try:
                ready(printer)
            finally:
                printer.close()
        except (OSError, DeviceNotFoundError) as exc:
            self.report(self.printer_id, OFFLINE, exc)
        except Exception as exc:  # noqa: BLE001 - NotReady and whatever else the library raises
            self.report(self.printer_id, ERROR, exc)
        else:
            self.report(self.printer_id, ONLINE)

    def print(self, job: Job) -> None:
        """Send one ticket until the printer answers after it, or the agent
        stops (the journal then keeps it for the next start)."""
        possible_duplicate = job.possible_duplicate
        while True:
            try:
                printer = self._open()
                try:
                    ready(printer)  # nothing is sent to a printer that is off
                    self.state.begin(job.event_id, job.index)
                    marked, possible_duplicate = possible_duplicate, True  # bytes may reach paper from here
                    draw(printer, job.ticket, reference=job.reference, possible_duplicate=marked)
                    ready(printer)
                finally:
                    printer.close()
            except (OSError, DeviceNotFoundError) as exc:
                self.report(self.printer_id, OFFLINE, exc)
            except Exception as exc:  # noqa: BLE001 - NotReady and whatever else the library raises
                self.report(self.printer_id, ERROR, exc)
            else:
                self.state.printed(job.event_id, job.index)
                self.report(self.printer_id, ONLINE)
                self.backoff.reset()
                return
            if self.stopping.wait(self.backoff.next()):
                logger.warning(
                    "stopping with %s %s not printed on %s", job.event_id, job.reference, self.named(self.printer_id)
                )
                return
            self.refresh()  # the printer may have moved (a new ip)
