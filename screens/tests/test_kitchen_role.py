"""The kitchen role: cooks who sign in get the kitchen display and its bumps
(and the display channel it reads), nothing else: not the board, not
pick-ups, not the till, the API's orders or the admin."""

from __future__ import annotations

import re

import httpx
import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from conftest import PASSWORD, make_user
from orders.models import Order, OrderStatus
from screens.tests.test_pages import confirmed
from users.models import Role
from users.services import user_apply_role


@pytest.fixture
def cook(db):
    user = make_user("cuoco", Role.KITCHEN)
    user_apply_role(user=user)
    return user


def signed_in(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/kitchen/")
    assert page.status_code == 200
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page.content.decode()).group(1)


def test_a_cook_gets_the_kitchen_display_and_bumps_an_order(cook, menu, operator):
    order = confirmed(menu["margherita"], operator)
    client, csrf = signed_in(cook)

    assert client.get("/kitchen/state").status_code == 200
    assert client.get(f"/kitchen/orders/{order.id}").status_code == 200
    bumped = client.post(f"/kitchen/orders/{order.id}/bump", content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert bumped.status_code == 200
    assert Order.objects.get(pk=order.id).status == OrderStatus.COMPLETED
    assert (
        client.post(
            f"/kitchen/orders/{order.id}/recall", content_type="application/json", HTTP_X_CSRFTOKEN=csrf
        ).status_code
        == 200
    )


def test_a_cook_is_refused_pickups_the_board_the_till_and_the_admin(cook, menu, operator):
    order = confirmed(menu["margherita"], operator)
    client, csrf = signed_in(cook)
    Order.objects.filter(pk=order.id).update(status=OrderStatus.COMPLETED)

    assert (
        client.post(
            f"/kitchen/orders/{order.id}/pickup", content_type="application/json", HTTP_X_CSRFTOKEN=csrf
        ).status_code
        == 403
    )
    assert Order.objects.get(pk=order.id).status == OrderStatus.COMPLETED
    assert client.get("/display/").status_code == 403
    assert client.get("/display/state").status_code == 403
    assert client.get("/till/").status_code == 403
    assert client.get("/waiter/").status_code == 403
    assert client.get("/admin/").status_code == 302  # not staff: the admin's login
    assert not cook.is_staff


def test_the_kitchen_page_offers_a_cook_no_pickup_button(cook, operator):
    cook_page = signed_in(cook)[0].get("/kitchen/").content.decode()
    cashier_page = signed_in(operator)[0].get("/kitchen/").content.decode()

    assert '"mayPickUp": false' in cook_page
    assert '"mayPickUp": true' in cashier_page


def test_a_cook_logs_in_on_the_staff_login_and_lands_on_the_kitchen(cook):
    response = Client().post("/login/", {"username": "cuoco", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/kitchen/")


def test_a_cooks_token_opens_the_display_stream_only(shared_daphne, transactional_db):
    user = make_user("cuoca", Role.KITCHEN)
    headers = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}

    def status(channel: str) -> int:
        return httpx.head(f"{shared_daphne.url}/events/{channel}", headers=headers, timeout=10).status_code

    assert [status("display"), status("cashier"), status("printer")] == [200, 403, 403]


def test_a_cooks_display_stream_outlives_the_rechecks_of_its_right(daphne):
    """The re-check (events/access/revocation.py) keeps a cook's stream: an event
    published after a few re-checks still reaches it."""
    import time

    from conftest import bearer
    from events.outbox.publisher import publish
    from testsupport import SSEStream

    server = daphne(EVENTS_POLL_SECONDS="0.2")
    user = make_user("cuoca", Role.KITCHEN)
    with SSEStream(f"{server.url}/events/display", headers=bearer(user)) as stream:
        assert stream.status_code == 200
        assert stream.next().is_position
        time.sleep(1.5)  # three re-checks (EVENTS_REVALIDATE_SECONDS 0.5)
        publish("display", "order-status-update", {"still": "listening"})
        assert stream.next().json() == {"still": "listening"}
        assert not stream.closed.is_set()
