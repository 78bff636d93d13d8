"""Connections that do not complete their request headers in time are
closed by the server (config/serve.py), against a real Daphne started as
`make run` starts it; complete requests, streams included, are not.

Nothing here asserts on a duration: the deadline is shown by the order of
events, against a connection opened later that sends nothing and is closed
at its own deadline. Waits are bounded only so that no test can hang."""

import select
import socket
import time

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
    return daphne(HTTP_HEADER_TIMEOUT_SECONDS="1", EVENTS_KEEPALIVE_SECONDS="1")


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def ended(sock: socket.socket) -> bool:
    """Whether the server has closed a connection that select() reported readable."""
    try:
        return sock.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_a_connection_that_sends_nothing_is_closed(server):
    with connect(server.port) as sock:
        assert closed_by_server(sock, 10)


def test_headers_sent_a_line_at_a_time_are_cut_off_by_the_deadline_set_on_connecting(server):
    """Each line resets Twisted's idle timer; the deadline is absolute. The
    slow connection keeps sending a line every 0.2 s (well within the 1 s
    deadline of an idle timer); a silent connection opened once the slow one
    has sent three lines is closed at its own deadline, later than the slow
    one's: the slow one must have been cut first."""
    with connect(server.port) as slow:
        slow.sendall(b"GET /events/cashier HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        later: socket.socket | None = None
        closed: list[str] = []
        lines = 0
        give_up = time.monotonic() + 60  # bounds the test; nothing is asserted about it
        try:
            while "later" not in closed:
                assert time.monotonic() < give_up, f"closed so far: {closed}"
                watched = {"slow": slow, "later": later}
                open_now = {name: sock for name, sock in watched.items() if sock is not None and name not in closed}
                readable, _, _ = select.select(list(open_now.values()), [], [], 0.2)
                ended_now = [name for name, sock in open_now.items() if sock in readable and ended(sock)]
                assert len(ended_now) < 2, "both closed between two looks: their order is unknown"
                closed += ended_now
                if "slow" not in closed:
                    try:
                        slow.sendall(f"X-Slow-{lines}: yes\r\n".encode())
                        lines += 1
                    except OSError:
                        closed.append("slow")
                if later is None and lines == 3:
                    later = connect(server.port)
        finally:
            if later is not None:
                later.close()
    assert closed == ["slow", "later"], "the slow connection outlived a deadline that came later"


def test_a_kept_alive_connection_must_send_its_next_request_in_time(server):
    with connect(server.port) as sock:
        sock.sendall(request_bytes(server.port, "/v1/categories", {}))
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_by_server(sock, 10)


def test_a_stream_whose_headers_were_complete_outlives_the_deadline(server, operator):
    """A silent connection opened after the stream is closed at its deadline,
    later than the stream's would be; the stream then still receives its
    keep-alives."""
    sock, received = open_stream(server.port, "/events/printer", bearer(operator))
    with sock:
        assert status_of(received) == 200
        with connect(server.port) as later:
            assert closed_by_server(later, 10)
        while select.select([sock], [], [], 0)[0]:  # what came before: not the proof
            assert sock.recv(4096), "the server ended the stream"
        sock.settimeout(10)
        heard = b""
        while b": keep-alive" not in heard:
            chunk = sock.recv(4096)
            assert chunk, "the server ended the stream"
            heard += chunk
