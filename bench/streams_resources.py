"""Threads and database connections of one Daphne process with N idle event
streams (default 200): stock django-eventstream against this project.

    .venv/bin/python bench/streams_resources.py [--streams 200]

Both servers run on a throw-away SQLite database (migrated, one operator);
counts come from /proc/<pid>/status (Threads) and /proc/<pid>/fd (open
descriptors on the database file). Loopback only; children stopped by PID."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

from testsupport import hold_port  # noqa: E402


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return -1


def db_files(pid: int, database: str) -> int:
    real = os.path.realpath(database)
    return sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir() if os.path.realpath(fd) == real)


def open_stream(port: int, path: str, headers: dict[str, str], marker: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    request = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
    received = b""
    while marker not in received:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"stream closed: {received[:300]!r}")
        received += chunk
    return sock


def measure(
    name: str, env: dict[str, str], app: str, path: str, headers: dict[str, str], marker: bytes, n: int, database: str
):
    held = hold_port()  # until Daphne binds it
    port = held.port
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
        cwd=BASE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    sockets: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sockets.append(open_stream(port, path, headers, marker))
                break
            except (ConnectionRefusedError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(0.5)
        before = threads(server.pid), db_files(server.pid, database)
        for _ in range(n - 1):
            sockets.append(open_stream(port, path, headers, marker))
        time.sleep(1.0)
        after = threads(server.pid), db_files(server.pid, database)
        print(
            f"{name:<28} threads {before[0]:>4} -> {after[0]:>4}   database connections {before[1]:>4} -> {after[1]:>4}"
        )
    finally:
        for sock in sockets:
            sock.close()
        server.kill()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = os.path.join(tmp, "db.sqlite3")
        env = dict(
            os.environ, DATABASE_URL=f"sqlite:///{database}", VAR_DIR=tmp, DJANGO_SECRET_KEY="bench-only-" + "k" * 40
        )
        env.pop("REDIS_URL", None)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=BASE, env=env, check=True)
        subprocess.run(
            [*manage, "createuser", "olga", "--role", "operator", "--password", "bench-password-1"],
            cwd=BASE,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        token = (
            subprocess.run(
                [
                    *manage,
                    "shell",
                    "--no-imports",
                    "-c",
                    "from rest_framework_simplejwt.tokens import AccessToken; from users.models import User; print(AccessToken.for_user(User.objects.get(username='olga')))",
                ],
                cwd=BASE,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        print(f"{args.streams} idle streams, one Daphne process, SQLite:")
        stock_env = dict(env, DJANGO_SETTINGS_MODULE="bench.settings")
        measure(
            "stock django-eventstream",
            stock_env,
            "bench.stock_asgi:application",
            "/stock-events/printer",
            {},
            b"stream-open",
            args.streams,
            database,
        )
        measure(
            "this project",
            # One user opens them all: lift the per-user limit above the count.
            dict(env, EVENTS_MAX_STREAMS_PER_USER=str(args.streams + 1)),
            "config.asgi:application",
            "/events/printer",
            {"Authorization": f"Bearer {token}"},
            b"\nid: printer:",  # the id-only opening message
            args.streams,
            database,
        )


if __name__ == "__main__":
    main()
