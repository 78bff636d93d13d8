"""The kitchen display (/kitchen/) and the "now serving" board (/display/).

The first half drives the pages' server side with Django's test client; the
second half (marked `browser`) runs the real pages in Debian's headless
Chromium against a real Daphne: orders confirmed through the API appear
without a reload, a bump reaches the board, a killed and restarted server
leaves every order on screen exactly once."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter

from conftest import PASSWORD
from orders import services
from orders.exceptions import Conflict
from orders.models import Category, Food, Order, OrderStatus
from orders.representations import format_timestamp
from orders.services import ConfirmInput, LineInput
from testsupport import DaphneServer, require_service
from testsupport.browser import (
    WAIT_MS,
    Cashier,
    chromium_available,
    collect_static,
    launched_chromium,
    save_screenshot,
    session_cookie,
)
from testsupport.contract import utc_millis
from users.models import Role


def confirmed(menu_food, operator, *, quantity: int = 1, notes: str = "", table: str = "1", customer: str = "Ann"):
    order = services.order_create(
        table=table, customer=customer, lines=[LineInput(food_id=menu_food.id, quantity=quantity, notes=notes)]
    )
    return services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))


def logged_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client: Client) -> str:
    page = client.get("/kitchen/")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.content.decode()).group(1)


def display_events() -> list[tuple[str, dict]]:
    # The library stores the payload's JSON text JSON-encoded once more.
    return [
        (event.type, json.loads(json.loads(event.data)))
        for event in StoredEvent.objects.filter(channel="display", eid__gt=0).order_by("eid")
    ]


# --- order_recall ------------------------------------------------------------------------


def test_recalling_a_bumped_order_brings_it_back_and_tells_the_screens(
    menu, operator, django_capture_on_commit_callbacks
):
    order = confirmed(menu["margherita"], operator)
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    with django_capture_on_commit_callbacks(execute=True):
        recalled = services.order_recall(order_id=order.id, by=operator)
    order.refresh_from_db()
    assert recalled.status == order.status == OrderStatus.CONFIRMED
    assert order.ticket_number == 1  # the ticket and the confirmation stay
    assert display_events()[-1] == (
        "order-status-update",
        {"id": order.id, "displayCode": order.display_code, "ticketNumber": 1, "status": "CONFIRMED"},
    )


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PICKED_UP])
def test_only_a_completed_order_can_be_recalled(menu, operator, status, django_capture_on_commit_callbacks):
    order = confirmed(menu["margherita"], operator)
    Order.objects.filter(pk=order.id).update(status=status)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Conflict):
        services.order_recall(order_id=order.id, by=operator)
    assert callbacks == []
    assert Order.objects.get(pk=order.id).status == status


# --- pages and their JSON, without a browser -------------------------------------------------


@pytest.mark.parametrize("path", ["/kitchen/", "/display/"])
def test_an_anonymous_visitor_is_sent_to_the_staff_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", ["/kitchen/", "/display/"])
def test_a_waiter_is_refused_the_pages_and_their_data(waiter, path):
    client = logged_in(waiter)
    response = client.get(path)
    assert response.status_code == 403
    assert b"Not allowed" in response.content
    assert client.get(f"{path}state").status_code == 403


@pytest.mark.parametrize("path", ["/kitchen/", "/display/"])
def test_the_pages_use_the_session_and_never_carry_a_token(operator, path):
    response = logged_in(operator).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '"eventsUrl": "/events/display"' in html
    assert "eyJ" not in html  # no JWT
    assert "token=" not in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_login_page_logs_a_cashier_in_and_goes_where_they_wanted(operator):
    client = Client()
    page = client.get("/login/?next=/display/")
    assert page.status_code == 200
    response = client.post("/login/", {"username": operator.username, "password": PASSWORD, "next": "/display/"})
    assert response.status_code == 302
    assert response["Location"] == "/display/"
    assert client.get("/display/").status_code == 200


def test_the_kitchen_state_lists_confirmed_orders_oldest_first_and_the_last_bumped(
    menu, stations, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # events, so the log has a head
        first = confirmed(menu["margherita"], operator, quantity=2, notes="No basil", table="4", customer="Maria")
        second = confirmed(menu["lemonade"], operator)
        bumped = confirmed(menu["margherita"], operator)
        services.order_set_status(order_id=bumped.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_create(table="9", customer="Pending", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)])
    Order.objects.filter(pk=first.id).update(confirmed_at=timezone.now() - timedelta(minutes=30))
    first.refresh_from_db()
    head = EventCounter.objects.get(name="display").value
    assert head == 4  # three confirmations and a bump

    state = logged_in(operator).get("/kitchen/state").json()

    assert state["lastEventId"] == f"display:{head}"
    assert state["lateMinutes"] == 15
    assert [card["id"] for card in state["orders"]] == [first.id, second.id]
    assert state["orders"][0] == {
        "id": first.id,
        "displayCode": first.display_code,
        "ticketNumber": first.ticket_number,
        "table": "4",
        "customer": "Maria",
        "status": "CONFIRMED",
        "confirmedAt": utc_millis(first.confirmed_at),
        "forStation": True,
        "otherStationLines": 0,
        "stations": [
            {
                "stationId": stations["kitchen"].id,
                "name": "Kitchen",
                "status": "CONFIRMED",
                "done": False,
                "doneAt": None,
            }
        ],
        "lines": [
            {
                "id": state["orders"][0]["lines"][0]["id"],
                "quantity": 2,
                "name": "Margherita",
                "notes": "No basil",
                "stationId": stations["kitchen"].id,
            }
        ],
    }
    assert [card["id"] for card in state["recall"]] == [bumped.id]


def test_a_station_sees_only_orders_and_lines_for_it(menu, stations, operator):
    # Margherita is made in the kitchen, lemonade at the bar (their categories' stations).
    pizza_only = confirmed(menu["margherita"], operator)
    drinks_only = confirmed(menu["lemonade"], operator)
    order = services.order_create(
        table="2",
        customer="Both",
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=1),
            LineInput(food_id=menu["lemonade"].id, quantity=3),
        ],
    )
    both = services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CARD"))
    client = logged_in(operator)

    bar = client.get(f"/kitchen/state?station={stations['bar'].id}").json()
    assert [card["id"] for card in bar["orders"]] == [drinks_only.id, both.id]
    assert [(line["name"], line["quantity"]) for line in bar["orders"][1]["lines"]] == [("Lemonade", 3)]
    assert bar["orders"][1]["otherStationLines"] == 1

    kitchen = client.get(f"/kitchen/state?station={stations['kitchen'].id}").json()
    assert [card["id"] for card in kitchen["orders"]] == [pizza_only.id, both.id]

    other = client.get(f"/kitchen/orders/{drinks_only.id}?station={stations['kitchen'].id}").json()
    assert other["forStation"] is False
    assert other["lines"] == []
    assert client.get("/kitchen/state?station=nope").status_code == 404
    assert client.get("/kitchen/?station=nope").status_code == 404


def test_the_board_state_has_what_is_being_prepared_and_what_is_ready(menu, operator):
    preparing = confirmed(menu["margherita"], operator)
    ready = confirmed(menu["lemonade"], operator)
    gone = confirmed(menu["lemonade"], operator)
    services.order_set_status(order_id=ready.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=gone.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=gone.id, by=operator, status=OrderStatus.PICKED_UP)

    stale = confirmed(menu["lemonade"], operator)
    services.order_set_status(order_id=stale.id, by=operator, status=OrderStatus.COMPLETED)
    Order.objects.filter(pk=stale.id).update(status_changed_at=timezone.now() - timedelta(minutes=11))
    ready.refresh_from_db()
    preparing.refresh_from_db()

    state = logged_in(operator).get("/display/state").json()

    assert state["readyMinutes"] == 10
    assert state["preparing"] == [
        {
            "id": preparing.id,
            "displayCode": preparing.display_code,
            "ticketNumber": 1,
            "status": "CONFIRMED",
            "since": format_timestamp(preparing.status_changed_at),
        }
    ]
    # Ready for longer than BOARD_READY_MINUTES: off the board.
    assert state["ready"] == [
        {
            "id": ready.id,
            "displayCode": ready.display_code,
            "ticketNumber": 2,
            "status": "COMPLETED",
            "since": format_timestamp(ready.status_changed_at),
        }
    ]


def test_bump_and_recall_need_the_csrf_token_and_follow_the_order_rules(menu, operator):
    order = confirmed(menu["margherita"], operator)
    client = logged_in(operator)

    def post(path: str, **headers):
        return client.post(path, content_type="application/json", **headers)

    assert post(f"/kitchen/orders/{order.id}/bump").status_code == 403  # no CSRF token
    token = {"HTTP_X_CSRFTOKEN": csrf_token(client)}

    bumped = post(f"/kitchen/orders/{order.id}/bump", **token)
    assert bumped.status_code == 200
    assert bumped.json()["status"] == "COMPLETED"
    assert post(f"/kitchen/orders/{order.id}/bump", **token).status_code == 409

    recalled = post(f"/kitchen/orders/{order.id}/recall", **token)
    assert recalled.status_code == 200
    assert recalled.json()["status"] == "CONFIRMED"
    assert post(f"/kitchen/orders/{order.id}/recall", **token).status_code == 409
    assert post("/kitchen/orders/999999/bump", **token).status_code == 404


def pizza_and_lemonade(menu) -> Order:
    """A confirmed order for two stations: the kitchen (pizza) and the bar."""
    lines = [LineInput(food_id=menu["margherita"].id, quantity=1), LineInput(food_id=menu["lemonade"].id, quantity=1)]
    return services.order_create(
        table="2", customer="Both", lines=lines, confirmation=ConfirmInput(payment_method="CASH")
    )


def test_station_done_undo_and_pickup_need_the_csrf_token_and_refuse_what_they_cannot_do(
    menu, stations, operator, django_capture_on_commit_callbacks
):
    order = pizza_and_lemonade(menu)
    client = logged_in(operator)
    bar, kitchen = stations["bar"].id, stations["kitchen"].id

    def post(path: str, **headers):
        return client.post(f"/kitchen/orders/{path}", content_type="application/json", **headers)

    assert post(f"{order.id}/stations/{bar}/done").status_code == 403  # no CSRF token
    token = {"HTTP_X_CSRFTOKEN": csrf_token(client)}
    head = EventCounter.objects.filter(name="display").values_list("value", flat=True).first() or 0

    # Errors a page can cause: clear JSON, nothing written, no event.
    with django_capture_on_commit_callbacks(execute=True):
        refusals = [
            (post(f"{order.id}/stations/nope/done", **token), 404),
            (post(f"999999/stations/{bar}/done", **token), 404),
            (post(f"{order.id}/stations/{bar}/undo", **token), 409),
            (post(f"{order.id}/pickup", **token), 409),
        ]
    for response, status in refusals:
        assert response.status_code == status, response.content
        assert response.json()["message"]
    assert (EventCounter.objects.filter(name="display").values_list("value", flat=True).first() or 0) == head
    assert set(order.station_states.values_list("status", flat=True)) == {"CONFIRMED"}

    done = post(f"{order.id}/stations/{bar}/done", **token)
    assert done.status_code == 200
    assert [(s["name"], s["done"]) for s in done.json()["stations"]] == [("Kitchen", False), ("Bar", True)]
    assert post(f"{order.id}/stations/{bar}/done", **token).status_code == 409
    assert post(f"{order.id}/stations/{kitchen}/done", **token).json()["status"] == "COMPLETED"
    assert post(f"{order.id}/pickup", **token).json()["status"] == "PICKED_UP"
    assert post(f"{order.id}/stations/{kitchen}/undo", **token).status_code == 409  # picked up is final


def test_a_station_view_lists_what_it_still_has_to_make_and_what_it_finished(menu, stations, operator):
    order = pizza_and_lemonade(menu)
    services.order_station_done(order_id=order.id, station_id=stations["bar"].id, by=operator)
    client = logged_in(operator)
    bar = client.get(f"/kitchen/state?station={stations['bar'].id}").json()
    assert bar["orders"] == []
    assert [card["id"] for card in bar["recall"]] == [order.id]
    kitchen = client.get(f"/kitchen/state?station={stations['kitchen'].id}").json()
    assert [card["id"] for card in kitchen["orders"]] == [order.id]
    assert kitchen["recall"] == []
    everything = client.get("/kitchen/state").json()
    assert [card["id"] for card in everything["orders"]] == [order.id]
    assert everything["veryLateMinutes"] == 25


# --- in a real browser against a real Daphne --------------------------------------------------


@pytest.fixture(scope="session")
def page_var_dir(tmp_path_factory):
    """A VAR_DIR for page servers whose static/ holds the collected files."""
    available, reason = chromium_available()
    require_service("chromium", available, reason)
    var_dir = tmp_path_factory.mktemp("page-var")
    collect_static(var_dir)
    return var_dir


@pytest.fixture
def page_server(daphne, page_var_dir):
    # DJANGO_ALLOW_ASYNC_UNSAFE is set for this test process below; the
    # server must keep Django's async-safety checks.
    return daphne(VAR_DIR=str(page_var_dir), DJANGO_ALLOW_ASYNC_UNSAFE="")


@pytest.fixture
def browser_for(monkeypatch):
    """`with browser_for() as chromium:` a headless Chromium, for a test that
    starts its own server first (servers started after it would inherit
    DJANGO_ALLOW_ASYNC_UNSAFE)."""
    return lambda: launched_chromium(monkeypatch)


@pytest.fixture
def browser(page_server, browser_for):
    """Headless Chromium, after the page server has started."""
    with browser_for() as chromium:
        yield chromium


@pytest.fixture
def cashier(page_server, operator):
    client = Cashier(page_server.url, operator)
    yield client
    client.close()


def staff_context(browser, server, user, **options):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, **options)
    context.set_default_timeout(WAIT_MS)
    context.add_cookies([session_cookie(user, server.url)])
    return context


def open_live(context, url: str):
    from playwright.sync_api import expect

    page = context.new_page()
    response = page.goto(url)
    assert response.status == 200, response.status
    expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=WAIT_MS)
    return page


def kitchen_cards(page, code: str | None = None):
    return page.locator(".card" if code is None else f'.card[data-display-code="{code}"]')


def board_codes(page, section: str = "", code: str | None = None):
    scope = {"": "", "preparing": "#preparing-list ", "ready": "#ready-list "}[section]
    return page.locator(f"{scope}.ticket" if code is None else f'{scope}.ticket[data-display-code="{code}"]')


def expect_each_once(kitchen, board, codes: list[str]) -> None:
    from playwright.sync_api import expect

    for code in codes:
        expect(kitchen_cards(kitchen, code)).to_have_count(1, timeout=WAIT_MS)
        expect(board_codes(board, "", code)).to_have_count(1, timeout=WAIT_MS)
    expect(kitchen_cards(kitchen)).to_have_count(len(codes), timeout=WAIT_MS)
    expect(board_codes(board)).to_have_count(len(codes), timeout=WAIT_MS)


@pytest.mark.browser
def test_a_confirmed_order_appears_live_and_a_bump_moves_it_to_ready(browser, page_server, cashier, menu, operator):
    from playwright.sync_api import expect

    from conftest import bearer
    from testsupport import SSEStream

    context = staff_context(browser, page_server, operator)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    board = open_live(context, page_server.url + "/display/")
    second_tab = open_live(context, page_server.url + "/kitchen/")
    for page in (kitchen, board):
        page.evaluate("window.notReloaded = true")

    order = cashier.confirmed_order([(menu["margherita"].id, 2, "No basil")], table="7", customer="Maria")
    code = order["displayCode"]

    card = kitchen_cards(kitchen, code)
    expect(card).to_have_count(1, timeout=WAIT_MS)
    expect(card).to_contain_text("2×")
    expect(card).to_contain_text("Margherita")
    expect(card).to_contain_text("No basil")
    expect(card).to_contain_text("Table 7")
    expect(card).to_contain_text("Maria")
    expect(card).to_contain_text(f"#{order['ticketNumber']}")
    expect(kitchen.locator("#announcer")).to_contain_text(f"New order {code} (ticket #{order['ticketNumber']})")
    expect(board_codes(board, "preparing", code)).to_have_count(1, timeout=WAIT_MS)
    expect(kitchen_cards(second_tab, code)).to_have_count(1, timeout=WAIT_MS)

    with SSEStream(page_server.url + "/events/cashier", headers=bearer(operator)) as cashier_stream:
        assert cashier_stream.next().is_position
        card.get_by_role("button", name=re.compile("^Bump")).click()

        expect(board_codes(board, "ready", code)).to_have_count(1, timeout=WAIT_MS)
        expect(board_codes(board, "preparing", code)).to_have_count(0, timeout=WAIT_MS)
        expect(board.locator("#announcer")).to_contain_text(f"Order {code} is ready")
        expect(kitchen_cards(kitchen, code)).to_have_count(0, timeout=WAIT_MS)
        expect(kitchen_cards(second_tab, code)).to_have_count(0, timeout=WAIT_MS)
        update = cashier_stream.collect(1, event="order-status-update")[0].json()
        # On cashier the whole order, with its new status.
        assert {key: update[key] for key in ("id", "displayCode", "ticketNumber", "status")} == {
            "id": order["id"],
            "displayCode": code,
            "ticketNumber": order["ticketNumber"],
            "status": "COMPLETED",
        }
        assert (update["table"], len(update["orderItems"])) == ("7", 1)

    recall_item = kitchen.locator(f'#recall-list li[data-display-code="{code}"]')
    expect(recall_item).to_have_count(1, timeout=WAIT_MS)
    expect(second_tab.locator(f'#recall-list li[data-display-code="{code}"]')).to_have_count(1, timeout=WAIT_MS)
    recall_item.get_by_role("button", name=re.compile("^Recall")).click()
    expect(kitchen_cards(kitchen, code)).to_have_count(1, timeout=WAIT_MS)
    expect(kitchen_cards(second_tab, code)).to_have_count(1, timeout=WAIT_MS)
    expect(board_codes(board, "preparing", code)).to_have_count(1, timeout=WAIT_MS)
    expect(board_codes(board, "ready", code)).to_have_count(0, timeout=WAIT_MS)

    assert Order.objects.get(pk=order["id"]).status == OrderStatus.CONFIRMED
    for page in (kitchen, board):
        assert page.evaluate("window.notReloaded") is True
    context.close()


@pytest.mark.browser
def test_killing_and_restarting_the_server_leaves_every_order_on_screen_once(
    browser, page_server, cashier, menu, operator
):
    from playwright.sync_api import expect

    context = staff_context(browser, page_server, operator)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    board = open_live(context, page_server.url + "/display/")

    codes = [cashier.confirmed_order([(menu["margherita"].id, 1, "")])["displayCode"] for _ in range(3)]
    expect_each_once(kitchen, board, codes)

    page_server.kill()
    for page in (kitchen, board):
        expect(page.locator("#connection-banner")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#connection-banner")).to_contain_text("Connection lost")
    # Confirmed elsewhere while this server is down (another process, same
    # database): the events wait in the log.
    codes += [confirmed(menu["margherita"], operator).display_code for _ in range(3)]

    restarted = DaphneServer(page_server.env, page_server.log_path, port=page_server.port).start()
    try:
        # More confirmations while the pages are still reconnecting.
        codes += [cashier.confirmed_order([(menu["lemonade"].id, 1, "")])["displayCode"] for _ in range(2)]
        for page in (kitchen, board):
            expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=WAIT_MS)
            expect(page.locator("#connection-banner")).to_be_hidden(timeout=WAIT_MS)
        # Events arrive in order: once this one is on screen, everything
        # replayed before it has been applied too.
        codes.append(cashier.confirmed_order([(menu["margherita"].id, 1, "")])["displayCode"])
        expect_each_once(kitchen, board, codes)

        # A reload rebuilds the same screen from the server.
        kitchen.reload()
        board.reload()
        expect_each_once(kitchen, board, codes)
    finally:
        restarted.stop()
    context.close()


@pytest.mark.browser
def test_a_stream_reset_after_a_long_outage_reloads_the_orders_from_the_server(
    browser, page_server, cashier, menu, operator
):
    from playwright.sync_api import expect

    context = staff_context(browser, page_server, operator)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    board = open_live(context, page_server.url + "/display/")
    codes = [cashier.confirmed_order([(menu["margherita"].id, 1, "")])["displayCode"]]
    expect_each_once(kitchen, board, codes)
    seen = EventCounter.objects.get(name="display").value

    page_server.kill()
    codes += [confirmed(menu["margherita"], operator).display_code for _ in range(2)]
    # The log no longer reaches back to what the pages saw (as after the
    # retention period): the server must tell them to reset.
    StoredEvent.objects.filter(channel="display", eid=seen + 1).delete()

    restarted = DaphneServer(page_server.env, page_server.log_path, port=page_server.port).start()
    try:
        for page in (kitchen, board):
            expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=WAIT_MS)
        codes.append(cashier.confirmed_order([(menu["margherita"].id, 1, "")])["displayCode"])
        expect_each_once(kitchen, board, codes)
    finally:
        restarted.stop()
    context.close()


@pytest.mark.browser
def test_a_page_whose_session_ended_goes_to_the_login_page_when_it_reconnects(browser, page_server, operator):
    from django.contrib.sessions.models import Session
    from playwright.sync_api import expect

    context = staff_context(browser, page_server, operator)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    page_server.kill()
    Session.objects.all().delete()  # logged out elsewhere, or expired
    restarted = DaphneServer(page_server.env, page_server.log_path, port=page_server.port).start()
    try:
        # The stream is refused (401) and the browser gives up on it; the page
        # checks its session and finds it gone.
        expect(kitchen).to_have_url(re.compile(r"/login/\?next=/kitchen/$"), timeout=WAIT_MS)
    finally:
        restarted.stop()
    context.close()


@pytest.mark.browser
def test_late_cards_stand_out_and_a_station_sees_only_its_own_lines(
    browser, page_server, cashier, menu, stations, operator
):
    from playwright.sync_api import expect

    late = cashier.confirmed_order([(menu["margherita"].id, 1, "")])
    Order.objects.filter(pk=late["id"]).update(confirmed_at=timezone.now() - timedelta(minutes=20))
    drinks = cashier.confirmed_order([(menu["lemonade"].id, 2, "")])

    context = staff_context(browser, page_server, operator)
    station = open_live(context, f"{page_server.url}/kitchen/?station={stations['kitchen'].id}")
    expect(kitchen_cards(station, late["displayCode"])).to_have_class(re.compile(r"\blate\b"))
    expect(kitchen_cards(station, late["displayCode"])).to_contain_text("LATE")
    expect(kitchen_cards(station, drinks["displayCode"])).to_have_count(0)

    mixed = cashier.confirmed_order([(menu["margherita"].id, 1, "Well done"), (menu["lemonade"].id, 1, "")])
    card = kitchen_cards(station, mixed["displayCode"])
    expect(card).to_contain_text("Margherita")
    expect(card).not_to_contain_text("Lemonade")
    expect(card).to_contain_text("+ 1 more for other stations")
    expect(card).not_to_have_class(re.compile(r"\blate\b"))
    # Oldest first.
    expect(kitchen_cards(station)).to_have_count(2)
    assert kitchen_cards(station).nth(0).get_attribute("data-display-code") == late["displayCode"]
    context.close()


@pytest.mark.browser
def test_an_anonymous_visitor_logs_in_through_the_login_page(browser, page_server, operator):
    from playwright.sync_api import expect

    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(page_server.url + "/display/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/display/$"))
    page.get_by_label("Username").fill(operator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(page_server.url + "/display/")
    expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=WAIT_MS)
    context.close()


@pytest.mark.browser
def test_a_waiter_is_refused(browser, page_server, waiter):
    from playwright.sync_api import expect

    context = staff_context(browser, page_server, waiter)
    page = context.new_page()
    for path in ("/kitchen/", "/display/"):
        response = page.goto(page_server.url + path)
        assert response.status == 403
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        assert page.evaluate("fetch('/events/display').then(r => r.status)") == 403
    context.close()


@pytest.mark.browser
def test_both_pages_reflow_at_200_percent_zoom(browser, page_server, cashier, menu, operator):
    from playwright.sync_api import expect

    codes = [
        cashier.confirmed_order([(menu["margherita"].id, 3, "Extra cheese, cut in eight slices")], table=str(n))[
            "displayCode"
        ]
        for n in range(6)
    ]
    # 200 % zoom on a 1920x1080 screen: half the CSS pixels, twice the density.
    context = staff_context(browser, page_server, operator, device_scale_factor=2)
    for path in ("/kitchen/", "/display/"):
        page = context.new_page()
        page.set_viewport_size({"width": 960, "height": 540})
        page.goto(page_server.url + path)
        expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=WAIT_MS)
        expect(page.locator(f'[data-display-code="{codes[-1]}"]')).to_have_count(1, timeout=WAIT_MS)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 200% zoom"
    bump = kitchen_cards(page.context.pages[0], codes[0]).get_by_role("button", name=re.compile("^Bump"))
    bump.scroll_into_view_if_needed()
    bump.click()
    expect(board_codes(page, "ready", codes[0])).to_have_count(1, timeout=WAIT_MS)
    context.close()


@pytest.mark.browser
def test_screenshots_of_both_pages(browser, page_server, cashier, menu, stations, operator, tmp_path):
    """Renders both pages at 1920x1080 with a realistic evening; with
    UPDATE_SCREENSHOTS=1 the images replace docs/screenshots/*.png."""
    from playwright.sync_api import expect

    grill = Category.objects.create(name="Grill", printer=menu["kitchen"], station=stations["kitchen"], position=3)
    burger = Food.objects.create(name="Burger", price=Decimal("13"), category=grill)
    fries = Food.objects.create(name="Fries", price=Decimal("4.5"), category=grill)
    diavola = Food.objects.create(name="Diavola", price=Decimal("14"), category=menu["pizza"])
    evening = [
        ([(menu["margherita"].id, 2, "No basil"), (menu["lemonade"].id, 2, "")], "4", "Maria", 22),
        ([(burger.id, 1, "Medium rare"), (fries.id, 1, "")], "12", "Tom", 17),
        ([(diavola.id, 1, "")], "Terrace 2", "Lena", 11),
        ([(burger.id, 2, ""), (fries.id, 2, "No salt")], "7", "Jonas", 6),
        ([(menu["margherita"].id, 1, "Gluten-free base")], "1", "Ana", 3),
        ([(diavola.id, 1, ""), (menu["margherita"].id, 1, "")], "9", "Sam", 1),
        ([(fries.id, 3, "")], "Bar", "Kim", 0),
    ]
    orders = []
    for lines, table, customer, minutes_ago in evening:
        order = cashier.confirmed_order(lines, table=table, customer=customer)
        Order.objects.filter(pk=order["id"]).update(confirmed_at=timezone.now() - timedelta(minutes=minutes_ago))
        orders.append(order)
    ready = [cashier.confirmed_order([(menu["lemonade"].id, 1, "")], table="3", customer="Ivo") for _ in range(4)]
    for order in ready:
        services.order_set_status(order_id=order["id"], by=operator, status=OrderStatus.COMPLETED)

    context = staff_context(browser, page_server, operator)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    expect(kitchen_cards(kitchen)).to_have_count(len(orders), timeout=WAIT_MS)
    expect(kitchen.locator("#recall-list li")).to_have_count(len(ready), timeout=WAIT_MS)
    expect(kitchen.locator(".card.late")).to_have_count(2, timeout=WAIT_MS)
    board = open_live(context, page_server.url + "/display/")
    expect(board_codes(board, "preparing")).to_have_count(len(orders), timeout=WAIT_MS)
    expect(board_codes(board, "ready")).to_have_count(len(ready), timeout=WAIT_MS)

    for name, page in (("kitchen.png", kitchen), ("display.png", board)):
        path = tmp_path / name
        page.screenshot(path=str(path))
        assert path.stat().st_size > 10_000
        save_screenshot(path, name)
    context.close()


def test_the_pages_admit_exactly_the_roles_the_event_stream_admits():
    from events.transport import stream
    from screens import views as pages

    assert set(pages.PAGE_ROLES) == set(stream.LISTENER_ROLES) == {Role.ADMIN, Role.OPERATOR, Role.MAINTAINER}


# --- stations, and the pages at festival scale -------------------------------------------------

SCREENS = {"1080p": (1920, 1080), "720p": (1280, 720), "portrait tablet": (800, 1280)}


def festival_orders(menu, operator, count: int, *, ready: int = 0) -> list[Order]:
    """`count` confirmed orders, the first `ready` of them bumped. Written in
    this process before the pages load (the pages read them in their
    snapshot), oldest confirmed first."""
    orders = []
    for n in range(count):
        lines = [LineInput(food_id=menu["margherita"].id, quantity=1 + n % 3, notes="Extra basil" if n % 4 else "")]
        if n % 2:
            lines.append(LineInput(food_id=menu["lemonade"].id, quantity=2))
        order = services.order_create(
            table=str(n + 1), customer=f"Guest {n + 1}", lines=lines, confirmation=ConfirmInput(payment_method="CASH")
        )
        Order.objects.filter(pk=order.id).update(confirmed_at=timezone.now() - timedelta(minutes=count - n))
        orders.append(order)
    for order in orders[:ready]:
        services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    return orders


def board_overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollHeight - window.innerHeight")


def board_shown(page, section: str) -> tuple[list[str], int]:
    """(the codes a column shows, how many its "+N more" tile stands for)."""
    codes = board_codes(page, section).evaluate_all("els => els.map(e => e.dataset.displayCode).filter(Boolean)")
    more = page.locator(f"#{section}-list .ticket.more")
    folded = int(re.search(r"\+(\d+)", more.inner_text()).group(1)) if more.count() else 0
    return codes, folded


@pytest.mark.browser
def test_the_board_fits_every_screen_with_30_and_then_60_orders(browser, page_server, menu, operator, tmp_path):
    from playwright.sync_api import expect

    orders = festival_orders(menu, operator, 30, ready=8)
    context = staff_context(browser, page_server, operator)
    board = open_live(context, page_server.url + "/display/")
    for total in (30, 60):
        if total == 60:
            orders += festival_orders(menu, operator, 30, ready=0)
        preparing = [order.display_code for order in orders[8:]]
        ready = [order.display_code for order in orders[:8]]
        for name, (width, height) in SCREENS.items():
            board.set_viewport_size({"width": width, "height": height})
            board.reload()
            expect(board.locator("body")).to_have_attribute("data-connection", "live")
            expect(board_codes(board, "ready")).to_have_count(len(ready))
            assert board_overflow(board) <= 0, f"the board scrolls with {total} orders at {name}"
            shown, folded = board_shown(board, "preparing")
            # Every code is on screen or counted in "+N more", and the ones
            # folded away are the oldest.
            assert shown == preparing[len(preparing) - len(shown) :], name
            assert len(shown) + folded == len(preparing), name
            if total == 30 and name != "portrait tablet":
                assert folded == 0, f"30 orders need no folding at {name}"
            # The codes stay readable from across the room.
            size = board.locator("#preparing-list").evaluate(
                "e => parseFloat(getComputedStyle(e).getPropertyValue('--code-size'))"
            )
            assert size >= max(28, round(min(width, height) / 24))
            ready_box = board.locator(".column.ready").bounding_box()
            preparing_box = board.locator(".column.preparing").bounding_box()
            if width < height:
                assert ready_box["y"] < preparing_box["y"], "portrait shows READY first"
            else:
                assert ready_box["x"] > preparing_box["x"]
            path = tmp_path / f"board-{total}-{width}x{height}.png"
            board.screenshot(path=str(path))
            if total == 60:
                save_screenshot(path, f"display-{total}-{width}x{height}.png")

    # Far past what fits: the oldest preparing codes fold into "+N more".
    orders += festival_orders(menu, operator, 100)
    preparing = [order.display_code for order in orders[8:]]
    for name, (width, height) in SCREENS.items():
        board.set_viewport_size({"width": width, "height": height})
        board.reload()
        expect(board.locator("body")).to_have_attribute("data-connection", "live")
        expect(board_codes(board, "preparing", preparing[-1])).to_have_count(1)
        assert board_overflow(board) <= 0, f"the board scrolls with 160 orders at {name}"
        shown, folded = board_shown(board, "preparing")
        assert folded > 0, name
        assert len(shown) + folded == len(preparing), name
        assert shown == preparing[folded:], name
        expect(board.locator("#preparing-list .ticket.more")).to_have_text(f"+{folded} more")
    context.close()


@pytest.mark.browser
def test_the_board_highlights_only_the_newest_ready_codes_and_a_recalled_code_returns_to_its_place(
    browser, page_server, cashier, menu, operator
):
    from playwright.sync_api import expect

    context = staff_context(browser, page_server, operator)
    board = open_live(context, page_server.url + "/display/")
    kitchen = open_live(context, page_server.url + "/kitchen/")
    codes = [cashier.confirmed_order([(menu["margherita"].id, 1, "")])["displayCode"] for _ in range(6)]
    expect(board_codes(board, "preparing")).to_have_count(6)
    for code in codes[:5]:
        kitchen_cards(kitchen, code).get_by_role("button", name=re.compile("^Bump")).click()
        expect(board_codes(board, "ready", code)).to_have_count(1)
    # Newest first; only the three newest blink.
    assert board_codes(board, "ready").evaluate_all("els => els.map(e => e.dataset.displayCode)") == codes[4::-1]
    expect(board.locator("#ready-list .ticket.fresh")).to_have_count(3)
    assert (
        board.locator("#ready-list .ticket.fresh").evaluate_all("els => els.map(e => e.dataset.displayCode)")
        == (codes[4:1:-1])
    )

    # Recall the first: it goes back first in PREPARING, with no outline.
    kitchen.locator(f'#recall-list li[data-display-code="{codes[0]}"]').get_by_role(
        "button", name=re.compile("^Recall")
    ).click()
    expect(board_codes(board, "preparing", codes[0])).to_have_count(1)
    assert board_codes(board, "preparing").evaluate_all("els => els.map(e => e.dataset.displayCode)") == [
        codes[0],
        codes[5],
    ]
    expect(board.locator("#preparing-list .ticket.fresh")).to_have_count(0)

    # A tap on "Picked up" in the kitchen's strip takes the code off the board.
    kitchen.locator(f'#recall-list li[data-display-code="{codes[1]}"]').get_by_role(
        "button", name=re.compile("^Picked up")
    ).click()
    expect(board_codes(board, "", codes[1])).to_have_count(0)
    # So does the cashier's PATCH.
    order_id = Order.objects.get(display_code=codes[2]).id
    assert cashier.client.patch(f"/v1/orders/{order_id}", json={"status": "PICKED_UP"}).status_code == 200
    expect(board_codes(board, "", codes[2])).to_have_count(0)
    assert Order.objects.get(display_code=codes[1]).status == OrderStatus.PICKED_UP
    context.close()


@pytest.mark.browser
def test_each_station_marks_its_own_lines_and_the_board_shows_ready_only_when_all_are_done(
    browser, page_server, cashier, menu, stations, operator
):
    from playwright.sync_api import expect

    context = staff_context(browser, page_server, operator)
    bar = open_live(context, f"{page_server.url}/kitchen/?station={stations['bar'].id}")
    pizza = open_live(context, f"{page_server.url}/kitchen/?station={stations['kitchen'].id}")
    everything = open_live(context, page_server.url + "/kitchen/")
    board = open_live(context, page_server.url + "/display/")
    order = cashier.confirmed_order([(menu["margherita"].id, 2, ""), (menu["lemonade"].id, 3, "No ice")])
    code = order["displayCode"]
    for page in (bar, pizza, everything):
        expect(kitchen_cards(page, code)).to_have_count(1)
    expect(bar.locator("#summary-list")).to_contain_text("3 × Lemonade")
    expect(pizza.locator("#summary-list")).to_contain_text("2 × Margherita")
    expect(everything.locator("#summary-list")).to_contain_text("Bar: 3 × Lemonade")

    # The bar is done first: the pizza is still in the oven, the board says preparing.
    kitchen_cards(bar, code).get_by_role("button", name=re.compile("^Done")).click()
    expect(kitchen_cards(bar, code)).to_have_count(0)
    expect(bar.locator(f'#recall-list li[data-display-code="{code}"]')).to_have_count(1)
    chip = kitchen_cards(everything, code).locator(f'.progress li[data-station-id="{stations["bar"].id}"]')
    expect(chip).to_have_class(re.compile(r"\bdone\b"))
    expect(kitchen_cards(pizza, code).locator(".progress")).to_contain_text("Bar ✓ done")
    expect(everything.locator("#summary-list")).not_to_contain_text("Lemonade")
    expect(board_codes(board, "preparing", code)).to_have_count(1)
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.CONFIRMED

    # The pizza station finishes: now the order is ready everywhere.
    kitchen_cards(pizza, code).get_by_role("button", name=re.compile("^Done")).click()
    expect(board_codes(board, "ready", code)).to_have_count(1)
    expect(kitchen_cards(everything, code)).to_have_count(0)
    expect(everything.locator(f'#recall-list li[data-display-code="{code}"]')).to_have_count(1)

    # The pizza station takes its mark back: preparing again; the bar stays done.
    pizza.locator(f'#recall-list li[data-display-code="{code}"]').get_by_role(
        "button", name=re.compile("^Undo")
    ).click()
    expect(board_codes(board, "preparing", code)).to_have_count(1)
    expect(kitchen_cards(pizza, code)).to_have_count(1)
    expect(kitchen_cards(everything, code)).to_have_count(1)
    expect(kitchen_cards(bar, code)).to_have_count(0)
    assert [s["done"] for s in cashier.client.get(f"/v1/orders/{order['id']}").json()["stations"]] == [False, True]

    # A reload builds the same picture from the server.
    bar.reload()
    expect(bar.locator("body")).to_have_attribute("data-connection", "live")
    expect(bar.locator(f'#recall-list li[data-display-code="{code}"]')).to_have_count(1)
    expect(kitchen_cards(bar, code)).to_have_count(0)
    context.close()


@pytest.mark.browser
def test_the_kitchen_at_60_orders_is_dense_readable_and_says_how_many_are_off_screen(
    browser, page_server, menu, operator, tmp_path
):
    from playwright.sync_api import expect

    orders = festival_orders(menu, operator, 60)
    Order.objects.filter(pk=orders[0].id).update(confirmed_at=timezone.now() - timedelta(minutes=40))
    Order.objects.filter(pk=orders[1].id).update(confirmed_at=timezone.now() - timedelta(minutes=20))
    context = staff_context(browser, page_server, operator)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    expect(kitchen_cards(kitchen)).to_have_count(60)
    expect(kitchen.locator("#order-count")).to_have_text("60 orders")
    offscreen = kitchen.locator("#offscreen-count")
    expect(offscreen).to_be_visible()
    hidden = int(offscreen.get_attribute("data-count"))
    assert 0 < hidden < 60

    # Item lines ≥ 32 px at 1080p; no sideways scrolling.
    size = kitchen.locator(".card .lines li").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 32
    assert kitchen.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0

    # No gaps: in every column, each card starts right under the one above.
    gaps = kitchen.evaluate(
        """() => {
            const columns = new Map();
            for (const card of document.querySelectorAll('.card')) {
                const box = card.getBoundingClientRect();
                const key = Math.round(box.left);
                if (!columns.has(key)) columns.set(key, []);
                columns.get(key).push(box);
            }
            const gaps = [];
            for (const boxes of columns.values()) {
                boxes.sort((a, b) => a.top - b.top);
                for (let i = 1; i < boxes.length; i++) gaps.push(boxes[i].top - boxes[i - 1].bottom);
            }
            return {columns: columns.size, largest: Math.max(...gaps)};
        }"""
    )
    margin = kitchen.locator(".card").first.evaluate("e => parseFloat(getComputedStyle(e).marginBottom)")
    assert gaps["columns"] >= 4
    assert gaps["largest"] <= margin + 1

    # Two steps of ageing.
    expect(kitchen_cards(kitchen, orders[0].display_code)).to_have_class(re.compile(r"\bvery-late\b"))
    expect(kitchen_cards(kitchen, orders[0].display_code)).to_contain_text("VERY LATE")
    expect(kitchen_cards(kitchen, orders[1].display_code)).to_have_class(re.compile(r"\blate\b"))
    expect(kitchen_cards(kitchen, orders[1].display_code)).not_to_have_class(re.compile(r"very-late"))

    # The header stays on screen when the cook scrolls, and the count follows.
    kitchen.mouse.wheel(0, 5000)
    expect(kitchen.locator("#topbar")).to_be_in_viewport()
    assert kitchen.locator("#topbar").bounding_box()["y"] == 0

    path = tmp_path / "kitchen.png"
    kitchen.evaluate("window.scrollTo(0, 0)")
    kitchen.screenshot(path=str(path))
    save_screenshot(path, "kitchen-60.png")

    # At every size: no sideways scrolling, the header on screen, the count right.
    for name, (width, height) in SCREENS.items():
        kitchen.set_viewport_size({"width": width, "height": height})
        kitchen.evaluate("window.scrollTo(0, 0)")
        kitchen.mouse.wheel(0, 3000)
        expect(kitchen.locator("#topbar")).to_be_in_viewport()
        assert kitchen.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0, (
            name
        )
        assert kitchen.locator("#topbar").bounding_box()["height"] < height / 3, name
        expect(kitchen.locator("#order-count")).to_have_text("60 orders")

    # On a phone the sticky header leaves most of the screen to the cards.
    kitchen.set_viewport_size({"width": 390, "height": 844})
    kitchen.evaluate("window.scrollTo(0, 0)")
    kitchen.screenshot(path=str(tmp_path / "kitchen-phone.png"))
    assert kitchen.locator("#topbar").bounding_box()["height"] < 844 / 4
    context.close()


@pytest.mark.browser
def test_a_ready_code_leaves_the_board_after_board_ready_minutes(daphne, page_var_dir, browser_for, menu, operator):
    from playwright.sync_api import expect

    server = daphne(VAR_DIR=str(page_var_dir), DJANGO_ALLOW_ASYNC_UNSAFE="", BOARD_READY_MINUTES="1")
    old, fresh = festival_orders(menu, operator, 2, ready=2)
    Order.objects.filter(pk=old.id).update(status_changed_at=timezone.now() - timedelta(seconds=40))
    Order.objects.filter(pk=fresh.id).update(status_changed_at=timezone.now())
    with browser_for() as chromium:
        context = staff_context(chromium, server, operator)
        board = open_live(context, server.url + "/display/")
        expect(board_codes(board, "ready")).to_have_count(2)
        # A minute after it became ready, the older code goes by itself; the
        # newer one is still there at that moment.
        expect(board_codes(board, "ready", old.display_code)).to_have_count(0, timeout=WAIT_MS)
        expect(board_codes(board, "ready", fresh.display_code)).to_have_count(1)
        context.close()


def fonts_for_every_script() -> tuple[bool, str]:
    """Debian's Noto fonts, as `make system-deps` installs them."""
    try:
        found = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"fc-list failed ({exc})"
    if not found.strip():
        return False, "no CJK font is installed (Debian's fonts-noto-cjk; `make system-deps` installs it)"
    return True, ""


@pytest.mark.browser
def test_a_cjk_arabic_and_greek_order_renders_as_letters_not_boxes(browser, page_server, menu, operator):
    from playwright.sync_api import expect

    available, reason = fonts_for_every_script()
    require_service("fonts-noto-cjk", available, reason)
    sushi = Food.objects.create(name="寿司 Σουβλάκι", price=Decimal("9"), category=menu["pizza"])
    named = services.order_create(
        table="山",
        customer="山田 فاطمة",
        lines=[LineInput(food_id=sushi.id, quantity=1)],
        confirmation=ConfirmInput(payment_method="CASH"),
    )
    context = staff_context(browser, page_server, operator)
    kitchen = open_live(context, page_server.url + "/kitchen/")
    # The CJK dish renders as glyphs: two different characters give two
    # different images (missing glyphs are identical boxes), each with ink.
    card = kitchen_cards(kitchen, named.display_code)
    expect(card).to_contain_text("寿司")
    glyphs = card.locator(".food").evaluate(
        """(el) => {
            const canvas = document.createElement('canvas');
            canvas.width = canvas.height = 64;
            const ctx = canvas.getContext('2d');
            ctx.font = getComputedStyle(el).fontSize + ' ' + getComputedStyle(el).fontFamily;
            const draw = (text) => {
                ctx.clearRect(0, 0, 64, 64);
                ctx.fillStyle = '#000';
                ctx.fillText(text, 4, 48);
                return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(',');
            };
            // U+0378 is unassigned: every font draws it as the missing-glyph box.
            const letters = ['寿', '司', '山', 'ف', 'ط', 'Σ'];
            const images = letters.map(draw);
            const box = draw('\\u0378');
            return {
                distinct: new Set(images).size === letters.length,
                notBoxes: images.every((img) => img !== box),
                ink: images.every((img) => img.split(',').some((v) => v !== '0')),
            };
        }"""
    )
    assert glyphs == {"distinct": True, "notBoxes": True, "ink": True}

    context.close()


@pytest.mark.browser
def test_the_kitchen_chimes_for_a_new_order_once_sound_is_on_and_keeps_the_last_8_bumped(
    browser, page_server, cashier, menu, operator
):
    from playwright.sync_api import expect

    context = staff_context(browser, page_server, operator)
    # Count the tones the page asks Chromium's Web Audio for (a chime is two).
    context.add_init_script(
        """
        window.__tones = 0;
        const original = AudioContext.prototype.createOscillator;
        AudioContext.prototype.createOscillator = function () { window.__tones += 1; return original.call(this); };
        """
    )
    kitchen = open_live(context, page_server.url + "/kitchen/")
    first = cashier.confirmed_order([(menu["margherita"].id, 1, "")])
    expect(kitchen_cards(kitchen, first["displayCode"])).to_have_count(1)
    assert kitchen.evaluate("window.__tones") == 0  # off until someone turns it on

    kitchen.locator("#sound-toggle").click()
    expect(kitchen.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")
    assert kitchen.evaluate("window.__tones") == 2  # the toggle plays it once
    second = cashier.confirmed_order([(menu["margherita"].id, 1, "")])
    expect(kitchen_cards(kitchen, second["displayCode"])).to_have_count(1)
    kitchen.wait_for_function("window.__tones >= 4")

    # Ten orders bumped: the strip keeps the eight most recent, newest first.
    bumped = [first, second] + [cashier.confirmed_order([(menu["lemonade"].id, 1, "")]) for _ in range(8)]
    for order in bumped:
        services.order_set_status(order_id=order["id"], by=operator, status=OrderStatus.COMPLETED)
    strip = kitchen.locator("#recall-list > li")
    expect(strip).to_have_count(8)
    expect(strip.first).to_contain_text(bumped[-1]["displayCode"])
    expect(kitchen.locator("#recall-list")).not_to_contain_text(first["displayCode"])
    context.close()
