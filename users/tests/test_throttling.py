"""Sign-in throttling (django-axes): 10 failures for one username, or from
one address, within 15 minutes lock every sign-in path with a 429 and
Retry-After, the right password included, until the window has passed."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from users.models import Role
from users.tests.helpers import PASSWORD, staff

LIMIT = 10
API_PATHS = ["/auth/login", "/auth/token"]


@pytest.fixture
def olga(db):
    return staff("olga", Role.OPERATOR)


def api_sign_in(path: str, username: str, password: str, address: str = "10.0.0.1"):
    body = {"username": username, "password": password}
    return APIClient().post(path, body, format="json", REMOTE_ADDR=address)


def fail(times: int, path: str = "/auth/login", username: str = "olga") -> None:
    for _ in range(times):
        api_sign_in(path, username, "wrong")


def admin_sign_in(username: str, password: str, address: str = "10.0.0.1"):
    body = {"username": username, "password": password, "next": "/admin/"}
    return Client().post("/admin/login/?next=/admin/", body, REMOTE_ADDR=address)


def assert_locked_json(response):
    assert response.status_code == 429, response.content
    assert set(response.json()) == {"message"}
    assert "Too many failed sign-in attempts" in response.json()["message"]
    assert 0 < int(response["Retry-After"]) <= 15 * 60


@pytest.mark.parametrize("path", API_PATHS)
def test_the_tenth_failure_for_a_username_locks_it_also_for_the_right_password(olga, path):
    statuses = [api_sign_in(path, "olga", f"wrong-{n}", address=f"10.0.1.{n}").status_code for n in range(LIMIT)]
    assert statuses == [401] * (LIMIT - 1) + [429]

    # From an address that never failed, with the right password.
    assert_locked_json(api_sign_in(path, "olga", PASSWORD, address="10.0.2.1"))
    # Someone else is not affected.
    staff("ada", Role.ADMIN)
    assert api_sign_in(path, "ada", PASSWORD, address="10.0.1.1").status_code == 200


@pytest.mark.parametrize("path", API_PATHS)
def test_ten_failures_from_one_address_lock_that_address_for_every_username(olga, path):
    for n in range(LIMIT):
        api_sign_in(path, f"guess-{n}", "wrong", address="10.0.0.9")

    assert_locked_json(api_sign_in(path, "olga", PASSWORD, address="10.0.0.9"))
    assert api_sign_in(path, "olga", PASSWORD, address="10.0.0.10").status_code == 200


def test_failures_on_one_path_count_on_the_others(olga):
    for n in range(LIMIT):
        api_sign_in(API_PATHS[n % 2], "olga", "wrong", address=f"10.0.3.{n}")

    assert_locked_json(api_sign_in("/auth/token", "olga", PASSWORD))
    assert_locked_json(api_sign_in("/auth/login", "olga", PASSWORD))
    assert admin_sign_in("olga", PASSWORD).status_code == 429


def test_the_admin_login_is_locked_with_a_429_page(db):
    staff("ada", Role.ADMIN)
    statuses = [admin_sign_in("ada", "wrong").status_code for _ in range(LIMIT)]
    # A failed admin sign-in shows the form again (200) until the lockout.
    assert statuses == [200] * (LIMIT - 1) + [429]

    response = admin_sign_in("ada", PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert b"Too many failed sign-in attempts" in response.content
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in response.client.session
    # ...and the API's sign-in shares the lockout.
    assert_locked_json(api_sign_in("/auth/login", "ada", PASSWORD))


def test_retry_after_counts_down_from_the_newest_failure(olga):
    fail(LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))

    response = api_sign_in("/auth/login", "olga", PASSWORD)
    assert response.status_code == 429
    # Five minutes of the window are left (give or take the test's own run).
    assert 4 * 60 < int(response["Retry-After"]) <= 5 * 60


def test_attempts_during_a_lockout_do_not_extend_it(olga):
    fail(LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    statuses = [api_sign_in("/auth/login", "olga", "still-wrong").status_code for _ in range(5)]
    assert statuses == [429] * 5

    assert AccessAttempt.objects.filter(attempt_time__gt=timezone.now() - timedelta(minutes=9)).count() == 0


@pytest.mark.parametrize("path", API_PATHS)
def test_the_lockout_ends_when_the_window_has_passed(olga, path):
    fail(LIMIT, path)
    assert api_sign_in(path, "olga", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))

    assert api_sign_in(path, "olga", PASSWORD).status_code == 200


def test_failures_spread_beyond_the_window_do_not_lock(olga):
    fail(LIMIT - 1)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert api_sign_in("/auth/login", "olga", "wrong").status_code == 401
    assert api_sign_in("/auth/login", "olga", PASSWORD).status_code == 200


def test_the_limit_and_window_come_from_settings(olga, settings):
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [api_sign_in("/auth/login", "olga", "wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_the_test_clients_login_still_works_without_a_request(olga):
    # Django's test client authenticates without a request; axes has no
    # client to throttle there and must not break it.
    client = Client()
    assert client.login(username="olga", password=PASSWORD)


def test_the_staff_login_page_is_locked_too(olga):
    fail(LIMIT)
    response = Client().post("/login/", {"username": "olga", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
