"""Connections that do not complete their request headers in time are
closed by the server (config/serve.py), against a real Daphne started as
`make run` starts it; complete requests, streams included, are not."""

import socket

import pytest

from conftest import bearer
from events.tests.rawstream import open_stream, request_bytes, status_of


def closed_by_server(sock: socket.socket, wait: float) -> bool:
    """Whether the server closes the connection within `wait` seconds."""
    sock.settimeout(wait)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture
def server(daphne):
    return daphne(HTTP_HEADER_TIMEOUT_SECONDS="1")


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def test_a_connection_that_sends_nothing_is_closed(server):
    with connect(server.port) as sock:
        assert closed_by_server(sock, 10)


def test_headers_sent_a_line_at_a_time_too_slowly_are_cut_off(server):
    with connect(server.port) as sock:
        sock.sendall(b"GET /events/cashier HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        # Each line resets Twisted's idle timer; the deadline is absolute.
        for n in range(8):
            try:
                sock.sendall(f"X-Slow-{n}: yes\r\n".encode())
            except OSError:
                break
            if closed_by_server(sock, 0.4):
                break
        else:
            pytest.fail("the server kept a connection whose headers never ended")


def test_a_kept_alive_connection_must_send_its_next_request_in_time(server):
    with connect(server.port) as sock:
        sock.sendall(request_bytes(server.port, "/v1/categories", {}))
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_by_server(sock, 10)


def test_a_stream_whose_headers_were_complete_outlives_the_deadline(server, operator):
    sock, received = open_stream(server.port, "/events/printer", bearer(operator))
    with sock:
        assert status_of(received) == 200
        assert not closed_by_server(sock, 2.5)
