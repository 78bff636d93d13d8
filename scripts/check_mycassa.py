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

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from scripts.child import Child
from scripts.ports import hold_port

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
WAIT_MS = 30_000

# next/font/google asks for these two stylesheets; Turbopack reads the mock
# file's keys as they are (no lookup function), and a `local()` source
# makes it fetch no font file.
FONT_MOCK = """const face = (name, local) =>
  `@font-face { font-family: '${name}'; font-style: normal; font-weight: 100 900; src: local('${local}'); }`;
module.exports = {
  'https://fonts.googleapis.com/css2?family=Geist:wght@100..900&display=swap': face('Geist', 'DejaVu Sans'),
  'https://fonts.googleapis.com/css2?family=Geist+Mono:wght@100..900&display=swap': face('Geist Mono', 'DejaVu Sans Mono'),
};
"""


def load_data(passwords: dict[str, str]) -> None:
    """The check's menu and staff, in the database of DJANGO settings
    (called in a child process that has set Django up)."""
    from decimal import Decimal

    from orders.models import CashRegister, Category, Food, Ingredient, Printer, Station
    from users.models import Role
    from users.services import user_create

    kitchen_printer = Printer.objects.create(name="Kitchen", ip="127.0.0.1")
    bar_printer = Printer.objects.create(name="Bar", ip="127.0.0.1")
    CashRegister.objects.create(name="Till 1", default_printer=bar_printer)
    CashRegister.objects.create(name="Till 2")
    kitchen = Station.objects.create(name="Cucina", position=1)
    bar = Station.objects.create(name="Bar", position=2)
    pizza = Category.objects.create(name="Pizza", position=1, station=kitchen, printer=kitchen_printer)
    drinks = Category.objects.create(name="Drinks", position=2, station=bar, printer=bar_printer)
    extras = [
        Ingredient.objects.create(name="Mozzarella", surcharge=Decimal("0.3")),
        Ingredient.objects.create(name="Basilico", surcharge=Decimal("0")),
    ]
    for name, price in (("Margherita", "12.5"), ("Diavola", "14")):
        Food.objects.create(name=name, price=Decimal(price), category=pizza).ingredients.set(extras)
    for name, price in (("Beer", "5"), ("Lemonade", "3.5")):
        Food.objects.create(name=name, price=Decimal(price), category=drinks)
    for username, role in (("cassa", Role.OPERATOR), ("manut", Role.MAINTAINER), ("boss", Role.ADMIN)):
        user_create(username=username, role=role, password=passwords[username])


class Api:
    """This backend's REST API as the admin, with a Bearer token."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.token = self.call("POST", "/auth/login", {"username": username, "password": password}, auth=False)[
            "accessToken"
        ]

    def call(self, method: str, path: str, body: dict | None = None, *, auth: bool = True):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, method=method, data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def food_id(self, name: str) -> str:
        return next(f["id"] for f in self.call("GET", "/v1/foods") if f["name"] == name)

    def order(self, customer: str, table: str, food: str, quantity: int = 1, confirm: dict | None = None) -> dict:
        """An order made elsewhere (a waiter's phone, another till)."""
        body = {
            "table": table,
            "customer": customer,
            "orderItems": [{"foodId": self.food_id(food), "quantity": quantity}],
        }
        if confirm:
            body["confirm"] = confirm
        return self.call("POST", "/v1/orders", body)

    def latest_order(self) -> dict:
        return self.call("GET", "/v1/orders?sortBy=createdAt&limit=1")["data"][0]


def wait_http(url: str, child: Child, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not child.running():
            raise RuntimeError(f"the server for {url} stopped")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def skip_reason(checkout: Path) -> str | None:
    if not (checkout / "package.json").is_file():
        return f"no mycassa checkout at {checkout}"
    if shutil.which("npm") is None or shutil.which("npx") is None:
        return "npm is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (Debian's chromium package)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements-test.txt)"
    return None


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
        card_payment = {"paymentMethod": "CARD", "cashRegisterId": self.till_id(), "discount": 0}
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

    def till_id(self, name: str = "Till 1") -> str:
        return next(t["id"] for t in self.api.call("GET", "/v1/cash-registers") if t["name"] == name)

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
        body = {"paymentMethod": "CASH", "cashRegisterId": self.till_id(), "discount": 0}
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


def drive(app: str, api: Api, passwords: dict[str, str], shots: Path) -> list[tuple[str, str | None]]:
    from playwright.sync_api import sync_playwright

    results: list[tuple[str, str | None]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="it-IT").new_page()
            page.set_default_timeout(WAIT_MS)
            till = Till(page, app, api, passwords, shots)
            flows: list[Callable[[], None]] = [
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
            ]
            for flow in flows:
                try:
                    flow()
                    results.append((flow.__name__, None))
                except Exception as error:  # one failed flow is reported; the next ones still run
                    till.shot(f"failed-{flow.__name__}")
                    results.append((flow.__name__, f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"))
                    print(f"  toasts then: {toasts(page)}", file=sys.stderr)
        finally:
            browser.close()
    return results


def start(child: Child, command: list[str], cwd: Path, env: dict[str, str], log) -> None:
    """In a session of its own, so that stopping its PID stops it alone."""
    child.process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def run(checkout: Path, work: Path, shots: Path) -> int:
    env = dict(os.environ, NEXT_TELEMETRY_DISABLED="1")
    font_mock = work / "font-mock.cjs"
    font_mock.write_text(FONT_MOCK)
    env["NEXT_FONT_GOOGLE_MOCKED_RESPONSES"] = str(font_mock)
    if not (checkout / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=checkout, env=env, check=True)
    # Node itself, not npx: stopping the PID then stops the server.
    next_cli = ["node", str(checkout / "node_modules" / "next" / "dist" / "bin" / "next")]
    if not (checkout / ".next" / "BUILD_ID").is_file():
        subprocess.run([*next_cli, "build"], cwd=checkout, env=env, check=True)

    passwords = {name: secrets.token_urlsafe(12) for name in ("cassa", "manut", "boss")}
    (work / "var").mkdir()
    django_env = dict(os.environ, VAR_DIR=str(work / "var"), DJANGO_SECRET_KEY=secrets.token_urlsafe(32))
    django_env.pop("DATABASE_URL", None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=django_env, check=True)
    setup = "import django, json, sys; django.setup(); from scripts.check_mycassa import load_data; load_data(json.loads(sys.argv[1]))"
    subprocess.run(
        [python, "-c", setup, json.dumps(passwords)],
        cwd=BASE_DIR,
        env=dict(django_env, DJANGO_SETTINGS_MODULE="config.settings"),
        check=True,
    )

    backend, app = Child(), Child()
    try:
        with open(work / "backend.log", "wb") as backend_log, open(work / "app.log", "wb") as app_log:
            backend_port, app_port = hold_port(), hold_port()
            api_url, app_url = f"http://127.0.0.1:{backend_port.port}", f"http://127.0.0.1:{app_port.port}"
            serve = [python, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(backend_port.port)]
            start(backend, [*serve, "config.asgi:application"], BASE_DIR, django_env, backend_log)
            wait_http(api_url + "/v1/categories", backend, 60)
            backend_port.release()
            app_env = dict(
                env,
                API_URL=api_url,
                REQUIRE_TABLE="true",
                REQUIRE_CUSTOMER="true",
                SHOW_NUMBERS="false",
                AUTH_SECRET=secrets.token_urlsafe(32),
                AUTH_URL=app_url,
            )
            start(app, [*next_cli, "start", "-H", "127.0.0.1", "-p", str(app_port.port)], checkout, app_env, app_log)
            wait_http(app_url + "/login", app, 120)
            app_port.release()
            results = drive(app_url, Api(api_url, "boss", passwords["boss"]), passwords, shots)
    finally:
        app.stop()
        backend.stop()
    for name, failure in results:
        print(f"{'PASS' if failure is None else 'FAIL'} {name}{'' if failure is None else ': ' + failure}")
    print(f"screenshots in {shots}; logs in {work}")
    return 0 if all(failure is None for _, failure in results) else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.check_mycassa", description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a mycassa checkout (github MySagra/mycassa)")
    parser.add_argument("--shots", type=Path, help="where the screenshots go (default: the work directory)")
    args = parser.parse_args(argv[1:])
    checkout = args.checkout.resolve()
    reason = skip_reason(checkout)
    if reason:
        print(f"skipped: {reason}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="check-mycassa-"))
    shots = args.shots.resolve() if args.shots else work
    shots.mkdir(parents=True, exist_ok=True)
    return run(checkout, work, shots)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
