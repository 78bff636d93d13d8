"""What the checks of MySagra's apps share (scripts/check_mycassa.py,
check_mynumeri.py, check_mystampa.py): each runs one app, unmodified, from a
checkout given by path (never part of this repository) against this backend,
and prints one PASS/FAIL line per flow.

Here: why a check cannot run (it then skips, saying so), installing and
building a Next.js app offline, this backend on a fresh SQLite database in a
work directory, this backend's REST API as its admin, and the PASS/FAIL
report. Everything listens on 127.0.0.1; every process started here runs in
a session of its own and is stopped by its PID."""

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.child import Child
from scripts.ports import hold_port

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
WAIT_MS = 30_000

# next/font/google asks for these two stylesheets (mycassa and mynumeri use
# the same fonts); Turbopack reads the mock file's keys as they are (no
# lookup function), and a `local()` source makes it fetch no font file.
FONT_MOCK = """const face = (name, local) =>
  `@font-face { font-family: '${name}'; font-style: normal; font-weight: 100 900; src: local('${local}'); }`;
module.exports = {
  'https://fonts.googleapis.com/css2?family=Geist:wght@100..900&display=swap': face('Geist', 'DejaVu Sans'),
  'https://fonts.googleapis.com/css2?family=Geist+Mono:wght@100..900&display=swap': face('Geist Mono', 'DejaVu Sans Mono'),
};
"""

Flow = Callable[[], None]
Results = list[tuple[str, str | None]]


def skip_reason(checkout: Path, app: str, *, browser: bool) -> str | None:
    """Why the check of `app` cannot run here, or None."""
    if not (checkout / "package.json").is_file():
        return f"no {app} checkout at {checkout}"
    if shutil.which("npm") is None or shutil.which("node") is None:
        return "npm is not installed"
    if browser:
        if not os.access(CHROMIUM, os.X_OK):
            return f"{CHROMIUM} is missing (Debian's chromium package)"
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return "the playwright package is not installed (requirements-test.txt)"
    return None


def npm_ci(checkout: Path, env: dict[str, str], substitutes: tuple[str, ...] = ()) -> None:
    """`npm ci` when the checkout has no node_modules. `substitutes`: package
    specs to install in place of those its lock names that can no longer be
    downloaded (`npm install --no-save`: package.json and the lock stay as
    they are). Native add-ons that would download binaries at install time
    (onnxruntime-node's CUDA build, pulled in by mynumeri) are told not to."""
    if (checkout / "node_modules").is_dir():
        return
    env = dict(env, ONNXRUNTIME_NODE_INSTALL_CUDA="skip")
    command = ["npm", "install", "--no-save", *substitutes] if substitutes else ["npm", "ci"]
    subprocess.run([*command, "--no-audit", "--no-fund"], cwd=checkout, env=env, check=True)


def next_app(checkout: Path, work: Path, substitutes: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """Install (npm_ci) and build a Next.js app if it is not yet: the
    environment to run it with and the command of its `next` (Node itself,
    not npx, so that stopping the PID stops the server)."""
    env = dict(os.environ, NEXT_TELEMETRY_DISABLED="1")
    font_mock = work / "font-mock.cjs"
    font_mock.write_text(FONT_MOCK)
    env["NEXT_FONT_GOOGLE_MOCKED_RESPONSES"] = str(font_mock)
    npm_ci(checkout, env, substitutes)
    next_cli = ["node", str(checkout / "node_modules" / "next" / "dist" / "bin" / "next")]
    if not (checkout / ".next" / "BUILD_ID").is_file():
        subprocess.run([*next_cli, "build"], cwd=checkout, env=env, check=True)
    return env, next_cli


def start(child: Child, command: list[str], cwd: Path, env: dict[str, str], log) -> None:
    """In a session of its own, so that stopping its PID stops it alone."""
    child.process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


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


def load_festival(argument: dict) -> None:
    """The checks' menu and staff, in the database of DJANGO settings (called
    by backend() in a child process that has set Django up). `argument`:
    "passwords" of cassa (operator), manut (maintainer) and boss (admin);
    optionally "printerPorts" {printer name: port} and "keyFile", a path
    where a new printer-agent key is written."""
    from decimal import Decimal

    from orders.models import CashRegister, Category, Food, Ingredient, Printer, Station
    from users.apikeys import create_key
    from users.models import ApiKeyKind, Role
    from users.services import user_create

    ports = argument.get("printerPorts", {})
    kitchen_printer = Printer.objects.create(name="Kitchen", ip="127.0.0.1", port=ports.get("Kitchen", 9100))
    bar_printer = Printer.objects.create(name="Bar", ip="127.0.0.1", port=ports.get("Bar", 9100))
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
    passwords = argument["passwords"]
    for username, role in (("cassa", Role.OPERATOR), ("manut", Role.MAINTAINER), ("boss", Role.ADMIN)):
        user_create(username=username, role=role, password=passwords[username])
    if "keyFile" in argument:
        Path(argument["keyFile"]).write_text(create_key(name="mystampa", kind=ApiKeyKind.PRINTER_AGENT)[1])


@contextmanager
def backend(work: Path, argument: dict) -> Iterator[str]:
    """This backend on a fresh SQLite database in `work`, with the checks'
    data (load_festival(argument)), served on a free port until the block
    ends: yields its base URL. Its output goes to backend.log."""
    (work / "var").mkdir()
    env = dict(os.environ, VAR_DIR=str(work / "var"), DJANGO_SECRET_KEY=secrets.token_urlsafe(32))
    env.pop("DATABASE_URL", None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True)
    setup = "import django, json, sys; django.setup(); from scripts.mysagra_apps import load_festival; load_festival(json.loads(sys.argv[1]))"
    subprocess.run(
        [python, "-c", setup, json.dumps(argument)],
        cwd=BASE_DIR,
        env=dict(env, DJANGO_SETTINGS_MODULE="config.settings"),
        check=True,
    )
    server = Child()
    try:
        with open(work / "backend.log", "wb") as log:
            port = hold_port()
            url = f"http://127.0.0.1:{port.port}"
            serve = [python, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port.port), "config.asgi:application"]
            start(server, serve, BASE_DIR, env, log)
            wait_http(url + "/v1/categories", server, 60)
            port.release()
            yield url
    finally:
        server.stop()


@contextmanager
def next_server(
    checkout: Path,
    work: Path,
    settings: Callable[[str], dict[str, str]],
    probe: str,
    substitutes: tuple[str, ...] = (),
) -> Iterator[str]:
    """The Next.js app of `checkout`, installed and built if need be, served
    (`next start`) on a free port until the block ends, once it answers the
    path `probe`: yields its base URL. `settings(url)` gives the app's own
    environment variables; its output goes to app.log in `work`."""
    env, next_cli = next_app(checkout, work, substitutes)
    app = Child()
    try:
        with open(work / "app.log", "wb") as log:
            port = hold_port()
            url = f"http://127.0.0.1:{port.port}"
            command = [*next_cli, "start", "-H", "127.0.0.1", "-p", str(port.port)]
            start(app, command, checkout, dict(env, **settings(url)), log)
            wait_http(url + probe, app, 120)
            port.release()
            yield url
    finally:
        app.stop()


class Api:
    """This backend's REST API as one user, with a Bearer token."""

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

    def till_id(self, name: str = "Till 1") -> str:
        return next(t["id"] for t in self.call("GET", "/v1/cash-registers") if t["name"] == name)

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


@contextmanager
def chromium_page() -> Iterator:
    """A page of Debian's Chromium (Playwright), desktop-sized and Italian,
    every wait bounded by WAIT_MS."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="it-IT").new_page()
            page.set_default_timeout(WAIT_MS)
            yield page
        finally:
            browser.close()


def browser_check(argv: list[str], app: str, doc: str, run: Callable[[Path, Path, Path], int]) -> int:
    """The command line of a check that drives `app` in Chromium: a checkout
    and --shots; skips (exit 0) when the check cannot run here, else
    run(checkout, work directory, screenshots directory)."""
    parser = argparse.ArgumentParser(prog=f"python -m scripts.check_{app}", description=doc.splitlines()[0])
    parser.add_argument("checkout", type=Path, help=f"a {app} checkout (github MySagra/{app})")
    parser.add_argument("--shots", type=Path, help="where the screenshots go (default: the work directory)")
    args = parser.parse_args(argv[1:])
    checkout = args.checkout.resolve()
    reason = skip_reason(checkout, app, browser=True)
    if reason:
        print(f"skipped: {reason}")
        return 0
    work = Path(tempfile.mkdtemp(prefix=f"check-{app}-"))
    shots = args.shots.resolve() if args.shots else work
    shots.mkdir(parents=True, exist_ok=True)
    return run(checkout, work, shots)


def run_flows(flows: list[Flow], on_failure: Callable[[str], None] = lambda name: None) -> Results:
    """Each flow in turn; one that fails is reported and the next ones
    still run (`on_failure(name)` first: a screenshot, a log excerpt)."""
    results: Results = []
    for flow in flows:
        try:
            flow()
            results.append((flow.__name__, None))
        except Exception as error:
            on_failure(flow.__name__)
            results.append((flow.__name__, f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"))
    return results


def report(results: Results, work: Path, shots: Path | None = None) -> int:
    """One PASS/FAIL line per flow; the exit status (1 when a flow failed)."""
    for name, failure in results:
        print(f"{'PASS' if failure is None else 'FAIL'} {name}{'' if failure is None else ': ' + failure}")
    print(f"logs in {work}" + (f"; screenshots in {shots}" if shots else ""))
    return 0 if all(failure is None for _, failure in results) else 1
