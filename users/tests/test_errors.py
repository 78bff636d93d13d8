"""Errors are JSON everywhere a client of the API can meet them, also when
Django refuses the request before any view runs. Each refusal writes nothing."""

import json
import socket

import httpx
import pytest
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from conftest import bearer, make_user
from orders.models import Order
from users.apikeys import create_key
from users.models import ApiKey, ApiKeyKind, Role

TOO_BIG = b'{"table": "' + b"x" * 3_000_000 + b'", "customer": "Ann", "orderItems": []}'


@pytest.fixture
def operator_api(operator) -> Client:
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=bearer(operator)["Authorization"])


def test_an_oversized_body_is_a_413_json_and_creates_nothing(operator_api, menu):
    response = operator_api.post("/v1/orders", TOO_BIG, content_type="application/json")
    assert (response.status_code, response.json()) == (413, {"message": "Request body too large"})
    assert Order.objects.count() == 0


def test_an_oversized_sign_in_is_a_413_json(db):
    response = Client().post("/auth/login", TOO_BIG, content_type="application/json")
    assert (response.status_code, response.json()) == (413, {"message": "Request body too large"})


@pytest.mark.parametrize(("method", "path"), [("get", "/v1/categories"), ("post", "/auth/login"), ("get", "/auth/me")])
def test_a_host_outside_allowed_hosts_is_a_400_json_on_the_api(db, method, path):
    response = getattr(Client(), method)(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Bad request: host not allowed", "errors": []}


def test_the_admin_keeps_its_html_pages_for_a_bad_host(db):
    response = Client().get("/admin/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=zz", "multipart/form-data", "multipart/form-data; boundary="]
)
def test_a_multipart_body_is_a_json_refusal_and_writes_nothing(operator_api, menu, content_type):
    response = operator_api.post("/v1/orders", b"--zz\r\nbroken", content_type=content_type)
    assert response.status_code == 415
    assert set(response.json()) == {"message"}
    assert Order.objects.count() == 0


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=\u00e9\u00e9"])
def test_a_malformed_multipart_body_under_a_session_is_a_400_json(operator, menu, content_type):
    # With a session, the CSRF check reads the form body before the view:
    # Django's multipart parser fails there, outside DRF.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(operator)
    token = get_token(RequestFactory().get("/"))
    client.cookies["csrftoken"] = token
    response = client.post(
        "/v1/orders",
        b'--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated',
        content_type=content_type,
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code in (400, 415), response.content
    assert response["Content-Type"] == "application/json"
    assert "message" in response.json()
    assert Order.objects.count() == 0


def test_a_session_post_without_csrf_token_is_a_403_json(operator, menu):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = client.post("/auth/logout")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_an_unknown_api_path_is_a_404_json(db):
    response = APIClient().get("/v1/no-such-thing")
    assert (response.status_code, response.json()) == (404, {"message": "Not found"})


def test_a_crash_is_a_500_json(db, settings):
    settings.ROOT_URLCONF = "users.tests.crash_urls"
    response = Client(raise_request_exception=False).get("/v1/crash")
    assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})


def test_a_permission_error_outside_drf_is_a_403_json_on_the_api(rf):
    from django.core.exceptions import PermissionDenied

    from config.errors import permission_denied

    response = permission_denied(rf.get("/v1/orders"), PermissionDenied())
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


# --- the same through a real Daphne -----------------------------------------------------


@pytest.fixture
def server(shared_daphne, transactional_db):
    return shared_daphne


def test_daphne_answers_an_oversized_body_with_a_413_json(server):
    operator = make_user("olga", Role.OPERATOR)
    response = httpx.post(
        f"{server.url}/v1/orders",
        content=TOO_BIG,
        headers={"Content-Type": "application/json", **bearer(operator)},
        timeout=30,
    )
    assert (response.status_code, response.json()) == (413, {"message": "Request body too large"})
    assert Order.objects.count() == 0


def test_daphne_answers_a_bad_host_on_the_api_with_a_400_json(server):
    response = httpx.post(f"{server.url}/auth/login", json={}, headers={"Host": "evil.example"}, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"message": "Bad request: host not allowed", "errors": []}


@pytest.mark.parametrize(
    "headers",
    [{"X-Big": "y" * 20_000}, {f"X-Part-{n}": "y" * 1000 for n in range(20)}, {f"X-Many-{n}": "y" for n in range(600)}],
    ids=["one header over 16 KiB", "20 KiB of headers", "600 headers"],
)
def test_daphne_answers_oversized_headers_with_a_431_json_and_goes_on(server, headers):
    response = httpx.get(f"{server.url}/v1/categories", headers=headers, timeout=10)
    assert (response.status_code, response.json()) == (431, {"message": "Request headers too large"})
    assert httpx.get(f"{server.url}/v1/categories", timeout=10).status_code == 200


def test_daphne_answers_a_request_line_too_long_with_a_414_json(server):
    response = httpx.get(f"{server.url}/v1/categories?q={'y' * 20_000}", timeout=10)
    assert (response.status_code, response.json()) == (414, {"message": "Request line too long"})


@pytest.mark.parametrize(
    "content_type",
    [b"multipart/form-data", b"multipart/form-data; boundary=zz", b"multipart/form-data; boundary=\xff\xfe"],
)
def test_daphne_answers_a_malformed_multipart_body_with_json(server, content_type):
    operator = make_user("olga", Role.OPERATOR)
    for path in ("/v1/orders", "/auth/login", "/auth/token"):
        response = httpx.post(
            f"{server.url}{path}",
            content=b"--zz\r\nbroken",
            headers=[(b"Content-Type", content_type), (b"Authorization", bearer(operator)["Authorization"].encode())],
            timeout=10,
        )
        assert response.status_code in (400, 415), (path, response.content)
        assert set(response.json()) == {"message"}
    assert Order.objects.count() == 0


# --- what no client input may turn into a 5xx ------------------------------------------


def raw_exchange(server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as it is on a new connection; (status, headers, body) of
    the answer, read until the server closes or the body is complete."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
        }
        length = int(headers.get("content-length", "0") or 0)
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


@pytest.fixture
def printer_key(transactional_db) -> str:
    return create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)[1]


def test_a_logout_with_a_device_key_is_a_403_json_and_revokes_nothing(server, printer_key):
    response = httpx.post(f"{server.url}/auth/logout", headers={"X-API-KEY": printer_key}, timeout=10)
    assert (response.status_code, response.json()) == (403, {"message": "Insufficient permissions"})
    assert ApiKey.objects.get().revoked_at is None
    assert httpx.get(f"{server.url}/auth/me", headers={"X-API-KEY": printer_key}, timeout=10).status_code == 200


@pytest.mark.parametrize("kind", ApiKeyKind.values)
def test_me_with_a_device_key_describes_the_device(server, kind):
    key, raw = create_key(name="Pass 1", kind=kind)
    response = httpx.get(f"{server.url}/auth/me", headers={"X-API-KEY": raw}, timeout=10)
    assert (response.status_code, response.json()) == (
        200,
        {"id": f"apikey:{key.pk}", "username": "Pass 1", "role": kind},
    )


@pytest.mark.parametrize("path", ["/", "/v1/categories", "/auth/login", "/events/cashier", "/ws/", "/admin/"])
def test_a_websocket_upgrade_is_refused_with_a_403_and_no_traceback(server, path):
    tracebacks_before = server.log_tail(100_000).count("Traceback")
    status, _, _ = raw_exchange(
        server,
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode(),
    )
    assert status == 403
    assert httpx.get(f"{server.url}/v1/categories", timeout=10).status_code == 200
    assert server.log_tail(100_000).count("Traceback") == tracebacks_before


# Twisted refuses these before Daphne's own checks (config/protocol_errors.py).
UNREADABLE = "Bad request: the request could not be read"


@pytest.mark.parametrize(
    ("request_bytes", "message"),
    [
        (b"GET /v1/categories HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\x0bb\r\n\r\n", "Invalid header value"),
        (b"GET /v1/categories HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\x1cb\r\n\r\n", "Invalid header value"),
        (b"GET /v1/categories HTTP/1.1\r\nHost: 127.0.0.1\r\nX(Bad): ab\r\n\r\n", UNREADABLE),
        (b"GET /v1/caf\xc3\xa9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", UNREADABLE),
        (b"GET /v1/categories?q=caf\xc3\xa9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", UNREADABLE),
    ],
    ids=["VT in a header value", "FS in a header value", "a header name", "a path", "a query string"],
)
def test_a_request_daphne_refuses_before_the_app_is_a_400_json(server, request_bytes, message):
    status, headers, body = raw_exchange(server, request_bytes)
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": message}
    assert httpx.get(f"{server.url}/v1/categories", timeout=10).status_code == 200
