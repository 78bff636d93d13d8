"""A logout ends its login everywhere, against real Daphne servers: the
access token, the refresh token and every token refreshed from it, the
stream tokens minted under it, and the streams opened with any of them, on
every worker. Each case keeps a bystander: another login of the same user,
whose stream stays open and keeps receiving. "Closed in time" is shown by
order: an event committed after the logout never reaches a closed stream,
and reaches the bystander."""

import time

import httpx
import pytest
from django.test import Client

from conftest import PASSWORD
from events.outbox.publisher import publish
from events.tests.test_revocation import LATE, assert_closed_and_deaf, open_stream
from testsupport import SSEStream


@pytest.fixture
def workers(daphne):
    # Two workers on one database: a logout through one ends streams on both.
    return daphne(EVENTS_POLL_SECONDS="0.2"), daphne(EVENTS_POLL_SECONDS="0.2")


def sign_in(server, user) -> dict[str, str]:
    """A new login through POST /auth/token: {"access", "refresh"}."""
    answer = httpx.post(f"{server.url}/auth/token", json={"username": user.username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()


def refresh(server, refresh_token: str) -> httpx.Response:
    return httpx.post(f"{server.url}/auth/token/refresh", json={"refresh": refresh_token})


def stream_token(server, **headers) -> str:
    answer = httpx.post(f"{server.url}/auth/stream-token", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def receives_late(stream: SSEStream) -> bool:
    """The bystander gets the event committed after the logout (past any
    event of another test run that the shared Redis of a production-set-up
    run may carry to it)."""
    while True:
        message = stream.next()
        if message.data and message.json() == LATE:
            return True


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def test_a_logout_refuses_its_logins_refresh_and_access_tokens_and_no_others(workers, operator):
    first, second = workers
    leaving, staying = sign_in(first, operator), sign_in(first, operator)
    refreshed = refresh(first, leaving["refresh"]).json()  # still the same login

    assert httpx.post(f"{second.url}/auth/logout", headers=bearer(leaving["access"])).status_code == 200

    for server in workers:
        assert httpx.get(f"{server.url}/auth/me", headers=bearer(leaving["access"])).status_code == 401
        assert httpx.get(f"{server.url}/auth/me", headers=bearer(refreshed["access"])).status_code == 401
        assert refresh(server, refreshed["refresh"]).status_code == 401
        assert httpx.get(f"{server.url}/auth/me", headers=bearer(staying["access"])).status_code == 200
    assert refresh(first, staying["refresh"]).status_code == 200


def test_a_logout_with_a_refreshed_token_ends_the_token_it_was_refreshed_from(workers, operator):
    first, _ = workers
    login = sign_in(first, operator)
    refreshed = refresh(first, login["refresh"]).json()

    assert httpx.post(f"{first.url}/auth/logout", headers=bearer(refreshed["access"])).status_code == 200

    assert httpx.get(f"{first.url}/auth/me", headers=bearer(login["access"])).status_code == 401


def test_a_logout_closes_the_streams_of_its_stream_tokens_and_tokens_on_every_worker(workers, operator):
    first, second = workers
    leaving, staying = sign_in(first, operator), sign_in(second, operator)
    leaving_token = stream_token(first, **bearer(leaving["access"]))
    refreshed = refresh(second, leaving["refresh"]).json()
    with (
        open_stream(first, query=f"?token={leaving_token}") as on_first,
        open_stream(second, query=f"?token={leaving_token}") as on_second,
        open_stream(second, headers=bearer(refreshed["access"])) as refreshed_stream,
        open_stream(first, query=f"?token={stream_token(second, **bearer(staying['access']))}") as bystander_first,
        open_stream(second, headers=bearer(staying["access"])) as bystander_second,
    ):
        assert httpx.post(f"{first.url}/auth/logout", headers=bearer(leaving["access"])).status_code == 200
        logged_out = time.monotonic()

        # Each check publishes a late event that its bystander must receive.
        assert_closed_and_deaf(on_first, bystander_first, logged_out)
        assert_closed_and_deaf(on_second, bystander_second, logged_out)
        assert_closed_and_deaf(refreshed_stream, bystander_second, logged_out)
        assert receives_late(bystander_first)  # the late events go on reaching the other login
        assert not bystander_first.closed.is_set() and not bystander_second.closed.is_set()

        # The stream token opens nothing more, on any worker.
        for server in workers:
            with SSEStream(f"{server.url}/events/cashier?token={leaving_token}") as again:
                assert again.status_code == 401


def test_a_session_logout_ends_the_stream_tokens_minted_under_that_session(workers, operator):
    first, second = workers
    leaving, staying = Client(), Client()
    leaving.force_login(operator)
    staying.force_login(operator)
    leaving_token = leaving.post("/auth/stream-token").json()["token"]
    staying_token = staying.post("/auth/stream-token").json()["token"]
    with (
        open_stream(second, query=f"?token={leaving_token}") as stream,
        open_stream(second, query=f"?token={staying_token}") as bystander,
    ):
        assert leaving.post("/auth/logout").status_code == 200
        assert_closed_and_deaf(stream, bystander, time.monotonic())
        with SSEStream(f"{first.url}/events/cashier?token={leaving_token}") as again:
            assert again.status_code == 401
    assert staying.get("/auth/me").status_code == 200
    assert leaving.get("/auth/me").status_code in (401, 403)


def test_the_staff_pages_logout_ends_the_stream_tokens_of_its_session(workers, admin_user):
    first, _ = workers
    leaving, staying = Client(), Client()
    leaving.force_login(admin_user)
    staying.force_login(admin_user)
    leaving_token = leaving.post("/auth/stream-token").json()["token"]
    with open_stream(first, query=f"?token={staying.post('/auth/stream-token').json()['token']}") as bystander:
        assert leaving.post("/logout/").status_code == 302  # to the login page
        assert "_auth_user_id" not in leaving.session
        with SSEStream(f"{first.url}/events/cashier?token={leaving_token}") as again:
            assert again.status_code == 401
        publish("cashier", "order-status-update", LATE)
        assert receives_late(bystander)
