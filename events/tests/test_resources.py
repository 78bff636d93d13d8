"""Open streams cost no thread and no database connection each: 200 idle
streams against a real Daphne, counted from /proc and the database."""

import os
import socket
from pathlib import Path

import pytest
from django.db import connection

from conftest import bearer

STREAMS = 200


def open_raw_stream(port: int, headers: dict[str, str], channel: str = "printer") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = [f"GET /events/{channel} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    received = b""
    while b"\nid: " not in received:
        chunk = sock.recv(4096)
        assert chunk, f"stream closed before it opened: {received!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received[:200]
    return sock


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def database_connections_of(pid: int) -> int:
    """Connections the server process holds to the test database."""
    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3"):
        name = os.path.realpath(settings_dict["NAME"])
        fds = Path(f"/proc/{pid}/fd")
        return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == name)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def connection_budget() -> int:
    """Connections a server process may hold whatever the number of streams:
    SQLite's is opened per use; PostgreSQL's come from a bounded pool."""
    options = connection.settings_dict.get("OPTIONS", {})
    return options["pool"]["max_size"] if "pool" in options else 1


@pytest.mark.heavy
def test_two_hundred_idle_streams_hold_no_thread_and_no_database_connection_each(daphne, operator):
    # One user opens them all: lift the per-user limit above the count.
    server = daphne(EVENTS_MAX_STREAMS_PER_USER=str(STREAMS))
    pid = server.process.pid
    headers = bearer(operator)
    sockets = [open_raw_stream(server.port, headers)]
    try:
        threads_with_one, connections_with_one = threads_of(pid), database_connections_of(pid)
        sockets += [open_raw_stream(server.port, headers) for _ in range(STREAMS - 1)]
        threads_with_all, connections_with_all = threads_of(pid), database_connections_of(pid)
        print(
            f"\n{STREAMS} streams: threads {threads_with_one} -> {threads_with_all}, "
            f"database connections {connections_with_one} -> {connections_with_all}"
        )
        # A worker pool may grow by a few threads; one per stream would be +199.
        assert threads_with_all - threads_with_one < 20
        assert connections_with_all <= connection_budget()
    finally:
        for sock in sockets:
            sock.close()
