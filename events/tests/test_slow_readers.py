"""A client that stops reading cannot make the server hold more than a
bounded amount of memory for it (events/transport/backpressure.py): 30 raw sockets that
never read ask for the replay of a large log from a real Daphne."""

import json
import socket

import pytest
from django.db import transaction

from conftest import bearer
from events.outbox.storage import EventLogStorage
from events.tests.rawstream import open_stream, settled_rss_kib, status_of

pytestmark = pytest.mark.heavy

CLIENTS = 30
EVENTS = 2000
PAYLOAD = {"note": "x" * 4000}  # about 8 MB of log in all


def seed_log() -> None:
    storage = EventLogStorage()
    with transaction.atomic():
        for n in range(EVENTS):
            storage.append_event("cashier", "order-status-update", json.dumps({**PAYLOAD, "n": n}))


def drain(sock: socket.socket, received: bytes) -> bytes:
    """Read the rest of the response (HTTP/1.1 keeps the connection open)."""
    sock.settimeout(20)
    while not received.endswith(b"\r\n0\r\n\r\n"):
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        received += chunk
    return received


def clients_that_do_not_read(server, headers) -> int:
    """CLIENTS streams that do not read: the server's settled RSS (KiB) while
    it holds them; then each is read to its end and closed."""
    clients = [open_stream(server.port, "/events/cashier", headers, receive_buffer=4096) for _ in range(CLIENTS)]
    try:
        assert all(status_of(received) == 200 for _, received in clients)
        held = settled_rss_kib(server.process.pid)
        # Each stream was ended by the server past the bound: what is left
        # to read ends with the chunked terminator, and is a small part of
        # the log; the client then resumes from its last id.
        for sock, received in clients:
            rest = drain(sock, received)
            assert rest.endswith(b"0\r\n\r\n"), rest[-200:]
            assert rest.count(b"event: order-status-update") < EVENTS - 1
    finally:
        for sock, _ in clients:
            sock.close()
    return held


def test_thirty_clients_that_do_not_read_a_large_replay_cost_a_bounded_amount_and_are_closed(daphne, operator):
    seed_log()
    # Without the bound (EVENTS_MAX_UNSENT_BYTES=10**9) this server grows by
    # over 200 MB here: each client's whole replay waits in Twisted's buffer.
    # The header deadline would cut these idle connections once their
    # responses end (config/serve.py); here the responses' ends are checked.
    server = daphne(HTTP_HEADER_TIMEOUT_SECONDS="600")
    headers = {**bearer(operator), "Last-Event-ID": "cashier:1"}
    # One reader that does read, to warm the server up.
    sock, received = open_stream(server.port, "/events/cashier", headers)
    assert status_of(received) == 200
    drain_one = sock.recv(1 << 16)
    assert drain_one
    sock.close()
    before = settled_rss_kib(server.process.pid)

    held = clients_that_do_not_read(server, headers)
    print(f"\nserver RSS {before} KiB -> {held} KiB with {CLIENTS} clients that do not read")
    assert held - before < 150 * 1024

    # What the server held for them is let go once they have left: a second
    # round of such clients costs it less than half as much again. (Whether
    # the allocator hands freed memory back to the system, which glibc does
    # only in part, does not matter: memory let go is used again.)
    held_again = clients_that_do_not_read(server, headers)
    print(f"server RSS {held_again} KiB with {CLIENTS} more after the first left")
    assert held_again - held < (held - before) / 2
