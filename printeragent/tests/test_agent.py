"""The printing side of the agent, in one process: python-escpos's Dummy
printers record what each ticket would send, and a scripted server hands
out events the way /events/printer does. The agent against a real Daphne
and real TCP printers is in test_agent_end_to_end.py."""

from __future__ import annotations

import io
import json

import pytest
from escpos.printer import Dummy

from printeragent.agent import Agent, Backoff
from printeragent.client import Message, ServerError, parse_stream
from printeragent.state import StateFile
from printeragent.tickets import Directory, tickets_for

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
    what the agent asked for and reported."""

    def __init__(self, batches: list[list[Message]], directory_failures: int = 0):
        self.batches = batches
        self.directory_failures = directory_failures
        self.asked_from: list[str | None] = []
        self.statuses: list[tuple[str, str]] = []

    def printers(self):
        if self.directory_failures:
            self.directory_failures -= 1
            raise ConnectionResetError("the server went away")
        return DIRECTORY["printers"]

    def cash_registers(self):
        return DIRECTORY["registers"]

    def report_printer_status(self, printer_id: str, status: str) -> None:
        self.statuses.append((printer_id, status))

    def events(self, last_event_id):
        self.asked_from.append(last_event_id)
        if not self.batches:
            raise ServerError(503, "no more")
        yield from self.batches.pop(0)


class Printers:
    """`open_printer` for the agent: a Dummy per connection, by address."""

    def __init__(self, failures: dict[str, list[BaseException]] | None = None):
        self.sent: list[tuple[str, bytes]] = []
        self.failures = failures or {}

    def __call__(self, host: str, port: int):
        pending = self.failures.get(host)
        if pending:
            raise pending.pop(0)
        printers = self

        class Recorded(Dummy):
            closed = False

            def close(self) -> None:
                # Once: python-escpos closes again when the object is collected.
                if not self.closed:
                    self.closed = True
                    printers.sent.append((host, self.output))

        return Recorded()

    def texts(self, host: str | None = None) -> list[str]:
        return [data.decode("cp437") for where, data in self.sent if host in (None, where)]


def reference(text: str) -> str:
    """The `ref <event id> <n>/<count>` line that ends every ticket."""
    return text.split("ref ")[1].split("\n")[0]


def event(event_id: int, name: str, payload: dict) -> Message:
    return Message(event=name, id=f"printer:{event_id}", data=json.dumps(payload))


def run(server, state_path, printers) -> Agent:
    agent = Agent(server, state_path, open_printer=printers, backoff=Backoff(first=0, most=0, sleep=lambda _: None))
    agent.run(should_stop=lambda: not server.batches)
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
    assert any(line.startswith("TOTAL") and line.endswith("29.5") for line in tickets[3].lines)
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
    assert any(line.startswith("TOTAL") and line.endswith("40") for line in closure[0].lines)
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
    assert any(line.startswith("TOTAL") and line.endswith(" 61.5") for line in ticket.lines)
    assert any(line.startswith("Cash") and line.endswith(" 41") for line in ticket.lines)
    assert any(line.startswith("Orders") and line.endswith(" 3") for line in ticket.lines)
    assert any(line.startswith("Pizza (3)") and line.endswith(" 37.5") for line in ticket.lines)
    assert any(line.startswith("  Margherita (3)") and line.endswith(" 37.5") for line in ticket.lines)
    assert any(line.startswith("Till 1") and line.endswith(" 61.5") for line in ticket.lines)
    assert "No sales." not in ticket.lines
    empty = {"timestamp": "2026-07-04T23:10:00.000Z", "totalOrders": 0, "totalRevenue": 0, "totalCashRevenue": 0}
    [quiet] = tickets_for("general-closure", {"cashRegister": "till", "report": empty}, directory())
    assert "No sales." in quiet.lines


def test_the_drawer_is_opened_with_the_escpos_pulse(tmp_path):
    printers = Printers()
    server = ScriptedServer([[event(1, "open-drawer", {"cashRegisterId": "till", "printerId": TILL_PRINTER})]])
    run(server, tmp_path / "state.json", printers)
    reference = Dummy()
    reference.cashdraw(2)
    assert printers.sent == [("10.0.0.3", reference.output)]


# --- exactly once ---------------------------------------------------------------------


def test_each_event_is_printed_once_and_a_reconnection_resumes_after_the_last_one(tmp_path):
    printers = Printers()
    server = ScriptedServer(
        [
            [Message(event=None, id="printer:0", data=""), event(1, "confirmed-order", order(1))],
            [event(2, "confirmed-order", order(2))],
        ]
    )

    run(server, tmp_path / "state.json", printers)

    assert server.asked_from == [None, "printer:1"]
    assert len(printers.sent) == 8  # 4 tickets per order
    assert sum("ref printer:1 " in text for text in printers.texts()) == 4
    assert not any("POSSIBLE DUPLICATE" in text for text in printers.texts())
    assert StateFile(tmp_path / "state.json").last_event_id == "printer:2"


def test_a_restarted_agent_asks_for_what_follows_its_journal(tmp_path):
    run(ScriptedServer([[event(5, "confirmed-order", order(5))]]), tmp_path / "state.json", Printers())
    server = ScriptedServer([[]])
    run(server, tmp_path / "state.json", Printers())
    assert server.asked_from == ["printer:5"]


class Crash(BaseException):
    """The agent dying mid-ticket (kill -9): nothing after it runs."""


def test_a_crash_mid_event_reprints_only_the_ticket_in_doubt_marked_as_such(tmp_path):
    state = tmp_path / "state.json"
    crashing = Printers(failures={"10.0.0.2": [Crash()]})  # the bar: second ticket of the order
    with pytest.raises(Crash):
        run(ScriptedServer([[event(1, "confirmed-order", order(1))]]), state, crashing)
    assert [host for host, _ in crashing.sent] == ["10.0.0.1"]

    printers = Printers()
    server = ScriptedServer([[event(1, "confirmed-order", order(1)), event(2, "confirmed-order", order(2))]])
    run(server, state, printers)

    assert server.asked_from == [None]  # nothing was complete: the server replays event 1
    first_order = [text for text in printers.texts() if "ref printer:1 " in text]
    assert [("POSSIBLE DUPLICATE" in text, reference(text)) for text in first_order] == [
        (True, "printer:1 2/4"),
        (False, "printer:1 3/4"),
        (False, "printer:1 4/4"),
    ]
    assert not any("POSSIBLE DUPLICATE" in text for text in printers.texts() if "ref printer:2 " in text)


def test_an_unreachable_printer_holds_its_ticket_and_is_reported_offline_then_online(tmp_path):
    printers = Printers(failures={"10.0.0.1": [ConnectionRefusedError(), TimeoutError()]})
    server = ScriptedServer([[event(1, "confirmed-order", order(1))]])

    run(server, tmp_path / "state.json", printers)

    assert [host for host, _ in printers.sent] == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.3"]
    assert server.statuses[:2] == [(KITCHEN, "OFFLINE"), (KITCHEN, "ONLINE")]
    assert (BAR, "ONLINE") in server.statuses


def test_an_event_is_not_dropped_when_the_printers_cannot_be_read(tmp_path):
    printers = Printers()
    # The list fails at start and again when the event needs it.
    server = ScriptedServer(
        [[event(1, "confirmed-order", order(1))], [event(1, "confirmed-order", order(1))]], directory_failures=2
    )

    run(server, tmp_path / "state.json", printers)

    assert server.asked_from == [None, None]  # the event came again and was printed then
    assert [reference(text) for text in printers.texts()] == [f"printer:1 {n}/4" for n in range(1, 5)]


def test_an_event_that_is_not_json_is_skipped_and_not_asked_for_again(tmp_path):
    printers = Printers()
    server = ScriptedServer([[Message(event="confirmed-order", id="printer:1", data="{oops")], []])
    run(server, tmp_path / "state.json", printers)
    assert (printers.sent, server.asked_from) == ([], [None, "printer:1"])


def test_a_stream_cut_in_the_middle_of_a_chunk_is_a_reconnection(tmp_path):
    import http.client

    def cut_stream():
        yield event(1, "open-drawer", {"printerId": TILL_PRINTER})
        raise http.client.IncompleteRead(b"eve")

    server = ScriptedServer([cut_stream(), [event(2, "open-drawer", {"printerId": TILL_PRINTER})]])
    printers = Printers()
    run(server, tmp_path / "state.json", printers)
    assert (server.asked_from, len(printers.sent)) == ([None, "printer:1"], 2)


def test_a_stream_reset_moves_on_from_the_new_position(tmp_path):
    state = tmp_path / "state.json"
    run(ScriptedServer([[event(1, "open-drawer", {"printerId": TILL_PRINTER})]]), state, Printers())
    server = ScriptedServer([[Message(event="stream-reset", id="printer:90", data="{}")], []])
    run(server, state, Printers())
    assert server.asked_from == ["printer:1", "printer:90"]


# --- the journal and the stream format -------------------------------------------------------


def test_the_journal_is_replaced_whole_and_leaves_no_temporary_file(tmp_path):
    journal = StateFile(tmp_path / "state.json")
    journal.begin("printer:3", 1)
    journal.done("printer:3")
    assert json.loads((tmp_path / "state.json").read_text()) == {"lastEventId": "printer:3", "inFlight": None}
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]


def test_an_unreadable_journal_stops_the_agent_instead_of_starting_over(tmp_path):
    (tmp_path / "state.json").write_text("{half")
    with pytest.raises(RuntimeError, match="state file"):
        StateFile(tmp_path / "state.json")


def test_the_stream_parser_reads_events_positions_and_skips_keep_alives():
    stream = io.BytesIO(
        b': keep-alive\n\nid: printer:4\n\nevent: confirmed-order\nid: printer:5\ndata: {"a":\ndata: 1}\n\n'
        b"event: open-drawer\nid: printer:6\ndata: {}"  # cut off: never dispatched
    )
    assert list(parse_stream(stream)) == [
        Message(event=None, id="printer:4", data=""),
        Message(event="confirmed-order", id="printer:5", data='{"a":\n1}'),
    ]


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
