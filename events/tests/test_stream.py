"""GET /events/{channel} against a real Daphne: who may listen, what a
refusal looks like, the headers, and the keep-alive."""

import logging
import time
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from conftest import bearer, make_user
from events.access.tokens import stream_token_for
from testsupport import SSEStream
from users.models import Role


@pytest.fixture
def server(shared_daphne, transactional_db):
    return shared_daphne


def get(server, path: str, **headers) -> httpx.Response:
    # A refusal is a complete JSON response: a plain GET must return.
    return httpx.get(server.url + path, headers=headers, timeout=10)


def test_an_anonymous_listener_gets_a_json_401_not_a_stream(server):
    response = get(server, "/events/cashier")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Authentication required"}


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer", "Token abc"],
)
def test_a_bad_authorization_header_is_a_401(server, authorization):
    response = get(server, "/events/printer", Authorization=authorization)
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication required"}


def test_an_expired_token_is_a_401(server, operator):
    token = AccessToken.for_user(operator)
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = get(server, "/events/cashier", Authorization=f"Bearer {token}")
    assert response.status_code == 401


def test_a_waiter_may_not_listen(server, waiter):
    response = get(server, "/events/cashier", **bearer(waiter))
    assert response.status_code == 403
    assert response.json() == {"message": "Insufficient permissions"}


def test_an_unknown_channel_is_a_400_naming_the_channel_field(server, operator):
    response = get(server, "/events/kitchen", **bearer(operator))
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Validation error"
    assert [error["field"] for error in body["errors"]] == ["channel"]


def test_checks_run_in_the_contract_order_auth_then_role_then_channel(server, waiter):
    assert get(server, "/events/kitchen").status_code == 401
    assert get(server, "/events/kitchen", **bearer(waiter)).status_code == 403


def test_a_missing_channel_is_a_400(server, operator):
    assert get(server, "/events/", **bearer(operator)).status_code == 400


def test_a_host_outside_allowed_hosts_is_a_400_as_everywhere_in_django(server, operator):
    response = get(server, "/events/cashier", Host="evil.example", **bearer(operator))
    assert response.status_code == 400
    assert response.json() == {"message": "Bad request: host not allowed"}
    assert httpx.get(server.url + "/v1/orders", headers={"Host": "evil.example"}, timeout=10).status_code == 400


def test_only_get_is_allowed(server, operator):
    response = httpx.post(server.url + "/events/cashier", headers=bearer(operator), timeout=10)
    assert response.status_code == 405
    assert response.json() == {"message": "Method not allowed"}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR])
@pytest.mark.parametrize("channel", ["cashier", "display", "printer"])
def test_admins_and_operators_open_every_channel_with_the_contract_headers(server, role, channel):
    user = make_user(f"{role}-{channel}", role)
    with SSEStream(f"{server.url}/events/{channel}", headers=bearer(user)) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream"
        assert stream.headers["cache-control"] == "no-cache"
        assert stream.headers["connection"] == "keep-alive"
        assert stream.headers["x-accel-buffering"] == "no"
        opening = stream.next()
        assert opening.is_position
        assert opening.id == f"{channel}:0"


def test_a_superuser_counts_as_admin(server):
    boss = make_user("boss", Role.WAITER, is_superuser=True)
    with SSEStream(server.url + "/events/printer", headers=bearer(boss)) as stream:
        assert stream.status_code == 200


def test_a_stream_token_opens_a_stream_from_the_query_string(server, operator):
    response = httpx.post(server.url + "/auth/stream-token", headers=bearer(operator), timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["expiresIn"] > 0
    with SSEStream(f"{server.url}/events/display?token={body['token']}") as stream:
        assert stream.status_code == 200
        assert stream.next().is_position


def test_a_stream_token_needs_a_bearer_token(server):
    assert httpx.post(server.url + "/auth/stream-token", timeout=10).status_code == 401


def test_an_expired_or_forged_stream_token_is_a_401(server, operator):
    good = stream_token_for(operator)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: 1_000_000_000.0)  # signed in 2001: long expired
        expired = stream_token_for(operator)
    assert get(server, "/events/cashier?token=garbage").status_code == 401
    assert get(server, f"/events/cashier?token={forged}").status_code == 401
    assert get(server, f"/events/cashier?token={expired}").status_code == 401
    with SSEStream(f"{server.url}/events/cashier?token={good}") as stream:
        assert stream.status_code == 200


def test_a_jwt_is_not_a_stream_token(server, operator):
    token = bearer(operator)["Authorization"].split()[1]
    assert get(server, f"/events/cashier?token={token}").status_code == 401


def test_a_waiters_stream_token_is_refused_with_403(server, waiter):
    token = httpx.post(server.url + "/auth/stream-token", headers=bearer(waiter), timeout=10).json()["token"]
    assert get(server, f"/events/cashier?token={token}").status_code == 403


def test_a_logged_in_staff_session_opens_a_stream(server, operator):
    client = Client()
    client.force_login(operator)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with SSEStream(server.url + "/events/cashier", headers={"Cookie": cookie}) as stream:
        assert stream.status_code == 200
    assert get(server, "/events/cashier", Cookie="sessionid=forged").status_code == 401


def test_keep_alive_is_a_comment_sent_while_a_stream_is_idle(daphne, operator):
    server = daphne(EVENTS_KEEPALIVE_SECONDS="1")
    with SSEStream(server.url + "/events/printer", headers=bearer(operator)) as stream:
        assert stream.next().is_position
        # Only keep-alives while idle, and at least one (assert_quiet). How
        # often they come is a rate, measured by bench/ (make bench, phase 3:
        # each stream's longest silence), not asserted here.
        stream.assert_quiet(6)


def served_without_the_users_table(operator, app, *headers: tuple[bytes, bytes]) -> list[dict]:
    """A stream asked for by `operator` while the users table is gone for a
    moment (a real database failure), served in-process by `app` in its own
    task, as Daphne runs it; what it sent."""
    import asyncio

    from django.db import connection

    table = operator._meta.db_table
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/events/printer",
        "query_string": b"",
        "client": ["127.0.0.1", 50000],
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", bearer(operator)["Authorization"].encode()), *headers],
    }

    async def serve():
        await asyncio.get_running_loop().create_task(app(scope, receive, send))

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        asyncio.run(serve())
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    return sent


def test_a_stream_asked_for_while_the_database_is_unreachable_gets_a_json_503(transactional_db, operator):
    """The endpoint answers 503 JSON, not a crash page."""
    import json

    from events.transport.stream import events_app

    sent = served_without_the_users_table(operator, events_app)
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"5") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {"message": "Service unavailable, retry shortly"}


def test_what_a_stream_logs_carries_its_request_id_through_the_whole_application(transactional_db, operator, caplog):
    """config.asgi's application: the endpoint's own warning and the access
    line carry the request id, and the response its X-Request-ID header."""
    from config.asgi import application
    from ops.logformat import RequestIdFilter

    # Importing the application set Django's logging up again: caplog's
    # handler is put back on the root logger for this test.
    caplog.handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO):
            sent = served_without_the_users_table(operator, application, (b"x-request-id", b"stream-503"))
    finally:
        logging.getLogger().removeHandler(caplog.handler)
    assert sent[0]["status"] == 503 and (b"x-request-id", b"stream-503") in sent[0]["headers"]
    warning = next(record for record in caplog.records if record.getMessage().startswith("refused a stream"))
    access = [record for record in caplog.records if record.name == "access"]
    assert warning.request_id == "stream-503"
    assert [(record.request_id, record.status, record.view, record.client) for record in access] == [
        ("stream-503", 503, "events", "127.0.0.1")
    ]


def test_a_wrong_api_key_is_a_401_with_no_fallback_to_the_session(server, operator):
    client = Client()
    client.force_login(operator)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    response = get(server, "/events/printer", Cookie=cookie, **{"X-API-KEY": "not-a-key"})
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication required"}


def test_clients_that_hang_up_leave_no_error_in_the_servers_log(daphne, operator):
    """Each stream's write watch (events/transport/backpressure.py) is released when
    its response ends, also after the client has gone."""
    server = daphne()
    for _ in range(5):
        stream = SSEStream(f"{server.url}/events/cashier", headers=bearer(operator))
        assert stream.next().is_position
        stream.close()
    time.sleep(2)  # the server notices each hang-up and ends its response
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-2000:]
