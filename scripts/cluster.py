#!/usr/bin/env python3
"""`make run-cluster`: N Daphne workers on consecutive ports behind HAProxy,
behind Pushpin.

    WORKERS=2 PORT=8000 FIRST_WORKER_PORT=8101 make run-cluster
    python scripts/cluster.py --workers 3 --port 8000 --first-worker-port 8101
    PUSHPINS=2 make run-cluster        # two Pushpin instances, on PORT and PORT + 1

    clients ─▶ Pushpin :PORT ─▶ HAProxy 127.0.0.1:BALANCER_PORT ─▶ workers 127.0.0.1:8101..

Clients talk to Pushpin on PORT (API and event streams alike). Pushpin holds
the streams and forwards every request to its one target, HAProxy, which
spreads them over the workers that pass their health check
(scripts/haproxy.py states its invariants). With --pushpins N, N Pushpin
instances listen on PORT … PORT + N − 1 (publish ports likewise from
--publish-port), each holding the streams of the clients that connect to it,
all in front of the same HAProxy; every worker publishes every event to each
(GRIP_URL lists them). A site spreads its clients over them (DNS, or a TCP
balancer that keeps a connection on one instance). DATABASE_URL and
REDIS_URL come from the environment as for `make run`; GRIP_URL and
GRIP_SIG_KEY are set by this script (GRIP_SIG_KEY is taken from the
environment when given, else a random one per run; all instances share it).

Everything Pushpin and HAProxy need is generated into var/cluster/ (--dir):
nothing is edited by hand. SIGINT or SIGTERM stops Pushpin, HAProxy and the
workers by PID; a worker, HAProxy or Pushpin that dies is restarted (HAProxy
takes a dead worker out within its checks and puts it back once the restarted
one answers). var/cluster/state.json lists the PIDs and ports while the
cluster runs. The script lifts its open-file limit to the hard limit before
starting anything (Pushpin inherits it: one descriptor per client stream).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from scripts.child import Child  # noqa: E402
from scripts.haproxy import HAProxy  # noqa: E402
from scripts.haproxy import missing_binary as haproxy_missing  # noqa: E402
from scripts.pushpin import Pushpin, missing_binaries  # noqa: E402

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy

REFUSE_SQLITE = """\
Refusing to start {workers} workers on SQLite without REDIS_URL.

Streams through Pushpin would get every event, but a client connected to a
worker directly would see the other workers' events only when its worker
next polls the log (every EVENTS_POLL_SECONDS), and SQLite makes the workers
queue for one write lock. For several workers use PostgreSQL and Redis:

    DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DB REDIS_URL=redis://127.0.0.1:6379/0 make run-cluster

or run one worker (WORKERS=1) on SQLite."""


def log(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError:
        sys.exit(f"{name} must be an integer, not {raw!r}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=env_int("WORKERS", 2))
    parser.add_argument("--pushpins", type=int, default=env_int("PUSHPINS", 1), help="Pushpin instances")
    parser.add_argument("--port", type=int, default=env_int("PORT", 8000), help="Pushpin's public port")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="Pushpin's public address")
    parser.add_argument("--first-worker-port", type=int, default=env_int("FIRST_WORKER_PORT", 8101))
    parser.add_argument(
        "--publish-port", type=int, default=env_int("PUSHPIN_PUBLISH_PORT", 5561), help="Pushpin's publish port"
    )
    parser.add_argument(
        "--balancer-port", type=int, default=env_int("BALANCER_PORT", 0), help="HAProxy's port (default: a free one)"
    )
    parser.add_argument(
        "--forwarded-for",
        default=os.environ.get("PUSHPIN_FORWARDED_FOR", "truncate:0,append"),
        help="Pushpin's x_forwarded_for: truncate:0,append when clients reach it directly (the default), "
        "append behind a balancer of yours",
    )
    parser.add_argument("--dir", type=Path, default=None, help="generated files and logs (default var/cluster)")
    parser.add_argument("--no-prepare", action="store_true", help="skip migrate and collectstatic")
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        default=os.environ.get("MIGRATE", "1") == "0",
        help="collectstatic only (MIGRATE=0): another machine migrates",
    )
    parser.add_argument(
        "--publish-host",
        default=os.environ.get("PUSHPIN_PUBLISH_HOST", "127.0.0.1"),
        help="where Pushpin's publish endpoint listens (a private address when other machines publish to it)",
    )
    parser.add_argument(
        "--peer-grip-url",
        action="append",
        default=[url for url in os.environ.get("PEER_GRIP_URLS", "").replace(",", " ").split() if url],
        help="another machine's Pushpin publish endpoint, which these workers publish to as well (repeatable; "
        "PEER_GRIP_URLS, comma-separated)",
    )
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.pushpins < 1:
        parser.error("--pushpins must be at least 1")
    return args


def uses_sqlite() -> bool:
    return os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0] in ("sqlite", "")


class Worker(Child):
    def __init__(self, port: int, env: dict[str, str], log_path: Path):
        self.port = port
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "config.serve",  # Daphne with the request-header deadline
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "config.asgi:application",
                ],
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ready(self) -> bool:
        try:
            with _DIRECT.open(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False


class Cluster:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.directory = (args.dir or Path(os.environ.get("VAR_DIR", BASE_DIR / "var")) / "cluster").resolve()
        self.stopping = False
        self.pushpins: list[Pushpin] = []
        self.balancer: HAProxy | None = None
        self.workers: list[Worker] = []

    def check(self) -> None:
        missing = missing_binaries()
        if missing:
            sys.exit(f"{', '.join(missing)} not found: install Pushpin (Debian: apt-get install pushpin)")
        if haproxy_missing():
            sys.exit("haproxy not found: install HAProxy (Debian: apt-get install haproxy)")
        if self.args.workers > 1 and uses_sqlite() and not os.environ.get("REDIS_URL"):
            print(REFUSE_SQLITE.format(workers=self.args.workers), file=sys.stderr)
            sys.exit(2)

    def prepare(self, env: dict[str, str]) -> None:
        commands = [["collectstatic", "--noinput", "--verbosity", "0"]]
        if not self.args.no_migrate:
            commands.insert(0, ["migrate", "--noinput"])
        for command in commands:
            log("manage.py " + " ".join(command))
            subprocess.run([sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "state.json").unlink(missing_ok=True)
        ports = [self.args.first_worker_port + n for n in range(self.args.workers)]
        self.balancer = HAProxy(
            self.directory / "haproxy", [f"127.0.0.1:{port}" for port in ports], port=self.args.balancer_port or None
        )
        sig_key = os.environ.get("GRIP_SIG_KEY") or secrets.token_urlsafe(32)
        self.pushpins = [
            Pushpin(
                self.directory / ("pushpin" if n == 0 else f"pushpin-{n + 1}"),
                [self.balancer.target],
                sig_key=sig_key,
                host=self.args.host,
                http_port=self.args.port + n,
                publish_port=self.args.publish_port + n if self.args.publish_port else None,
                forwarded_for=self.args.forwarded_for,
                publish_host=self.args.publish_host,
            )
            for n in range(self.args.pushpins)
        ]
        # Every Pushpin of every machine: a stream held by any gets every event.
        grip_url = ",".join([*(pushpin.grip_url for pushpin in self.pushpins), *self.args.peer_grip_url])
        env = {**os.environ, "GRIP_URL": grip_url, "GRIP_SIG_KEY": sig_key}
        # Pushpin and HAProxy connect from loopback: the workers take the
        # client's address from their X-Forwarded-For (ops/proxies.py).
        env.setdefault("TRUSTED_PROXIES", "127.0.0.1/32,::1/128")
        env.setdefault("PYTHONUNBUFFERED", "1")
        if not self.args.no_prepare:
            self.prepare(env)
        self.workers = [Worker(port, env, self.directory / f"worker-{port}.log") for port in ports]
        for worker in self.workers:
            worker.start()
        # A worker is ready (/readyz) once its Pushpins answer too: start
        # them first; HAProxy sends no traffic to a worker until it is.
        self.balancer.start()
        for pushpin in self.pushpins:
            pushpin.start()
        self.wait_for_workers()
        self.wait_for_balancer()
        if self.stopping:
            return
        self.write_state()
        urls = ", ".join(f"{pushpin.url}/" for pushpin in self.pushpins)
        log(
            f"serving on {urls} through Pushpin, HAProxy on {self.balancer.target} "
            f"(statistics: http://127.0.0.1:{self.balancer.stats_port}/stats), {len(self.workers)} worker(s) on "
            f"127.0.0.1:{ports[0]}..{ports[-1]}; logs and config in {self.directory}"
        )

    def wait_for_workers(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.workers)
        while waiting and not self.stopping:
            for worker in list(waiting):
                if not worker.running():
                    raise RuntimeError(f"worker on port {worker.port} exited; see {worker.log_path}")
                if worker.ready():
                    waiting.remove(worker)
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not ready within {timeout}s: {[w.port for w in waiting]}")
            if waiting:
                time.sleep(0.2)

    def wait_for_balancer(self, timeout: float = 30.0) -> None:
        """Until HAProxy's checks have put every ready worker in."""
        deadline = time.monotonic() + timeout
        while not self.stopping:
            stats = self.balancer.stats() or {}
            if stats and all(row["status"] == "UP" for row in stats.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the balancer did not put the workers in within {timeout}s: {stats}")
            time.sleep(0.2)

    def write_state(self) -> None:
        pushpins = [
            {"url": p.url, "grip_url": p.grip_url, "pid": p.process.pid, "children": sorted(p.child_pids)}
            for p in self.pushpins
        ]
        state = {
            # The first instance's, as with one: what clients use by default.
            "url": self.pushpins[0].url,
            "grip_url": self.pushpins[0].grip_url,
            "pushpin": pushpins[0],
            "pushpins": pushpins,
            "haproxy": {
                "pid": self.balancer.process.pid,
                "port": self.balancer.port,
                "stats_port": self.balancer.stats_port,
            },
            "workers": [{"port": w.port, "pid": w.process.pid} for w in self.workers],
        }
        (self.directory / "state.json").write_text(json.dumps(state, indent=2) + "\n")

    def supervise(self) -> None:
        """Restart what dies, until told to stop."""
        while not self.stopping:
            time.sleep(0.5)
            if self.stopping:
                break
            changed = False
            for worker in self.workers:
                if not worker.running():
                    log(f"worker on port {worker.port} exited ({worker.process.returncode}); restarting it")
                    worker.start()
                    changed = True
            if not self.balancer.running():
                log(f"haproxy exited ({self.balancer.process.returncode}); restarting it")
                try:
                    self.balancer.start()
                except RuntimeError as exc:
                    log(str(exc))
                changed = True
            for pushpin in self.pushpins:
                if not pushpin.running():
                    log(f"pushpin on port {pushpin.http_port} exited ({pushpin.process.returncode}); restarting it")
                    pushpin.stop()
                    pushpin.child_pids.clear()
                    try:
                        pushpin.start()
                    except RuntimeError as exc:
                        log(str(exc))
                    changed = True
            if changed and not self.stopping:
                self.write_state()

    def stop(self) -> None:
        for pushpin in self.pushpins:
            pushpin.stop()
        if self.balancer is not None:
            self.balancer.stop()
        for worker in self.workers:
            worker.stop()
        (self.directory / "state.json").unlink(missing_ok=True)


def raise_open_file_limit() -> int:
    """Lift this process's soft RLIMIT_NOFILE to its hard limit, so that
    Pushpin's connection manager (a child: it inherits the limit) can hold one
    descriptor per client stream. Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main() -> int:
    args = parse_args()
    limit = raise_open_file_limit()
    log(f"open-file limit {limit}: Pushpin holds one descriptor per stream, so at most about {limit - 500:,} streams")
    cluster = Cluster(args)
    cluster.check()

    def request_stop(signum, _frame) -> None:
        if not cluster.stopping:
            log(f"{signal.Signals(signum).name}: stopping Pushpin, HAProxy and the workers")
        cluster.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        cluster.start()
        cluster.supervise()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        log(f"failed: {exc}")
        for pushpin in cluster.pushpins:
            if pushpin.process is not None:
                log(pushpin.log_tail())
        return 1
    finally:
        cluster.stop()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
