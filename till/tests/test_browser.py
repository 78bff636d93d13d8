"""The till and the waiter pad in Debian's headless Chromium against a real
Daphne: the quick path and its keyboard, cash change and extras, a waiter's
order reaching the till live and its confirmation reaching the waiter, a food
sold out while in a cart, a network drop during Confirm that leaves exactly
one order, and the three screen sizes without sideways scrolling."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from conftest import bearer
from orders.models import Category, Closure, DrawerOpening, Food, Ingredient, Order, OrderStatus, PaymentMethod, Reprint
from testsupport.browser import WAIT_MS, save_screenshot

pytestmark = pytest.mark.browser


def open_page(context, url: str, *, live: bool = True):
    from playwright.sync_api import expect

    page = context.new_page()
    response = page.goto(url)
    assert response.status == 200, response.status
    if live:
        expect(page.locator("body")).to_have_attribute("data-connection", "live", timeout=WAIT_MS)
    expect(page.locator(".food").first).to_be_visible(timeout=WAIT_MS)
    return page


def food(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_quick_path_is_foods_then_cash_then_confirm_with_change_extras_discount_and_keys(
    till_server, signed_in, menu, operator
):
    from playwright.sync_api import expect

    basil = Ingredient.objects.create(name="Basil")
    mozzarella = Ingredient.objects.create(name="Mozzarella", surcharge=Decimal("0.5"))
    menu["margherita"].ingredients.add(basil, mozzarella)
    page = open_page(signed_in(operator), till_server.url + "/till/")

    # Touch targets: every food a button named by the food, at least 48 px high;
    # the sold-out one greyed and refusing taps.
    heights = page.locator(".food").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 48
    expect(food(page, "Calzone")).to_have_class("food sold-out")
    expect(food(page, "Calzone")).to_be_disabled()  # aria-disabled: still named, still focusable
    food(page, "Calzone").click(force=True)
    expect(page.locator("#cart-lines li")).to_have_count(0)

    # Three kinds of taps: foods, Cash, Confirm.
    food(page, "Margherita").click()
    food(page, "Margherita").click()
    food(page, "Lemonade").click()
    expect(page.locator("#sum-total")).to_have_text("€28.50")
    page.locator("#pay-cash").click()
    page.locator('.tender[data-amount="50"]').click()
    expect(page.locator("#change")).to_have_text("€21.50")
    page.locator("#confirm").click()
    expect(page.locator("#done-ticket")).to_have_text("1")
    code = page.locator("#done-code").inner_text()
    expect(page.locator("#done-change")).to_contain_text("€21.50")
    first = Order.objects.get(display_code=code)
    assert (first.status, first.payment_method, first.total, first.ticket_number) == (
        OrderStatus.CONFIRMED,
        PaymentMethod.CASH,
        Decimal("28.5"),
        1,
    )
    assert first.user_id == operator.pk and first.cash_register_id == menu["till"].pk  # the only till, chosen
    expect(page.locator("#cart-lines li")).to_have_count(0)

    # Extras from the ingredients (an extra mozzarella costs its surcharge, 0.50),
    # an extra charge and a discount, paid by card.
    page.locator("#done-next").click()
    food(page, "Margherita").click()
    page.locator("#cart-lines .line-main").click()
    page.get_by_role("button", name="Basil", exact=True).click()  # once: no basil
    page.get_by_role("button", name="Mozzarella", exact=True).click()
    page.get_by_role("button", name="no Mozzarella", exact=True).click()  # twice: extra
    page.locator("#line-surcharge").fill("1.5")
    page.locator("#line-notes").fill("well done")
    page.locator("#line-done").click()
    page.locator("#discount").fill("2")
    expect(page.locator("#sum-total")).to_have_text("€12.50")
    page.locator("#pay-card").click()
    expect(page.locator("#cash-part")).to_be_hidden()
    page.locator("#confirm").click()
    expect(page.locator("#done-ticket")).to_have_text("2")
    second = Order.objects.get(ticket_number=2)
    line = second.items.get()
    assert (second.payment_method, second.discount, second.total) == (PaymentMethod.CARD, Decimal("2"), Decimal("12.5"))
    assert (line.notes, line.total) == ("no Basil, extra Mozzarella, well done", Decimal("14.5"))

    # A desk till: type to find a food, Enter adds it, Enter pays cash, Enter confirms.
    page.keyboard.press("Enter")
    expect(page.locator("#done-panel")).to_be_hidden()
    page.keyboard.type("lem")
    expect(page.locator(".food")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#cart-lines li")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#pay-panel")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#done-ticket")).to_have_text("3")
    assert Order.objects.get(ticket_number=3).total == Decimal("3.5")
    # A reload keeps the cart; Esc clears it.
    page.keyboard.press("Escape")
    food(page, "Margherita").click()
    page.locator("#table").fill("7")
    page.reload()
    expect(page.locator("#cart-lines li")).to_contain_text("1 × Margherita")
    expect(page.locator("#table")).to_have_value("7")
    page.locator("body").press("Escape")
    expect(page.locator("#cart-lines li")).to_have_count(0)
    assert Order.objects.count() == 3


def test_a_waiters_order_reaches_the_till_live_and_its_confirmation_reaches_the_waiter(
    till_server, signed_in, menu, operator, waiter, admin_user
):
    from playwright.sync_api import expect

    till = open_page(signed_in(operator, 1920, 1080), till_server.url + "/till/")
    pad = open_page(signed_in(waiter, 390, 844), till_server.url + "/waiter/", live=False)

    pad.locator("#table").fill("12")
    pad.locator("#customer").fill("Rita")
    food(pad, "Margherita").click()
    food(pad, "Margherita").click()
    pad.get_by_label("Notes Margherita").fill("No basil")
    # The first answer is lost on the way back; the pad's cart stays and is sent again.
    pad.route("**/v1/orders", lambda route: (route.fetch(), route.abort("connectionreset")))
    pad.locator("#send").click()
    expect(pad.locator("#notice-text")).to_contain_text("Not sent")
    assert Order.objects.count() == 1
    pad.unroute("**/v1/orders")
    pad.locator("#send-again").click()
    expect(pad.locator("#last-sent")).to_contain_text("Sent as")
    expect(pad.locator("#cart-lines li")).to_have_count(0)
    code = Order.objects.get().display_code
    expect(pad.locator(f'.mine-order[data-display-code="{code}"] .state')).to_have_text("Waiting for the till")

    pending = till.locator(f'.pending-order[data-display-code="{code}"]')
    expect(pending).to_be_visible()
    expect(pending).to_contain_text("12 · Rita")
    pending.click()
    expect(till.locator("#cart-lines li")).to_have_count(1)
    expect(till.locator("#cart-lines li")).to_contain_text("No basil")
    expect(till.locator("#sum-total")).to_have_text("€25.00")
    till.locator("#pay-card").click()
    till.locator("#confirm").click()
    expect(till.locator("#done-code")).to_have_text(code)
    expect(till.locator("#done-ticket")).to_have_text("1")
    expect(till.locator(".pending-order")).to_have_count(0)
    order = Order.objects.get()  # still one: the pad's resend was a replay
    assert (order.status, order.created_by_id, order.user_id) == (OrderStatus.CONFIRMED, waiter.pk, operator.pk)
    assert order.items.get().notes == "No basil"
    expect(pad.locator(f'.mine-order[data-display-code="{code}"] .state')).to_have_text("Confirmed · Ticket 1")

    # Sold out while in a cart: greyed at once, the line flagged, paying blocked.
    till.locator("#done-next").click()
    food(till, "Lemonade").click()
    with httpx.Client(base_url=till_server.url, headers=bearer(admin_user), timeout=30) as admin:
        assert admin.patch(f"/v1/foods/{menu['lemonade'].id}", json={"available": False}).status_code == 200
        expect(food(till, "Lemonade")).to_have_class("food sold-out")
        expect(till.locator("#cart-lines li.sold-out")).to_have_count(1)
        expect(till.locator("#cart-problem")).to_contain_text("Sold out since it was added")
        expect(till.locator("#pay-cash")).to_be_disabled()
        assert admin.patch(f"/v1/foods/{menu['lemonade'].id}", json={"available": True}).status_code == 200
    expect(till.locator("#pay-cash")).to_be_enabled()
    expect(till.locator("#cart-lines li.sold-out")).to_have_count(0)


def test_a_network_drop_during_confirm_keeps_the_cart_and_sending_again_makes_no_second_order(
    till_server, signed_in, menu, operator
):
    from playwright.sync_api import expect

    context = signed_in(operator)
    page = open_page(context, till_server.url + "/till/")
    reached = []

    def deliver_then_drop(route):
        # The request reaches the server and is carried out; its answer is lost.
        if route.request.method != "POST":
            return route.continue_()
        reached.append(route.fetch().status)
        route.abort("connectionreset")

    page.route("**/v1/orders", deliver_then_drop)
    food(page, "Margherita").click()
    page.locator("#pay-cash").click()
    page.locator("#confirm").click()
    expect(page.locator("#notice-text")).to_contain_text("Not sent")
    expect(page.locator("#send-again")).to_be_visible()
    assert reached == [201]
    assert Order.objects.count() == 1
    expect(page.locator("#cart-lines li")).to_have_count(1)
    expect(page.locator("#pay-cash")).to_be_disabled()  # locked until it is sent
    food(page, "Lemonade").click()
    expect(page.locator("#cart-lines li")).to_have_count(1)

    # A reload keeps the cart and the request in doubt.
    page.unroute("**/v1/orders")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    expect(page.locator("#cart-lines li")).to_have_count(1)
    expect(page.locator("#notice-text")).to_contain_text("Send it again")

    with page.expect_response(lambda response: response.url.endswith("/v1/orders")) as answer:
        page.locator("#send-again").click()
    assert answer.value.headers.get("idempotent-replayed") == "true"
    expect(page.locator("#done-ticket")).to_have_text("1")
    order = Order.objects.get()
    expect(page.locator("#done-code")).to_have_text(order.display_code)
    assert order.ticket_number == 1 and order.status == OrderStatus.CONFIRMED
    assert page.evaluate(f"JSON.parse(localStorage.getItem('till.cart.{operator.pk}')).outgoing") is None
    expect(page.locator("#cart-lines li")).to_have_count(0)

    # A cart whose answer was lost longer ago than the server keeps keys is
    # never sent again (its key could make a second order): the page says why.
    lemonade = {"foodId": menu["lemonade"].id, "quantity": 1}
    old_cart = {
        "cart": {
            "lines": [
                {"uid": 1, **lemonade, "name": "Lemonade", "priceCents": 350, "notes": "", "surcharge": "", "mods": {}}
            ],
            "table": "",
            "customer": "",
            "discount": "",
            "orderId": None,
            "code": None,
            "dirty": False,
        },
        "outgoing": {
            "key": "till-yesterday",
            "madeAt": 1000,  # 1970
            "method": "POST",
            "url": "/v1/orders",
            "body": {
                "table": "Counter",
                "customer": "Guest",
                "orderItems": [lemonade],
                "confirm": {"paymentMethod": "CARD"},
            },
            "tendered": 0,
        },
    }
    page.evaluate(
        "([key, value]) => localStorage.setItem(key, JSON.stringify(value))", [f"till.cart.{operator.pk}", old_cart]
    )
    page.reload()
    expect(page.locator("#notice-text")).to_contain_text("more than 24 hours ago")
    expect(page.locator("#send-again")).to_be_hidden()
    page.keyboard.press("Enter")  # Enter would send an in-doubt cart
    expect(page.locator("#notice-text")).to_contain_text("more than 24 hours ago")
    assert Order.objects.count() == 1


def test_both_pages_fit_a_desk_a_wide_screen_and_a_phone_without_sideways_scrolling(
    till_server, signed_in, menu, operator, waiter, tmp_path
):
    from playwright.sync_api import expect

    grill = Category.objects.create(name="Grill", printer=menu["kitchen"], position=3)
    for name, price in [
        ("Burger", "13"),
        ("Fries", "4.5"),
        ("Sausage with sauerkraut and mustard", "9.5"),
        ("Corn on the cob", "3"),
    ]:
        Food.objects.create(name=name, price=Decimal(price), category=grill)
    for name in ("Diavola", "Quattro formaggi", "Marinara"):
        Food.objects.create(name=name, price=Decimal("11"), category=menu["pizza"])
    with httpx.Client(base_url=till_server.url, headers=bearer(waiter), timeout=30) as pad_api:
        for table, customer in (("4", "Maria"), ("Terrace 2", "Jonas")):
            body = {
                "table": table,
                "customer": customer,
                "orderItems": [{"foodId": menu["margherita"].id, "quantity": 2}],
            }
            assert pad_api.post("/v1/orders", json=body).status_code == 201

    for width, height in ((1280, 800), (1920, 1080), (390, 844)):
        page = open_page(signed_in(operator, width, height), till_server.url + "/till/")
        expect(page.locator(".pending-order")).to_have_count(2)
        food(page, "Margherita").click()
        food(page, "Sausage with sauerkraut and mustard").click()
        assert no_sideways_scroll(page), (width, height)
        page.locator("#pay-cash").click()
        page.locator('.tender[data-amount="20"]').click()
        assert no_sideways_scroll(page), (width, height)
        if (width, height) == (1280, 800):
            page.locator("#pay-back").click()
            shot = tmp_path / "till.png"
            page.screenshot(path=str(shot))
            save_screenshot(shot, "till.png")
        page.close()

        pad = open_page(signed_in(waiter, width, height), till_server.url + "/waiter/", live=False)
        expect(pad.locator(".mine-order")).to_have_count(2)
        pad.locator("#table").fill("Terrace 11")
        food(pad, "Sausage with sauerkraut and mustard").click()
        assert no_sideways_scroll(pad), ("waiter", width, height)
        if (width, height) == (390, 844):
            shot = tmp_path / "waiter.png"
            pad.screenshot(path=str(shot))
            save_screenshot(shot, "waiter.png")
        pad.close()


def test_the_days_orders_are_found_reprinted_and_cancelled_and_an_admin_opens_the_drawer_and_closes_the_day(
    till_server, signed_in, menu, admin_user
):
    from playwright.sync_api import expect

    with httpx.Client(base_url=till_server.url, headers=bearer(admin_user), timeout=30) as api:

        def sold(food_id: str, table: str, customer: str) -> dict:
            body = {
                "table": table,
                "customer": customer,
                "orderItems": [{"foodId": food_id, "quantity": 1}],
                "confirm": {"paymentMethod": "CASH", "cashRegisterId": menu["till"].id},
            }
            response = api.post("/v1/orders", json=body)
            assert response.status_code == 201, response.text
            return response.json()

        zoe = sold(menu["margherita"].id, "Terrace 5", "Zoe")
        max_ = sold(menu["lemonade"].id, "Bar", "Max")
    page = open_page(signed_in(admin_user), till_server.url + "/till/")

    page.locator("#orders-button").click()
    rows = page.locator(".order-row")
    expect(rows).to_have_count(2)
    page.locator("#orders-search").fill("zoe")
    expect(rows).to_have_count(1)
    rows.click()
    expect(page.locator("#order-detail")).to_contain_text("Terrace 5 · Zoe")
    expect(page.locator("#order-detail")).to_contain_text("1 × Margherita")
    page.locator("#reprint").click()
    expect(page.locator("#notice-text")).to_have_text("Sent to the printers again.")
    assert Reprint.objects.get().order_id == zoe["id"]
    page.locator("#cancel-order").click()
    expect(page.locator("#cancel-order")).to_contain_text("Tap again")
    assert Order.objects.get(pk=zoe["id"]).status == OrderStatus.CONFIRMED  # one tap cancels nothing
    page.locator("#cancel-order").click()
    expect(page.locator("#notice-text")).to_have_text(f"Order {zoe['displayCode']} cancelled.")
    expect(rows.locator(".status")).to_have_text("Cancelled")
    assert Order.objects.get(pk=zoe["id"]).status == OrderStatus.CANCELLED
    page.locator("#orders-search").fill(max_["displayCode"])
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Bar · Max")
    page.keyboard.press("Escape")
    expect(page.locator("#orders-panel")).to_be_hidden()

    page.locator("#drawer-button").click()
    expect(page.locator("#notice-text")).to_have_text("Drawer opening.")
    assert DrawerOpening.objects.get().cash_register_id == menu["till"].id
    page.locator("#closure-button").click()
    expect(page.locator("#notice-text")).to_contain_text("Tap again")
    assert not Closure.objects.exists()
    page.locator("#closure-button").click()
    expect(page.locator("#notice-text")).to_have_text("Day closed: 1 orders, €3.50 (cash €3.50, card €0.00).")
    assert Closure.objects.get().cash_register_id == menu["till"].id


@pytest.mark.parametrize(
    ("locale", "lang", "total", "button"),
    [("it-IT", "it", "16,00 €", "Contanti"), ("en-US", "en", "€16.00", "Cash")],
)
def test_the_till_speaks_the_browsers_language_and_shows_amounts_in_its_format(
    till_server, chromium, menu, operator, locale, lang, total, button
):
    from playwright.sync_api import expect

    from testsupport.browser import session_cookie

    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    context.set_default_timeout(WAIT_MS)
    context.add_cookies([session_cookie(operator, till_server.url)])
    page = open_page(context, till_server.url + "/till/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    food(page, "Margherita").click()
    food(page, "Lemonade").click()

    expect(page.locator("#sum-total")).to_have_text(total)
    expect(page.locator("#pay-cash")).to_have_text(button)
    context.close()
