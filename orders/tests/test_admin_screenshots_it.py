"""The Italian admin index, kitchen display and board in a real Chromium
against a real Daphne, with the browser asking for Italian: each page reads
in Italian, and with UPDATE_SCREENSHOTS=1 its picture goes to
docs/screenshots/ (admin-it.png, kitchen-it.png, display-it.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.services import ConfirmInput, LineInput
from testsupport import require_service
from testsupport.browser import (
    WAIT_MS,
    chromium_available,
    collect_static,
    launched_chromium,
    save_screenshot,
    session_cookie,
)
from users.services import user_create


@pytest.fixture
def italian_server(daphne, tmp_path_factory):
    available, reason = chromium_available()
    require_service("chromium", available, reason)
    var_dir = tmp_path_factory.mktemp("italian-var")
    collect_static(var_dir)
    return daphne(VAR_DIR=str(var_dir), DJANGO_ALLOW_ASYNC_UNSAFE="")


@pytest.mark.browser
def test_the_admin_kitchen_and_board_read_in_italian(italian_server, menu, place_order, monkeypatch, tmp_path):
    boss = user_create(username="organizzatrice", role="admin", password="an-italian-screens-password")
    for table, customer in (("4", "Giulia"), ("7", "Marco")):
        place_order(
            table=table,
            customer=customer,
            lines=[LineInput(food_id=menu["margherita"].id, quantity=2)],
            confirm=ConfirmInput(payment_method="CASH", cash_register_id=menu["till"].id),
        )
    cookie = session_cookie(boss, italian_server.url)
    pages = (
        ("/admin/", "admin-it.png", "Aggiungi", {"width": 1280, "height": 900}),
        ("/kitchen/", "kitchen-it.png", "Margherita", {"width": 1280, "height": 800}),
        ("/display/", "display-it.png", "In preparazione", {"width": 1280, "height": 720}),
    )
    with launched_chromium(monkeypatch) as chromium:
        for path, name, expected, viewport in pages:
            context = chromium.new_context(viewport=viewport, locale="it-IT")
            context.set_default_timeout(WAIT_MS)
            context.add_cookies([cookie])
            page = context.new_page()
            response = page.goto(italian_server.url + path)
            assert response.status == 200, path
            expect(page.locator("html")).to_have_attribute("lang", "it")
            expect(page.locator("body")).to_contain_text(expected, ignore_case=True)
            if path != "/admin/":
                expect(page.locator("body")).to_contain_text("A02")  # the orders have arrived
            shot = tmp_path / name
            page.screenshot(path=str(shot))
            save_screenshot(shot, name)
            context.close()
