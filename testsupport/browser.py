"""Helpers for the browser tests (the screens', the till's, the admin
reports', CORS): Debian's Chromium driven by Playwright, static files for a
Daphne child, a staff session for the browser, and a cashier's HTTP client.

Everything talks to 127.0.0.1 only; nothing here downloads a browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.test import Client

from conftest import bearer
from testsupport import BASE_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def launched_chromium(monkeypatch) -> Iterator:
    """Headless Chromium. Playwright's sync API keeps an event loop running
    in this thread, which makes Django refuse ORM calls from the test
    ("async context") unless told otherwise; start servers before this, so
    that they do not inherit the setting."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            # Connections the test opened while Playwright's loop ran belong
            # to that context: close them here, or PostgreSQL's test database
            # cannot be dropped at the end of the run.
            from django.db import connections

            connections.close_all()
            chromium.close()


# Every wait in the browser tests is bounded by this (ms); Chromium retries a
# dropped EventSource every 3 s, so a restart needs a few of those.
WAIT_MS = 30_000


def chromium_available() -> tuple[bool, str]:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return False, f"{CHROMIUM} is missing (Debian's chromium package; `make system-deps` installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False, "the playwright package is not installed (requirements-test.txt)"
    return True, ""


def collect_static(var_dir: Path) -> Path:
    """`manage.py collectstatic` into var_dir/static, the STATIC_ROOT of a
    server started with VAR_DIR=var_dir. With DEBUG off, WhiteNoise serves
    only what is collected there, as after `make run`; collecting into a
    temporary directory leaves the developer's var/ alone."""
    env = os.environ.copy()
    env.update(VAR_DIR=str(var_dir), DJANGO_SECRET_KEY="collectstatic-only", DJANGO_SETTINGS_MODULE="config.settings")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    return var_dir / "static"


def session_cookie(user, base_url: str) -> dict:
    """A logged-in Django session for `user`, as a Playwright cookie. The
    Daphne child shares the database and the secret key, so it accepts it."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }


class Cashier:
    """Creates and confirms orders through the REST API, like the till."""

    def __init__(self, base_url: str, user):
        self.client = httpx.Client(base_url=base_url, headers=bearer(user), timeout=30)

    def confirmed_order(self, lines: list[tuple[str, int, str]], *, table: str = "1", customer: str = "Ann") -> dict:
        """lines: (food id, quantity, notes)."""
        items = [{"foodId": food_id, "quantity": quantity, "notes": notes} for food_id, quantity, notes in lines]
        created = self.client.post("/v1/orders", json={"table": table, "customer": customer, "orderItems": items})
        assert created.status_code == 201, created.text
        confirmed = self.client.post(f"/v1/orders/{created.json()['id']}/confirm", json={"paymentMethod": "CASH"})
        assert confirmed.status_code == 200, confirmed.text
        return confirmed.json()

    def close(self) -> None:
        self.client.close()


def save_screenshot(source: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots/ when UPDATE_SCREENSHOTS=1 (the
    README shows them); otherwise a run leaves the tree untouched."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        target = BASE_DIR / "docs" / "screenshots" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
