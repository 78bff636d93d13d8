"""What clients that do not read a large replay cost a server, and what it
keeps after they leave (issue 21): CLIENTS raw sockets with a 4 KiB receive
buffer ask one Daphne for the replay of a log of about 9 MB (events of
18 KB) and never read it; the server's RSS is read once it settles before,
while they are connected, and after they closed.

Compared in the same run, alternating, each round on a fresh server and the
same database: the project as configured (replay pages bounded to
EVENTS_REPLAY_PAGE_BYTES) and pages bounded by count alone
(EVENTS_REPLAY_PAGE_BYTES=10**9: 200 events a page, as before the bound).
Prints each round and the medians; asserts nothing.

    .venv/bin/python bench/replay_rss.py [--rounds 3] [--clients 30]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

EVENT_BYTES = 18 * 1024
LOG_BYTES = 9 * 1024 * 1024
CONFIGS = {"bounded pages": {}, "count-only pages": {"EVENTS_REPLAY_PAGE_BYTES": str(10**9)}}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def settled_rss_kib(pid: int, tolerance_kib: int = 512, rounds: int = 40) -> int:
    """RSS once it moves less than `tolerance_kib` over half a second."""
    last = rss_kib(pid)
    for _ in range(rounds):
        time.sleep(0.5)
        now = rss_kib(pid)
        if abs(now - last) < tolerance_kib:
            return now
        last = now
    return last


def open_stream(port: int, headers: dict[str, str], receive_buffer: int | None = None) -> socket.socket:
    """Open /events/cashier and read its response head; then never read."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    lines = ["GET /events/cashier HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = sock.recv(4096)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"stream refused: {head[:200]!r}")
    return sock


def prepare(directory: Path) -> tuple[dict, str, str]:
    """A migrated SQLite database with an operator and the log; returns
    the settings dict, the secret key and the operator's Bearer token."""
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from events.outbox.storage import EventLogStorage
    from users.models import Role, User

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(username="replay-bench", password="replay-bench-password", role=Role.OPERATOR)
    storage = EventLogStorage()
    with transaction.atomic():
        for n in range(LOG_BYTES // EVENT_BYTES):
            storage.append_event("cashier", "order-status-update", json.dumps({"n": n, "pad": "x" * EVENT_BYTES}))
    token = str(AccessToken.for_user(user))
    connection.close()
    return dict(connection.settings_dict), settings.SECRET_KEY, token


def one_round(settings_dict: dict, secret: str, token: str, env: dict, clients: int, log_path: Path) -> dict:
    from testsupport import DaphneServer, server_env

    server = DaphneServer(server_env(settings_dict, secret, HTTP_HEADER_TIMEOUT_SECONDS="600", **env), log_path).start()
    try:
        pid = server.process.pid
        headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": "cashier:1"}
        warm = open_stream(server.port, headers)  # one reader that reads: imports, the hub
        warm.recv(1 << 16)
        warm.close()
        before = settled_rss_kib(pid)
        sockets = [open_stream(server.port, headers, receive_buffer=4096) for _ in range(clients)]
        held = settled_rss_kib(pid)
        for sock in sockets:
            sock.close()
        after = settled_rss_kib(pid)
        return {"before": before, "held": held, "after": after}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="replay-rss-") as tmp:
        directory = Path(tmp)
        settings_dict, secret, token = prepare(directory)
        print(
            f"log: {LOG_BYTES // EVENT_BYTES} events of {EVENT_BYTES // 1024} KB; {args.clients} clients that do not read"
        )
        results: dict[str, list[dict]] = {name: [] for name in CONFIGS}
        names = list(CONFIGS)
        for n in range(args.rounds):
            for name in names if n % 2 == 0 else reversed(names):
                r = one_round(settings_dict, secret, token, CONFIGS[name], args.clients, directory / "daphne.log")
                results[name].append(r)
                print(
                    f"round {n + 1} {name:17s} RSS before {r['before'] / 1024:6.1f} MiB, "
                    f"held +{(r['held'] - r['before']) / 1024:6.1f} MiB, "
                    f"after they left +{(r['after'] - r['before']) / 1024:6.1f} MiB",
                    flush=True,
                )
        print("\nmedians over rounds (growth above the warmed-up server):")
        for name, rounds in results.items():
            held = statistics.median((r["held"] - r["before"]) / 1024 for r in rounds)
            after = statistics.median((r["after"] - r["before"]) / 1024 for r in rounds)
            print(f"  {name:17s} held +{held:.1f} MiB, after they left +{after:.1f} MiB ({len(rounds)} rounds)")


if __name__ == "__main__":
    main()
