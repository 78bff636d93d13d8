"""The agent's reader: read the printer channel, turn each event into its
tickets, journal it, and hand each ticket to its printer's queue
(`printing`), which prints it and reports the printer's status.

Invariant (with `state` and `printing`): an event is printed once. The
stream resumes after the last event whose tickets are all out on every
printer, so a server restart or a dropped connection never prints twice and
never skips a ticket still waiting on a slow printer; an event that comes
again while this process holds its tickets is not queued again. A kill -9
leaves in doubt only the tickets that were being sent (at most one per
printer), and those alone are printed again, headed "POSSIBLE DUPLICATE".
A printer that cannot be reached holds up its own tickets only (retried,
never dropped) and is reported OFFLINE.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from escpos.printer import Network

from printeragent.client import UNREACHABLE, Message, Server, ServerError
from printeragent.printing import Backoff, Job, PrinterQueue
from printeragent.state import StateFile
from printeragent.tickets import PRINTED_EVENTS, Directory, Ticket, tickets_for

logger = logging.getLogger("printeragent")

STREAM_RESET = "stream-reset"
# How long a stopping agent waits for each printer to finish the ticket in hand.
STOP_SECONDS = 30.0


def network_printer(host: str, port: int):
    """An open python-escpos Network printer (raises OSError subclasses when
    it cannot be reached; a status query unanswered for 10 s is a timeout)."""
    printer = Network(host, port, timeout=10)
    printer.open()
    return printer


class Agent:
    def __init__(
        self,
        server: Server,
        state_path: Path,
        *,
        open_printer: Callable[[str, int], object] = network_printer,
        backoff_first: float = 0.5,
        backoff_most: float = 10.0,
    ):
        self.server = server
        self.state = StateFile(state_path)
        self.open_printer = open_printer
        self.backoff_first, self.backoff_most = backoff_first, backoff_most
        self.backoff = Backoff(backoff_first, backoff_most)  # the stream's
        self.directory = Directory()
        self.printer_names: dict[str, str | None] = {}
        self.reported: dict[str, str] = {}
        self.queues: dict[str, PrinterQueue] = {}
        self.stopping = threading.Event()
        self.busy = False  # journaling and queuing an event

    # --- the stream -----------------------------------------------------------------

    def run(self, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Listen until should_stop() is true, reconnecting after any failure
        with the journal's position; then let each printer finish the ticket
        in hand and stop (what is still queued stays in the journal)."""
        try:
            while not should_stop():
                try:
                    self.refresh_directory()
                    for message in self.server.events(self.state.resume_from()):
                        self.backoff.reset()
                        self.handle(message)
                        if should_stop():
                            return
                    logger.warning("the server ended the stream; reconnecting")
                except ServerError as exc:
                    logger.error("the server refused: %s", exc)
                except (*UNREACHABLE, UnicodeDecodeError) as exc:
                    # A server killed mid-response ends a chunked stream with
                    # httpx.RemoteProtocolError (an httpx.HTTPError).
                    logger.warning("connection to the server failed: %r", exc)
                self.stopping.wait(self.backoff.next())
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for printer in self.queues.values():
            printer.join(STOP_SECONDS)

    def idle(self) -> bool:
        """Every ticket handed to a printer is out (or the agent stopped)."""
        return all(printer.idle() for printer in self.queues.values())

    def handle(self, message: Message) -> None:
        if message.event in PRINTED_EVENTS and message.id:
            if self.state.in_hand(message.id):
                return  # replayed after a reconnection; its tickets are queued already
            self.busy = True
            try:
                self.queue_event(message)
            finally:
                self.busy = False
        elif message.event == STREAM_RESET and message.id:
            # The server no longer has what we missed: nothing can be printed
            # for it. Say so loudly and go on from the stream's position.
            logger.error("events after %s are lost to this agent (stream-reset)", self.state.last_event_id)
            lost = self.state.reset(message.id)
            if lost:
                logger.error("the tickets not yet printed of %s are lost too", ", ".join(lost))
        elif message.id:
            # The first position we are told: from now on we resume from it.
            self.state.position(message.id)

    # --- printing -------------------------------------------------------------------

    def queue_event(self, message: Message) -> None:
        try:
            payload = message.json()
        except ValueError:
            # Never the server's way; skipping beats a crash loop on replay.
            logger.error("%s %s is not JSON; skipped: %r", message.event, message.id, message.data[:200])
            self.state.receive(message.id, 0)
            return
        tickets = self.tickets(message.event, message.id, payload)
        for index, possible_duplicate in self.state.receive(message.id, len(tickets)):
            ticket = tickets[index]
            self.printer(ticket.printer_id).put(Job(message.id, index, len(tickets), ticket, possible_duplicate))

    def printer(self, printer_id: str) -> PrinterQueue:
        """The printer's queue, its thread started on first use."""
        if printer_id not in self.queues:
            self.queues[printer_id] = PrinterQueue(
                printer_id,
                state=self.state,
                address=self.address,
                open_printer=self.open_printer,
                report=self.report,
                refresh=self.refresh_directory,
                backoff=Backoff(self.backoff_first, self.backoff_most),
                stopping=self.stopping,
                named=self.named,
            )
            self.queues[printer_id].start()
        return self.queues[printer_id]

    def address(self, printer_id: str) -> tuple[str, int] | None:
        details = self.directory.printers.get(printer_id)
        return (details["ip"], int(details["port"])) if details else None

    def tickets(self, event: str, event_id: str, payload: dict) -> list[Ticket]:
        """The event's tickets on printers the agent can reach. Deciding that
        a ticket has no printer needs the server's current list: if it cannot
        be read, the event is not handled now (the error ends the stream and
        the event comes again after the reconnection)."""
        tickets = tickets_for(event, payload, self.directory)
        if not tickets or any(ticket.printer_id not in self.directory.printers for ticket in tickets):
            self.refresh_directory(strict=True)
            tickets = tickets_for(event, payload, self.directory)
        unknown = [ticket for ticket in tickets if ticket.printer_id not in self.directory.printers]
        for ticket in unknown:
            logger.error(
                "%s %s: printer %s is unknown or has no ip; not printed", event, event_id, self.named(ticket.printer_id)
            )
        if not tickets:
            logger.warning("%s %s prints nothing here (no printer for it)", event, event_id)
        return [ticket for ticket in tickets if ticket not in unknown]

    def probe_printers(self) -> None:
        """Start every known printer's queue: each first tells the server
        whether its printer answers, in parallel, so a printer that is off
        delays no other."""
        for printer_id in self.directory.printers:
            self.printer(printer_id)

    def report(self, printer_id: str, status: str, cause: Exception | None = None) -> None:
        if cause is not None:
            logger.warning("printer %s: %s (%s)", self.named(printer_id), status, cause)
        if self.reported.get(printer_id) == status:
            return
        try:
            self.server.report_printer_status(printer_id, status)
        except (ServerError, *UNREACHABLE, ValueError) as exc:
            logger.warning("could not report printer %s as %s: %s", self.named(printer_id), status, exc)
            return
        self.reported[printer_id] = status

    def named(self, printer_id: str) -> str:
        """How a log line names a printer: "Kitchen" (its name, as staff
        know it) with its id, or the bare id of a printer not (or no longer)
        in the list."""
        name = self.printer_names.get(printer_id)
        return f'"{name}" ({printer_id})' if name else str(printer_id)

    def refresh_directory(self, *, strict: bool = False) -> None:
        """Read the printers and cash registers again; on failure keep the
        old ones, or raise when `strict`."""
        try:
            printers = self.server.printers()
            registers = self.server.cash_registers()
        except (ServerError, *UNREACHABLE, ValueError) as exc:
            logger.warning("could not read printers and cash registers: %s", exc)
            if strict:
                raise ServerError(0, f"printers unknown: {exc}") from exc
            return
        # Every printer's name, those without an ip too (for the log lines).
        self.printer_names = {p["id"]: p.get("name") for p in printers if p.get("id") is not None}
        self.directory = Directory(
            printers={p["id"]: p for p in printers if p.get("ip")},
            register_printers={r["id"]: r.get("defaultPrinterId") for r in registers},
        )
