"""The till's and the waiter pad's server side, through Django's test client:
who gets which page, what the pages hand their scripts, the pad's list of its
own orders, and the start page's links."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from orders import services
from orders.models import Order
from orders.services import ConfirmInput, LineInput
from till import selectors


def logged_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def page_config(response) -> dict:
    found = re.search(
        r'<script id="page-config" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(found.group(1))


@pytest.mark.parametrize("path", ["/till/", "/waiter/"])
def test_an_anonymous_visitor_is_sent_to_the_staff_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_a_waiter_gets_the_pad_but_not_the_till(waiter):
    client = logged_in(waiter)
    refused = client.get("/till/")
    assert refused.status_code == 403
    assert b"Not allowed" in refused.content
    assert client.get("/waiter/").status_code == 200


@pytest.mark.parametrize("role", ["operator", "maintainer", "admin_user"])
def test_cashiers_maintainers_and_admins_get_both_pages_which_carry_no_token(role, request):
    user = request.getfixturevalue(role)
    client = logged_in(user)
    till = client.get("/till/")
    assert till.status_code == 200
    assert till["Cache-Control"].startswith("max-age=0")
    config = page_config(till)
    assert config["eventsUrl"].startswith("/events/cashier?events=new-order,")
    assert "category-availability-changed" in config["eventsUrl"]
    # The day's closure is for admins and maintainers (issue 25).
    assert config["mayCloseDay"] is (role != "operator")
    assert (b'id="closure-button"' in till.content) is (role != "operator")
    assert config["labels"]["soldOut"] == "Sold out"
    assert config["keyHours"] == settings.IDEMPOTENCY_KEY_HOURS  # how long a lost answer may be sent again
    assert client.get("/waiter/").status_code == 200
    for page in (till, client.get("/waiter/")):
        assert b"Bearer" not in page.content
        assert b"token=" not in page.content
        assert b"/static/till/common.js" in page.content


def test_the_tills_day_starts_at_the_roll_over_hour(operator):
    late_night = timezone.make_aware(datetime(2026, 5, 2, 2, 30))
    evening = timezone.make_aware(datetime(2026, 5, 2, 19, 0))
    with override_settings(SERVICE_DAY_ROLLOVER_HOUR=6):
        assert selectors.service_day_start(late_night) == timezone.make_aware(datetime(2026, 5, 1, 6, 0))
        assert selectors.service_day_start(evening) == timezone.make_aware(datetime(2026, 5, 2, 6, 0))
    config = page_config(logged_in(operator).get("/till/"))
    assert config["dayStart"] == selectors.service_day_start().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_the_pad_lists_only_the_waiters_own_orders_of_the_day_with_their_status(menu, waiter, operator):
    line = [LineInput(food_id=menu["margherita"].id, quantity=1)]
    mine = services.order_create(table="4", customer="Mia", lines=line, created_by=waiter)
    confirmed = services.order_create(table="5", customer="Leo", lines=line, created_by=waiter)
    services.order_confirm(order_id=confirmed.id, by=operator, confirmation=ConfirmInput(payment_method="CARD"))
    services.order_create(table="6", customer="Other", lines=line, created_by=operator)
    yesterday = services.order_create(table="7", customer="Old", lines=line, created_by=waiter)
    Order.objects.filter(pk=yesterday.id).update(created_at=selectors.service_day_start() - timedelta(minutes=1))

    response = logged_in(waiter).get("/waiter/orders")

    assert response.status_code == 200
    orders = response.json()["orders"]
    assert [order["id"] for order in orders] == [confirmed.id, mine.id]
    assert orders[0] == {
        "id": confirmed.id,
        "displayCode": confirmed.display_code,
        "table": "5",
        "customer": "Leo",
        "status": "CONFIRMED",
        "ticketNumber": 1,
        "total": "12.5",
        "createdAt": orders[0]["createdAt"],
    }
    assert orders[1]["status"] == "PENDING" and orders[1]["ticketNumber"] is None


def test_the_pads_orders_need_a_signed_in_staff_member(db):
    response = Client().get("/waiter/orders")
    assert response.status_code in (401, 403)
    assert "message" in response.json()


def test_the_start_page_links_the_till_and_the_pad_for_the_roles_that_may_use_them(db, operator, waiter):
    anonymous = Client().get("/").content.decode()
    assert 'href="/till/"' in anonymous and 'href="/waiter/"' in anonymous
    cashier = logged_in(operator).get("/").content.decode()
    assert 'href="/till/"' in cashier and 'href="/waiter/"' in cashier
    pad_only = logged_in(waiter).get("/").content.decode()
    assert 'href="/till/"' not in pad_only and 'href="/waiter/"' in pad_only
