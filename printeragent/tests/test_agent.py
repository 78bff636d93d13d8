"""The printing side of the agent, in one process: python-escpos's Dummy
printers record what each ticket would send, and a scripted server hands
out events the way /events/printer does. The agent against a real Daphne
and real TCP printers is in test_agent_end_to_end.py."""

from __future__ import annotations

import json
import shutil
import threading
import time

import httpx
import pytest
from escpos.printer import Dummy

from printeragent.agent import Agent
from printeragent.client import Message, Server, ServerError
from printeragent.state import StateFile
from printeragent.tests.scripted import (
    BAR,
    KITCHEN,
    TILL_PRINTER,
    Printers,
    ScriptedServer,
    directory,
    event,
    order,
    reference,
    replay,
)
from printeragent.tickets import tickets_for, words


def run(server, state_path, printers) -> Agent:
    """The agent until the server's batches are out and every ticket handed
    to a printer is out."""
    agent = Agent(server, state_path, open_printer=printers, backoff_first=0, backoff_most=0)
    deadline = time.monotonic() + 30  # bounds the wait; the tests assert what was printed
    agent.run(should_stop=lambda: (server.finished and agent.idle()) or time.monotonic() > deadline)
    return agent


# --- what each event prints ----------------------------------------------------------


def test_a_confirmed_order_prints_a_kitchen_ticket_per_printer_and_a_receipt_at_the_till():
    tickets = tickets_for("confirmed-order", order(), directory())

    assert [(t.printer_id, t.kind) for t in tickets] == [
        (KITCHEN, "kitchen"),
        (BAR, "kitchen"),
        (TILL_PRINTER, "kitchen"),  # a line without a printer goes to the till's
        (TILL_PRINTER, "receipt"),
    ]
    assert "2 x Pizza" in tickets[0].lines and "   > well done" in tickets[0].lines
    assert "1 x Beer" in tickets[1].lines and not any("Pizza" in line for line in tickets[1].lines)
    assert any(line.startswith("TOTAL") and line.endswith("€29.50") for line in tickets[3].lines)
    # Paid cash: the receipt also opens the drawer; paid by card it does not.
    assert [t.drawer for t in tickets] == [False, False, False, True]
    assert not tickets_for("confirmed-order", order(paymentMethod="CARD"), directory())[3].drawer


def test_a_reprint_prints_only_the_chosen_lines_and_the_receipt_when_asked():
    payload = order(reprintOrderItems=[order()["orderItems"][1]], reprintReceipt=True)
    tickets = tickets_for("reprint-order", payload, directory())
    assert [(t.printer_id, t.kind, t.title) for t in tickets] == [
        (BAR, "kitchen", "REPRINT"),
        (TILL_PRINTER, "receipt", "RECEIPT (COPY)"),
    ]
    assert not tickets[1].drawer  # a copy never opens the drawer
    assert tickets_for("reprint-order", {**payload, "reprintReceipt": False}, directory())[-1].kind == "kitchen"


def test_a_cancellation_prints_one_slip_on_each_printer_of_the_order():
    payload = {
        "orderId": 1,
        "ticketNumber": 4,
        "displayCode": "A04",
        "customer": "Ada",
        "table": "7",
        "status": "CANCELLED",
        "printers": [KITCHEN, BAR, KITCHEN],
    }
    tickets = tickets_for("order-cancelled", payload, directory())
    assert [(t.printer_id, t.title) for t in tickets] == [(KITCHEN, "CANCELLED"), (BAR, "CANCELLED")]
    assert "Table 7 - Ada" in tickets[0].lines


def test_the_drawer_and_the_closure_go_to_the_tills_printer():
    drawer = tickets_for("open-drawer", {"cashRegisterId": "till", "printerId": TILL_PRINTER}, directory())
    closure = tickets_for(
        "general-closure",
        {
            "cashRegister": "till",
            "report": [
                {
                    "timestamp": "2026-07-04T06:00:00.000Z",
                    "totalOrders": 3,
                    "totalRevenue": "40",
                    "totalCashRevenue": "30",
                    "totalCardRevenue": "10",
                    "categoryStats": [],
                    "cashRegisterStats": [],
                }
            ],
        },
        directory(),
    )
    assert [(t.printer_id, t.drawer) for t in drawer] == [(TILL_PRINTER, True)]
    assert [(t.printer_id, t.title) for t in closure] == [(TILL_PRINTER, "GENERAL CLOSURE")]
    assert any(line.startswith("TOTAL") and line.endswith("€40.00") for line in closure[0].lines)
    assert tickets_for("general-closure", {"cashRegister": "gone", "report": []}, directory()) == []


def test_the_closure_prints_the_one_report_with_numbers_that_the_server_sends():
    # The server's general-closure since clients-heads.md P3: one object, money as JSON numbers.
    closure = tickets_for(
        "general-closure",
        {
            "cashRegister": "till",
            "report": {
                "timestamp": "2026-07-04T23:10:00.000Z",
                "totalOrders": 3,
                "totalRevenue": 61.5,
                "totalCashRevenue": 41,
                "totalCardRevenue": 20.5,
                "cashRegisterStats": [
                    {
                        "cashRegisterName": "Till 1",
                        "totalRevenue": 61.5,
                        "totalCashRevenue": 41,
                        "totalCardRevenue": 20.5,
                    }
                ],
                "categoryStats": [
                    {
                        "categoryName": "Pizza",
                        "revenue": 37.5,
                        "quantity": 3,
                        "foodStats": [{"foodName": "Margherita", "revenue": 37.5, "quantity": 3}],
                    },
                ],
            },
        },
        directory(),
    )
    [ticket] = closure
    assert ticket.printer_id == TILL_PRINTER
    assert any(line.startswith("TOTAL") and line.endswith(" €61.50") for line in ticket.lines)
    assert any(line.startswith("Cash") and line.endswith(" €41.00") for line in ticket.lines)
    assert any(line.startswith("Orders") and line.endswith(" 3") for line in ticket.lines)
    assert any(line.startswith("Pizza (3)") and line.endswith(" €37.50") for line in ticket.lines)
    assert any(line.startswith("  Margherita (3)") and line.endswith(" €37.50") for line in ticket.lines)
    assert any(line.startswith("Till 1") and line.endswith(" €61.50") for line in ticket.lines)
    assert "No sales." not in ticket.lines
    empty = {"timestamp": "2026-07-04T23:10:00.000Z", "totalOrders": 0, "totalRevenue": 0, "totalCashRevenue": 0}
    [quiet] = tickets_for("general-closure", {"cashRegister": "till", "report": empty}, directory())
    assert "No sales." in quiet.lines


def test_in_italian_tickets_speak_italian_with_amounts_and_times_as_italians_write_them(monkeypatch):
    monkeypatch.setenv("TIME_ZONE", "Europe/Rome")
    confirmed = order(confirmedAt="2026-07-04T18:30:00.000Z")

    kitchen, *_others, receipt = tickets_for("confirmed-order", confirmed, directory(), language="it")

    assert kitchen.title == "CUCINA" and receipt.title == "RICEVUTA"
    assert "04/07/2026 20:30" in kitchen.lines  # 18:30 UTC is 20:30 in Rome in July
    assert any(line.startswith("TOTALE") and line.endswith("29,50 €") for line in receipt.lines)
    assert any(line.startswith("Pagamento") and line.endswith("Contanti") for line in receipt.lines)
    closure = tickets_for("general-closure", {"cashRegister": "till", "report": []}, directory(), language="it")
    assert closure[0].title == "CHIUSURA GENERALE" and "Nessuna vendita." in closure[0].lines


def test_without_a_language_tickets_follow_language_code(monkeypatch):
    monkeypatch.setenv("LANGUAGE_CODE", "it")
    words.cache_clear()
    try:
        assert tickets_for("confirmed-order", order(), directory())[0].title == "CUCINA"
    finally:
        words.cache_clear()


def test_the_drawer_is_opened_with_the_escpos_pulse(tmp_path):
    printers = Printers()
    server = ScriptedServer([[event(1, "open-drawer", {"cashRegisterId": "till", "printerId": TILL_PRINTER})]])
    run(server, tmp_path / "state.json", printers)
    reference = Dummy()
    reference.cashdraw(2)
    assert printers.sent == [("10.0.0.3", reference.output)]


# --- exactly once ---------------------------------------------------------------------


def test_each_event_is_printed_once_also_when_a_reconnection_replays_events_still_printing(tmp_path):
    printers = Printers()
    log = [Message(event=None, id="printer:0", data=""), event(1, "confirmed-order", order(1))]
    log.append(event(2, "confirmed-order", order(2)))
    # The stream drops after order 1: the reconnection gets what follows the
    # agent's position, which may still be before order 1 if its tickets
    # are not all out yet (they are then in hand and not queued again).
    server = ScriptedServer([log[:2], replay(log)])

    run(server, tmp_path / "state.json", printers)

    assert server.asked_from[0] is None and server.asked_from[1] in ("printer:0", "printer:1")
    assert sorted(reference(text) for text in printers.texts()) == [
        f"printer:{event_id} {n}/4" for event_id in (1, 2) for n in range(1, 5)
    ]
    assert not any("POSSIBLE DUPLICATE" in text for text in printers.texts())
    assert StateFile(tmp_path / "state.json").last_event_id == "printer:2"


def test_an_event_that_completes_while_the_agent_reconnects_is_not_printed_again(tmp_path):
    log = [Message(event=None, id="printer:0", data=""), event(1, "confirmed-order", order(1))]
    slow_kitchen = Printers(hold="10.0.0.1")

    def cut_stream():
        yield from log
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    def replay_once_the_kitchen_answered(last_event_id):
        # Asked from before order 1 (the kitchen held it); the order
        # completes before the replay brings it again.
        slow_kitchen.release.set()
        deadline = time.monotonic() + 30
        while agent.state.last_event_id != "printer:1" and time.monotonic() < deadline:
            time.sleep(0.01)
        return replay(log)(last_event_id)

    server = ScriptedServer([cut_stream(), replay_once_the_kitchen_answered])
    agent = Agent(server, tmp_path / "state.json", open_printer=slow_kitchen, backoff_first=0, backoff_most=0)
    agent.run(should_stop=lambda: server.finished and agent.idle())

    assert server.asked_from == [None, "printer:0"]
    assert sorted(reference(text) for text in slow_kitchen.texts()) == [f"printer:1 {n}/4" for n in range(1, 5)]


def test_a_restarted_agent_asks_for_what_follows_its_journal(tmp_path):
    run(ScriptedServer([[event(5, "confirmed-order", order(5))]]), tmp_path / "state.json", Printers())
    server = ScriptedServer([[]])
    run(server, tmp_path / "state.json", Printers())
    assert server.asked_from == ["printer:5"]


def test_a_kill_while_a_slow_printer_holds_a_ticket_reprints_only_that_ticket_marked(tmp_path):
    """What a kill -9 leaves is the journal on disk: it is copied at the
    moment the bar has order 1's ticket but has not answered after it, while
    the other printers went on to order 2. A second agent starts from the copy."""
    state, killed = tmp_path / "state.json", tmp_path / "killed.json"
    log = [Message(event=None, id="printer:0", data=""), event(1, "confirmed-order", order(1))]
    log.append(event(2, "confirmed-order", order(2)))
    slow_bar = Printers(hold="10.0.0.2")
    first = Agent(ScriptedServer([log]), state, open_printer=slow_bar, backoff_first=0, backoff_most=0)
    stop = threading.Event()
    reader = threading.Thread(target=first.run, kwargs={"should_stop": stop.is_set})
    reader.start()
    try:
        assert slow_bar.holding.wait(30)
        for printer in (KITCHEN, TILL_PRINTER):
            while not (printer in first.queues and first.queues[printer].idle()):
                assert reader.is_alive()
                stop.wait(0.01)
        shutil.copy(state, killed)
    finally:
        stop.set()
        slow_bar.release.set()
        reader.join(30)
    assert sorted(reference(text) for text in slow_bar.texts("10.0.0.1")) == ["printer:1 1/4", "printer:2 1/4"]

    printers = Printers()
    server = ScriptedServer([replay(log)])
    run(server, killed, printers)

    # The position never passed order 1, whose bar ticket was not out.
    assert server.asked_from == ["printer:0"]
    assert [("POSSIBLE DUPLICATE" in text, reference(text)) for text in printers.texts()] == [
        (True, "printer:1 2/4"),
        (False, "printer:2 2/4"),  # never started: not in doubt
    ]
    assert [host for host, _ in printers.sent] == ["10.0.0.2", "10.0.0.2"]
    assert StateFile(killed).last_event_id == "printer:2"


def test_an_unreachable_printer_holds_its_own_ticket_and_is_reported_offline_then_online(tmp_path):
    # Refused at the start-up probe, then once more when its ticket comes.
    printers = Printers(failures={"10.0.0.1": [ConnectionRefusedError(), TimeoutError()]})
    server = ScriptedServer([[event(1, "confirmed-order", order(1))]])

    run(server, tmp_path / "state.json", printers)

    assert sorted(host for host, _ in printers.sent) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.3"]
    assert [status for printer, status in server.statuses if printer == KITCHEN] == ["OFFLINE", "ONLINE"]
    assert (BAR, "ONLINE") in server.statuses
    # Refused before a byte of it went out: the kitchen's ticket is no duplicate.
    assert not any("POSSIBLE DUPLICATE" in text for text in printers.texts())


class FlakyServer(ScriptedServer):
    """Its first answer to a status report breaks off mid-response."""

    def report_printer_status(self, printer_id: str, status: str) -> None:
        if not self.statuses:
            self.statuses.append(("broken", status))
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        super().report_printer_status(printer_id, status)


def test_a_status_report_cut_off_by_the_server_stops_no_printer(tmp_path):
    printers = Printers()
    server = FlakyServer([[event(1, "open-drawer", {"printerId": TILL_PRINTER})]])
    run(server, tmp_path / "state.json", printers)
    assert [host for host, _ in printers.sent] == ["10.0.0.3"]


def test_a_journal_that_fails_after_the_printer_answered_gets_the_ticket_again_marked(tmp_path):
    printers = Printers()
    server = ScriptedServer([[event(1, "confirmed-order", order(1, orderItems=[]))]])
    agent = Agent(server, tmp_path / "state.json", open_printer=printers, backoff_first=0, backoff_most=0)
    journal_printed = agent.state.printed
    failures = [OSError("No space left on device")]

    def printed_or_fail(event_id: str, index: int) -> None:
        if failures:
            raise failures.pop()
        journal_printed(event_id, index)

    agent.state.printed = printed_or_fail
    agent.run(should_stop=lambda: server.finished and agent.idle())

    assert [("POSSIBLE DUPLICATE" in text, reference(text)) for text in printers.texts()] == [
        (False, "printer:1 1/1"),
        (True, "printer:1 1/1"),
    ]
    assert StateFile(tmp_path / "state.json").last_event_id == "printer:1"


def test_an_event_is_not_dropped_when_the_printers_cannot_be_read(tmp_path):
    printers = Printers()
    # The list fails at start and again when the event needs it.
    server = ScriptedServer(
        [[event(1, "confirmed-order", order(1))], [event(1, "confirmed-order", order(1))]], directory_failures=2
    )

    run(server, tmp_path / "state.json", printers)

    assert server.asked_from == [None, None]  # the event came again and was printed then
    assert sorted(reference(text) for text in printers.texts()) == [f"printer:1 {n}/4" for n in range(1, 5)]


def test_an_event_that_is_not_json_is_skipped_and_not_asked_for_again(tmp_path):
    printers = Printers()
    server = ScriptedServer([[Message(event="confirmed-order", id="printer:1", data="{oops")], []])
    run(server, tmp_path / "state.json", printers)
    assert (printers.sent, server.asked_from) == ([], [None, "printer:1"])


def test_a_stream_cut_in_the_middle_of_a_chunk_is_a_reconnection(tmp_path):
    log = [Message(event=None, id="printer:0", data="")]
    log += [event(n, "open-drawer", {"printerId": TILL_PRINTER}) for n in (1, 2)]

    def cut_stream():
        yield from log[:2]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    server = ScriptedServer([cut_stream(), replay(log)])
    printers = Printers()
    run(server, tmp_path / "state.json", printers)
    assert (len(server.asked_from), len(printers.sent)) == (2, 2)


def test_a_stream_reset_moves_on_from_the_new_position(tmp_path):
    state = tmp_path / "state.json"
    run(ScriptedServer([[event(1, "open-drawer", {"printerId": TILL_PRINTER})]]), state, Printers())
    server = ScriptedServer([[Message(event="stream-reset", id="printer:90", data="{}")], []])
    run(server, state, Printers())
    assert server.asked_from == ["printer:1", "printer:90"]


# --- the journal and the stream format -------------------------------------------------------


def test_the_journal_is_replaced_whole_and_leaves_no_temporary_file(tmp_path):
    journal = StateFile(tmp_path / "state.json")
    assert journal.receive("printer:3", 2) == [(0, False), (1, False)]
    journal.begin("printer:3", 0)
    journal.printed("printer:3", 0)
    journal.begin("printer:3", 1)
    assert json.loads((tmp_path / "state.json").read_text()) == {
        "lastEventId": None,
        "pending": [{"eventId": "printer:3", "tickets": 2, "printed": [0], "begun": [1]}],
    }
    journal.printed("printer:3", 1)
    assert json.loads((tmp_path / "state.json").read_text()) == {"lastEventId": "printer:3", "pending": []}
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]


def test_the_position_waits_for_the_slowest_printer(tmp_path):
    journal = StateFile(tmp_path / "state.json")
    journal.position("printer:0")
    journal.receive("printer:1", 2)  # kitchen and bar
    journal.receive("printer:2", 1)  # bar only
    journal.printed("printer:1", 1)
    journal.printed("printer:2", 0)  # the bar is two events ahead of the kitchen
    assert StateFile(tmp_path / "state.json").last_event_id == "printer:0"
    journal.printed("printer:1", 0)
    assert StateFile(tmp_path / "state.json").last_event_id == "printer:2"


def test_after_a_restart_an_event_prints_only_its_tickets_not_out_and_marks_those_begun(tmp_path):
    journal = StateFile(tmp_path / "state.json")
    journal.receive("printer:1", 3)
    journal.printed("printer:1", 0)
    journal.begin("printer:1", 1)
    restarted = StateFile(tmp_path / "state.json")
    assert not restarted.in_hand("printer:1")
    assert restarted.receive("printer:1", 3) == [(1, True), (2, False)]
    assert restarted.in_hand("printer:1") and restarted.receive("printer:1", 3) == []


def test_a_journal_of_the_agent_before_per_printer_queues_is_read(tmp_path):
    (tmp_path / "state.json").write_text(
        json.dumps({"lastEventId": "printer:4", "inFlight": {"eventId": "printer:5", "ticket": 1}})
    )
    journal = StateFile(tmp_path / "state.json")
    assert journal.last_event_id == "printer:4"
    assert journal.receive("printer:5", 3) == [(1, True), (2, False)]


def test_an_unreadable_journal_stops_the_agent_instead_of_starting_over(tmp_path):
    (tmp_path / "state.json").write_text("{half")
    with pytest.raises(RuntimeError, match="state file"):
        StateFile(tmp_path / "state.json")


def test_the_stream_is_read_as_events_and_positions_without_keep_alives_or_a_cut_off_message():
    body = (
        b': keep-alive\n\nid: printer:4\n\n: keep-alive\n\nevent: confirmed-order\nid: printer:5\ndata: {"a":\ndata: 1}\n\n'
        b"event: open-drawer\nid: printer:6\ndata: {}"  # cut off: never dispatched
    )
    asked = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append((request.url.path, request.headers.get("Last-Event-ID"), request.headers.get("X-API-KEY")))
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body)

    server = Server("http://printers.test/base", "device-key", transport=httpx.MockTransport(answer))
    assert list(server.events("printer:3")) == [
        Message(event=None, id="printer:4", data=""),
        Message(event="confirmed-order", id="printer:5", data='{"a":\n1}'),
    ]
    assert asked == [("/base/events/printer", "printer:3", "device-key")]


def test_a_refused_stream_is_a_server_error_with_its_status():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"detail": "bad key"})

    server = Server("http://printers.test", "wrong", transport=httpx.MockTransport(refuse))
    with pytest.raises(ServerError, match="HTTP 403"):
        list(server.events(None))


def test_the_command_refuses_an_unreadable_journal_with_a_message(tmp_path):
    from django.core.management import CommandError, call_command

    (tmp_path / "state.json").write_text("not json")
    with pytest.raises(CommandError, match="state file"):
        call_command(
            "printer_agent", "--url", "http://127.0.0.1:9", "--key", "k", "--state", str(tmp_path / "state.json")
        )


def test_the_command_refuses_a_url_that_is_not_http(tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="not an http"):
        call_command("printer_agent", "--url", "ftp://printer", "--key", "k", "--state", str(tmp_path / "s.json"))


def test_python_m_printeragent_starts_without_django_settings_and_refuses_a_url_that_is_not_http(tmp_path):
    """The agent runs on machines with no database: its own front door
    reads no settings (none are given here) and answers a bad URL with its
    usage and the reason, status 2."""
    import os
    import subprocess
    import sys

    from testsupport import BASE_DIR

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    run = subprocess.run(
        [sys.executable, "-m", "printeragent", "--url", "ftp://printer", "--key", "k", "--state", str(tmp_path / "s")],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert "usage: python -m printeragent" in run.stderr
    assert "not an http" in run.stderr
    assert not (tmp_path / "s").exists()


def test_log_lines_name_a_printer_as_staff_know_it(tmp_path, caplog):
    printers = Printers(failures={"10.0.0.1": [ConnectionRefusedError("refused")]})
    unplugged = order(2, orderItems=[{**order()["orderItems"][0], "food": {"name": "Soup", "printerId": "no-ip"}}])
    server = ScriptedServer([[event(1, "confirmed-order", order(1))], [event(2, "confirmed-order", unplugged)]])

    with caplog.at_level("WARNING", logger="printeragent"):
        run(server, tmp_path / "state.json", printers)

    assert 'printer "Kitchen" (kitchen): OFFLINE (refused)' in caplog.text
    assert 'printer "Unplugged" (no-ip) is unknown or has no ip' in caplog.text
