"""Processes for tests and benchmarks: a real Daphne, a private Redis and
Pushpin in child processes, and the services gate.

Everything here talks to 127.0.0.1 only, and stops what it started by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

# The cluster script shares these (scripts/ is standard library only).
from scripts.ports import HeldPort, hold_port, hold_port_in, hold_ports_in_a_row  # noqa: F401
from scripts.pushpin import Pushpin, missing_binaries

BASE_DIR = Path(__file__).resolve().parent.parent


# --- services ------------------------------------------------------------------------


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool, reason: str) -> None:
    """Skip when a service is absent, fail instead when REQUIRE_SERVICES=1 (CI)."""
    import pytest

    if available:
        return
    if services_required():
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{name} is not available: {reason}")


def redis_reachable(url: str = "redis://127.0.0.1:6379/0") -> tuple[bool, str]:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True, ""
    except Exception as exc:
        return False, f"no Redis at {url} ({exc})"


def database_url(settings_dict: dict) -> str:
    """DATABASE_URL for a child process that must use the same database."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    if engine.endswith("postgresql"):
        auth = settings_dict.get("USER") or "postgres"
        if settings_dict.get("PASSWORD"):
            auth += f":{settings_dict['PASSWORD']}"
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"
    raise ValueError(f"no DATABASE_URL for {engine}")


def spawn(args: list[str], log_path: Path, **popen) -> subprocess.Popen:
    """A child in its own session (so it can be stopped by PID with all it
    starts), its output appended to log_path."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen)


# --- Daphne ----------------------------------------------------------------------------


class DaphneServer:
    """Daphne serving config.asgi:application on a free loopback port, through
    `python -m config.serve` (as `make run` does: with the header deadline).
    A port it picks is held (scripts/ports.py) for as long as the object
    lives: nobody takes it before Daphne binds it, nor after a kill, so a
    server started again on it (`port=`) gets it back."""

    def __init__(
        self, env: dict[str, str], log_path: Path, port: int | None = None, ready_path: str = "/v1/categories"
    ):
        self.env = env
        # Answers 200 once the server is up (/healthz for one whose
        # database is meant to be missing).
        self.ready_path = ready_path
        self.log_path = log_path
        self.held_ports: list[HeldPort] = []
        self.port = port or hold_port_in(self.held_ports)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> DaphneServer:
        self.process = spawn(
            [sys.executable, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            self.log_path,
            cwd=BASE_DIR,
            env=self.env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                # As HAProxy's health check asks (scripts/haproxy.py): a
                # server with HTTPS=1 redirects a request that came over HTTP.
                if (
                    httpx.get(self.url + self.ready_path, headers={"X-Forwarded-Proto": "https"}, timeout=1).status_code
                    == 200
                ):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not answer within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


def server_env(settings_dict: dict, secret_key: str, **overrides: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=database_url(settings_dict),
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    # REDIS_URL passes through: the production set-up's run (PostgreSQL +
    # Redis) serves its streams over Redis too. Tests that stop Redis pass
    # their own private one.
    env.update(overrides)
    return env


# --- a private Redis ------------------------------------------------------------------------


class RedisServer:
    """A throw-away redis-server on a free loopback port, for tests that stop
    or restart Redis: the machine's shared Redis is never touched. Its port is
    held while the object lives, also while it is stopped (scripts/ports.py)."""

    def __init__(self, log_path: Path, port: int | None = None):
        self.held_ports: list[HeldPort] = []
        self.port = port or hold_port_in(self.held_ports)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.process = spawn(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            self.log_path,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if redis_reachable(self.url)[0]:
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


def redis_server_installed() -> tuple[bool, str]:
    import shutil

    return (True, "") if shutil.which("redis-server") else (False, "redis-server is not installed")


# --- a private Pushpin ----------------------------------------------------------------------


def pushpin_installed() -> tuple[bool, str]:
    missing = missing_binaries()
    if missing:
        return False, f"{', '.join(missing)} not installed (Debian: apt-get install pushpin)"
    return True, ""


class PushpinServer(Pushpin):
    """Pushpin on free loopback ports in a temporary directory, in front of
    `targets`, for the tests: `PushpinServer(tmp_path, [server.url]).start()`,
    then `grip_env()` for the Daphne workers behind it. `stop()` stops the
    runner and every child it started, by PID."""

    def __init__(self, directory: Path, targets: list[str], **options):
        super().__init__(directory, [target.removeprefix("http://") for target in targets], **options)

    def grip_env(self) -> dict[str, str]:
        return {"GRIP_URL": self.grip_url, "GRIP_SIG_KEY": self.sig_key}
