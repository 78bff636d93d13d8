"""A right that ends closes the streams opened with it (events/access/revocation.py),
against a real Daphne: each case opens a stream and a bystander's stream on
the same channel, ends the right in the database, then commits an event a
second later (past one re-check, EVENTS_REVALIDATE_SECONDS 0.5 s). The
bystander must receive that event and stay open; the stream whose right
ended must have been closed without it. The bystander is what makes a server
that dropped every stream, or the test's own connection failing, fail here."""

import time
from datetime import timedelta

import httpx
import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from conftest import PASSWORD, bearer, make_user
from events.access.tokens import stream_token_for
from events.core.channels import CATALOGUE, default_events
from events.outbox.publisher import publish
from testsupport import SSEStream
from users.apikeys import create_key, revoke_key
from users.models import Role

LATE = {"committed": "after the right ended"}


@pytest.fixture
def server(daphne):
    # Events reach streams within 0.2 s (no Redis): one that is still open
    # when the late event commits would receive it.
    return daphne(EVENTS_POLL_SECONDS="0.2")


@pytest.fixture
def colleague(db):
    """Another operator, whose rights nothing here changes."""
    return make_user("carla", Role.OPERATOR)


def open_stream(server, channel: str = "cashier", *, query: str = "", headers=None) -> SSEStream:
    stream = SSEStream(f"{server.url}/events/{channel}{query}", headers=headers)
    assert stream.status_code == 200, getattr(stream, "body", b"")
    assert stream.next().is_position
    return stream


def publish_late(channel: str) -> None:
    """Commit LATE as an event every stream of the channel receives by default."""
    event = next(name for name in CATALOGUE[channel] if name in default_events(channel))
    publish(channel, event, LATE)


def assert_closed_and_deaf(
    stream: SSEStream, bystander: SSEStream, changed_at: float, channel: str = "cashier"
) -> None:
    """`changed_at` is when the right ended (a moment of time.monotonic()):
    the late event is committed a second after it. Nothing is asserted about
    durations: the bystander receiving the late event shows it was sent, and
    the stream must have ended without it."""
    time.sleep(max(0.0, changed_at + 1.0 - time.monotonic()))
    publish_late(channel)
    assert bystander.next().json() == LATE, "the bystander did not receive the late event"
    assert stream.closed.wait(10), "the stream outlived the right it was opened with"
    late = [m for m in stream.pending() if m.event != "comment" and m.data and m.json() == LATE]
    assert late == [], "an event committed after the change reached the stream"
    assert not bystander.closed.is_set(), "the bystander's stream was closed too"


def test_deactivating_a_user_closes_their_streams_and_only_theirs(server, operator, colleague):
    with (
        open_stream(server, headers=bearer(operator)) as stream,
        open_stream(server, headers=bearer(colleague)) as other,
    ):
        operator.is_active = False
        operator.save(update_fields=["is_active"])
        assert_closed_and_deaf(stream, other, time.monotonic())


def test_a_role_change_that_removes_access_closes_a_stream_opened_with_a_stream_token(server, operator, colleague):
    with (
        open_stream(server, query=f"?token={stream_token_for(operator)}") as stream,
        open_stream(server, query=f"?token={stream_token_for(colleague)}") as other,
    ):
        operator.role = Role.WAITER
        operator.save(update_fields=["role"])
        assert_closed_and_deaf(stream, other, time.monotonic())


def test_a_role_change_that_keeps_access_keeps_the_stream(server, operator):
    with open_stream(server, headers=bearer(operator)) as stream:
        operator.role = Role.ADMIN
        operator.save(update_fields=["role"])
        time.sleep(1.0)
        publish("cashier", "order-status-update", LATE)
        assert stream.next().json() == LATE


def test_a_password_change_closes_streams_opened_with_earlier_tokens(server, operator, colleague):
    with (
        open_stream(server, headers=bearer(operator)) as stream,
        open_stream(server, headers=bearer(colleague)) as other,
    ):
        operator.set_password("an-entirely-new-password")
        operator.save(update_fields=["password"])
        assert_closed_and_deaf(stream, other, time.monotonic())


def logged_in_cookie(user) -> tuple[Client, dict[str, str]]:
    client = Client()
    client.force_login(user)
    return client, {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def test_a_session_logout_closes_the_streams_opened_with_that_session_and_only_those(server, operator):
    client, cookie = logged_in_cookie(operator)
    _, other_cookie = logged_in_cookie(operator)  # the same user on another device
    with (
        open_stream(server, "printer", headers=cookie) as stream,
        open_stream(server, "printer", headers=other_cookie) as other,
    ):
        client.logout()  # deletes that session's row
        assert Session.objects.count() == 1
        assert_closed_and_deaf(stream, other, time.monotonic(), "printer")


def test_an_expiring_session_closes_its_stream_at_expiry(server, operator):
    client, cookie = logged_in_cookie(operator)
    session = client.session
    session.set_expiry(3)
    session.save()
    _, lasting = logged_in_cookie(operator)
    with (
        open_stream(server, "display", headers=cookie) as stream,
        open_stream(server, "display", headers=lasting) as other,
    ):
        assert_closed_and_deaf(stream, other, time.monotonic() + 3, "display")


def test_a_stream_opened_with_a_token_closes_when_the_token_expires(server, operator):
    token = AccessToken.for_user(operator)
    token.set_exp(lifetime=timedelta(seconds=3))
    with (
        open_stream(server, headers={"Authorization": f"Bearer {token}"}) as stream,
        open_stream(server, headers=bearer(operator)) as other,  # a token of the usual lifetime
    ):
        assert_closed_and_deaf(stream, other, time.monotonic() + 3)


def test_a_stream_opened_with_a_stream_token_closes_when_the_stream_token_expires(server, operator, settings):
    settings.EVENTS_STREAM_TOKEN_SECONDS = 5
    with (
        open_stream(server, query=f"?token={stream_token_for(operator)}") as stream,
        open_stream(server, headers=bearer(operator)) as other,
    ):
        assert_closed_and_deaf(stream, other, time.monotonic() + 5)


def test_a_bearer_logout_closes_the_streams_opened_with_that_token_and_only_those(server, operator):
    def login() -> str:
        answer = httpx.post(f"{server.url}/auth/login", json={"username": operator.username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return f"Bearer {answer.json()['accessToken']}"

    leaving, staying = login(), login()
    with (
        open_stream(server, headers={"Authorization": leaving}) as stream,
        open_stream(server, headers={"Authorization": staying}) as other,
    ):
        assert httpx.post(f"{server.url}/auth/logout", headers={"Authorization": leaving}).status_code == 200
        assert_closed_and_deaf(stream, other, time.monotonic())


def test_revoking_a_device_key_closes_its_open_stream_and_no_other_keys(server):
    key, raw = create_key(name="Kitchen agent", kind="printer-agent")
    _, other_raw = create_key(name="Bar agent", kind="printer-agent")
    with (
        open_stream(server, "printer", headers={"X-API-KEY": raw}) as stream,
        open_stream(server, "printer", headers={"X-API-KEY": other_raw}) as other,
    ):
        revoke_key(key=key)
        assert_closed_and_deaf(stream, other, time.monotonic(), channel="printer")


# --- a credential the process remembers (events/access/credentials.py) -------------------------


def reopen_after_the_right_ended(
    server, channel: str, headers: dict[str, str], refused_with: int, bystander: SSEStream
) -> None:
    """The process remembers the credential from an earlier stream. Right
    after the change an opening may still be served from that memory; the
    next re-check then closes it before the late event (and forgets the
    credential before closing its streams, events/access/revocation.py). So once
    that opening was refused or closed, every later one is refused: shown
    by order, not by a clock."""
    changed_at = time.monotonic()
    with SSEStream(f"{server.url}/events/{channel}", headers=headers) as stream:
        if stream.status_code == 200:
            assert_closed_and_deaf(stream, bystander, changed_at, channel)
        else:
            assert stream.status_code == refused_with, stream.body
    with SSEStream(f"{server.url}/events/{channel}", headers=headers) as later:
        assert later.status_code == refused_with, "a forgotten credential opened a stream again"
    publish_late(channel)
    assert bystander.next().json() == LATE and not bystander.closed.is_set()


def test_a_remembered_token_of_a_deactivated_user_opens_no_stream(server, operator, colleague):
    headers = bearer(operator)
    with open_stream(server, headers=headers):
        pass  # the process now remembers this token
    with open_stream(server, headers=bearer(colleague)) as other:
        operator.is_active = False
        operator.save(update_fields=["is_active"])
        reopen_after_the_right_ended(server, "cashier", headers, 401, other)


def test_a_remembered_token_of_a_user_demoted_to_waiter_gets_a_403(server, operator, colleague):
    headers = bearer(operator)
    with open_stream(server, headers=headers):
        pass
    with open_stream(server, headers=bearer(colleague)) as other:
        operator.role = Role.WAITER
        operator.save(update_fields=["role"])
        reopen_after_the_right_ended(server, "cashier", headers, 403, other)


def test_a_remembered_token_opens_no_stream_after_its_logout(server, operator):
    token = AccessToken.for_user(operator)
    headers = {"Authorization": f"Bearer {token}"}
    with open_stream(server, headers=headers):
        pass
    with open_stream(server, headers=bearer(operator)) as other:  # another token of the same user
        assert httpx.post(f"{server.url}/auth/logout", headers=headers).status_code == 200
        reopen_after_the_right_ended(server, "cashier", headers, 401, other)


def test_a_remembered_device_key_opens_no_stream_once_revoked(server):
    key, raw = create_key(name="Kitchen agent", kind="printer-agent")
    _, other_raw = create_key(name="Bar agent", kind="printer-agent")
    with open_stream(server, "printer", headers={"X-API-KEY": raw}):
        pass
    with open_stream(server, "printer", headers={"X-API-KEY": other_raw}) as other:
        revoke_key(key=key)
        reopen_after_the_right_ended(server, "printer", {"X-API-KEY": raw}, 401, other)
