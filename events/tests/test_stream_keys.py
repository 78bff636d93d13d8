"""GET /events/{channel} with a device's X-API-KEY, against a real Daphne:
each kind opens its one channel; the 401/403/400 order holds for keys as
for people."""

from __future__ import annotations

import httpx
import pytest

from conftest import bearer
from testsupport import SSEStream
from users.apikeys import create_key, revoke_key
from users.models import ApiKey, ApiKeyKind

AUTH_REQUIRED = {"message": "Authentication required"}
FORBIDDEN = {"message": "Insufficient permissions"}


@pytest.fixture
def server(shared_daphne, transactional_db):
    return shared_daphne


@pytest.fixture
def printer_key(transactional_db) -> str:
    return create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)[1]


@pytest.fixture
def display_key(transactional_db) -> str:
    return create_key(name="Board", kind=ApiKeyKind.DISPLAY)[1]


def get(server, path: str, **headers) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers, timeout=10)


@pytest.mark.parametrize(("kind", "channel"), [(ApiKeyKind.PRINTER_AGENT, "printer"), (ApiKeyKind.DISPLAY, "display")])
def test_each_kind_of_key_opens_its_channel(server, kind, channel):
    key, raw = create_key(name=f"{kind} device", kind=kind)
    with SSEStream(f"{server.url}/events/{channel}", headers={"X-API-KEY": raw}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream"
        assert stream.next().id.startswith(f"{channel}:")  # the opening position
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_from == "127.0.0.1"


@pytest.mark.parametrize("channel", ["cashier", "display", "kitchen", ""])
def test_a_printer_agent_key_may_open_no_other_channel(server, printer_key, channel):
    # A channel that does not exist is "anything else" too: the 403 comes
    # before the channel check, as the role check does for people.
    response = get(server, f"/events/{channel}", **{"X-API-KEY": printer_key})
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.parametrize("channel", ["cashier", "printer", "kitchen"])
def test_a_display_key_may_open_no_other_channel(server, display_key, channel):
    response = get(server, f"/events/{channel}", **{"X-API-KEY": display_key})
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.parametrize(
    "raw",
    ["", "nonsense", "0123456789ab." + "a" * 43, "²".encode() * 43],
)
def test_a_wrong_or_malformed_key_is_a_401_on_every_channel(server, printer_key, raw):
    for channel in ("printer", "kitchen"):
        response = get(server, f"/events/{channel}", **{"X-API-KEY": raw})
        assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
        assert response.headers["content-type"] == "application/json"


def test_a_revoked_key_cannot_open_a_stream(server, printer_key):
    revoke_key(key=ApiKey.objects.get())
    response = get(server, "/events/printer", **{"X-API-KEY": printer_key})
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_a_bad_key_is_final_even_beside_a_good_session(server, operator, client):
    client.force_login(operator)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with SSEStream(f"{server.url}/events/printer", headers={"Cookie": cookie}) as stream:
        assert stream.status_code == 200
    response = get(server, "/events/printer", Cookie=cookie, **{"X-API-KEY": "nonsense"})
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_a_bearer_token_decides_before_a_key_as_on_rest(server, operator, display_key):
    # The display key alone may not open the printer channel; the cashier's
    # token beside it does, on the stream as on REST (JWT before X-API-KEY).
    assert get(server, "/events/printer", **{"X-API-KEY": display_key}).status_code == 403
    with SSEStream(f"{server.url}/events/printer", headers={"X-API-KEY": display_key, **bearer(operator)}) as stream:
        assert stream.status_code == 200
