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
        assert stream.next().event == "stream-open"
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


def test_a_bad_key_is_final_even_beside_a_good_bearer_token(server, operator):
    response = get(server, "/events/printer", **{"X-API-KEY": "nonsense"}, **bearer(operator))
    assert response.status_code == 401
