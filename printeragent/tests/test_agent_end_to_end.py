"""`manage.py printer_agent` against a real Daphne and fake network printers
(TCP listeners on 127.0.0.1 recording each ticket's bytes), through a burst
of confirmations during which the server is restarted and the agent is
killed with SIGKILL and started again.

What must hold (the agent's invariant): every ticket arrives; a ticket
arrives twice only for an agent crash, at most one per printer per crash
(each printer has its own queue), and the copy printed after the restart is
headed POSSIBLE DUPLICATE. Where exactly the
kill lands is left to chance; the deterministic mid-ticket crash is in
test_agent.py."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from conftest import bearer
from orders.models import CashRegister, Category, Food, Printer
from printeragent.tests.fake_printers import FakePrinter
from testsupport import BASE_DIR, server_env, spawn
from users.apikeys import create_key

ORDERS_PER_PHASE = 8
# Bounds every wait of this test; nothing is asserted about durations.
DEADLINE_SECONDS = 90


@pytest.fixture
def printers():
    kitchen, bar = FakePrinter(), FakePrinter()
    yield {"kitchen": kitchen, "bar": bar}
    kitchen.close()
    bar.close()


@pytest.fixture
def festival_menu(transactional_db, printers):
    kitchen = Printer.objects.create(name="Kitchen", ip="127.0.0.1", port=printers["kitchen"].port)
    bar = Printer.objects.create(name="Bar", ip="127.0.0.1", port=printers["bar"].port)
    pizza = Category.objects.create(name="Pizza", printer=kitchen)
    drinks = Category.objects.create(name="Drinks", printer=bar)
    return {
        "margherita": Food.objects.create(name="Margherita", price="12.5", category=pizza),
        "beer": Food.objects.create(name="Beer", price="4", category=drinks),
        # Receipts print at the till's printer: the bar's.
        "till": CashRegister.objects.create(name="Till 1", default_printer=bar),
    }


@pytest.fixture
def agent_key(transactional_db):
    _, raw = create_key(name="Kitchen printer agent", kind="printer-agent")
    return raw


class AgentProcess:
    def __init__(self, env: dict[str, str], url: str, key: str, state: Path, log: Path):
        self.args = [sys.executable, "manage.py", "printer_agent", "--url", url, "--key", key, "--state", str(state)]
        self.env, self.log, self.state = env, log, state
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = spawn(self.args, self.log, cwd=BASE_DIR, env=self.env)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # SIGKILL: no clean-up runs in the agent
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_for_position(self) -> None:
        """The first run starts from the stream's position: orders confirmed
        before it has one are not its to print."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.state.exists() and json.loads(self.state.read_text()).get("lastEventId"):
                return
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.1)
        raise AssertionError(f"the agent never got its position:\n{self.log.read_text()}")


def agent_for(server, key: str, tmp_path: Path) -> AgentProcess:
    from django.conf import settings
    from django.db import connection

    env = server_env(connection.settings_dict, settings.SECRET_KEY)
    return AgentProcess(env, server.url, key, tmp_path / "agent-state.json", tmp_path / "agent.log")


def wait_for(condition, what: str, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} never happened:\n{log.read_text()}")


def confirm_orders(base_url: str, headers: dict, menu: dict, count: int, method: str = "CASH") -> list[int]:
    numbers = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for index in range(count):
            body = {
                "table": str(index),
                "customer": f"Guest {index}",
                "orderItems": [
                    {"foodId": menu["margherita"].id, "quantity": 1},
                    {"foodId": menu["beer"].id, "quantity": 2},
                ],
                "confirm": {"paymentMethod": method, "cashRegisterId": menu["till"].id},
            }
            response = client.post("/v1/orders", json=body)
            assert response.status_code == 201, response.text
            numbers.append(response.json()["ticketNumber"])
    return numbers


TICKET = re.compile(r"(KITCHEN|RECEIPT)\n.*?Ticket #(\d+)", re.DOTALL)


def tickets_by_kind(texts: list[str]) -> tuple[Counter, Counter, list[str]]:
    """(copies per (kind, number), marked copies per (kind, number), partial tickets)."""
    copies, marked, partial = Counter(), Counter(), []
    for text in texts:
        match = TICKET.search(text)
        if match is None or "ref printer:" not in text:
            partial.append(text)  # cut short by a killed agent
            continue
        key = (match.group(1), int(match.group(2)))
        copies[key] += 1
        marked[key] += "POSSIBLE DUPLICATE" in text
    return copies, marked, partial


def test_a_burst_with_a_server_restart_and_agent_crashes_prints_every_ticket_once_or_marked(
    daphne, festival_menu, agent_key, operator, printers, tmp_path
):
    server = daphne()
    agent = agent_for(server, agent_key, tmp_path)
    headers = bearer(operator)
    kills = 0
    try:
        agent.start()
        agent.wait_for_position()
        numbers = confirm_orders(server.url, headers, festival_menu, ORDERS_PER_PHASE)

        server.stop()  # the agent loses its stream mid-burst
        server.start()
        numbers += confirm_orders(server.url, headers, festival_menu, ORDERS_PER_PHASE)

        agent.kill()  # while it prints the second phase
        kills += 1
        agent.start()
        numbers += confirm_orders(server.url, headers, festival_menu, ORDERS_PER_PHASE)
        agent.kill()
        kills += 1
        agent.start()

        expected = {("KITCHEN", n) for n in numbers} | {("RECEIPT", n) for n in numbers}
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            kitchen, _, _ = tickets_by_kind(printers["kitchen"].texts())
            bar, _, _ = tickets_by_kind(printers["bar"].texts())
            if len({k for k in kitchen if k[0] == "KITCHEN"}) == len(numbers) and len(bar) >= 2 * len(numbers):
                break
            time.sleep(0.2)
    finally:
        agent.stop()

    kitchen_copies, kitchen_marked, kitchen_partial = tickets_by_kind(printers["kitchen"].texts())
    bar_texts = printers["bar"].texts()
    bar_copies, bar_marked, bar_partial = tickets_by_kind(bar_texts)
    log = (tmp_path / "agent.log").read_text()

    # Every ticket arrived: a kitchen ticket for the pizza, and at the bar
    # the beer's ticket and the receipt.
    assert set(kitchen_copies) == {("KITCHEN", n) for n in numbers}, log
    assert set(bar_copies) == expected, log
    # A second copy only where a crash left a ticket in doubt: at most one
    # per printer per kill, marked, and so are the partial tickets a kill cut short.
    for where, copies, marked, partial in (
        ("kitchen", kitchen_copies, kitchen_marked, kitchen_partial),
        ("bar", bar_copies, bar_marked, bar_partial),
    ):
        doubtful = sum(count - 1 for count in copies.values()) + len(partial)
        assert doubtful <= kills, (where, copies, partial)
        assert sum(marked.values()) <= kills, (where, marked)
        for key, count in copies.items():
            assert marked[key] >= count - 1, f"{where} {key}: {count} copies, {marked[key]} marked"
    assert len(set(numbers)) == 3 * ORDERS_PER_PHASE


def test_the_drawer_the_closure_and_printer_status_reach_the_printers(
    daphne, festival_menu, agent_key, operator, printers, tmp_path
):
    from escpos.printer import Dummy

    pulse = Dummy()
    pulse.cashdraw(2)
    server = daphne()
    agent = agent_for(server, agent_key, tmp_path)
    headers = bearer(operator)
    try:
        agent.start()
        agent.wait_for_position()
        # The agent probes its printers at start and reports them.
        wait_for(
            lambda: set(Printer.objects.values_list("status", flat=True)) == {"ONLINE"},
            "both printers reported ONLINE",
            agent.log,
        )
        till = festival_menu["till"].id
        drawer = httpx.post(f"{server.url}/v1/cash-registers/{till}/open-drawer", headers=headers, timeout=30)
        assert drawer.status_code == 202, drawer.text
        wait_for(lambda: pulse.output in printers["bar"].tickets, "the drawer pulse", agent.log)

        confirm_orders(server.url, headers, festival_menu, 2)
        confirm_orders(server.url, headers, festival_menu, 1, method="CARD")
        response = httpx.post(
            server.url + "/v1/reports/general-closure", json={"cashRegister": till}, headers=headers, timeout=30
        )
        assert response.status_code == 201, response.text

        def closure_printed():
            return [text for text in printers["bar"].texts() if "GENERAL CLOSURE" in text]

        wait_for(closure_printed, "the closure's ticket", agent.log)
    finally:
        agent.stop()

    [ticket] = closure_printed()
    lines = ticket.splitlines()
    # Three orders of 12.5 + 2 × 4: 61.5 in all, 20.5 of it by card; amounts as
    # "€61.50" (python-escpos switches to a code page with € for the sign,
    # which this cp437 reading of the bytes does not show).
    assert any(line.startswith("TOTAL") and line.endswith("61.50") for line in lines), ticket
    assert any(line.startswith("Card") and line.endswith("20.50") for line in lines), ticket
    assert any(line.startswith("Orders") and line.endswith(" 3") for line in lines), ticket
    assert not any("GENERAL CLOSURE" in text for text in printers["kitchen"].texts())
    # The drawer opened once by request and once for each cash receipt (2), never on the kitchen's printer.
    assert printers["bar"].tickets.count(pulse.output) == 1
    assert sum(text.endswith(pulse.output.decode("cp437")) for text in printers["bar"].texts()) == 3
    assert not any(pulse.output in ticket for ticket in printers["kitchen"].tickets)


def test_a_cancelled_order_prints_one_cancellation_slip_on_each_printer_of_its_lines(
    daphne, festival_menu, agent_key, operator, printers, tmp_path
):
    server = daphne()
    agent = agent_for(server, agent_key, tmp_path)
    headers = bearer(operator)
    body = {
        "table": "7",
        "customer": "Grace",
        "orderItems": [
            {"foodId": festival_menu["margherita"].id, "quantity": 1},
            {"foodId": festival_menu["beer"].id, "quantity": 1},
        ],
        "confirm": {"paymentMethod": "CARD", "cashRegisterId": festival_menu["till"].id},
    }

    def slips(where: str) -> list[str]:
        return [text for text in printers[where].texts() if "CANCELLED" in text]

    try:
        agent.start()
        agent.wait_for_position()
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            created = client.post("/v1/orders", json=body)
            assert created.status_code == 201, created.text
            order = created.json()
            cancelled = client.delete(f"/v1/orders/{order['id']}")
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["status"] == "CANCELLED"
        wait_for(lambda: slips("kitchen") and slips("bar"), "a cancellation slip on both printers", agent.log)
        # Events reach the agent in order: once the next order's tickets are
        # out, a second slip for the cancelled order would have been too.
        [later] = confirm_orders(server.url, headers, festival_menu, 1)
        wait_for(
            lambda: ("KITCHEN", later) in tickets_by_kind(printers["kitchen"].texts())[0],
            "the next order's kitchen ticket",
            agent.log,
        )
        wait_for(
            lambda: ("RECEIPT", later) in tickets_by_kind(printers["bar"].texts())[0],
            "the next order's receipt",
            agent.log,
        )
    finally:
        agent.stop()

    for where in ("kitchen", "bar"):
        [slip] = slips(where)
        assert f"Ticket #{order['ticketNumber']}" in slip, slip
        assert "Table 7 - Grace" in slip, slip
        assert "Do not prepare this order." in slip, slip
        assert "POSSIBLE DUPLICATE" not in slip, slip


def test_a_kitchen_printer_switched_off_holds_up_no_other_printer_and_gets_its_tickets_after_an_agent_kill(
    daphne, festival_menu, agent_key, operator, printers, tmp_path
):
    kitchen, bar = printers["kitchen"], printers["bar"]
    kitchen_printer = Printer.objects.get(name="Kitchen")
    kitchen.switch_off()
    server = daphne()
    agent = agent_for(server, agent_key, tmp_path)
    headers = bearer(operator)

    def kitchen_status() -> str:
        return Printer.objects.get(pk=kitchen_printer.pk).status

    try:
        agent.start()
        agent.wait_for_position()
        numbers = confirm_orders(server.url, headers, festival_menu, 3)
        wait_for(lambda: len(tickets_by_kind(bar.texts())[0]) == 6, "the bar's tickets and receipts", agent.log)
        # Every bar ticket arrived while the kitchen printer was still off.
        assert not kitchen.on and kitchen.tickets == []
        wait_for(lambda: kitchen_status() == "OFFLINE", "the kitchen printer reported OFFLINE", agent.log)

        # Killed while the kitchen's tickets wait: the journal's position must
        # not have passed them, though the bar is done with those orders.
        agent.kill()
        kitchen.switch_on()
        agent.start()
        wait_for(lambda: len(kitchen.tickets) == 3, "the kitchen's tickets after it came back", agent.log)
        wait_for(lambda: kitchen_status() == "ONLINE", "the kitchen printer reported ONLINE", agent.log)
        # A later order's tickets are printed after anything the restarted
        # agent might have printed again, on each printer.
        [later] = confirm_orders(server.url, headers, festival_menu, 1)
        wait_for(
            lambda: ("KITCHEN", later) in tickets_by_kind(kitchen.texts())[0], "the later order's ticket", agent.log
        )
        wait_for(lambda: ("RECEIPT", later) in tickets_by_kind(bar.texts())[0], "the later order's receipt", agent.log)
    finally:
        agent.stop()

    kitchen_copies, kitchen_marked, kitchen_partial = tickets_by_kind(kitchen.texts())
    bar_copies, bar_marked, bar_partial = tickets_by_kind(bar.texts())
    assert kitchen_copies == Counter({("KITCHEN", n): 1 for n in [*numbers, later]})
    assert bar_copies == Counter({(kind, n): 1 for kind in ("KITCHEN", "RECEIPT") for n in [*numbers, later]})
    # Refused while off, never cut: nothing is in doubt, nothing is marked.
    assert (kitchen_partial, bar_partial, sum(kitchen_marked.values()), sum(bar_marked.values())) == ([], [], 0, 0)
