"""The kitchen display (/kitchen/) and the "now serving" board (/display/).

The first half drives the pages' server side with Django's test client; the
second half (marked `browser`) runs the real pages in Debian's headless
Chromium against a real Daphne: orders confirmed through the API appear
without a reload, a bump reaches the board, a killed and restarted server
leaves every order on screen exactly once."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter

from testsupport import DaphneServer, require_service
from conftest import PASSWORD
from events.tests.pages_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    WAIT_MS,
    Cashier,
    chromium_available,
    collect_static,
    save_screenshot,
    session_cookie,
)
from orders import services
from orders.exceptions import Conflict
from orders.models import Category, Food, Order, OrderStatus
from orders.services import ConfirmInput, LineInput
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
    menu, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # events, so the log has a head
        first = confirmed(menu["margherita"], operator, quantity=2, notes="No basil", table="4", customer="Maria")
        second = confirmed(menu["lemonade"], operator)
        bumped = confirmed(menu["margherita"], operator)
        services.order_set_status(order_id=bumped.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_create(table="9", customer="Pending", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)])
    Order.objects.filter(pk=first.id).update(confirmed_at=timezone.now() - timedelta(minutes=30))
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
        "confirmedAt": state["orders"][0]["confirmedAt"],
        "forStation": True,
        "otherStationLines": 0,
        "lines": [
            {"id": state["orders"][0]["lines"][0]["id"], "quantity": 2, "name": "Margherita", "notes": "No basil"}
        ],
    }
    assert [card["id"] for card in state["recall"]] == [bumped.id]


def test_a_station_sees_only_orders_and_lines_for_its_printer(menu, operator):
    # Margherita prints in the kitchen (its category's printer), lemonade at the bar (its own).
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

    bar = client.get(f"/kitchen/state?printer={menu['bar'].id}").json()
    assert [card["id"] for card in bar["orders"]] == [drinks_only.id, both.id]
    assert [(line["name"], line["quantity"]) for line in bar["orders"][1]["lines"]] == [("Lemonade", 3)]
    assert bar["orders"][1]["otherStationLines"] == 1

    kitchen = client.get(f"/kitchen/state?printer={menu['kitchen'].id}").json()
    assert [card["id"] for card in kitchen["orders"]] == [pizza_only.id, both.id]

    other = client.get(f"/kitchen/orders/{drinks_only.id}?printer={menu['kitchen'].id}").json()
    assert other["forStation"] is False
    assert other["lines"] == []
    assert client.get("/kitchen/state?printer=nope").status_code == 404
    assert client.get("/kitchen/?printer=nope").status_code == 404


def test_the_board_state_has_what_is_being_prepared_and_what_is_ready(menu, operator):
    preparing = confirmed(menu["margherita"], operator)
    ready = confirmed(menu["lemonade"], operator)
    gone = confirmed(menu["lemonade"], operator)
    services.order_set_status(order_id=ready.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=gone.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=gone.id, by=operator, status=OrderStatus.PICKED_UP)

    state = logged_in(operator).get("/display/state").json()

    assert state["preparing"] == [
        {"id": preparing.id, "displayCode": preparing.display_code, "ticketNumber": 1, "status": "CONFIRMED"}
    ]
    assert state["ready"] == [
        {"id": ready.id, "displayCode": ready.display_code, "ticketNumber": 2, "status": "COMPLETED"}
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
def browser(page_server, monkeypatch):
    """Headless Chromium. Playwright's sync API keeps an event loop running
    in this thread, which makes Django refuse ORM calls from the test
    ("async context") unless told otherwise; the server was started first, so
    it does not inherit the setting."""
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

    from testsupport import SSEStream
    from conftest import bearer

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
    expect(kitchen.locator("#announcer")).to_contain_text(f"New order: ticket #{order['ticketNumber']}, code {code}")
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
        update = cashier_stream.collect(1, event="order-status-update")[0]
        assert update.json() == {
            "id": order["id"],
            "displayCode": code,
            "ticketNumber": order["ticketNumber"],
            "status": "COMPLETED",
        }

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
def test_late_cards_stand_out_and_a_station_sees_only_its_own_lines(browser, page_server, cashier, menu, operator):
    from playwright.sync_api import expect

    late = cashier.confirmed_order([(menu["margherita"].id, 1, "")])
    Order.objects.filter(pk=late["id"]).update(confirmed_at=timezone.now() - timedelta(minutes=20))
    drinks = cashier.confirmed_order([(menu["lemonade"].id, 2, "")])

    context = staff_context(browser, page_server, operator)
    station = open_live(context, f"{page_server.url}/kitchen/?printer={menu['kitchen'].id}")
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
def test_screenshots_of_both_pages(browser, page_server, cashier, menu, operator, tmp_path):
    """Renders both pages at 1920x1080 with a realistic evening; with
    UPDATE_SCREENSHOTS=1 the images replace docs/screenshots/*.png."""
    from playwright.sync_api import expect

    grill = Category.objects.create(name="Grill", printer=menu["kitchen"], position=3)
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
    from events import pages, stream

    assert set(pages.PAGE_ROLES) == set(stream.LISTENER_ROLES) == {Role.ADMIN, Role.OPERATOR}
