"""Event streams over plain sockets, for tests that open many of them or
need a client that stops reading: what the server holds is then visible
from /proc. What they read is parsed by the project's one SSE reader
(printeragent/sse.py, httpx-sse's parser): an httpx client per stream would
hide the socket these tests need to hold unread."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from printeragent.sse import frames


def request_bytes(port: int, path: str, headers: dict[str, str | bytes]) -> bytes:
    lines = [f"GET {path} HTTP/1.1".encode(), f"Host: 127.0.0.1:{port}".encode()]
    for name, value in headers.items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def open_stream(
    port: int, path: str, headers: dict[str, str | bytes], *, receive_buffer: int | None = None
) -> tuple[socket.socket, bytes]:
    """Open a stream and read up to the end of its first message; returns
    the socket and what was read (status line, headers, first message)."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request_bytes(port, path, headers))
    received = b""
    for _ in range(1000):
        head, _, body = received.partition(b"\r\n\r\n")
        # A chunk-size line reads as an unknown field, which the reader ignores.
        if frames(body) or (head and not head.startswith(b"HTTP/1.1 200")):
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return sock, received


def status_of(received: bytes) -> int:
    return int(received.split(b" ", 2)[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def settled_rss_kib(pid: int, *, tolerance_kib: int = 512, rounds: int = 40) -> int:
    """RSS once it stops moving (within `tolerance_kib` over half a second):
    the server has written, or let go of, what it could."""
    last = rss_kib(pid)
    for _ in range(rounds):
        time.sleep(0.5)
        now = rss_kib(pid)
        if abs(now - last) < tolerance_kib:
            return now
        last = now
    return last
