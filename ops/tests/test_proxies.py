"""The client's address behind trusted proxies: X-Forwarded-For is walked
from the right only when the peer is trusted; from anyone else it is
ignored, so nobody picks the address a lockout or a log line records."""

import time

import httpx
import pytest
from axes.models import AccessAttempt

from ops.proxies import client_address, forwarded_scheme, parse_networks
from users.apikeys import create_key
from users.models import ApiKeyKind, Role
from users.tests.helpers import PASSWORD, staff

TRUSTED = parse_networks(["127.0.0.1", "10.0.0.0/24"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # An untrusted peer is the client, whatever it sends.
        ("198.51.100.9", ["203.0.113.5"], "198.51.100.9"),
        # A trusted peer: the first untrusted hop from the right.
        ("127.0.0.1", ["203.0.113.5"], "203.0.113.5"),
        ("127.0.0.1", ["6.6.6.6, 203.0.113.5, 10.0.0.7"], "203.0.113.5"),
        ("127.0.0.1", ["6.6.6.6", "203.0.113.5", "10.0.0.7"], "203.0.113.5"),
        # Ports and IPv6 as proxies write them.
        ("127.0.0.1", ["203.0.113.5:5123"], "203.0.113.5"),
        ("127.0.0.1", ["[2001:db8::1]:5123"], "2001:db8::1"),
        # Garbage stops the walk at the hop that passed it on.
        ("127.0.0.1", ["203.0.113.5, not-an-address, 10.0.0.7"], "10.0.0.7"),
        # Only trusted hops: the leftmost.
        ("127.0.0.1", ["10.0.0.8, 10.0.0.7"], "10.0.0.8"),
        # No header: the peer.
        ("127.0.0.1", [], "127.0.0.1"),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(peer, forwarded, expected):
    assert client_address(peer, forwarded, TRUSTED) == expected


def test_the_scheme_is_the_last_sane_forwarded_proto():
    assert forwarded_scheme(["https"], "http") == "https"
    assert forwarded_scheme(["gopher"], "http") == "http"
    assert forwarded_scheme([], "http") == "http"


def test_a_bad_trusted_proxy_setting_is_named():
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        parse_networks(["10.0.0.300"])


def access_line(server, needle: str, timeout: float = 10.0) -> str:
    """The server's first access line with `needle` (written once its
    response has ended)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in server.log_tail(400).splitlines() if " access " in line and needle in line]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no access line with {needle!r} within {timeout:g} s"
        time.sleep(0.1)


def sign_in(server, username: str, password: str, forwarded_for: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=10,
    )


def fail_ten_times(server, forwarded_for: str) -> None:
    # Ten usernames, so that only the address can be what locks.
    statuses = [sign_in(server, f"nobody-{n}", "wrong", forwarded_for).status_code for n in range(10)]
    assert statuses == [401] * 9 + [429]


def test_behind_a_trusted_proxy_ten_failures_lock_only_the_address_they_came_from(daphne):
    olga = staff("olga", Role.OPERATOR)
    server = daphne(TRUSTED_PROXIES="127.0.0.1")

    fail_ten_times(server, "203.0.113.5")

    assert sign_in(server, olga.username, PASSWORD, "203.0.113.6").status_code == 200
    assert sign_in(server, olga.username, PASSWORD, "203.0.113.5").status_code == 429
    # A right password leaves its attempt counted back to 0 (users/throttling.py).
    failing = AccessAttempt.objects.filter(failures_since_start__gt=0)
    assert set(failing.values_list("ip_address", flat=True)) == {"203.0.113.5"}
    assert '"POST /auth/login" 200 ' in access_line(server, "203.0.113.6")


def test_from_an_untrusted_peer_x_forwarded_for_is_ignored(daphne):
    olga = staff("olga", Role.OPERATOR)
    server = daphne(TRUSTED_PROXIES="10.9.9.9")

    fail_ten_times(server, "203.0.113.5")

    # A spoofed header does not escape the lockout of the real address.
    assert sign_in(server, olga.username, PASSWORD, "203.0.113.6").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    assert "203.0.113" not in server.log_tail(200)


def test_an_api_keys_last_use_is_recorded_from_the_forwarded_client(daphne):
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    server = daphne(TRUSTED_PROXIES="127.0.0.0/8")

    response = httpx.get(
        f"{server.url}/v1/printers", headers={"X-API-KEY": raw, "X-Forwarded-For": "203.0.113.9"}, timeout=10
    )

    assert response.status_code == 200, response.text
    key.refresh_from_db()
    assert key.last_used_from == "203.0.113.9"
    assert access_line(server, "203.0.113.9").endswith(" 203.0.113.9 key:Kitchen agent")
