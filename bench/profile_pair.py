"""Where the CPU of one create-and-confirm goes (issue 27): `POST /v1/orders`
with 3 lines and `confirm`, the body bench/throughput.py sends, signed in
with a JWT (`POST /auth/token`) as bench/common.py's operator, on a
throw-away database (bench/common.py World: migrate, demo menu, operator),
SQLite and PostgreSQL.

The requests go in-process through the application Daphne serves
(config.asgi: the client-address and access-log wrappers, the pacing, the
wake-ups after the response where the code has them, Django's ASGI handler
and its hop to the view's thread, the middleware, DRF), each awaited until
its events have been notified and, with --streams K, handed to K printer
streams of this process's hub. What this leaves out is Daphne's own share:
parsing the request off the socket, writing the response and the streams'
frames to their sockets (bench/throughput.py and bench/fanout.py measure
those under Daphne).

The CPU of each pair is split into buckets by wrapping a few functions with
a per-thread clock (time.thread_time): time is charged to the innermost
bucket running, so the buckets do not overlap, and statements
(cursor.execute and COMMIT) are charged to the bucket that issued them.
"framework" is the rest of the process's CPU (time.process_time) over the
pair: Django's and DRF's request handling, the middleware, the ASGI layers,
the thread hops. Wrapping a few dozen calls per request costs little;
cProfile would charge every call, which inflates the framework's many small
ones, so it is used only for the list of the remainder's largest functions
(--cprofile). Prints the table, the run's line and a JSON line; asserts
nothing.

    .venv/bin/python bench/profile_pair.py                 # both databases, 300 pairs
    .venv/bin/python bench/profile_pair.py --sqlite --pairs 100 --streams 100
    .venv/bin/python bench/profile_pair.py --cprofile      # plus the remainder's top functions
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

WARM_UP = 30
OTHER = "framework"


def _module(*names: str):
    """The first of `names` that imports: the modules moved between versions."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {names}")


class Buckets:
    """CPU per bucket, charged to the innermost bucket running in each thread."""

    def __init__(self) -> None:
        self.cpu: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.local = threading.local()

    def _stack(self) -> list:
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        return stack

    def enter(self, name: str) -> None:
        now, stack = time.thread_time(), self._stack()
        if stack:
            self.cpu[stack[-1][0]] += now - stack[-1][1]
        stack.append([name, now])

    def leave(self) -> None:
        now, stack = time.thread_time(), self._stack()
        name, started = stack.pop()
        self.cpu[name] += now - started
        if stack:
            stack[-1][1] = now

    def wrap(self, name: str, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            self.enter(name)
            try:
                return func(*args, **kwargs)
            finally:
                self.leave()

        return timed

    def wrap_statement(self, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            stack = self._stack()
            owner = stack[-1][0] if stack else OTHER
            self.statements[owner] += 1
            self.enter(f"{owner}: statements")
            try:
                return func(*args, **kwargs)
            finally:
                self.leave()

        return timed

    def patch(self, name: str, owner, attribute: str) -> None:
        if hasattr(owner, attribute):
            setattr(owner, attribute, self.wrap(name, getattr(owner, attribute)))


BUCKETS = (
    "authentication",
    "parsing and validation",
    "services",
    "outbox: receivers and payloads",
    "outbox: recording",
    "representation",
    "rendering",
    "on_commit callbacks",
    "notify",
    "hub: reading the log",
    "hub: frames to the streams",
)


def install(buckets: Buckets) -> dict:
    """Wrap the functions that open each bucket; return what the run needs
    to know when a pair is over (the notifications and deliveries)."""
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper
    from django.db.models.signals import post_save
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework.serializers import BaseSerializer

    from orders import services, views

    publisher = _module("events.outbox.publisher", "events.publisher")
    receivers = _module("events.outbox.receivers", "events.receivers")
    hub_module = _module("events.transport.hub", "events.hub")

    buckets.patch("authentication", Request, "_authenticate")
    buckets.patch("parsing and validation", Request, "_parse")
    buckets.patch("parsing and validation", BaseSerializer, "is_valid")
    buckets.patch("services", services, "order_create")
    buckets.patch("services", services, "order_confirm")
    post_save.send = buckets.wrap("outbox: receivers and payloads", post_save.send)
    try:
        signals = importlib.import_module("orders.signals")
        signals.order_placed.send = buckets.wrap("outbox: receivers and payloads", signals.order_placed.send)
    except ImportError:
        pass  # before the order_placed signal
    buckets.patch("outbox: recording", receivers, "record_all")
    buckets.patch("outbox: recording", receivers, "record")
    buckets.patch("representation", views, "order_rest_repr")
    buckets.patch("rendering", JSONRenderer, "render")
    buckets.patch("on_commit callbacks", BaseDatabaseWrapper, "run_and_clear_commit_hooks")
    for attribute in ("_execute", "_executemany"):
        setattr(CursorWrapper, attribute, buckets.wrap_statement(getattr(CursorWrapper, attribute)))
    BaseDatabaseWrapper._commit = buckets.wrap_statement(BaseDatabaseWrapper._commit)

    progress = {"notified": 0, "delivered": 0, "wanted": None, "loop": None, "done": None}

    def check() -> None:
        wanted = progress["wanted"]
        if wanted is not None and progress["notified"] >= wanted[0] and progress["delivered"] >= wanted[1]:
            progress["wanted"] = None
            progress["loop"].call_soon_threadsafe(progress["done"].set)

    notify = buckets.wrap("notify", publisher.notify)

    def counted_notify(event) -> None:
        notify(event)
        progress["notified"] += 1
        check()

    publisher.notify = counted_notify
    buckets.patch("hub: reading the log", hub_module.log, "events_after")
    deliver = buckets.wrap("hub: frames to the streams", hub_module.Hub._deliver)

    def counted_deliver(hub, event) -> None:
        deliver(hub, event)
        progress["delivered"] += len(hub.subscribers[event.channel]) and 1
        check()

    hub_module.Hub._deliver = counted_deliver
    return progress


def in_process_conn(application):
    """bench/client.py's HttpConn, answered by `application` in this process."""
    from bench.client import HttpConn
    from testsupport.asgi import body_then_silence, http_scope

    class InProcess(HttpConn):
        async def request(self, method, path, *, body=None, headers=None, timeout=30.0):
            payload = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            path, _, query = path.partition("?")
            head = [(b"content-type", b"application/json")]
            head += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
            scope = {**http_scope(method, path, payload, head, host=b"127.0.0.1"), "query_string": query.encode()}
            receive = body_then_silence(payload)

            answer: dict = {"body": b""}

            async def send(message):
                if message["type"] == "http.response.start":
                    answer["status"] = message["status"]
                else:
                    answer["body"] += message.get("body", b"")

            await asyncio.wait_for(application(scope, receive, send), timeout)
            return answer["status"], answer["body"]

    return InProcess(0)


async def pairs(options, buckets: Buckets, progress: dict) -> dict:
    from asgiref.sync import sync_to_async
    from django.conf import settings

    from bench.common import Api
    from config.asgi import application

    hub_module = _module("events.transport.hub", "events.hub")
    settings.EVENTS_POLL_SECONDS = 3600  # only the notifications bring events
    hub = await hub_module.get_hub()
    while hub.check_pending:
        await asyncio.sleep(0.05)
    streams = [hub.subscribe("printer") for _ in range(options.streams)]
    api = Api(0)
    api.conn = in_process_conn(application)
    await api.login()
    order = json.dumps(api.order_body(True)).encode()
    progress["loop"] = asyncio.get_running_loop()

    profilers = []
    if options.cprofile:
        import cProfile

        profilers = [cProfile.Profile(time.thread_time), cProfile.Profile(time.thread_time)]

    async def one(measured: bool) -> float:
        progress["done"] = asyncio.Event()
        # 3 events (cashier, display, printer); the printer streams get one.
        progress["wanted"] = (progress["notified"] + 3, progress["delivered"] + (1 if streams else 0))
        started = time.process_time()
        status, content = await api.conn.request("POST", "/v1/orders", body=order, headers=api.auth)
        if status != 201:
            raise SystemExit(f"POST /v1/orders -> {status}: {content[:300]!r}")
        await asyncio.wait_for(progress["done"].wait(), 30)
        elapsed = time.process_time() - started
        for stream in streams:
            stream.frames.clear()
        return elapsed

    for _ in range(WARM_UP):
        await one(False)
    if profilers:
        profilers[0].enable()
        await sync_to_async(profilers[1].enable, thread_sensitive=True)()
    buckets.cpu.clear()
    buckets.statements.clear()
    totals = [await one(True) for _ in range(options.pairs)]
    if profilers:
        await sync_to_async(profilers[1].disable, thread_sensitive=True)()
        profilers[0].disable()
    await hub_module.stop_hub()
    n = options.pairs
    result = {
        "total_ms": sum(totals) * 1000 / n,
        "total_median_ms": statistics.median(totals) * 1000,
        "buckets_ms": {name: cpu * 1000 / n for name, cpu in buckets.cpu.items()},
        "statements": {name: count / n for name, count in buckets.statements.items()},
    }
    if profilers:
        result["cprofile"] = top_functions(profilers, n)
    return result


def top_functions(profilers, n: int, count: int = 25) -> list:
    """The functions with the most CPU of their own (cProfile's tottime) in
    the loop's thread and the view's thread, per pair."""
    import pstats

    stats = pstats.Stats(profilers[0])
    stats.add(profilers[1])
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:count]
    out = []
    for (filename, line, name), (_, calls, own, cumulative, _) in rows:
        short = filename.split("site-packages/")[-1] if "site-packages/" in filename else os.path.relpath(filename)
        out.append([f"{short}:{line}({name})", calls / n, own * 1000 / n, cumulative * 1000 / n])
    return out


def measure(options) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    buckets = Buckets()
    progress = install(buckets)
    result = asyncio.run(pairs(options, buckets, progress))
    return {"engine": connection.vendor, "pairs": options.pairs, "streams": options.streams, **result}


def table(results: list[dict]) -> str:
    names = [*BUCKETS, OTHER]
    lines = ["| bucket | " + " | ".join(f"{r['engine']} ms | %" for r in results) + " |"]
    lines.append("|---|" + "---|---|" * len(results))
    for name in names:
        cells = []
        for r in results:
            own = r["buckets_ms"].get(name, 0.0)
            if name == OTHER:  # the process's CPU that no bucket took
                own = r["total_ms"] - sum(r["buckets_ms"].values())
            cells.append(f"{own:.2f} | {100 * own / r['total_ms']:.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if any(r["statements"].get(name) for r in results):
            cells = []
            for r in results:
                ms = r["buckets_ms"].get(f"{name}: statements", 0.0)
                cells.append(f"{ms:.2f} ({r['statements'].get(name, 0):g}) | {100 * ms / r['total_ms']:.0f}")
            lines.append("|   its statements (count) | " + " | ".join(cells) + " |")
    lines.append(
        "| **all (process CPU per pair, mean; median)** | "
        + " | ".join(f"**{r['total_ms']:.2f}**; {r['total_median_ms']:.2f} | 100" for r in results)
        + " |"
    )
    lines.append(
        "| statements per pair | " + " | ".join(f"{sum(r['statements'].values()):g} | " for r in results) + " |"
    )
    return "\n".join(lines)


def main(options) -> None:
    from bench import procs
    from bench.common import measure_on_each_database

    engines = ["sqlite"] if options.sqlite else ["sqlite", "postgresql"]
    machine, when = procs.machine(), time.strftime("%Y-%m-%d %H:%M:%S %Z")
    started = time.monotonic()
    args = ["--pairs", str(options.pairs), "--streams", str(options.streams)]
    results = measure_on_each_database(
        "bench/profile_pair.py",
        args + (["--cprofile"] if options.cprofile else []),
        engines,
        f"{WARM_UP} pairs of warm-up, then {options.pairs}, {options.streams} printer streams",
    )
    print(
        f"\nRun of {when} on {machine['nproc']} cores, {machine['cpu']}, "
        f"load average at start {machine['loadavg_at_start']}; code {procs.git_state()}; "
        f"{options.pairs} pairs, {options.streams} printer streams; the script took "
        f"{time.monotonic() - started:.1f}s.\n"
    )
    print(table(results))
    for result in results:
        for row in result.get("cprofile", []):
            print(f"{result['engine']}: {row[0]} calls {row[1]:.1f} own {row[2]:.3f} ms cumulative {row[3]:.3f} ms")
    print(json.dumps({"when": when, "load": machine["loadavg_at_start"], "code": procs.git_state(), "runs": results}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--streams", type=int, default=0, help="printer streams on this process's hub")
    parser.add_argument("--sqlite", action="store_true", help="SQLite only")
    parser.add_argument("--cprofile", action="store_true", help="also list the largest functions (cProfile)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(options)))
    else:
        main(options)
