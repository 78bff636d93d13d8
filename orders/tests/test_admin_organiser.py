"""The admin an organiser uses (issue 24): set-up first on the index, the
plumbing for superusers only, the day's closure as a button with a
printable report, a chart that scales one hour as twelve, change lists
whose "available" column a phone reaches."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from orders.charts import hourly_revenue_chart
from orders.models import Closure
from orders.services import ConfirmInput
from users.models import Role, User
from users.services import user_create

PASSWORD = "an-organiser-test-password"
PLUMBING = (
    "/admin/axes/accessattempt/",
    "/admin/axes/accesslog/",
    "/admin/axes/accessfailurelog/",
    "/admin/token_blacklist/outstandingtoken/",
    "/admin/token_blacklist/blacklistedtoken/",
    "/admin/auth/group/",
    "/admin/events/streamsnapshot/",
)
EVENING = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)


@pytest.fixture
def superuser_client(client, db):
    user_create(username="boss", role=Role.ADMIN, password=PASSWORD)
    assert client.login(username="boss", password=PASSWORD)
    return client


@pytest.fixture
def staff_admin_client(client, db):
    """An admin who runs the festival but is no superuser: every permission
    of the admin site, given one by one."""
    user = user_create(username="organiser", role=Role.ADMIN, password=PASSWORD)
    User.objects.filter(pk=user.pk).update(is_superuser=False, role=Role.MAINTAINER)
    user.refresh_from_db()
    user.user_permissions.set(Permission.objects.all())
    assert client.login(username="organiser", password=PASSWORD)
    return client


def test_the_index_opens_with_the_set_up_in_the_order_an_evening_is_prepared(superuser_client):
    page = superuser_client.get("/admin/").content.decode()
    links = [
        "/admin/orders/category/",
        "/admin/orders/food/",
        "/admin/orders/ingredient/",
        "/admin/orders/station/",
        "/admin/orders/printer/",
        "/admin/orders/cashregister/",
        "/admin/users/user/",
        "/admin/users/apikey/",
        "/admin/orders/order/",
        "/admin/orders/closure/",
        "/admin/axes/accessattempt/",
    ]
    positions = [page.index(f'href="{link}"') for link in links]
    assert positions == sorted(positions)


def test_a_superuser_sees_and_opens_the_plumbing(superuser_client):
    index = superuser_client.get("/admin/").content.decode()
    for path in PLUMBING:
        assert path in index
        assert superuser_client.get(path).status_code == 200


def test_an_admin_who_is_no_superuser_neither_sees_nor_opens_the_plumbing(staff_admin_client):
    index = staff_admin_client.get("/admin/")
    assert index.status_code == 200
    assert "/admin/orders/food/" in index.content.decode()
    for path in PLUMBING:
        assert path not in index.content.decode()
        assert staff_admin_client.get(path).status_code in (302, 403, 404)


def test_the_close_button_takes_the_closure_and_shows_its_printable_report(
    superuser_client, place_order, menu, django_capture_on_commit_callbacks
):
    place_order(confirm=ConfirmInput(payment_method="CASH", cash_register_id=menu["till"].id))
    listing = superuser_client.get("/admin/orders/closure/").content.decode()
    assert "/admin/orders/closure/close/" in listing
    form = superuser_client.get("/admin/orders/closure/close/")
    assert menu["till"].name in form.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post("/admin/orders/closure/close/", {"cash_register": menu["till"].id})

    closure = Closure.objects.get()
    assert closure.cash_register == menu["till"]
    assert response.status_code == 302
    assert response["Location"] == f"/admin/orders/closure/{closure.pk}/report/"
    report = superuser_client.get(response["Location"]).content.decode()
    assert 'id="total-orders">1<' in report
    assert "window.print()" in report


def test_a_closure_without_a_cash_register_is_refused_and_takes_nothing(superuser_client, menu):
    response = superuser_client.post("/admin/orders/closure/close/", {"cash_register": "no-such-till"})
    assert response.status_code == 400
    assert not Closure.objects.exists()


def test_a_cashier_cannot_take_the_closure(client, db, menu):
    user_create(username="carl", role=Role.OPERATOR, password=PASSWORD)
    assert client.login(username="carl", password=PASSWORD)
    assert client.post("/admin/orders/closure/close/", {"cash_register": menu["till"].id}).status_code == 403
    assert not Closure.objects.exists()


def test_a_maintainer_takes_the_closure(client, db, menu):
    user_create(username="mia", role=Role.MAINTAINER, password=PASSWORD)
    assert client.login(username="mia", password=PASSWORD)
    response = client.post("/admin/orders/closure/close/", {"cash_register": menu["till"].id})
    assert response.status_code == 302
    assert Closure.objects.get().closed_by.username == "mia"


def test_one_hour_of_sales_draws_a_bar_as_wide_as_among_twelve():
    one = hourly_revenue_chart({EVENING: Decimal("40")})
    twelve = hourly_revenue_chart({EVENING + timedelta(hours=h): Decimal("40") for h in range(12)})
    assert one.bars[0].width == twelve.bars[0].width
    assert one.bars[0].width < (one.width - one.left) / 10


@pytest.mark.parametrize("path", ["/admin/orders/food/", "/admin/orders/category/"])
def test_the_available_column_comes_right_after_the_name(superuser_client, menu, path):
    page = superuser_client.get(path).content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page)
    assert headers[:2] == ["name", "available"]
