"""Run a private HAProxy between Pushpin and the Daphne workers: its config
generated into one folder, free or chosen ports, started and stopped by PID.

Used by scripts/cluster.py (`make run-cluster`), the tests and
bench/cluster.py. Standard library only: the cluster runs on the runtime
requirements (HAProxy itself is Debian's package `haproxy`).

Invariants:

- Requests are spread over the workers that pass their health check
  (`leastconn`: the worker with the fewest requests in progress gets the
  next). Pushpin holds the long-lived streams, so what reaches HAProxy is
  short: API calls, stream openings and Pushpin's recovery requests.
- A worker is taken out when three health checks in a row fail (no answer
  within 5 s: a worker busy opening a storm of streams is slow, not dead), or
  at once when a connection to it fails under real traffic (`observe layer4`:
  a killed worker refuses connections); a request whose connection failed is
  retried on another worker (`option redispatch`), so only the requests a
  worker was serving when it died fail. Two passing checks put it back.
- Each worker gets at most `per_worker` (32) requests at a time; more wait in
  HAProxy's queue (up to 30 s), where `leastconn` hands them to whichever
  worker frees up first, and the health checks, which bypass the queue, still
  get through to a loaded worker.
- The health check is `GET /readyz` (ops/health.py) with a Host the workers
  accept: only a 200 counts, so a worker whose database, event log, Redis or
  Pushpin does not answer gets no traffic; with none ready, HAProxy answers
  its own JSON 503 below.
- HAProxy appends the address it was connected from to X-Forwarded-For
  (`option forwardfor`; the workers believe it only from TRUSTED_PROXIES,
  ops/proxies.py), and gives a request without an X-Request-ID one, which
  the workers log and return.
- What HAProxy answers itself (no worker up, a worker that died mid-request,
  a worker too slow) is JSON like the app's own errors, with Retry-After.
- `set_state(worker, "maint" | "drain" | "ready")` takes a worker out by
  hand (a deploy, or bench/cluster.py's one-worker windows) through HAProxy's
  admin socket, a Unix socket in the run directory, mode 600.
- HAProxy runs in the foreground (`-db`) in its own session; `stop()` sends
  SIGTERM to its PID, then SIGKILL. Server state changes ("is DOWN", "is UP")
  go to its log file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from scripts.child import Child
from scripts.ports import HeldPort, hold_port_in

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
HEALTH_PATH = "/readyz"
ERRORS = {
    502: ("Bad Gateway", "The server failed while answering, retry shortly"),
    503: ("Service Unavailable", "Service unavailable, retry shortly"),
    504: ("Gateway Timeout", "The server took too long to answer, retry shortly"),
}


def missing_binary() -> str | None:
    """ "haproxy" when it is not installed (Debian: `apt-get install haproxy`)."""
    return None if shutil.which("haproxy") else "haproxy"


def check_host(allowed_hosts: str | None = None) -> str:
    """A Host header the workers accept, for the health check: the first
    concrete name of DJANGO_ALLOWED_HOSTS, else 127.0.0.1."""
    raw = os.environ.get("DJANGO_ALLOWED_HOSTS", "") if allowed_hosts is None else allowed_hosts
    for name in (part.strip() for part in raw.split(",")):
        name = name.lstrip(".")
        if name and name != "*":
            return name
    return "127.0.0.1"


class HAProxy(Child):
    """One HAProxy in `directory`, listening on 127.0.0.1:`port` and
    balancing over `workers` ("host:port")."""

    def __init__(
        self,
        directory: Path,
        workers: list[str],
        *,
        port: int | None = None,
        stats_port: int | None = None,
        host_header: str | None = None,
        check_interval_ms: int = 1000,
        max_connections: int = 4096,
        per_worker: int = 32,
    ):
        self.directory = Path(directory)
        self.workers = list(workers)
        # Ports not given are held (scripts/ports.py) for as long as this
        # object lives: scripts/cluster.py makes it before it starts the
        # workers, which bind theirs in between, and starts HAProxy after.
        self.held_ports: list[HeldPort] = []
        self.port = port or hold_port_in(self.held_ports)
        self.stats_port = stats_port or hold_port_in(self.held_ports)
        self.host_header = host_header or check_host()
        self.check_interval_ms = check_interval_ms
        self.max_connections = max_connections
        self.per_worker = per_worker
        self.process: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        """What Pushpin's route points at."""
        return f"127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "haproxy.cfg"

    @property
    def log_path(self) -> Path:
        return self.directory / "haproxy.log"

    @property
    def admin_socket(self) -> Path:
        # A Unix socket path has a limit of about 100 bytes: keep it short.
        return Path(tempfile.gettempdir()) / f"haproxy-{self.port}.sock"

    @staticmethod
    def server_name(worker: str) -> str:
        return "worker-" + worker.rsplit(":", 1)[1]

    def write_error_files(self) -> str:
        """One file per status HAProxy may answer itself: a whole HTTP
        response with a JSON body. Returns the config lines naming them."""
        lines = []
        for status, (reason, message) in ERRORS.items():
            body = json.dumps({"message": message}) + "\n"
            path = self.directory / f"{status}.http"
            path.write_text(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
                f"Cache-Control: no-store\r\nContent-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}"
            )
            lines.append(f"    errorfile {status} {path}")
        return "\n".join(lines)

    def write_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        errors = self.write_error_files()
        servers = "\n".join(
            f"    server {self.server_name(worker)} {worker} check observe layer4 error-limit 1 on-error mark-down"
            for worker in self.workers
        )
        self.config_path.write_text(
            f"""# Written by scripts/haproxy.py: edit the generator, not this file.
global
    maxconn {self.max_connections}
    stats socket {self.admin_socket} mode 600 level admin
    log stdout format raw local0 notice

defaults
    mode http
    log global
    option dontlognull
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 15s
    timeout http-keep-alive 10s
    timeout check 5s
    timeout queue 30s
    retries 3
    option redispatch 1
    retry-on conn-failure
{errors}

frontend api
    bind 127.0.0.1:{self.port}
    option forwardfor
    http-request set-header X-Request-ID %[uuid()] unless {{ req.hdr(x-request-id) -m found }}
    default_backend workers

backend workers
    balance leastconn
    option httpchk
    http-check send meth GET uri {HEALTH_PATH} ver HTTP/1.1 hdr Host {self.host_header} hdr X-Forwarded-Proto https
    http-check expect status 200
    default-server inter {self.check_interval_ms}ms fastinter {max(100, self.check_interval_ms // 2)}ms fall 3 rise 2 maxconn {self.per_worker}
{servers}

frontend stats
    bind 127.0.0.1:{self.stats_port}
    stats enable
    stats uri /stats
    stats refresh 0
"""
        )
        return self.config_path

    def validate(self) -> None:
        result = subprocess.run(
            ["haproxy", "-c", "-q", "-f", str(self.config_path)], capture_output=True, text=True, timeout=30
        )
        if result.returncode != 0:
            raise RuntimeError(f"haproxy refused its config:\n{result.stdout}{result.stderr}")

    def start(self, timeout: float = 15.0) -> HAProxy:
        self.write_config()
        self.validate()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ["haproxy", "-db", "-f", str(self.config_path)],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.stats() is not None:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"haproxy did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        if not self.running():
            self.admin_socket.unlink(missing_ok=True)

    def set_state(self, worker: str, state: str) -> str:
        """Put a worker ("host:port") in "maint" (no traffic), "drain" (no new
        traffic) or "ready" through the admin socket; HAProxy's answer."""
        if state not in ("maint", "drain", "ready"):
            raise ValueError(state)
        return self.command(f"set server workers/{self.server_name(worker)} state {state}")

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.admin_socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace").strip()

    # --- what it sees -----------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, str]] | None:
        """Per worker (by "host:port"): HAProxy's CSV statistics row (`status`
        UP/DOWN/..., `stot` requests sent to it, `hrsp_5xx`, ...); None when
        HAProxy does not answer."""
        try:
            with _DIRECT.open(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=2) as response:
                text = response.read().decode()
        except (urllib.error.URLError, OSError):
            return None
        names = {self.server_name(worker): worker for worker in self.workers}
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {names[row["svname"]]: row for row in rows if row["pxname"] == "workers" and row["svname"] in names}

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
