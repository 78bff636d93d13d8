"""Clients that ask for a large REST response and never read it: what the
worker's memory does, and whether the API still answers meanwhile.

    python bench/unread_responses.py            # about 4 minutes
    python bench/unread_responses.py --quick    # fewer clients: a smoke run

The database holds 100 large orders (bench/seed_large_orders.py: 30 lines
with a 250-character note each; a page of 100 of them is about 10 MB).
Two scenarios, each on a fresh worker (`python -m config.serve`, SQLite):

- orders: 20 operators' clients ask `GET /v1/orders?limit=100` on sockets
  with a 4 KiB receive buffer and never read;
- schema: 300 anonymous clients ask `GET /docs/schema/` the same way.

Each runs against `ours` (config.asgi: paced responses, the page byte bound,
the schema built once) and `before` (bench/before_asgi.py with
bench/before_settings.py: the same project without those three). Printed
per run: the bytes the clients asked for (their responses' Content-Length,
read by one client that does read), the worker's RSS before, while they
hold (once it settles) and after they have closed, its growth against what
they asked for, the worker's CPU seconds until it settled, and the median
of 20 `GET /v1/categories` (one at a time) before, and the median and p90
of such requests made one after another (0.1 s apart) from just before the
clients ask until the worker has settled. With `MALLOC_ARENA_MAX=2`
in the environment the workers get it too.
Nothing asserts."""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

import httpx  # noqa: E402

from bench import procs  # noqa: E402
from bench.common import OPERATOR, PASSWORD, World, hold_port, log  # noqa: E402

APPS = {
    "ours": ("config.asgi:application", "config.settings"),
    "before": ("bench.before_asgi:application", "bench.before_settings"),
}


def rss_kib(pid: int) -> int:
    return procs.proc_status(pid)["rss_kb"]


def settled(pid: int, *, limit: float = 120.0) -> tuple[int, float]:
    """RSS (KiB) once the worker is idle (under 5% of a core over a second)
    and its RSS moves by less than 1 MiB in that second; and when."""
    deadline = time.monotonic() + limit
    last_rss, last_cpu = rss_kib(pid), procs.cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        rss, cpu = rss_kib(pid), procs.cpu_seconds(pid)
        if abs(rss - last_rss) < 1024 and cpu - last_cpu < 0.05:
            return rss, time.monotonic()
        last_rss, last_cpu = rss, cpu
    return last_rss, time.monotonic()


def api_median_ms(base: str, count: int = 20) -> float:
    times = []
    with httpx.Client(timeout=120) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get(base + "/v1/categories")
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class ApiProbe(threading.Thread):
    """`GET /v1/categories`, one at a time, from before the clients ask until
    the worker has settled: the API's latency while it answers them."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.times: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=120) as client:
            while not self.done.is_set():
                started = time.perf_counter()
                client.get(self.base + "/v1/categories")
                self.times.append((time.perf_counter() - started) * 1000)
                self.done.wait(0.1)

    def stop(self) -> list[float]:
        self.done.set()
        self.join(130)
        return self.times


def non_reader(port: int, path: str, headers: dict[str, str]) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall((head + "\r\n").encode())
    return sock


def run(world: World, kind: str, path: str, clients: int, authenticated: bool) -> dict:
    app, settings_module = APPS[kind]
    held = hold_port()  # bound beside the hold by the server started on it (scripts/ports.py)
    port = held.port
    env = world.env(world.sqlite_url(world.tmp / "db.sqlite3"), DJANGO_SETTINGS_MODULE=settings_module)
    cmd = [procs.PYTHON, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), app]
    process = procs.start(cmd, env=env, log_path=world.tmp / f"{kind}-{port}.log")
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                if httpx.get(base + "/v1/categories", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        headers = {}
        if authenticated:
            token = httpx.post(base + "/auth/token", json={"username": OPERATOR, "password": PASSWORD}, timeout=30)
            headers = {"Authorization": f"Bearer {token.json()['access']}"}
        asked = len(httpx.get(base + path, headers=headers, timeout=120).content)  # also the warm-up
        before, _ = settled(process.pid)
        api_before = api_median_ms(base)
        cpu_before = procs.cpu_seconds(process.pid)
        opened = time.monotonic()
        probe = ApiProbe(base)
        probe.start()
        sockets = [non_reader(port, path, headers) for _ in range(clients)]
        holding, settled_at = settled(process.pid)
        cpu = procs.cpu_seconds(process.pid) - cpu_before
        api_during = probe.stop()
        for sock in sockets:
            sock.close()
        after, _ = settled(process.pid)
        return {
            "asked_mb": clients * asked / 2**20,
            "page_mb": asked / 2**20,
            "before_mb": before / 1024,
            "holding_mb": holding / 1024,
            "after_mb": after / 1024,
            "growth_mb": (holding - before) / 1024,
            "left_mb": (after - before) / 1024,
            "cpu_s": cpu,
            "settle_s": settled_at - opened,
            "api_before_ms": api_before,
            "api_during_ms": statistics.median(api_during),
            "api_during_p90_ms": sorted(api_during)[int(0.9 * (len(api_during) - 1))],
            "api_during_n": len(api_during),
        }
    finally:
        procs.stop(process)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only", choices=["orders", "schema"], help="one scenario")
    args = parser.parse_args()
    scenarios = {
        "orders": ("/v1/orders?limit=100", 5 if args.quick else 20, True),
        "schema": ("/docs/schema/", 50 if args.quick else 300, False),
    }
    if args.only:
        scenarios = {args.only: scenarios[args.only]}
    procs.raise_nofile()
    world = World(keep=args.keep)
    try:
        url = world.sqlite_url(world.tmp / "db.sqlite3")
        world.prepare_database(url)
        procs.run([procs.PYTHON, "bench/seed_large_orders.py"], env=world.env(url), timeout=600)
        results = {}
        for scenario, (path, clients, authenticated) in scenarios.items():
            for kind in ("ours", "before"):
                log(f"{scenario}: {clients} clients that do not read {path}, {kind}")
                results[scenario, kind] = run(world, kind, path, clients, authenticated)
                log(f"{scenario} {kind}: {results[scenario, kind]}")
        print()
        print(
            "| clients | server | response | asked in all | RSS before | RSS held | growth / asked | RSS after they left "
            "| CPU until settled | API median before / during (p90 during) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (scenario, kind), r in results.items():
            path, clients, _ = scenarios[scenario]
            print(
                f"| {clients} × `{path}` | {kind} | {r['page_mb']:.2f} MB | {r['asked_mb']:.1f} MB "
                f"| {r['before_mb']:.0f} MB | {r['holding_mb']:.0f} MB (+{r['growth_mb']:.0f}) "
                f"| {r['growth_mb'] / r['asked_mb']:.2f} | {r['after_mb']:.0f} MB (+{r['left_mb']:.0f}) "
                f"| {r['cpu_s']:.1f} s | {r['api_before_ms']:.1f} / {r['api_during_ms']:.1f} ms ({r['api_during_p90_ms']:.0f} ms) |"
            )
        parts = []
        for scenario in scenarios:
            ours, before = results[scenario, "ours"], results[scenario, "before"]
            parts.append(
                f"{scenario}: RSS +{ours['growth_mb']:.0f} MB ({ours['growth_mb'] / ours['asked_mb']:.2f}x asked) "
                f"vs before +{before['growth_mb']:.0f} MB ({before['growth_mb'] / before['asked_mb']:.2f}x), "
                f"API during {ours['api_during_ms']:.1f} vs {before['api_during_ms']:.1f} ms"
            )
        print("summary: " + "; ".join(parts))
        return 0
    finally:
        procs.stop_all()
        world.cleanup()


if __name__ == "__main__":
    sys.exit(main())
