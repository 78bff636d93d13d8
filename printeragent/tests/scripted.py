"""Support for the agent's tests in one process: a scripted server that hands
out events the way /events/printer does, orders shaped as the printer
channel's payloads, and python-escpos Dummy printers that record what each
ticket would send."""

from __future__ import annotations

import json
import threading
import time

from escpos.printer import Dummy

from printeragent.client import Message, ServerError
from printeragent.tests.fake_printers import ONLINE
from printeragent.tickets import Directory

KITCHEN, BAR, TILL_PRINTER = "kitchen", "bar", "till-printer"
DIRECTORY = {
    "printers": [
        {"id": KITCHEN, "name": "Kitchen", "ip": "10.0.0.1", "port": 9100},
        {"id": BAR, "name": "Bar", "ip": "10.0.0.2", "port": 9100},
        {"id": TILL_PRINTER, "name": "Till", "ip": "10.0.0.3", "port": 9100},
        {"id": "no-ip", "name": "Unplugged", "ip": "", "port": 9100},
    ],
    "registers": [{"id": "till", "name": "Till 1", "defaultPrinterId": TILL_PRINTER}],
}


def order(ticket: int = 1, **extra) -> dict:
    return {
        "id": ticket,
        "displayCode": f"A{ticket:02d}",
        "ticketNumber": ticket,
        "table": "7",
        "customer": "Ada",
        "confirmedAt": "2026-07-04T18:05:00.000Z",
        "cashRegisterId": "till",
        "paymentMethod": "CASH",
        "subTotal": "29.5",
        "surcharge": "0",
        "discount": "0",
        "total": "29.5",
        "orderItems": [
            {
                "id": "i1",
                "quantity": 2,
                "total": "25",
                "notes": "well done",
                "food": {"name": "Pizza", "printerId": KITCHEN},
            },
            {"id": "i2", "quantity": 1, "total": "3.5", "notes": "", "food": {"name": "Beer", "printerId": BAR}},
            {"id": "i3", "quantity": 1, "total": "1", "notes": "", "food": {"name": "Bread", "printerId": None}},
        ],
        **extra,
    }


def directory() -> Directory:
    return Directory(
        printers={p["id"]: p for p in DIRECTORY["printers"] if p["ip"]},
        register_printers={r["id"]: r["defaultPrinterId"] for r in DIRECTORY["registers"]},
    )


class ScriptedServer:
    """Hands out `batches` of messages, one batch per connection, and records
    what the agent asked for and reported. Once the batches are out, a
    connection is refused (and not recorded) after a short pause, so that the
    agent waits for its printers without spinning."""

    def __init__(self, batches: list, directory_failures: int = 0, printers: list[dict] | None = None):
        self.batches = batches
        self.directory_failures = directory_failures
        self.printer_list = printers if printers is not None else DIRECTORY["printers"]
        self.asked_from: list[str | None] = []
        self.statuses: list[tuple[str, str]] = []
        self.finished = False  # every message of every batch was read

    def printers(self):
        if self.directory_failures:
            self.directory_failures -= 1
            raise ConnectionResetError("the server went away")
        return self.printer_list

    def cash_registers(self):
        return DIRECTORY["registers"]

    def report_printer_status(self, printer_id: str, status: str) -> None:
        self.statuses.append((printer_id, status))

    def events(self, last_event_id):
        if not self.batches:
            time.sleep(0.01)
            raise ServerError(503, "no more")
        self.asked_from.append(last_event_id)
        batch = self.batches.pop(0)
        yield from batch(last_event_id) if callable(batch) else batch
        self.finished = not self.batches


def replay(log: list[Message]):
    """A batch that is what the server sends a reconnection: the events of
    `log` after the client's Last-Event-ID."""

    def after(last_event_id: str | None) -> list[Message]:
        ids = [message.id for message in log]
        return log[ids.index(last_event_id) + 1 :] if last_event_id in ids else log

    return after


class Printers:
    """`open_printer` for the agent: a Dummy per connection, by address, that
    answers status queries "online". `failures` are raised on opening;
    a printer at `hold` answers the status query after a ticket only once
    `release` is set."""

    def __init__(self, failures: dict[str, list[BaseException]] | None = None, hold: str | None = None):
        self.sent: list[tuple[str, bytes]] = []
        self.failures = failures or {}
        self.hold = hold
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self, host: str, port: int):
        pending = self.failures.get(host)
        if pending:
            raise pending.pop(0)
        printers = self

        class Recorded(Dummy):
            closed = False

            def query_status(self, mode: bytes) -> bytes:
                if host == printers.hold and self.output:
                    printers.holding.set()
                    printers.release.wait()
                return ONLINE

            def close(self) -> None:
                # Once: python-escpos closes again when the object is collected.
                if not self.closed:
                    self.closed = True
                    if self.output:  # a status probe alone prints nothing
                        printers.sent.append((host, self.output))

        return Recorded()

    def texts(self, host: str | None = None) -> list[str]:
        return [data.decode("cp437") for where, data in self.sent if host in (None, where)]


def reference(text: str) -> str:
    """The `ref <event id> <n>/<count>` line that ends every ticket."""
    return text.split("ref ")[1].split("\n")[0]


def event(event_id: int, name: str, payload: dict) -> Message:
    return Message(event=name, id=f"printer:{event_id}", data=json.dumps(payload))
