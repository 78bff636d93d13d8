"""`python -m scripts.check_mynumeri PATH`: run MySagra's order board
(mynumeri, a checkout at PATH, never part of this repository) against this
backend, unmodified, and drive it in Debian's Chromium as the kitchen's
staff would. Prints one PASS/FAIL line per flow; exit status 1 when a flow
failed, 0 when all passed or when the check cannot run here (no checkout at
PATH, no npm, no Chromium, no Playwright: it says which, and skips).

What it does, all on 127.0.0.1 and in a temporary directory:
- when PATH has no node_modules, `npm install --no-save` with one
  substitute (SUBSTITUTES: its lock names a version that is no longer
  published); `next build` when it has no build (fonts answered locally,
  as for mycassa: scripts/mysagra_apps.py);
- a fresh SQLite database with the menu and staff of check_mycassa (two
  stations, Cucina for the pizzas and Bar for the drinks; an operator);
- this backend and the app (`next start`, API_URL pointing at the backend),
  stopped by PID at the end.

The board keeps its own settings (stations on or off, display mode) in
PATH/data/display-config.json; the check sets them through the app at the
start (stations off) and turns stations on from the settings page. Its
settings from the environment: API_URL, AUTH_SECRET, AUTH_URL."""

from __future__ import annotations

import functools
import json
import secrets
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from scripts.mysagra_apps import (
    WAIT_MS,
    Api,
    Results,
    backend,
    browser_check,
    chromium_page,
    next_server,
    report,
    run_flows,
)

# Its lock pins @teispace/next-themes 0.2.0, which is no longer published
# (0.3.2 is the oldest left, with the same ThemeProvider and useTheme).
SUBSTITUTES = ("@teispace/next-themes@0.3.2",)
PREPARING, READY = "Ordini in preparazione", "Ordini pronti"


class Board:
    """The flows, in order, on one Chromium page of the app (and a second
    one for the public display)."""

    def __init__(self, page, app: str, api: Api, passwords: dict[str, str], shots: Path):
        self.page, self.app, self.api, self.passwords, self.shots = page, app, api, passwords, shots
        self.cash = {"paymentMethod": "CASH", "cashRegisterId": api.till_id(), "discount": 0}
        self.stations = {s["name"]: s["id"] for s in api.call("GET", "/v1/stations")}
        self.codes: dict[str, dict] = {}  # the check's orders by display code

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"))

    def confirmed_order(self, customer: str, food: str, *, also: str | None = None) -> dict:
        """An order made and confirmed at a till (this backend's API)."""
        lines = [{"foodId": self.api.food_id(food), "quantity": 1}]
        if also:
            lines.append({"foodId": self.api.food_id(also), "quantity": 1})
        order = self.api.call(
            "POST", "/v1/orders", {"table": "4", "customer": customer, "orderItems": lines, "confirm": self.cash}
        )
        self.codes[order["displayCode"]] = order
        return order

    def status(self, order: dict) -> tuple[str, dict[str, str]]:
        """The order's status and its stations' (by station name), as the API says."""
        got = self.api.call("GET", f"/v1/orders/{order['id']}")
        return got["status"], {s["station"]["name"]: s["status"] for s in got["orderStationStates"]}

    def wait_status(self, order: dict, want: tuple[str, dict[str, str]]) -> None:
        """The board's PATCH is sent by its server after the click: wait for it."""
        for _ in range(60):
            got = self.status(order)
            if got == want:
                return
            self.page.wait_for_timeout(250)
        raise AssertionError(f"{order['displayCode']}: {got} instead of {want}")

    # --- normal mode --------------------------------------------------------------

    def grid(self, title: str):
        return self.page.locator("div.rounded-xl", has=self.page.get_by_role("heading", name=title, exact=True))

    def number(self, where, code: str):
        return where.get_by_role("button", name=code, exact=True)

    def sign_in(self) -> None:
        # The board's settings live in the app, not in this backend: stations off.
        request = urllib.request.Request(
            self.app + "/api/display-config",
            method="PATCH",
            data=json.dumps({"stationsEnabled": False, "displayMode": "ready"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=30).close()
        self.confirmed_order("Bianchi", "Margherita")  # before the board opens: read from the list
        page = self.page
        page.goto(self.app + "/")
        page.locator("input").first.fill("cassa")
        page.locator("input[type=password]").fill(self.passwords["cassa"])
        page.locator("button[type=submit]").click()
        page.wait_for_url("**/manager", timeout=WAIT_MS)
        names = {c["name"] for c in page.context.cookies()}
        assert "mynumeri_token" in names, f"the app's cookies: {sorted(names)}"
        # The user menu shows the user's initials (a login body without a
        # flat username made it crash on `.slice`).
        page.get_by_text("CA", exact=True).first.wait_for(timeout=WAIT_MS)

    def numbers_from_the_list_and_live(self) -> None:
        first = next(iter(self.codes))
        self.number(self.grid(PREPARING), first).wait_for(timeout=WAIT_MS)
        pending = self.api.order("Neri", "8", "Beer")
        self.page.wait_for_timeout(1000)
        assert self.number(self.page, pending["displayCode"]).count() == 0, "a PENDING order is on the board"
        self.api.call("POST", f"/v1/orders/{pending['id']}/confirm", self.cash)
        self.codes[pending["displayCode"]] = pending
        self.number(self.grid(PREPARING), pending["displayCode"]).wait_for(timeout=WAIT_MS)
        self.shot("live")

    def move_and_undo(self) -> None:
        code = next(iter(self.codes))
        order = self.codes[code]
        self.number(self.grid(PREPARING), code).click()
        self.number(self.grid(READY), code).wait_for(timeout=WAIT_MS)
        self.wait_status(order, ("COMPLETED", {"Cucina": "COMPLETED"}))
        undo = self.grid(READY).locator("div.flex.h-16", has=self.number(self.page, code)).locator("button").first
        undo.click()
        self.number(self.grid(PREPARING), code).wait_for(timeout=WAIT_MS)
        self.wait_status(order, ("CONFIRMED", {"Cucina": "CONFIRMED"}))
        self.number(self.grid(PREPARING), code).click()
        self.number(self.grid(READY), code).click()  # picked up
        self.wait_status(order, ("PICKED_UP", {"Cucina": "PICKED_UP"}))
        self.page.wait_for_timeout(500)
        assert self.number(self.grid(READY), code).count() == 0, "a picked-up order is still ready"
        self.shot("moved")

    def a_change_made_elsewhere_shows_live(self) -> None:
        code = list(self.codes)[1]
        self.api.call("PATCH", f"/v1/orders/{self.codes[code]['id']}", {"status": "COMPLETED"})
        self.number(self.grid(READY), code).wait_for(timeout=WAIT_MS)
        cancelled = self.confirmed_order("Verdi", "Lemonade")
        self.number(self.grid(PREPARING), cancelled["displayCode"]).wait_for(timeout=WAIT_MS)
        self.api.call("DELETE", f"/v1/orders/{cancelled['id']}")
        self.page.get_by_text(cancelled["displayCode"]).first.wait_for(timeout=WAIT_MS)  # the app's toast
        self.page.wait_for_timeout(500)
        assert self.number(self.grid(PREPARING), cancelled["displayCode"]).count() == 0, "a cancelled order stays"

    def the_public_display(self) -> None:
        """/display (display mode "ready"): the ready numbers, live."""
        display = self.page.context.new_page()
        try:
            display.goto(self.app + "/display")
            ready = list(self.codes)[1]
            display.get_by_text(ready, exact=True).first.wait_for(timeout=WAIT_MS)
            order = self.confirmed_order("Gialli", "Diavola")
            self.api.call("PATCH", f"/v1/orders/{order['id']}", {"status": "COMPLETED"})
            display.get_by_text(order["displayCode"], exact=True).first.wait_for(timeout=WAIT_MS)
            display.screenshot(path=str(self.shots / "display.png"))
        finally:
            display.close()

    # --- stations mode ------------------------------------------------------------

    def station(self, name: str):
        return self.page.locator("div.rounded-xl", has=self.page.get_by_role("heading", name=name, exact=True))

    def half(self, station: str, index: int):
        """A station's preparing (0) or ready (1) half."""
        return self.station(station).locator("div.flex-1.min-h-0").nth(index)

    def turn_stations_on(self) -> None:
        page = self.page
        page.goto(self.app + "/settings")
        switch = page.locator("#stations-enabled")
        switch.click()  # once the settings are loaded: it is disabled until then
        assert switch.get_attribute("data-state") == "checked", "the stations switch did not turn on"
        card = switch.locator("xpath=ancestor::div[.//button[normalize-space()='Salva']][1]")
        card.get_by_role("button", name="Salva").click()
        page.get_by_text("Modalità display salvata").first.wait_for(timeout=WAIT_MS)
        page.goto(self.app + "/manager")
        self.station("Cucina").wait_for(timeout=WAIT_MS)
        self.station("Bar").wait_for(timeout=WAIT_MS)

    def stations_done_undo_and_picked_up(self) -> None:
        order = self.confirmed_order("Rossi", "Margherita", also="Beer")
        code = order["displayCode"]
        self.number(self.half("Cucina", 0), code).wait_for(timeout=WAIT_MS)
        self.number(self.half("Bar", 0), code).wait_for(timeout=WAIT_MS)
        self.shot("stations")
        self.number(self.half("Cucina", 0), code).click()
        self.number(self.half("Cucina", 1), code).wait_for(timeout=WAIT_MS)
        self.wait_status(order, ("CONFIRMED", {"Cucina": "COMPLETED", "Bar": "CONFIRMED"}))
        undo = self.half("Cucina", 1).locator("div.flex.h-16", has=self.number(self.page, code)).locator("button")
        undo.first.click()
        self.number(self.half("Cucina", 0), code).wait_for(timeout=WAIT_MS)
        self.wait_status(order, ("CONFIRMED", {"Cucina": "CONFIRMED", "Bar": "CONFIRMED"}))
        self.number(self.half("Cucina", 0), code).click()
        self.number(self.half("Bar", 0), code).click()
        self.wait_status(order, ("COMPLETED", {"Cucina": "COMPLETED", "Bar": "COMPLETED"}))
        # Done at both: the order is COMPLETED and stays in both ready halves.
        self.page.wait_for_timeout(1000)
        for station in ("Cucina", "Bar"):
            assert self.number(self.half(station, 1), code).count() == 1, f"{code} left {station}'s ready half"
        self.number(self.half("Bar", 1), code).click()  # picked up at the bar
        self.wait_status(order, ("COMPLETED", {"Cucina": "COMPLETED", "Bar": "PICKED_UP"}))
        self.shot("stations-moved")

    def a_station_change_made_elsewhere_shows_live(self) -> None:
        order = self.confirmed_order("Blu", "Diavola")
        code = order["displayCode"]
        self.number(self.half("Cucina", 0), code).wait_for(timeout=WAIT_MS)
        path = f"/v1/orders/{order['id']}/stations/{self.stations['Cucina']}"
        self.api.call("PATCH", path, {"status": "COMPLETED"})
        self.number(self.half("Cucina", 1), code).wait_for(timeout=WAIT_MS)
        self.api.call("PATCH", path, {"status": "CONFIRMED"})
        self.number(self.half("Cucina", 0), code).wait_for(timeout=WAIT_MS)

    def sign_out(self) -> None:
        page = self.page
        on_login = lambda url: urllib.parse.urlsplit(url).path == "/"  # noqa: E731
        page.get_by_text("CA", exact=True).first.click()
        page.get_by_role("menuitem", name="Esci").click()
        page.wait_for_url(on_login, timeout=WAIT_MS)
        page.goto(self.app + "/manager")
        page.wait_for_url(on_login, timeout=WAIT_MS)
        page.locator("input[type=password]").wait_for(timeout=WAIT_MS)
        names = {c["name"] for c in page.context.cookies()}
        assert not any("session-token" in name for name in names), f"the app's cookies: {sorted(names)}"


def drive(app: str, api: Api, passwords: dict[str, str], shots: Path) -> Results:
    with chromium_page() as page:
        board = Board(page, app, api, passwords, shots)
        return run_flows(
            [
                board.sign_in,
                board.numbers_from_the_list_and_live,
                board.move_and_undo,
                board.a_change_made_elsewhere_shows_live,
                board.the_public_display,
                board.turn_stations_on,
                board.stations_done_undo_and_picked_up,
                board.a_station_change_made_elsewhere_shows_live,
                board.sign_out,
            ],
            lambda name: board.shot(f"failed-{name}"),
        )


def app_settings(api_url: str, url: str) -> dict[str, str]:
    """mynumeri's settings (docs/api-clients.md) for the app served at `url`."""
    return {"API_URL": api_url, "AUTH_SECRET": secrets.token_urlsafe(32), "AUTH_URL": url}


def run(checkout: Path, work: Path, shots: Path) -> int:
    passwords = {name: secrets.token_urlsafe(12) for name in ("cassa", "manut", "boss")}
    with backend(work, {"passwords": passwords}) as api_url:
        settings = functools.partial(app_settings, api_url)
        with next_server(checkout, work, settings, "/", SUBSTITUTES) as app_url:
            results = drive(app_url, Api(api_url, "boss", passwords["boss"]), passwords, shots)
    return report(results, work, shots)


def main(argv: list[str]) -> int:
    return browser_check(argv, "mynumeri", __doc__, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
