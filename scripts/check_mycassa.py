"""`python -m scripts.check_mycassa PATH`: run MySagra's cashier SPA
(mycassa, a checkout at PATH, never part of this repository) against this
backend, unmodified, and drive it in Debian's Chromium as a cashier would.
Prints one PASS/FAIL line per flow; exit status 1 when a flow failed, 0 when
all passed or when the check cannot run here (no checkout at PATH, no npm,
no Chromium, no Playwright: it says which, and skips).

What it does, all on 127.0.0.1 and in a temporary directory:
- `npm ci` when PATH has no node_modules, `next build` when it has no build
  (with NEXT_FONT_GOOGLE_MOCKED_RESPONSES pointing at a file that answers
  the app's two Google fonts with locally installed ones: no download);
- a fresh SQLite database: a menu with two stations, ingredients with a
  surcharge, two tills, an operator, a maintainer and an admin, each with a
  random password;
- this backend (`config.serve`) and the app (`next start`, API_URL pointing
  at the backend), each on a port of its own, stopped by PID at the end.

The app's own settings: API_URL, REQUIRE_TABLE, REQUIRE_CUSTOMER,
SHOW_NUMBERS, AUTH_SECRET, AUTH_URL (docs/api-clients.md)."""

from __future__ import annotations

import functools
import secrets
import sys
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


def toasts(page) -> str:
    return " | ".join(
        page.evaluate("() => [...document.querySelectorAll('[data-sonner-toast]')].map(e => e.innerText)")
    )


class Till:
    """The flows, in order, on one Chromium page of the app."""

    def __init__(self, page, app: str, api: Api, passwords: dict[str, str], shots: Path):
        self.page, self.app, self.api, self.passwords, self.shots = page, app, api, passwords, shots

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"))

    def sign_in(self, username: str = "cassa") -> None:
        page = self.page
        page.goto(self.app + "/login")
        page.locator("input").first.fill(username)
        page.locator("input[type=password]").fill(self.passwords[username])
        page.locator("button[type=submit]").click()
        page.wait_for_url("**/cashier", timeout=WAIT_MS)
        names = {c["name"] for c in page.context.cookies()}
        assert {"mycassa_session", "mycassa_user"} <= names, f"the app's cookies: {sorted(names)}"

    def menu_and_till(self, till: str = "Till 1") -> None:
        page = self.page
        page.get_by_text("Margherita", exact=True).first.wait_for(timeout=WAIT_MS)
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("combobox").click()
        page.get_by_role("option", name=till).click()
        dialog.get_by_role("button", name="Salva configurazione").click()
        page.get_by_text(till, exact=True).first.wait_for()
        self.shot("menu")

    def _cart(self, customer: str, table: str, *, extras: int = 0, discount: str | None = None) -> None:
        page = self.page
        page.get_by_text("Margherita", exact=True).first.click()
        page.get_by_text("Beer", exact=True).first.click()
        if extras:
            page.locator("button:has(svg.lucide-pencil)").first.click()
            dialog = page.get_by_role("dialog")
            row = dialog.locator("div.flex.items-center.justify-between", has_text="Mozzarella").first
            for _ in range(extras):
                row.locator("button").nth(1).click()
            dialog.get_by_role("button", name="Salva").click()
        if discount:
            page.locator("button:has(svg.lucide-percent)").click()
            dialog = page.get_by_role("dialog")
            dialog.locator("input").first.fill(discount)
            dialog.get_by_role("button", name="Applica").click()
        page.get_by_placeholder("Es. Mario Rossi").fill(customer)
        page.get_by_placeholder("Es. 12 o Tavolo A5").fill(table)
        page.get_by_role("button", name="Contanti").click()

    def sell_with_extras_discount_cash_table(self) -> None:
        # Three more Mozzarella at 0.30: the app sends 0.8999999999999999.
        self._cart("Rossi", "12", extras=3, discount="2.35")
        self.shot("cart")
        self.page.get_by_role("button", name="Crea Ordine").click()
        self.page.get_by_text("Ordine confermato con successo").first.wait_for(timeout=WAIT_MS)
        order = self.api.latest_order()
        got = {k: order[k] for k in ("status", "table", "paymentMethod", "subTotal", "surcharge", "discount", "total")}
        want = {
            "status": "CONFIRMED",
            "table": "12",
            "paymentMethod": "CASH",
            "subTotal": "17.5",
            "surcharge": "0.9",
            "discount": "2.35",
            "total": "16.05",
        }
        assert got == want, got

    def _open_list(self) -> None:
        self.page.get_by_role("button", name="Ordini Giornalieri").click()

    def _card(self, code: str):
        return (
            self.page.locator("div.rounded-xl", has_text=code)
            .filter(has=self.page.get_by_role("button", name="Visualizza"))
            .last
        )

    def daily_list_and_filters(self) -> None:
        pending = self.api.order("Bianchi", "7", "Diavola")
        self._open_list()
        self._card(pending["displayCode"]).wait_for(timeout=WAIT_MS)
        assert self._card("A01").count() == 0, "the pending-only list shows the confirmed A01"
        self.page.get_by_text("SOLO IN ATTESA").first.click()
        self._card("A01").wait_for(timeout=WAIT_MS)
        self.page.get_by_placeholder("Cerca per codice, tavolo o cliente...").fill("Bianchi")
        self.page.keyboard.press("Enter")
        self.page.wait_for_timeout(1500)
        assert self._card("A01").count() == 0, "the search for Bianchi still lists A01"
        self.page.get_by_placeholder("Cerca per codice, tavolo o cliente...").fill("")
        self.page.keyboard.press("Enter")
        self._card("A01").wait_for(timeout=WAIT_MS)
        self.shot("daily-orders")

    def detail_and_reprint(self) -> None:
        self._card("A01").get_by_role("button", name="Visualizza").click()
        dialog = self.page.get_by_role("dialog")
        dialog.get_by_text("Till 1").wait_for(timeout=WAIT_MS)
        for text in ("cassa", "Cucina", "Bar", "Mozzarella"):
            assert text in dialog.inner_text(), f"the detail lacks {text!r}"
        self.shot("detail")
        dialog.get_by_role("button", name="Stampa").click()
        reprint = self.page.get_by_role("dialog").last
        reprint.get_by_text("Kitchen").wait_for(timeout=WAIT_MS)
        for box in reprint.get_by_role("checkbox").all():
            if box.get_attribute("data-state") != "checked":
                box.click()
        reprint.get_by_role("button", name="Ristampa").click()
        self.page.get_by_text("Ristampa eseguita con successo").first.wait_for(timeout=WAIT_MS)
        dialog.get_by_role("button", name="Chiudi").click()
        dialog.wait_for(state="hidden")

    def cancel_a_picked_up_order(self) -> None:
        card_payment = {"paymentMethod": "CARD", "cashRegisterId": self.api.till_id(), "discount": 0}
        order = self.api.order("Verdi", "3", "Lemonade", confirm=card_payment)
        card = self._card(order["displayCode"])
        # One change at a time: the app fetches a confirmed order and then
        # writes it as CONFIRMED, over any status change that came meanwhile.
        card.get_by_text("Confermato").wait_for(timeout=WAIT_MS)
        for status, label in (("COMPLETED", "Completato"), ("PICKED_UP", "Ritirato")):
            self.api.call("PATCH", f"/v1/orders/{order['id']}", {"status": status})
            card.get_by_text(label).wait_for(timeout=WAIT_MS)
        card.locator("button:has(svg.lucide-x)").click()
        self.page.get_by_role("alertdialog").get_by_role("button", name="Annulla ordine").click()
        card.get_by_text("Annullato").wait_for(timeout=WAIT_MS)
        assert self.api.call("GET", f"/v1/orders/{order['id']}")["status"] == "CANCELLED"

    def load_by_code_and_confirm_with_a_new_table(self) -> None:
        pending = self.api.call("GET", "/v1/orders?status=PENDING&sortBy=createdAt&limit=1")["data"][0]
        self.page.get_by_placeholder("CODICE ORDINE (ES. ABC)").fill(pending["displayCode"].lower())
        self.page.locator("button:has(svg.lucide-search)").first.click()
        self.page.get_by_text(f"Ordine {pending['displayCode']} caricato con successo").wait_for(timeout=WAIT_MS)
        self.page.get_by_placeholder("Es. 12 o Tavolo A5").fill("9B")
        self.page.get_by_role("button", name="Carta").click()
        self.page.get_by_role("button", name="Crea Ordine").click()
        self.page.get_by_text("Ordine confermato con successo").first.wait_for(timeout=WAIT_MS)
        order = self.api.call("GET", f"/v1/orders/{pending['id']}")
        assert (order["status"], order["table"], order["paymentMethod"]) == ("CONFIRMED", "9B", "CARD"), order

    def live_orders(self) -> None:
        created = self.api.order("Neri", "21", "Beer", quantity=2)
        card = self._card(created["displayCode"])
        card.get_by_text("In attesa").wait_for(timeout=WAIT_MS)
        body = {"paymentMethod": "CASH", "cashRegisterId": self.api.till_id(), "discount": 0}
        self.api.call("POST", f"/v1/orders/{created['id']}/confirm", body)
        card.get_by_text("Confermato").wait_for(timeout=WAIT_MS)
        self.api.call("PATCH", f"/v1/orders/{created['id']}", {"status": "COMPLETED"})
        card.get_by_text("Completato").wait_for(timeout=WAIT_MS)
        self.shot("live")

    def availability_and_an_unavailable_food_sold_anyway(self) -> None:
        page = self.page
        page.get_by_role("button", name="Ordini Giornalieri").click()  # closes the list
        diavola = self.api.food_id("Diavola")
        page.get_by_text("Diavola", exact=True).first.click()
        self.api.call("PATCH", f"/v1/foods/{diavola}", {"available": False})
        page.get_by_text("Non disp.").first.wait_for(timeout=WAIT_MS)
        self.shot("unavailable")
        self._cart("Gialli", "5")
        page.get_by_role("button", name="Crea Ordine").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Crea ordine").click()
        page.get_by_text("Ordine confermato con successo").first.wait_for(timeout=WAIT_MS)
        order = self.api.latest_order()
        assert order["customer"] == "Gialli" and order["status"] == "CONFIRMED", order
        self.api.call("PATCH", f"/v1/foods/{diavola}", {"available": True})
        page.wait_for_function("() => !document.body.innerText.includes('Non disp.')", timeout=WAIT_MS)

    def sign_out(self) -> None:
        page = self.page
        page.get_by_text("CA", exact=True).first.click()
        page.get_by_role("menuitem", name="Esci").click()
        page.wait_for_url("**/login", timeout=WAIT_MS)
        names = {c["name"] for c in page.context.cookies()}
        assert not names & {"mycassa_session", "mycassa_user"}, names

    def maintainer_drawer_and_closure(self) -> None:
        self.sign_in("manut")
        self.page.get_by_text("Margherita", exact=True).first.wait_for(timeout=WAIT_MS)
        self.page.wait_for_timeout(1000)
        if self.page.get_by_text("Configurazione mancante").count():
            self.menu_and_till()
        self.page.get_by_role("button", name="Apri cassetto").click()
        self.page.get_by_text("Cassetto aperto con successo").wait_for(timeout=WAIT_MS)
        self.page.get_by_role("button", name="Chiusura Sagra").click()
        self.page.get_by_role("alertdialog").get_by_role("button", name="Conferma").click()
        self.page.get_by_text("Chiusura cashier eseguita con successo").wait_for(timeout=WAIT_MS)
        self.shot("closure")


def drive(app: str, api: Api, passwords: dict[str, str], shots: Path) -> Results:
    with chromium_page() as page:
        till = Till(page, app, api, passwords, shots)

        def failed(name: str) -> None:
            till.shot(f"failed-{name}")
            print(f"  toasts then: {toasts(page)}", file=sys.stderr)

        return run_flows(
            [
                till.sign_in,
                till.menu_and_till,
                till.sell_with_extras_discount_cash_table,
                till.daily_list_and_filters,
                till.detail_and_reprint,
                till.cancel_a_picked_up_order,
                till.load_by_code_and_confirm_with_a_new_table,
                till.live_orders,
                till.availability_and_an_unavailable_food_sold_anyway,
                till.sign_out,
                till.maintainer_drawer_and_closure,
            ],
            failed,
        )


def app_settings(api_url: str, url: str) -> dict[str, str]:
    """mycassa's settings (docs/api-clients.md) for the app served at `url`."""
    return {
        "API_URL": api_url,
        "REQUIRE_TABLE": "true",
        "REQUIRE_CUSTOMER": "true",
        "SHOW_NUMBERS": "false",
        "AUTH_SECRET": secrets.token_urlsafe(32),
        "AUTH_URL": url,
    }


def run(checkout: Path, work: Path, shots: Path) -> int:
    passwords = {name: secrets.token_urlsafe(12) for name in ("cassa", "manut", "boss")}
    with backend(work, {"passwords": passwords}) as api_url:
        with next_server(checkout, work, functools.partial(app_settings, api_url), "/login") as app_url:
            results = drive(app_url, Api(api_url, "boss", passwords["boss"]), passwords, shots)
    return report(results, work, shots)


def main(argv: list[str]) -> int:
    return browser_check(argv, "mycassa", __doc__, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
