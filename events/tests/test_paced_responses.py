"""REST responses go out no faster than their client reads them
(config/pacing.py), against a real Daphne: a client that reads nothing has
its connection closed once HTTP_SEND_TIMEOUT_SECONDS pass with the server's
buffer full, instead of the server taking the whole body into its buffer;
a client that reads, however slowly, gets all of it."""

from __future__ import annotations

import json
import select
import socket
import time

import pytest

from conftest import bearer
from events.tests.rawstream import request_bytes
from orders.models import Ingredient
from orders.services import LineInput, order_create

NOTE = "extra sauce on the side, please " * 7  # 224 characters
ORDERS = 50
# Large enough a page (about 10 MB) that the kernel's socket buffers (on
# loopback the server's grows to 4 MB) cannot take all of it.
LARGE_PAGES = {"ORDERS_PAGE_MAX_BYTES": str(64 * 1024 * 1024)}


@pytest.fixture
def large_listing(menu):
    """Fifty orders of 100 lines: a page of about 10 MB."""
    food = menu["margherita"]
    food.description = "Tomato, mozzarella, basil. " * 18
    food.save()
    food.ingredients.set(Ingredient.objects.create(name=f"Ingredient {n}") for n in range(12))
    lines = [LineInput(food_id=food.id, quantity=1, notes=NOTE) for _ in range(100)]
    for n in range(ORDERS):
        order_create(table="7", customer=f"Guest {n}", lines=lines)


def ask(port: int, path: str, headers: dict[str, str], *, receive_buffer: int = 4096) -> socket.socket:
    """A request on a socket with a small receive buffer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request_bytes(port, path, headers))
    return sock


def reset_without_reading(sock: socket.socket, wait: float) -> bool:
    """Whether the server aborts the connection within `wait` seconds while
    the client reads nothing (a reset shows as an error or a hang-up)."""
    poller = select.poll()
    poller.register(sock, select.POLLERR | select.POLLHUP | select.POLLRDHUP)
    return bool(poller.poll(int(wait * 1000)))


def read_response(sock: socket.socket, pause: float = 0.0) -> tuple[bytes, bytes]:
    """Head and body, read until Content-Length is reached or the connection
    ends, waiting `pause` between reads (a slow reader)."""
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = length_of(head)
        if length is not None and len(body) >= length:
            return head, body
        if pause:
            time.sleep(pause)
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body


def whole_response_readable(sock: socket.socket) -> bool:
    try:
        head, body = read_response(sock)
    except ConnectionResetError:
        return False
    return head.startswith(b"HTTP/1.1 200") and len(body) == length_of(head)


def length_of(head: bytes) -> int | None:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return None


def test_a_client_that_reads_nothing_is_cut_off_while_others_are_served(daphne, operator, large_listing):
    # The header deadline (which also closes a connection idle after its
    # response) is far off: only the send deadline can close these.
    server = daphne(HTTP_SEND_TIMEOUT_SECONDS="1", HTTP_HEADER_TIMEOUT_SECONDS="600", **LARGE_PAGES)
    sleepers = [ask(server.port, "/v1/orders?limit=100", bearer(operator)) for _ in range(3)]
    try:
        # Meanwhile the API answers another client.
        with ask(server.port, "/v1/categories", {}) as other:
            head, _ = read_response(other)
            assert head.startswith(b"HTTP/1.1 200")
        for sock in sleepers:
            assert reset_without_reading(sock, 20), "the server kept a connection its client never read"
            assert not whole_response_readable(sock)
    finally:
        for sock in sleepers:
            sock.close()


def test_a_client_that_reads_slowly_gets_the_whole_page(daphne, operator, large_listing):
    # The header deadline starts when the response ends, with megabytes
    # still in the kernel's buffers for this reader: kept out of the way.
    server = daphne(HTTP_SEND_TIMEOUT_SECONDS="2", HTTP_HEADER_TIMEOUT_SECONDS="600", **LARGE_PAGES)
    with ask(server.port, "/v1/orders?limit=100", bearer(operator), receive_buffer=65536) as sock:
        # 64 KiB at a time with a pause between: slower than the server
        # writes, so it waits for this reader again and again.
        head, body = read_response(sock, pause=0.05)
    assert head.startswith(b"HTTP/1.1 200")
    assert len(body) > 8_000_000
    page = json.loads(body)
    assert len(page["data"]) == ORDERS
