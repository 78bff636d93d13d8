"""A screen key's address comes with a QR code of it, once, in the message
after the key is added: the screen's camera or a phone reads it instead of
someone typing 60 characters."""

from __future__ import annotations

import re

import pytest
import segno
from django.test import Client

from users.models import Role
from users.services import user_create

PASSWORD = "a-qr-test-password"
QR_PATH = re.compile(r'<span class="screen-qr"><svg[^>]*>.*?<path[^>]* d="([^"]+)"', re.S)


@pytest.fixture
def admin_browser(db) -> Client:
    user_create(username="manager", role=Role.ADMIN, password=PASSWORD)
    client = Client()
    assert client.login(username="manager", password=PASSWORD)
    return client


def modules_of(address: str) -> str:
    """The drawing of `address` as a QR code, as the admin draws it."""
    return re.search(r' d="([^"]+)"', segno.make(address, error="m").svg_inline(scale=4, border=2)).group(1)


@pytest.mark.parametrize("kind, page", [("display", "display"), ("kitchen", "kitchen")])
def test_a_screen_keys_address_comes_with_its_qr_code_once(admin_browser, kind, page):
    response = admin_browser.post("/admin/users/apikey/add/", {"name": "Screen", "kind": kind}, follow=True)
    html = response.content.decode()
    address = re.search(rf'<code class="screen-address">(http://testserver/{page}/\?key=[^<]+)</code>', html).group(1)

    drawn = QR_PATH.search(html).group(1)

    assert drawn == modules_of(address)
    assert drawn != modules_of(address.replace("key=", "key=x"))
    assert 'class="screen-qr"' not in admin_browser.get("/admin/users/apikey/").content.decode()


def test_a_printer_agents_key_has_no_qr_code(admin_browser):
    response = admin_browser.post("/admin/users/apikey/add/", {"name": "Agent", "kind": "printer-agent"}, follow=True)
    assert 'class="screen-qr"' not in response.content.decode()
