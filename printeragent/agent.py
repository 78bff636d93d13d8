"""The agent's loop: read the printer channel, print each event's tickets,
journal progress on disk, report each printer's status.

Invariant (with `state`): an event is printed once. The stream resumes after
the last event whose tickets are all out, so a server restart or a dropped
connection never prints twice; a crash of the agent leaves at most the one
ticket it was sending in doubt, and that ticket alone is printed again,
headed "POSSIBLE DUPLICATE". A printer that cannot be reached holds the
queue (its ticket is retried, never dropped) and is reported OFFLINE.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from pathlib import Path

from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network

from printeragent.client import Message, Server, ServerError
from printeragent.state import StateFile
from printeragent.tickets import PRINTED_EVENTS, Directory, Ticket, draw, tickets_for

logger = logging.getLogger("printeragent")

ONLINE, OFFLINE, ERROR = "ONLINE", "OFFLINE", "ERROR"
STREAM_RESET = "stream-reset"


def network_printer(host: str, port: int):
    """An open python-escpos Network printer (raises OSError subclasses when
    it cannot be reached)."""
    printer = Network(host, port, timeout=10)
    printer.open()
    return printer


class Backoff:
    """Waits that double from `first` up to `most`, reset on success."""

    def __init__(self, first: float = 0.5, most: float = 10.0, sleep: Callable[[float], None] = time.sleep):
        self.first, self.most, self.sleep = first, most, sleep
        self.current = first

    def wait(self) -> None:
        self.sleep(self.current)
        self.current = min(self.current * 2, self.most)

    def reset(self) -> None:
        self.current = self.first


class Agent:
    def __init__(
        self,
        server: Server,
        state_path: Path,
        *,
        open_printer: Callable[[str, int], object] = network_printer,
        backoff: Backoff | None = None,
    ):
        self.server = server
        self.state = StateFile(state_path)
        self.open_printer = open_printer
        self.backoff = backoff or Backoff()
        self.directory = Directory()
        self.printer_names: dict[str, str | None] = {}
        self.reported: dict[str, str] = {}
        self.busy = False  # printing an event's tickets

    # --- the stream -----------------------------------------------------------------

    def run(self, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Listen until should_stop() is true, reconnecting after any failure
        with the journal's last event id."""
        while not should_stop():
            try:
                self.refresh_directory()
                for message in self.server.events(self.state.last_event_id):
                    self.backoff.reset()
                    self.handle(message)
                    if should_stop():
                        return
                logger.warning("the server ended the stream; reconnecting")
            except ServerError as exc:
                logger.error("the server refused: %s", exc)
            except (OSError, http.client.HTTPException, UnicodeDecodeError) as exc:
                # A server killed mid-response ends a chunked stream with
                # IncompleteRead, which is no OSError.
                logger.warning("connection to the server failed: %r", exc)
            self.backoff.wait()

    def handle(self, message: Message) -> None:
        if message.event in PRINTED_EVENTS and message.id:
            self.busy = True
            try:
                self.print_event(message)
            finally:
                self.busy = False
        elif message.event == STREAM_RESET and message.id:
            # The server no longer has what we missed: nothing can be printed
            # for it. Say so loudly and go on from the stream's position.
            logger.error("events after %s are lost to this agent (stream-reset)", self.state.last_event_id)
            self.state.done(message.id)
        elif message.id and self.state.last_event_id is None:
            # The first position we are told: from now on we resume from it.
            self.state.done(message.id)

    # --- printing -------------------------------------------------------------------

    def print_event(self, message: Message) -> None:
        try:
            payload = message.json()
        except ValueError:
            # Never the server's way; skipping beats a crash loop on replay.
            logger.error("%s %s is not JSON; skipped: %r", message.event, message.id, message.data[:200])
            self.state.done(message.id)
            return
        tickets = self.tickets(message.event, message.id, payload)
        resumed = self.state.resumed_ticket(message.id)
        # After a crash: the tickets before the one in doubt are out.
        first = min(resumed, max(len(tickets) - 1, 0)) if resumed is not None else 0
        for index in range(first, len(tickets)):
            self.state.begin(message.id, index)
            reference = f"{message.id} {index + 1}/{len(tickets)}"
            doubtful = resumed is not None and index == first
            self.print_ticket(tickets[index], reference=reference, possible_duplicate=doubtful)
        self.state.done(message.id)

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

    def print_ticket(self, ticket: Ticket, *, reference: str, possible_duplicate: bool) -> None:
        """Send one ticket, retrying until its printer takes it."""
        printer_id = ticket.printer_id
        while True:
            details = self.directory.printers[printer_id]
            try:
                printer = self.open_printer(details["ip"], int(details["port"]))
                try:
                    draw(printer, ticket, reference=reference, possible_duplicate=possible_duplicate)
                finally:
                    printer.close()
            except (OSError, DeviceNotFoundError) as exc:
                self.report(printer_id, OFFLINE, exc)
            except Exception as exc:  # noqa: BLE001 - anything else the library raises
                self.report(printer_id, ERROR, exc)
            else:
                self.report(printer_id, ONLINE)
                self.backoff.reset()
                return
            self.backoff.wait()
            self.refresh_directory()  # the printer may have moved (a new ip)

    def probe_printers(self) -> None:
        """Tell the server which printers answer, before the first ticket."""
        for printer_id, details in self.directory.printers.items():
            try:
                self.open_printer(details["ip"], int(details["port"])).close()
            except (OSError, DeviceNotFoundError) as exc:
                self.report(printer_id, OFFLINE, exc)
            else:
                self.report(printer_id, ONLINE)

    def report(self, printer_id: str, status: str, cause: Exception | None = None) -> None:
        if cause is not None:
            logger.warning("printer %s: %s (%s)", self.named(printer_id), status, cause)
        if self.reported.get(printer_id) == status:
            return
        try:
            self.server.report_printer_status(printer_id, status)
        except (ServerError, OSError) as exc:
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
        except (ServerError, OSError, ValueError) as exc:
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
