"""Screens are devices (screens/keys.py): a display key opens the board
and a kitchen key the kitchen display with no staff session, given once in
the address and kept in an HttpOnly cookie; revoking the key disconnects
the screen."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from django.test import Client

from events.tests.test_revocation import assert_closed_and_deaf
from orders.models import Order, OrderStatus
from screens.keys import SCREEN_COOKIE
from screens.tests.test_pages import (  # noqa: F401 (fixtures)
    board_codes,
    browser,
    browser_for,
    cashier,
    confirmed,
    page_server,
    page_var_dir,
)
from testsupport import SSEStream
from testsupport.browser import WAIT_MS
from users.apikeys import create_key, revoke_key
from users.models import ApiKeyKind


@pytest.fixture
def board_key(db):
    return create_key(name="TV by the door", kind=ApiKeyKind.DISPLAY)


@pytest.fixture
def kitchen_key(db):
    return create_key(name="Grill screen", kind=ApiKeyKind.KITCHEN)


def screen(path: str, raw: str) -> Client:
    """A browser that opened `path?key=raw` once."""
    client = Client(enforce_csrf_checks=True)
    client.get(f"{path}?key={raw}")
    return client


def test_the_key_in_the_address_goes_into_an_httponly_cookie_and_out_of_the_address(board_key):
    _key, raw = board_key
    client = Client()

    response = client.get(f"/display/?key={raw}")

    assert (response.status_code, response["Location"]) == (302, "/display/")
    cookie = response.cookies[SCREEN_COOKIE]
    assert cookie.value == raw
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    page = client.get("/display/")
    assert page.status_code == 200
    assert raw not in page.content.decode()
    assert client.get("/display/state").status_code == 200


def test_the_other_parameters_of_the_address_stay(kitchen_key, menu):
    _key, raw = kitchen_key
    response = Client().get(f"/kitchen/?printer={menu['kitchen'].pk}&key={raw}")
    assert response["Location"] == f"/kitchen/?printer={menu['kitchen'].pk}"


@pytest.mark.parametrize("problem", ["wrong", "revoked", "other kind"])
def test_a_bad_key_gets_the_disconnected_page_and_no_cookie(board_key, kitchen_key, problem):
    key, raw = board_key
    if problem == "wrong":
        raw = raw[:-4] + "AAAA"
    elif problem == "revoked":
        revoke_key(key=key)
    else:
        raw = kitchen_key[1]

    response = Client().get(f"/display/?key={raw}")

    assert response.status_code == 403
    assert b"This screen was disconnected." in response.content
    assert not response.cookies.get(SCREEN_COOKIE) or response.cookies[SCREEN_COOKIE].value == ""


def test_a_kitchen_screen_shows_the_kitchen_and_bumps_with_the_csrf_token(kitchen_key, menu, operator):
    order = confirmed(menu["margherita"], operator)
    client = screen("/kitchen/", kitchen_key[1])
    page = client.get("/kitchen/").content.decode()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert '"mayPickUp": false' in page and "Log out" not in page

    def post(path, **headers):
        return client.post(path, content_type="application/json", **headers)

    assert client.get("/kitchen/state").status_code == 200
    assert post(f"/kitchen/orders/{order.id}/bump").status_code == 403  # no CSRF token
    assert post(f"/kitchen/orders/{order.id}/bump", HTTP_X_CSRFTOKEN=csrf).status_code == 200
    assert post(f"/kitchen/orders/{order.id}/pickup", HTTP_X_CSRFTOKEN=csrf).status_code == 403
    assert Order.objects.get(pk=order.id).status == OrderStatus.COMPLETED
    assert client.get("/display/").status_code == 403  # a kitchen key is not the board's


def test_a_board_screen_may_not_bump_or_read_the_kitchen(board_key, menu, operator):
    order = confirmed(menu["margherita"], operator)
    client = screen("/display/", board_key[1])
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/display/").content.decode()).group(1)

    bump = client.post(f"/kitchen/orders/{order.id}/bump", content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    assert bump.status_code == 403
    assert client.get("/kitchen/state").status_code == 403
    assert Order.objects.get(pk=order.id).status == OrderStatus.CONFIRMED


def test_a_revoked_screen_is_disconnected_not_sent_to_the_staff_login(board_key):
    key, raw = board_key
    client = screen("/display/", raw)
    revoke_key(key=key)

    page = client.get("/display/")

    assert page.status_code == 403
    assert b"This screen was disconnected." in page.content
    assert client.get("/display/state").status_code in (401, 403)


def test_the_screen_cookie_opens_its_channel_only(shared_daphne, transactional_db):
    _key, raw = create_key(name="TV", kind=ApiKeyKind.DISPLAY)
    cookie = {"Cookie": f"{SCREEN_COOKIE}={raw}"}

    def status(channel):
        return httpx.head(f"{shared_daphne.url}/events/{channel}", headers=cookie, timeout=10).status_code

    assert [status("display"), status("cashier"), status("printer")] == [200, 403, 403]


def test_revoking_a_screens_key_closes_its_open_stream(daphne):
    server = daphne(EVENTS_POLL_SECONDS="0.2")
    key, raw = create_key(name="TV", kind=ApiKeyKind.DISPLAY)
    _, other_raw = create_key(name="Other TV", kind=ApiKeyKind.DISPLAY)
    with (
        SSEStream(f"{server.url}/events/display", headers={"Cookie": f"{SCREEN_COOKIE}={raw}"}) as stream,
        SSEStream(f"{server.url}/events/display", headers={"Cookie": f"{SCREEN_COOKIE}={other_raw}"}) as bystander,
    ):
        assert stream.status_code == bystander.status_code == 200
        assert stream.next().is_position and bystander.next().is_position
        revoke_key(key=key)
        assert_closed_and_deaf(stream, bystander, time.monotonic(), channel="display")


@pytest.mark.browser
def test_a_tv_opens_the_board_with_its_key_and_blanks_when_the_key_is_revoked(
    browser,  # noqa: F811 (the fixtures of test_pages, imported above)
    page_server,  # noqa: F811
    cashier,  # noqa: F811
    menu,
):
    from playwright.sync_api import expect

    key, raw = create_key(name="TV", kind=ApiKeyKind.DISPLAY)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.set_default_timeout(WAIT_MS)
    tv = context.new_page()
    tv.goto(f"{page_server.url}/display/?key={raw}")
    expect(tv.locator("body")).to_have_attribute("data-connection", "live", timeout=WAIT_MS)
    assert tv.url == f"{page_server.url}/display/"  # the key left the address bar
    assert tv.evaluate("document.cookie").find(raw) == -1  # and scripts cannot read it

    order = cashier.confirmed_order([(menu["margherita"].id, 1, "")])
    expect(board_codes(tv, "preparing", order["displayCode"])).to_have_count(1, timeout=WAIT_MS)

    revoke_key(key=key)
    expect(tv.get_by_text("This screen was disconnected.")).to_be_visible(timeout=WAIT_MS)
    expect(board_codes(tv)).to_have_count(0)
    context.close()
