"""The admin's day report page: the same figures as GET /v1/reports, a
server-rendered SVG chart of revenue per hour, in the Django test client
and in a real Chromium against a real Daphne."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders.charts import hourly_revenue_chart
from orders.models import Closure, Order, OrderStatus
from orders.services import ConfirmInput, LineInput
from testsupport import require_service
from testsupport.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    WAIT_MS,
    chromium_available,
    collect_static,
    save_screenshot,
    session_cookie,
)
from users.services import user_create

PASSWORD = "an-admin-test-password"
DAY = "2026-07-04"
EVENING = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)
PAGE = f"/admin/orders/dayreport/?day={DAY}"


@pytest.fixture
def manager(db):
    return user_create(username="manager", role="admin", password=PASSWORD)


@pytest.fixture
def evening(place_order, menu, operator):
    """An evening of sales: (minutes after 18:00, margheritas, lemonades, method)."""
    sales = [(5, 2, 1, "CASH"), (40, 1, 0, "CARD"), (70, 4, 4, "CASH"), (200, 0, 2, "CARD"), (230, 1, 1, "CASH")]
    for minutes, pizzas, drinks, method in sales:
        lines = [LineInput(food_id=menu["margherita"].id, quantity=pizzas)] if pizzas else []
        lines += [LineInput(food_id=menu["lemonade"].id, quantity=drinks)] if drinks else []
        order = place_order(lines=lines, confirm=ConfirmInput(payment_method=method, cash_register_id=menu["till"].id))
        at = EVENING + timedelta(minutes=minutes)
        Order.objects.filter(pk=order.pk).update(
            confirmed_at=at, status=OrderStatus.COMPLETED, completed_at=at + timedelta(minutes=12)
        )
    place_order()  # pending: not revenue
    Closure.objects.create(cash_register=menu["till"], service_day=datetime(2026, 7, 4).date(), report=[])
    return sales


def test_the_chart_has_one_bar_per_hour_from_the_first_sale_to_the_last():
    hours = {EVENING: Decimal("40"), EVENING + timedelta(hours=3): Decimal("10.5")}

    chart = hourly_revenue_chart(hours)

    assert [bar.value for bar in chart.bars] == ["40", "0", "0", "10.5"]
    assert [bar.label for bar in chart.bars] == ["18:00", "19:00", "20:00", "21:00"]
    # 40 is the top of a 0..50 axis; the empty hours have no height.
    assert [tick.label for tick in chart.ticks] == ["0", "12.5", "25", "37.5", "50"]
    full = chart.bottom - chart.ticks[-1].y
    assert [bar.height for bar in chart.bars] == [round(full * 0.8, 1), 0, 0, round(full * 0.21, 1)]


def test_there_is_no_chart_without_sales():
    assert hourly_revenue_chart({}) is None


def test_the_page_shows_the_days_figures_as_the_api_computes_them(client, manager, evening):
    client.force_login(manager)

    response = client.get(PAGE)

    assert response.status_code == 200
    report = response.context["report"]
    # 8 × 12.5 + 8 × 3.5 = 128 over five orders; each took 12 minutes.
    assert (report["totalRevenue"], report["totalOrders"], report["averageCompletionTime"]) == ("128", 5, 720.0)
    html = response.content.decode()
    assert '<strong id="total-revenue">€128.00</strong>' in html
    assert html.count('class="hour"') == 4  # 18:00 … 21:00
    assert 'data-hour="20:00" data-revenue="0"' in html
    assert "Till 1" in html
    assert '<strong id="completion-time">12.0 min</strong>' in html


def test_in_italian_the_page_shows_amounts_as_italians_write_them(client, manager, evening):
    client.force_login(manager)

    html = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="it").content.decode()

    assert '<html lang="it"' in html
    assert '<strong id="total-revenue">128,00 €</strong>' in html
    assert "Incasso per ora" in html
    assert "Revenue per hour" not in html


def test_the_admin_index_links_to_the_day_reports(client, manager):
    client.force_login(manager)
    assert 'href="/admin/orders/dayreport/"' in client.get("/admin/").content.decode()


def test_a_day_without_orders_says_so(client, manager, evening):
    client.force_login(manager)
    response = client.get("/admin/orders/dayreport/?day=2026-07-10")
    assert (response.status_code, response.context["report"]) == (200, None)
    assert 'id="no-orders"' in response.content.decode()


@pytest.mark.parametrize("day", ["yesterday", "2026-02-30", "2026-13-01", "9999-12-31", "0001-01-01"])
def test_a_bad_day_shows_today_with_a_warning(client, manager, day):
    client.force_login(manager)
    response = client.get("/admin/orders/dayreport/", {"day": day})
    assert response.status_code == 200
    assert "is not a date" in response.context["warning"]


def test_staff_who_are_not_admins_cannot_see_the_figures(client, db):
    cashier = user_create(username="cash", role="operator", password=PASSWORD)
    cashier.is_staff = True
    cashier.save()
    client.force_login(cashier)
    assert client.get(PAGE).status_code == 403
    assert "dayreport" not in client.get("/admin/").content.decode()


# --- in Chromium, against Daphne --------------------------------------------------------


@pytest.fixture
def report_server(daphne, tmp_path_factory):
    available, reason = chromium_available()
    require_service("chromium", available, reason)
    var_dir = tmp_path_factory.mktemp("report-var")
    collect_static(var_dir)
    return daphne(VAR_DIR=str(var_dir), DJANGO_ALLOW_ASYNC_UNSAFE="")


@pytest.mark.browser
def test_chromium_draws_the_revenue_chart_of_the_evening(report_server, manager, evening, monkeypatch, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    cookie = session_cookie(manager, report_server.url)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1280, "height": 1100})
            context.set_default_timeout(WAIT_MS)
            context.add_cookies([cookie])
            page = context.new_page()
            response = page.goto(report_server.url + PAGE)
            assert response.status == 200

            expect(page.locator("#total-revenue")).to_have_text("€128.00")
            bars = page.locator("#revenue-chart rect.bar")
            expect(bars).to_have_count(4)
            heights = [box["height"] for box in (bars.nth(i).bounding_box() for i in range(4))]
            # 18:00 sold 2×12.5+3.5+12.5 = 41, 19:00 4×12.5+4×3.5 = 64, 20:00 nothing, 21:00 7+16 = 23.
            assert heights[2] == 0
            assert heights[1] > heights[0] > heights[3] > 0
            expect(page.locator("#category-stats .category-row")).to_have_count(2)
            expect(page.locator("#closures li")).to_have_count(1)
            shot = tmp_path / "reports.png"
            page.screenshot(path=str(shot), full_page=True)
            save_screenshot(shot, "reports.png")
        finally:
            from django.db import connections

            connections.close_all()
            chromium.close()
