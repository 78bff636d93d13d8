"""The event streams refuse what REST refuses: a real Daphne, opened with a
token that was logged out or issued before a password change."""

import httpx
import pytest
from rest_framework_simplejwt.tokens import AccessToken

from conftest import make_user
from users.models import Role
from users.tokens import token_revoke


@pytest.fixture
def server(shared_daphne, transactional_db):
    return shared_daphne


def open_status(server, token) -> int:
    response = httpx.get(f"{server.url}/events/cashier", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return response.status_code


def test_a_logged_out_token_cannot_open_a_stream(server):
    olga = make_user("olga", Role.OPERATOR)
    token = AccessToken.for_user(olga)
    assert httpx.post(f"{server.url}/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert open_status(server, token) == 401


def test_a_token_from_before_a_password_change_cannot_open_a_stream(server):
    olga = make_user("olga", Role.OPERATOR)
    token = AccessToken.for_user(olga)
    olga.set_password("another-long-password")
    olga.save()
    assert open_status(server, token) == 401


def test_a_revoked_token_is_refused_but_a_fresh_one_opens_the_stream(server):
    olga = make_user("olga", Role.OPERATOR)
    old = AccessToken.for_user(olga)
    token_revoke(token=old, user=olga)
    fresh = AccessToken.for_user(olga)
    with httpx.stream(
        "GET", f"{server.url}/events/cashier", headers={"Authorization": f"Bearer {fresh}"}, timeout=10
    ) as response:
        assert response.status_code == 200
    assert open_status(server, old) == 401


def test_concurrent_refreshes_with_one_token_give_one_new_pair(server):
    from concurrent.futures import ThreadPoolExecutor

    from rest_framework_simplejwt.tokens import RefreshToken

    olga = make_user("olga", Role.OPERATOR)
    refresh = str(RefreshToken.for_user(olga))

    def use(_):
        return httpx.post(f"{server.url}/auth/token/refresh", json={"refresh": refresh}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(use, range(6)))
    assert statuses == [200] + [401] * 5
