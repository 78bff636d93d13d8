"""`python -m scripts.check_mystampa PATH`: run MySagra's printer agent
(mystampa, a checkout at PATH, never part of this repository) against this
backend, unmodified, with two network printers played by TCP listeners on
127.0.0.1 that record what they print (printeragent's FakePrinter). Prints
one PASS/FAIL line per flow; exit status 1 when a flow failed, 0 when all
passed or when the check cannot run here (no checkout at PATH, no npm, or
port 3032 taken: the agent's web UI listens there, fixed in its code).

What it does, in a temporary directory:
- `npm ci` when PATH has no node_modules, `tsc` when it has no dist/;
- a fresh SQLite database with the menu and staff of check_mycassa, the
  printers Kitchen (pizzas) and Bar (drinks, and Till 1's receipts and
  drawer) pointing at the two listeners, and a printer-agent key;
- this backend, and the agent (`node dist/index.js`, its working directory
  an empty one of the check's: no .env, no saved configuration) with
  API_URL, API_KEY and STATION_TICKETS_ENABLED=true; both stopped by PID."""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

from printeragent.tests.fake_printers import FakePrinter
from scripts.child import Child
from scripts.mysagra_apps import Api, Results, backend, npm_ci, report, run_flows, skip_reason, start

WEB_UI = "http://127.0.0.1:3032"
WAIT_S = 30.0
DRAWER_PULSE = b"\x1bp"


def money(amount: str) -> str:
    """A money string of this backend as mystampa prints it (17,50): after
    € on the closure, before it on a receipt."""
    return f"{Decimal(amount):.2f}".replace(".", ",")


def texts(printer: FakePrinter) -> list[str]:
    """Its tickets as mystampa encodes them (it selects code page 858)."""
    return [ticket.decode("cp858") for ticket in printer.tickets]


class Agent:
    """The flows, in order, with the agent running."""

    def __init__(self, api: Api, printers: dict[str, FakePrinter], passwords: dict[str, str], log: Path):
        self.api, self.printers, self.passwords, self.log = api, printers, passwords, log
        self.till = api.till_id()
        self.order: dict = {}

    def wait(self, what: str, condition, seconds: float = WAIT_S):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if got := condition():
                return got
            time.sleep(0.25)
        raise AssertionError(f"{what}, within {seconds:.0f} s")

    def printed(self, printer: str, text: str, *, after: int = 0) -> str:
        """The first ticket on `printer`, from the `after`-th on, with `text`."""
        return self.wait(
            f"{printer} printed nothing with {text!r} (it printed {texts(self.printers[printer])[after:]!r})",
            lambda: next((t for t in texts(self.printers[printer])[after:] if text in t), None),
        )

    def count(self, printer: str) -> int:
        return len(self.printers[printer].tickets)

    def signs_in_and_reports_its_printers(self) -> None:
        self.wait("the agent did not open the printer stream", lambda: "SSE connected" in self.log.read_text())
        statuses = lambda: {p["name"]: p["status"] for p in self.api.call("GET", "/v1/printers")}  # noqa: E731
        self.wait(
            f"the printers are not reported ONLINE ({statuses()})", lambda: set(statuses().values()) == {"ONLINE"}
        )

    def a_confirmed_cash_order_prints(self) -> None:
        kitchen, bar = self.count("Kitchen"), self.count("Bar")
        body = {
            "table": "12",
            "customer": "Rossi",
            "orderItems": [
                {"foodId": self.api.food_id("Margherita"), "quantity": 2, "notes": "senza basilico"},
                {"foodId": self.api.food_id("Beer"), "quantity": 1},
            ],
            "confirm": {"paymentMethod": "CASH", "cashRegisterId": self.till, "discount": 0},
        }
        self.order = order = self.api.call("POST", "/v1/orders", body)
        ticket = self.printed("Kitchen", "Margherita", after=kitchen)
        for text in ("senza basilico", "Rossi"):
            assert text in ticket, f"the kitchen ticket lacks {text!r}: {ticket!r}"
        receipt = self.printed("Bar", "TOTALE", after=bar)
        for text in (f"Codice Ordine: {order['displayCode']}", "Margherita", "Beer", money(order["total"]) + "€"):
            assert text in receipt, f"the receipt lacks {text!r}: {receipt!r}"
        # Station tickets (STATION_TICKETS_ENABLED): one per station of the
        # order, from each line's food.category.station.
        for station in ("Cucina", "Bar"):
            assert station.upper() in receipt.upper(), f"no {station} station ticket: {receipt!r}"
        self.printed("Bar", "Beer", after=bar)
        self.wait("the till's drawer did not open", lambda: any(DRAWER_PULSE in t for t in self.raw("Bar", bar)))

    def raw(self, printer: str, after: int) -> list[bytes]:
        return self.printers[printer].tickets[after:]

    def a_reprint_prints_the_chosen_lines(self) -> None:
        kitchen, bar = self.count("Kitchen"), self.count("Bar")
        margherita = next(i["id"] for i in self.order["orderItems"] if i["foodId"] == self.api.food_id("Margherita"))
        body = {"orderItems": [margherita], "reprintReceipt": False}
        self.api.call("POST", f"/v1/orders/{self.order['id']}/reprint", body)
        self.printed("Kitchen", "Margherita", after=kitchen)
        time.sleep(2)
        assert not any("Beer" in t for t in texts(self.printers["Bar"])[bar:]), "a line not chosen was reprinted"

    def a_cancellation_prints_a_slip(self) -> None:
        kitchen = self.count("Kitchen")
        self.api.call("DELETE", f"/v1/orders/{self.order['id']}")
        self.printed("Kitchen", "ORDINE ANNULLATO", after=kitchen)

    def the_drawer_opens_on_request(self) -> None:
        bar = self.count("Bar")
        self.api.call("POST", f"/v1/cash-registers/{self.till}/open-drawer", {})
        self.wait("the drawer did not open", lambda: any(DRAWER_PULSE in t for t in self.raw("Bar", bar)))

    def the_day_closure_prints_real_numbers(self) -> None:
        card = {"paymentMethod": "CARD", "cashRegisterId": self.till, "discount": 0}
        self.api.order("Verdi", "3", "Diavola", quantity=2, confirm=card)
        self.api.order("Neri", "5", "Lemonade", confirm=dict(card, paymentMethod="CASH"))
        bar = self.count("Bar")
        closure = self.api.call("POST", "/v1/reports/general-closure", {"cashRegister": self.till})
        day = closure["report"][0] if isinstance(closure, dict) else closure[0]
        ticket = self.printed("Bar", "CHIUSURA GENERALE", after=bar)
        lines = {
            "Totale Ordini:": str(day["totalOrders"]),
            "Incasso Totale:": "€" + money(day["totalRevenue"]),
            "Incasso Contanti:": "€" + money(day["totalCashRevenue"]),
            "Incasso Elettronico:": "€" + money(day["totalCardRevenue"]),
        }
        for label, figure in lines.items():
            assert re.search(re.escape(label) + r" +" + re.escape(figure), ticket), f"no {label} {figure}: {ticket!r}"
        assert day["totalOrders"] >= 2 and Decimal(day["totalRevenue"]) > 0, day
        for text in ("Till 1", "PIZZA", "DRINKS"):
            assert text in ticket, f"the closure lacks {text!r}: {ticket!r}"
        self.printed("Bar", "x PIZZA", after=bar)  # one ticket per category, with its quantity

    def the_config_page_signs_in_as_a_maintainer(self) -> None:
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = urllib.parse.urlencode({"username": "manut", "password": self.passwords["manut"]}).encode()
        with browser.open(WEB_UI + "/login", data=form, timeout=30) as page:
            assert page.url.endswith("/config"), f"the login ended on {page.url}"
        assert {c.name for c in jar} >= {"mystampa_session", "mystampa_role"}, [c.name for c in jar]
        with browser.open(WEB_UI + "/api/categories?include=foods", timeout=30) as answer:
            categories = json.loads(answer.read())
        menu = {c["name"]: sorted(f["name"] for f in c["foods"]) for c in categories}
        assert menu == {"Pizza": ["Diavola", "Margherita"], "Drinks": ["Beer", "Lemonade"]}, menu

    def the_config_page_refuses_an_operator(self) -> None:
        form = urllib.parse.urlencode({"username": "cassa", "password": self.passwords["cassa"]}).encode()
        with urllib.request.urlopen(WEB_UI + "/login", data=form, timeout=30) as page:
            assert "Accesso negato" in page.read().decode(), "an operator got in"


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def run(checkout: Path, work: Path) -> int:
    npm_ci(checkout, dict(os.environ))
    if not (checkout / "dist" / "index.js").is_file():
        subprocess.run(
            ["node", str(checkout / "node_modules" / "typescript" / "bin" / "tsc")], cwd=checkout, check=True
        )
    printers = {"Kitchen": FakePrinter(), "Bar": FakePrinter()}
    passwords = {name: secrets.token_urlsafe(12) for name in ("cassa", "manut", "boss")}
    key_file = work / "agent-key"
    argument = {
        "passwords": passwords,
        "printerPorts": {name: printer.port for name, printer in printers.items()},
        "keyFile": str(key_file),
    }
    agent = Child()
    try:
        with backend(work, argument) as api_url:
            (work / "agent").mkdir()
            log = work / "agent.log"
            env = dict(os.environ, API_URL=api_url, API_KEY=key_file.read_text(), STATION_TICKETS_ENABLED="true")
            with open(log, "wb") as output:
                start(agent, ["node", str(checkout / "dist" / "index.js")], work / "agent", env, output)
                check = Agent(Api(api_url, "boss", passwords["boss"]), printers, passwords, log)
                results: Results = run_flows(
                    [
                        check.signs_in_and_reports_its_printers,
                        check.a_confirmed_cash_order_prints,
                        check.a_reprint_prints_the_chosen_lines,
                        check.a_cancellation_prints_a_slip,
                        check.the_drawer_opens_on_request,
                        check.the_day_closure_prints_real_numbers,
                        check.the_config_page_signs_in_as_a_maintainer,
                        check.the_config_page_refuses_an_operator,
                    ]
                )
                agent.stop()
    finally:
        agent.stop()
        for printer in printers.values():
            printer.close()
    for name, printer in printers.items():
        (work / f"printed-{name}.txt").write_text("\n\n=====\n\n".join(texts(printer)))
    return report(results, work)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.check_mystampa", description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a mystampa checkout (github MySagra/mystampa)")
    checkout = parser.parse_args(argv[1:]).checkout.resolve()
    reason = skip_reason(checkout, "mystampa", browser=False)
    if reason is None and port_taken(3032):
        reason = "port 3032 is taken (mystampa's web UI listens there, fixed in its code)"
    if reason:
        print(f"skipped: {reason}")
        return 0
    return run(checkout, Path(tempfile.mkdtemp(prefix="check-mystampa-")))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
