"""A database that cannot be reached at start: one line naming it (its
password masked) and why, a non-zero exit status, no traceback unless asked
for, from the server and from manage.py alike."""

import os
import subprocess
import sys

import pytest

from ops.startup import masked
from testsupport.processes import BASE_DIR

COMMANDS = {
    "serve": [sys.executable, "-m", "config.serve", "-b", "127.0.0.1", "-p", "0", "config.asgi:application"],
    "migrate": [sys.executable, "manage.py", "migrate", "--noinput"],
}


def start(command: str, database_url: str, **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": "", "GRIP_URL": "", "GRIP_SIG_KEY": "", **extra}
    env.pop("STARTUP_TRACEBACK", None) if "STARTUP_TRACEBACK" not in extra else None
    return subprocess.run(COMMANDS[command], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unreachable_postgresql_is_one_line_with_the_password_masked(command, closed_port):
    port = closed_port
    result = start(command, f"postgres://staff:s3cret-pw@127.0.0.1:{port}/orders")

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cannot reach the database postgres://staff:***@127.0.0.1:{port}/orders: ")
    assert "refused" in lines[0].lower()
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_an_unopenable_sqlite_file_is_one_line_too(tmp_path):
    result = start("serve", f"sqlite:///{tmp_path}/missing-folder/db.sqlite3")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"cannot reach the database sqlite:///{tmp_path}/missing-folder/db.sqlite3: unable to open database file"
    ]


def test_the_traceback_is_there_when_asked_for(closed_port):
    result = start("serve", f"postgres://staff:pw@127.0.0.1:{closed_port}/orders", STARTUP_TRACEBACK="1")
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://u:p%40ss@db.example.org:5432/orders", "postgres://u:***@db.example.org:5432/orders"),
        ("postgres://u@db/orders", "postgres://u@db/orders"),
        ("postgres://u:pw@[2001:db8::1]:5432/o", "postgres://u:***@[2001:db8::1]:5432/o"),
        ("sqlite:////var/lib/orders/db.sqlite3", "sqlite:////var/lib/orders/db.sqlite3"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url, shown):
    assert masked(url) == shown
