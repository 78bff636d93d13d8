"""Request bodies must arrive in time, at a minimum rate, not too large and
not too many at once from one address (config/serve.py), against a real
Daphne started as `make run` starts it. Deadlines are shown by order of
events: the server closes before the client has sent its whole body."""

import json
import socket

import pytest

from conftest import _daphne_factory
from events.tests.test_header_deadline import closed_by_server


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.settimeout(10)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def post_head(port: int, path: str, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


def response_of(sock: socket.socket) -> tuple[int, dict, dict]:
    """Status, headers and JSON body of the (whole) response on `sock`."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split(" ")[1]), headers, json.loads(body) if body else {}


def send_slowly(sock: socket.socket, body: bytes, pause: float) -> int:
    """Send `body` a byte at a time, waiting up to `pause` for the server to
    close between bytes; returns how many bytes went out before it did."""
    for sent in range(len(body)):
        try:
            sock.sendall(body[sent : sent + 1])
        except OSError:
            return sent
        if closed_by_server(sock, pause):
            return sent + 1
    return len(body)


# An anonymous order: read whole by Daphne, then refused by the API (401),
# which changes nothing.
ORDER = b'{"table": "1", "customer": "x", "orderItems": []}'


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings

    start, started = _daphne_factory(tmp_path_factory.mktemp("daphne"), settings.SECRET_KEY)
    limits = {"HTTP_MAX_UPLOADS_PER_ADDRESS": "3", "HTTP_MAX_BODY_BYTES": "4096", "HTTP_BODY_MIN_BYTES_PER_SECOND": "0"}
    yield {"quick": start(HTTP_BODY_TIMEOUT_SECONDS="1", **limits), "patient": start(**limits)}
    for server in started:
        server.stop()


@pytest.fixture
def server(servers):
    """Bodies are due within a second."""
    return servers["quick"]


@pytest.fixture
def patient(servers):
    """Bodies are due within the default 30 seconds."""
    return servers["patient"]


def test_a_body_sent_a_byte_at_a_time_is_cut_before_it_ends(server):
    body = b" " * 60
    with connect(server.port) as sock:
        sock.sendall(post_head(server.port, "/v1/orders", len(body)))
        sent = send_slowly(sock, body, 0.25)
        assert sent < len(body), "the server waited for the whole slow body"


def test_a_body_too_slow_gets_a_408_json_before_the_close(server):
    with connect(server.port) as sock:
        sock.sendall(post_head(server.port, "/v1/orders", 100) + b"{")
        status, _, body = response_of(sock)
        assert status == 408
        assert body == {"message": "Request body not received in time"}


def test_a_body_below_the_minimum_rate_is_cut_before_the_deadline(daphne):
    server = daphne(
        HTTP_BODY_TIMEOUT_SECONDS="120", HTTP_BODY_MIN_BYTES_PER_SECOND="100", HTTP_BODY_RATE_WINDOW_SECONDS="0.5"
    )
    body = b" " * 200
    with connect(server.port) as sock:
        sock.sendall(post_head(server.port, "/v1/orders", len(body)))
        # Two bytes a window of half a second, where fifty are due.
        sent = send_slowly(sock, body, 0.25)
        assert sent < len(body), "the server waited for a body far below the minimum rate"


def test_a_body_that_arrives_in_time_is_answered_by_the_application(server):
    with connect(server.port) as sock:
        sock.sendall(post_head(server.port, "/v1/orders", len(ORDER)) + ORDER)
        status, _, body = response_of(sock)
        assert status == 401, body


def test_a_content_length_over_the_maximum_is_a_413_before_any_body_is_sent(server):
    with connect(server.port) as sock:
        sock.sendall(post_head(server.port, "/v1/orders", 10**12))
        status, headers, body = response_of(sock)
        assert status == 413
        assert headers["content-type"] == "application/json"
        assert body == {"message": "Request body too large"}


def test_a_chunked_body_is_a_413_once_it_passes_the_maximum(server):
    with connect(server.port) as sock:
        sock.sendall(post_head(server.port, "/v1/orders", None))
        chunk = b"1000\r\n" + b" " * 4096 + b"\r\n"
        sock.sendall(chunk)
        status, _, body = response_of(sock)
        assert status == 413
        assert body == {"message": "Request body too large"}


def test_one_upload_too_many_from_an_address_is_a_429_while_the_others_and_other_addresses_still_work(patient):
    server = patient
    held = [connect(server.port) for _ in range(3)]
    try:
        for sock in held:
            sock.sendall(post_head(server.port, "/v1/orders", len(ORDER)) + ORDER[:5])
        with connect(server.port) as extra:
            extra.sendall(post_head(server.port, "/v1/orders", len(ORDER)))
            status, headers, body = response_of(extra)
        assert status == 429
        assert body == {"message": "Too many request bodies in progress from this address"}
        assert headers["retry-after"] == "30"
        # Another address still uploads, and a request without a body from
        # the full one is served.
        with connect(server.port, source="127.0.0.2") as other:
            other.sendall(post_head(server.port, "/v1/orders", len(ORDER)) + ORDER)
            assert response_of(other)[0] == 401
        with connect(server.port) as plain:
            plain.sendall(f"GET /v1/categories HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
            assert response_of(plain)[0] == 200
        # The held uploads still complete (each within its deadline).
        held[0].sendall(ORDER[5:])
        assert response_of(held[0])[0] == 401
        # Its place is free again: a new upload from the same address is read.
        with connect(server.port) as again:
            again.sendall(post_head(server.port, "/v1/orders", len(ORDER)) + ORDER)
            assert response_of(again)[0] == 401
    finally:
        for sock in held:
            sock.close()


def test_uploads_past_the_process_wide_cap_are_a_429_whatever_the_address(daphne):
    server = daphne(HTTP_MAX_UPLOADS="2", HTTP_MAX_UPLOADS_PER_ADDRESS="5", HTTP_BODY_MIN_BYTES_PER_SECOND="0")
    held = [connect(server.port, source=f"127.0.0.{n}") for n in (11, 12)]
    try:
        for sock in held:
            sock.sendall(post_head(server.port, "/v1/orders", len(ORDER)) + ORDER[:5])
        with connect(server.port, source="127.0.0.13") as third:
            third.sendall(post_head(server.port, "/v1/orders", len(ORDER)))
            status, _, body = response_of(third)
        assert (status, body) == (429, {"message": "Too many request bodies in progress"})
        held[0].sendall(ORDER[5:])
        assert response_of(held[0])[0] == 401
        # One place is free again, whichever address takes it.
        with connect(server.port, source="127.0.0.13") as again:
            again.sendall(post_head(server.port, "/v1/orders", len(ORDER)) + ORDER)
            assert response_of(again)[0] == 401
    finally:
        for sock in held:
            sock.close()
