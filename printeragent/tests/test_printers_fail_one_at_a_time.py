"""Printers fail one at a time: the agent against fake network printers (real
TCP listeners on 127.0.0.1 that answer ESC/POS status queries) that are
switched off or die in the middle of a ticket, beside printers that work.
The server is scripted (scripted.py); the same against a real Daphne is in
test_agent_end_to_end.py.

Every wait below is bounded by DEADLINE_SECONDS and asserts nothing about
durations: what must happen first is shown by the order of events."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from printeragent.agent import Agent
from printeragent.client import Message
from printeragent.state import StateFile
from printeragent.tests.fake_printers import FakePrinter
from printeragent.tests.scripted import BAR, KITCHEN, TILL_PRINTER, ScriptedServer, event, order, reference

DEADLINE_SECONDS = 60
DRAWER_KICK = b"\x1bp"  # ESC p: the pulse that opens the cash drawer


@pytest.fixture
def printers() -> Iterator[dict[str, FakePrinter]]:
    fakes = {KITCHEN: FakePrinter(), BAR: FakePrinter(), TILL_PRINTER: FakePrinter()}
    yield fakes
    for fake in fakes.values():
        fake.close()


def server_for(printers: dict[str, FakePrinter], messages: list[Message]) -> ScriptedServer:
    directory = [{"id": key, "name": key, "ip": "127.0.0.1", "port": fake.port} for key, fake in printers.items()]
    return ScriptedServer([[Message(event=None, id="printer:0", data=""), *messages]], printers=directory)


@contextmanager
def running(server: ScriptedServer, state_path) -> Iterator[Agent]:
    agent = Agent(server, state_path, backoff_first=0.05, backoff_most=0.2)
    stop = threading.Event()
    reader = threading.Thread(target=agent.run, kwargs={"should_stop": stop.is_set}, daemon=True)
    agent.refresh_directory()
    agent.probe_printers()
    reader.start()
    try:
        yield agent
    finally:
        stop.set()
        reader.join(DEADLINE_SECONDS)


def until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} never happened")


def marked_references(fake: FakePrinter) -> list[tuple[bool, str]]:
    return [("POSSIBLE DUPLICATE" in text, reference(text)) for text in fake.texts() if "ref " in text]


def statuses(server: ScriptedServer, printer_id: str) -> list[str]:
    return [status for printer, status in server.statuses if printer == printer_id]


def test_a_printer_switched_off_holds_up_only_its_own_tickets_and_gets_them_when_back(printers, tmp_path):
    kitchen, bar, till = printers[KITCHEN], printers[BAR], printers[TILL_PRINTER]
    kitchen.switch_off()
    server = server_for(printers, [event(1, "confirmed-order", order(1)), event(2, "confirmed-order", order(2))])

    with running(server, tmp_path / "state.json"):
        until(lambda: len(bar.tickets) == 2 and len(till.tickets) == 4, "both orders at the bar and the till")
        # Order 2's bar ticket arrived while the kitchen printer was still off.
        assert not kitchen.on and kitchen.tickets == []
        until(lambda: "OFFLINE" in statuses(server, KITCHEN), "the kitchen printer reported OFFLINE")
        kitchen.switch_on()
        until(lambda: len(kitchen.tickets) == 2, "the kitchen's tickets after it came back")
        until(lambda: StateFile(tmp_path / "state.json").last_event_id == "printer:2", "the journal's position")

    assert marked_references(bar) == [(False, "printer:1 2/4"), (False, "printer:2 2/4")]
    # Refused while off, never cut: printed once, in order, unmarked.
    assert marked_references(kitchen) == [(False, "printer:1 1/4"), (False, "printer:2 1/4")]
    assert statuses(server, KITCHEN)[-2:] == ["OFFLINE", "ONLINE"]
    assert "OFFLINE" not in statuses(server, BAR) + statuses(server, TILL_PRINTER)


def test_a_printer_that_dies_mid_ticket_prints_that_ticket_again_in_full_marked(printers, tmp_path):
    kitchen, bar = printers[KITCHEN], printers[BAR]
    kitchen.die_after(21)
    server = server_for(printers, [event(1, "confirmed-order", order(1)), event(2, "confirmed-order", order(2))])

    with running(server, tmp_path / "state.json"):
        until(lambda: not kitchen.on and len(kitchen.tickets) == 1, "the kitchen printer dying mid-ticket")
        until(lambda: len(bar.tickets) == 2, "both orders at the bar meanwhile")
        until(lambda: "OFFLINE" in statuses(server, KITCHEN), "the kitchen printer reported OFFLINE")
        kitchen.switch_on()
        until(lambda: len(kitchen.tickets) == 3, "the kitchen's tickets after it came back")

    cut, *rest = kitchen.tickets
    assert len(cut) == 21 and b"ref " not in cut
    # The cut ticket again, whole and marked; the next one was never started.
    assert marked_references(kitchen) == [(True, "printer:1 1/4"), (False, "printer:2 1/4")]
    assert "2 x Pizza" in kitchen.texts()[1] and "Ticket #1" in kitchen.texts()[1]
    assert marked_references(bar) == [(False, "printer:1 2/4"), (False, "printer:2 2/4")]


def test_a_reprinted_or_possibly_duplicated_cash_receipt_never_opens_the_drawer(printers, tmp_path):
    till = printers[TILL_PRINTER]
    no_bread = order(1)
    no_bread["orderItems"] = no_bread["orderItems"][:2]  # the till prints the receipt only
    reprint = {**no_bread, "reprintOrderItems": [], "reprintReceipt": True}
    till.die_after(40)
    server = server_for(printers, [event(1, "confirmed-order", no_bread), event(2, "reprint-order", reprint)])

    with running(server, tmp_path / "state.json"):
        until(lambda: not till.on and len(till.tickets) == 1, "the till's printer dying mid-receipt")
        until(lambda: "OFFLINE" in statuses(server, TILL_PRINTER), "the till's printer reported OFFLINE")
        till.switch_on()
        until(lambda: len(till.tickets) == 3, "the receipt again and its copy")

    cut, again, copy = till.tickets
    assert [("RECEIPT (COPY)" in text, "POSSIBLE DUPLICATE" in text) for text in till.texts()[1:]] == [
        (False, True),
        (True, False),
    ]
    assert "TOTAL" in again.decode("cp437") and "TOTAL" in copy.decode("cp437")
    assert DRAWER_KICK not in cut + again + copy
