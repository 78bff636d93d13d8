"""`make bench`: the performance suite of issue 6, in one bounded run.

Starts its own servers on 127.0.0.1 (the project under Daphne, stock
django-eventstream under Daphne, a raw asyncio broadcaster), drives them
from this process with a raw-socket asyncio client, and prints one table:
each figure as median [p10–p90] over repeated trials, with its baseline
measured in the same run and the ratio between them. Nothing here asserts
a timing; it only prints (and writes bench/results/latest.{md,json}).

    python bench/run.py            # the full suite (a few minutes)
    python bench/run.py --quick    # a smoke run: fewer trials, smaller N

Every child is stopped by PID in a finally block; the throw-away SQLite
files live in a temp dir and the PostgreSQL database `bench_<pid>` is
dropped at the end."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import procs  # noqa: E402
from bench.client import Fleet, HttpConn, replay_once  # noqa: E402
from bench.stats import fmt, fmt_summary, percentile, summary  # noqa: E402

PASSWORD = "bench-operator-password"
OPERATOR = "bench-operator"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


@dataclass
class Profile:
    fanout_ns: tuple[int, ...] = (10, 100, 1000)
    fanout_trials: dict[int, int] = field(default_factory=lambda: {10: 12, 100: 12, 1000: 10})
    idle_streams: int = 1000
    idle_trials: int = 3
    held_steps: tuple[int, ...] = (1000, 2000, 3000, 4000, 5000)
    held_keepalive: float = 2.0
    held_window_intervals: float = 3.0
    throughput_rounds: int = 4
    throughput_window: float = 3.0
    floor_window: float = 2.0
    throughput_clients: int = 8
    throughput_subscribers: int = 100
    replay_events: int = 1000
    replay_trials: int = 7
    budget: float = 510.0  # seconds for the phases, after setup: `make bench` stays under 10 minutes


QUICK = Profile(
    fanout_ns=(10, 100),
    fanout_trials={10: 5, 100: 5},
    idle_streams=200,
    idle_trials=1,
    held_steps=(500, 1000),
    held_window_intervals=2.0,
    throughput_rounds=2,
    budget=240.0,
    throughput_window=2.0,
    floor_window=1.0,
    replay_trials=3,
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the world: temp dir, databases, environment -----------------------------------------


class World:
    def __init__(self, keep: bool):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-"))
        (self.tmp / "static").mkdir()  # STATIC_ROOT under VAR_DIR: keeps whitenoise quiet
        self.keep = keep
        self.secret = os.urandom(24).hex()
        self.sqlite_ours = self.tmp / "ours.sqlite3"
        self.sqlite_stock = self.tmp / "stock.sqlite3"
        self.pg_name = f"bench_{os.getpid()}"
        self.pg_created = False
        self.log_path = self.tmp / "setup.log"

    def env(self, database_url: str, **extra: str) -> dict[str, str]:
        env = os.environ.copy()
        for name in ("REDIS_URL", "DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE", "EVENTS_KEEPALIVE_SECONDS"):
            env.pop(name, None)
        env.update(
            DATABASE_URL=database_url,
            DJANGO_SECRET_KEY=self.secret,
            DJANGO_SETTINGS_MODULE="config.settings",
            VAR_DIR=str(self.tmp),
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(extra)
        return env

    def sqlite_url(self, path: Path) -> str:
        return f"sqlite:///{path}"

    @property
    def pg_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:5432/{self.pg_name}"

    def prepare_database(self, url: str) -> None:
        env = self.env(url)
        py = procs.PYTHON
        procs.run([py, "manage.py", "migrate", "--noinput"], env=env, log_path=self.log_path)
        procs.run([py, "manage.py", "load_demo"], env=env, log_path=self.log_path)
        procs.run(
            [py, "manage.py", "createuser", OPERATOR, "--role", "operator", "--password", PASSWORD],
            env=env,
            log_path=self.log_path,
        )

    def setup_sqlite(self, replay_events: int) -> None:
        self.prepare_database(self.sqlite_url(self.sqlite_ours))
        # The replay benchmark reads back stored events: put them in the log now,
        # before any server starts, so no hub is busy catching up on them later.
        procs.run(
            [procs.PYTHON, "bench/seed_events.py", "--channel", "printer", "--count", str(replay_events)],
            env=self.env(self.sqlite_url(self.sqlite_ours)),
            log_path=self.log_path,
        )
        # The stock server gets a copy (same schema, same events) of its own,
        # so the two never share an event counter.
        source = sqlite3.connect(self.sqlite_ours)
        target = sqlite3.connect(self.sqlite_stock)
        with target:
            source.backup(target)
        source.close()
        target.close()

    def setup_postgres(self) -> None:
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
            conn.execute(f'CREATE DATABASE "{self.pg_name}"')
        self.pg_created = True
        self.prepare_database(self.pg_url)

    def pg_sessions(self) -> int | None:
        """Sessions ever established to the bench database (pg_stat_database,
        PostgreSQL 14+): their growth per request tells connection churn."""
        try:
            import psycopg

            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_clear_snapshot()")
                row = conn.execute(
                    "SELECT sessions FROM pg_stat_database WHERE datname = %s", [self.pg_name]
                ).fetchone()
                return int(row[0]) if row else None
        except Exception:
            return None

    def pg_connect_ms(self, times: int = 20) -> list[float]:
        """What a new connection to the bench database costs the client
        (TCP, start-up, trust auth, a backend forked by the server)."""
        import psycopg

        out = []
        for _ in range(times):
            started = time.perf_counter()
            psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={self.pg_name}").close()
            out.append((time.perf_counter() - started) * 1000)
        return out

    def drop_postgres(self) -> None:
        if not self.pg_created:
            return
        try:
            import psycopg

            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            self.pg_created = False
        except Exception as exc:
            log(f"could not drop PostgreSQL database {self.pg_name}: {exc}")

    def cleanup(self) -> None:
        self.drop_postgres()
        if self.keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def postgres_reachable() -> tuple[bool, str]:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True, ""
    except Exception as exc:
        return False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def event_head(sqlite_path: Path, channel: str) -> int:
    conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM django_eventstream_eventcounter WHERE name = ?", [channel]).fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


# --- servers ------------------------------------------------------------------------------


SYSTEMS = ("ours", "stock", "floor", "raw")
LABELS = {
    "ours": "this project",
    "stock": "stock django-eventstream",
    "floor": "Daphne floor (bare ASGI)",
    "raw": "raw asyncio",
}
STREAM_PATHS = {"ours": "/events/printer", "stock": "/stock-events/printer", "floor": "/sub", "raw": "/sub"}
TRIGGER_PATHS = {"stock": "/stock-trigger/printer", "floor": "/publish", "raw": "/publish"}
PROBES = {"ours": "/v1/categories", "stock": "/health", "floor": "/health", "raw": "/health"}
APPS = {
    "ours": "config.asgi:application",
    "stock": "bench.stock_asgi:application",
    "floor": "bench.daphne_floor:application",
}


class Server:
    """One child server: `ours` (config.asgi under Daphne), `stock`
    (bench.stock_asgi under Daphne), `floor` (bench.daphne_floor under
    Daphne) or `raw` (bench/raw_broadcaster.py, no Daphne)."""

    def __init__(self, world: World, kind: str, *, database_url: str = "", db_path: Path | None = None, **env):
        self.world, self.kind, self.db_path = world, kind, db_path
        self.port = free_port()
        self.env = world.env(database_url, **env)
        if kind == "stock":
            self.env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        self.log_path = world.tmp / f"{kind}-{self.port}.log"
        self.process = None

    @property
    def stream_path(self) -> str:
        return STREAM_PATHS[self.kind]

    @property
    def pid(self) -> int:
        return self.process.pid

    async def start(self, timeout: float = 40.0) -> Server:
        endpoint = f"tcp:port={self.port}:interface=127.0.0.1:backlog=2048"
        if self.kind == "raw":
            keepalive = self.env.get("EVENTS_KEEPALIVE_SECONDS", "15")
            cmd = [procs.PYTHON, "bench/raw_broadcaster.py", "--port", str(self.port), "--keepalive", keepalive]
            probe = "/health"
        else:
            cmd = [procs.PYTHON, "-m", "daphne", "-e", endpoint, APPS[self.kind]]
            probe = PROBES[self.kind]
        self.process = procs.start(cmd, env=self.env, log_path=self.log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited ({self.process.returncode}):\n{self.log_tail()}")
            conn = HttpConn(self.port)
            try:
                status, _ = await conn.request("GET", probe, timeout=2)
                if status == 200:
                    return self
            except (TimeoutError, OSError, ValueError, IndexError):
                pass
            finally:
                conn.close()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.kind} server did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        procs.stop(self.process)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def reading(self) -> dict[str, int]:
        out = procs.proc_status(self.pid)
        if self.db_path is not None:
            out["db_conns"] = procs.open_files_to(self.pid, str(self.db_path))
        elif self.env["DATABASE_URL"].startswith("postgres"):
            out["db_conns"] = procs.tcp_connections_to_port(self.pid, 5432)
        return out


class Api:
    """The project's REST API as the operator (JWT)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = HttpConn(port)
        self.auth: dict[str, str] = {}
        self.foods: list[str] = []
        self.till: str | None = None

    async def login(self) -> Api:
        tokens = await self.conn.json("POST", "/auth/token", body={"username": OPERATOR, "password": PASSWORD})
        self.auth = {"Authorization": f"Bearer {tokens['access']}"}
        foods = await self.conn.json("GET", "/v1/foods?available=true", headers=self.auth)
        # Three foods that go to different printers where the menu allows it.
        by_printer: dict = {}
        for food in foods:
            by_printer.setdefault(food["printerId"] or food["categoryId"], food["id"])
        self.foods = (list(by_printer.values()) + [food["id"] for food in foods])[:3]
        registers = await self.conn.json("GET", "/v1/cash-registers", headers=self.auth)
        self.till = registers[0]["id"] if registers else None
        return self

    def order_body(self, confirm: bool) -> dict:
        body = {
            "table": "12",
            "customer": "Bench",
            "orderItems": [{"foodId": food, "quantity": 1 + i, "notes": "bench"} for i, food in enumerate(self.foods)],
        }
        if confirm:
            body["confirm"] = self.confirm_body()
        return body

    def confirm_body(self) -> dict:
        return {"paymentMethod": "CASH", **({"cashRegisterId": self.till} if self.till else {})}


# --- phase 1 and 5: fan-out latency and replay -------------------------------------------


async def timed_fan_out(fleet: Fleet, server: Server, trigger) -> dict:
    """One fan-out, with the server's CPU time over it (request and delivery;
    /proc ticks are 10 ms, so only an average over trials means much)."""
    cpu = procs.cpu_seconds(server.pid)
    t = await fleet.fan_out(trigger)
    t["cpu_ms"] = (procs.cpu_seconds(server.pid) - cpu) * 1000
    return t


def clean(values: list[float]) -> list[float]:
    return [v for v in values if v == v]  # drop NaN (failed trials)


FANOUT_METRICS = ("after_response", "spread", "after_request", "response_ms")


async def phase_fanout_and_replay(world: World, profile: Profile, results: dict, deadline: float) -> None:
    servers = {
        "ours": Server(world, "ours", database_url=world.sqlite_url(world.sqlite_ours), db_path=world.sqlite_ours),
        "stock": Server(world, "stock", database_url=world.sqlite_url(world.sqlite_stock), db_path=world.sqlite_stock),
        "floor": Server(world, "floor"),
        "raw": Server(world, "raw"),
    }
    fleets: dict[str, Fleet] = {}
    conns: dict[str, HttpConn] = {}
    try:
        await asyncio.gather(*(server.start() for server in servers.values()))
        api = await Api(servers["ours"].port).login()
        conns["ours"] = api.conn
        for name, server in servers.items():
            fleets[name] = Fleet(server.port, server.stream_path, api.auth if name == "ours" else {})
            if name != "ours":
                conns[name] = HttpConn(server.port)

        async def trial_ours() -> dict:
            order = await api.conn.json("POST", "/v1/orders", body=api.order_body(False), headers=api.auth)
            await asyncio.sleep(0.02)  # the new-order event (cashier) is out of the way

            async def trigger():
                await api.conn.json(
                    "POST", f"/v1/orders/{order['id']}/confirm", body=api.confirm_body(), headers=api.auth
                )

            return await timed_fan_out(fleets["ours"], servers["ours"], trigger)

        # Calibrate: the baselines publish payloads of the size of our printer payload.
        await fleets["ours"].grow(1)
        await trial_ours()
        payload_size = fleets["ours"].subscribers[0].data_len
        results["payload_bytes"] = payload_size
        log(f"printer payload of a 3-line order: {payload_size} bytes; the baselines send the same size")

        def baseline_trial(name: str):
            async def trial() -> dict:
                async def trigger():
                    await conns[name].json("POST", f"{TRIGGER_PATHS[name]}?size={payload_size}")

                return await timed_fan_out(fleets[name], servers[name], trigger)

            return trial

        trials = {"ours": trial_ours, **{name: baseline_trial(name) for name in SYSTEMS if name != "ours"}}
        fanout = results.setdefault("fanout", {})
        for n in profile.fanout_ns:
            open_seconds = {}
            for name in SYSTEMS:
                open_seconds[name] = await fleets[name].grow(n)
            log(f"fan-out N={n}: streams open in " + ", ".join(f"{k} {v:.1f}s" for k, v in open_seconds.items()))
            await asyncio.sleep(1.0)
            block = {name: {**{m: [] for m in FANOUT_METRICS}, "cpu_ms": [], "failed": 0} for name in SYSTEMS}
            fanout[n] = {"trials": block, "open_seconds": open_seconds}
            for round_no in range(profile.fanout_trials[n]):
                shift = round_no % len(SYSTEMS)
                for name in SYSTEMS[shift:] + SYSTEMS[:shift]:  # rotate who goes first
                    try:
                        t = await trials[name]()
                    except (TimeoutError, RuntimeError) as exc:
                        block[name]["failed"] += 1
                        for metric in FANOUT_METRICS:
                            block[name][metric].append(float("nan"))
                        log(f"  {name} N={n} round {round_no}: {type(exc).__name__} {exc}")
                        continue
                    block[name]["after_response"].append((t["last"] - t["responded"]) * 1000)
                    block[name]["after_request"].append((t["last"] - t["sent"]) * 1000)
                    block[name]["spread"].append((t["last"] - t["first"]) * 1000)
                    block[name]["response_ms"].append((t["responded"] - t["sent"]) * 1000)
                    block[name]["cpu_ms"].append(t["cpu_ms"])
                    await asyncio.sleep(0.05)
            fanout[n]["live"] = {name: fleets[name].live() for name in SYSTEMS}
            log(
                f"fan-out N={n}: last receipt after the POST was sent, median ms: "
                + ", ".join(f"{k} {percentile(clean(v['after_request']), 50):.1f}" for k, v in block.items())
            )
        for fleet in fleets.values():
            fleet.close()

        # Replay: a client back with a Last-Event-ID `replay_events` behind.
        await asyncio.sleep(1.0)
        count = profile.replay_events
        head = {"ours": event_head(world.sqlite_ours, "printer"), "stock": event_head(world.sqlite_stock, "printer")}
        replay = results.setdefault("replay", {"ours": [], "stock": []})
        for round_no in range(profile.replay_trials):
            for name in ["ours", "stock"] if round_no % 2 == 0 else ["stock", "ours"]:
                headers = {"Last-Event-ID": f"printer:{head[name] - count}"}
                if name == "ours":
                    headers.update(api.auth)
                seconds = await replay_once(servers[name].port, servers[name].stream_path, headers, count)
                replay[name].append(seconds * 1000)
                await asyncio.sleep(0.1)
        log(
            f"replay of {count}: median ms ours {percentile(replay['ours'], 50):.1f}, "
            f"stock {percentile(replay['stock'], 50):.1f}"
        )
    finally:
        for fleet in fleets.values():
            fleet.close()
        for conn in conns.values():
            conn.close()
        for server in servers.values():
            server.stop()


# --- phase 2: idle cost per stream ----------------------------------------------------------


async def phase_idle(world: World, profile: Profile, results: dict, deadline: float) -> None:
    n = profile.idle_streams
    idle = results.setdefault(
        "idle",
        {
            "streams": n,
            "per_stream": {name: {"rss_kb": [], "threads": [], "db_conns": []} for name in SYSTEMS},
            "readings": {name: [] for name in SYSTEMS},
        },
    )
    per_stream, readings = idle["per_stream"], idle["readings"]
    for trial in range(profile.idle_trials):
        if trial and time.monotonic() > deadline - 25:
            log("idle: out of time, fewer trials")
            break
        servers = {
            "ours": Server(world, "ours", database_url=world.sqlite_url(world.sqlite_ours), db_path=world.sqlite_ours),
            "stock": Server(
                world, "stock", database_url=world.sqlite_url(world.sqlite_stock), db_path=world.sqlite_stock
            ),
            "floor": Server(world, "floor"),
            "raw": Server(world, "raw"),
        }
        fleets: dict[str, Fleet] = {}
        try:
            await asyncio.gather(*(server.start() for server in servers.values()))
            auth = (await Api(servers["ours"].port).login()).auth
            # Warm up: one stream opened and closed, so the hub, the URLconf and
            # the first database connection are not counted as per-stream cost.
            for name, server in servers.items():
                warm = Fleet(server.port, server.stream_path, auth if name == "ours" else {})
                await warm.grow(1)
                warm.close()
            await asyncio.sleep(1.0)
            before = {name: server.reading() for name, server in servers.items()}
            # Memory is not a timing: the four servers can fill at once.
            for name, server in servers.items():
                fleets[name] = Fleet(server.port, server.stream_path, auth if name == "ours" else {})
            await asyncio.gather(*(fleet.grow(n) for fleet in fleets.values()))
            await asyncio.sleep(1.5)
            for name, server in servers.items():
                after = server.reading()
                after["live"] = fleets[name].live()
                readings[name].append({"at_0": before[name], f"at_{n}": after})
                for key in per_stream[name]:
                    if key in before[name] and key in after:
                        per_stream[name][key].append((after[key] - before[name][key]) / n)
            log(
                f"idle trial {trial + 1}: per stream "
                + ", ".join(f"{k} {v['rss_kb'][-1]:.1f} KB" for k, v in per_stream.items() if v["rss_kb"])
            )
        finally:
            for fleet in fleets.values():
                fleet.close()
            for server in servers.values():
                server.stop()


# --- phase 3: streams held with keep-alives on time ------------------------------------------


async def held_ramp(world: World, profile: Profile, kind: str, out: dict, deadline: float) -> None:
    """Ramp one server's idle streams up the steps; at each, watch every
    stream's longest silence over a window of a few keep-alive intervals.
    A step holds when every stream is still open and the p99 of those
    silences is at most interval + 1 s. Stops at the first step that does
    not hold, or when time runs out."""
    interval = profile.held_keepalive
    limit = interval + 1.0
    window = profile.held_window_intervals * interval
    out.update({"interval": interval, "limit": limit, "steps": [], "held": 0})
    extra = {"EVENTS_KEEPALIVE_SECONDS": str(interval)}
    if kind == "ours":
        server = Server(
            world, "ours", database_url=world.sqlite_url(world.sqlite_ours), db_path=world.sqlite_ours, **extra
        )
    else:
        server = Server(world, kind, **extra)
    fleet = None
    try:
        await server.start()
        headers = (await Api(server.port).login()).auth if kind == "ours" else {}
        fleet = Fleet(server.port, server.stream_path, headers)
        previous = 0
        for target in profile.held_steps:
            if time.monotonic() + window + 3 > deadline:
                out["stopped"] = f"out of time before {target}"
                break
            try:
                open_seconds = await fleet.grow(target, timeout=max(5.0, deadline - window - time.monotonic()))
            except (TimeoutError, RuntimeError, OSError) as exc:
                out["steps"].append({"streams": target, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
                break
            fleet.reset_gaps()
            await asyncio.sleep(window)
            gaps = fleet.gaps(time.monotonic())
            reading = server.reading()
            step = {
                "streams": target,
                "live": len(gaps),
                "open_seconds": open_seconds,
                "opens_per_second": (target - previous) / open_seconds if open_seconds else None,
                "gap_p50": percentile(gaps, 50),
                "gap_p90": percentile(gaps, 90),
                "gap_p99": percentile(gaps, 99),
                "gap_max": max(gaps) if gaps else float("nan"),
                # Where the silences fall, in 0.1 s bins (for docs; not in the table).
                "gap_histogram": dict(sorted(Counter(round(g, 1) for g in gaps).items())),
                **reading,
            }
            previous = target
            step["ok"] = step["live"] == target and step["gap_p99"] <= limit
            out["steps"].append(step)
            log(
                f"held {kind} {target}: live {step['live']}, keep-alive gap p50 {step['gap_p50']:.2f}s "
                f"p99 {step['gap_p99']:.2f}s max {step['gap_max']:.2f}s, RSS {reading['rss_kb'] / 1024:.0f} MB, "
                f"threads {reading['threads']}"
            )
            if not step["ok"]:
                break
            out["held"] = target
    finally:
        if fleet is not None:
            fleet.close()
        server.stop()


async def phase_held(world: World, profile: Profile, results: dict, deadline: float) -> None:
    """One server at a time (each alone on the machine): the project, the
    same loop on bare Daphne, and raw asyncio. The project gets the largest
    share of the time: its streams open slowest (each is authenticated)."""
    held = results.setdefault("held", {})
    start = time.monotonic()
    share = {"ours": 0.45, "floor": 0.75, "raw": 1.0}
    for kind in ("ours", "floor", "raw"):
        held[kind] = {}
        await held_ramp(world, profile, kind, held[kind], start + (deadline - start) * share[kind])
        await asyncio.sleep(0.5)


# --- phase 4: order throughput ------------------------------------------------------------


async def run_window(port: int, clients: int, seconds: float, make_request, server: Server | None = None) -> dict:
    """`clients` callers on keep-alive connections for `seconds`; the rate is
    completed requests over the time until the last one came back. With a
    server: its CPU time over the window, and the most database connections
    it held at once (sampled every 50 ms)."""
    latencies: list[float] = []
    errors = 0
    started = time.monotonic()
    window_end = started + seconds
    cpu_before = procs.cpu_seconds(server.pid) if server else 0.0
    client_before = sum(os.times()[:2])
    conns_max = 0

    async def sampler() -> None:
        nonlocal conns_max
        while True:
            conns_max = max(conns_max, server.reading().get("db_conns", 0))
            await asyncio.sleep(0.05)

    async def caller() -> None:
        nonlocal errors
        conn = HttpConn(port)
        try:
            while time.monotonic() < window_end:
                t0 = time.monotonic()
                try:
                    await make_request(conn)
                    latencies.append(time.monotonic() - t0)
                except Exception:
                    errors += 1
                    conn.close()
        finally:
            conn.close()

    sampling = asyncio.create_task(sampler()) if server else None
    try:
        await asyncio.gather(*(caller() for _ in range(clients)))
    finally:
        if sampling:
            sampling.cancel()
    elapsed = time.monotonic() - started
    out = {
        "rate": len(latencies) / elapsed,
        "count": len(latencies),
        "errors": errors,
        "lat_p50_ms": percentile(latencies, 50) * 1000,
        "lat_p90_ms": percentile(latencies, 90) * 1000,
        "client_cpu_cores": (sum(os.times()[:2]) - client_before) / elapsed,
    }
    if server:
        cpu = procs.cpu_seconds(server.pid) - cpu_before
        out["server_cpu_cores"] = cpu / elapsed
        out["server_cpu_ms_per_request"] = cpu * 1000 / len(latencies) if latencies else float("nan")
        out["db_conns_max"] = conns_max
    return out


async def throughput_on(
    world: World, profile: Profile, label: str, database_url: str, db_path: Path | None, out: dict
) -> None:
    server = Server(world, "ours", database_url=database_url, db_path=db_path)
    fleet = None
    try:
        await server.start()
        api = await Api(server.port).login()
        fleet = Fleet(server.port, server.stream_path, api.auth)
        await fleet.grow(profile.throughput_subscribers)
        order = json.dumps(api.order_body(True)).encode()

        async def create_and_confirm(conn: HttpConn) -> None:
            status, content = await conn.request("POST", "/v1/orders", body=order, headers=api.auth)
            if status != 201:
                raise RuntimeError(f"{status}: {content[:200]!r}")

        async def floor(conn: HttpConn) -> None:
            status, content = await conn.request("GET", "/v1/printers", headers=api.auth)
            if status != 200:
                raise RuntimeError(f"{status}: {content[:200]!r}")

        clients = profile.throughput_clients
        await run_window(server.port, clients, 1.0, create_and_confirm)  # warm-up
        await asyncio.sleep(0.5)  # let the warm-up's events reach the subscribers
        targets_before = sum(sub.targets for sub in fleet.subscribers)
        sessions_before = world.pg_sessions() if label == "postgresql" else None
        out.update({"windows": [], "floors": [], "subscribers": fleet.live()})
        for _ in range(profile.throughput_rounds):
            out["windows"].append(
                await run_window(server.port, clients, profile.throughput_window, create_and_confirm, server)
            )
            out["floors"].append(await run_window(server.port, clients, profile.floor_window, floor, server))
        created = sum(w["count"] for w in out["windows"])
        await asyncio.sleep(1.0)
        out["events_delivered"] = sum(sub.targets for sub in fleet.subscribers) - targets_before
        out["events_expected"] = created * fleet.live()
        if label == "postgresql":
            await asyncio.sleep(1.0)  # PostgreSQL flushes its session statistics about once a second
            sessions_after = world.pg_sessions()
            requests = created + sum(f["count"] for f in out["floors"])
            if sessions_before is not None and sessions_after is not None and requests:
                out["pg_sessions_per_request"] = (sessions_after - sessions_before) / requests
        # Diagnostics: one client alone (is the cost contention or work?), and
        # the same clients with no subscriber (what the fan-out costs them).
        out["one_client"] = await run_window(server.port, 1, profile.throughput_window, create_and_confirm, server)
        fleet.close()
        await asyncio.sleep(0.5)
        out["no_subscribers"] = await run_window(
            server.port, clients, profile.throughput_window, create_and_confirm, server
        )
        log(
            f"throughput {label}: create-and-confirm/s median "
            f"{percentile([w['rate'] for w in out['windows']], 50):.1f}, baseline GET/s "
            f"{percentile([f['rate'] for f in out['floors']], 50):.1f}, "
            f"errors {sum(w['errors'] for w in out['windows'])}"
        )
    finally:
        if fleet is not None:
            fleet.close()
        server.stop()


def count_queries(world: World, database_url: str) -> dict:
    output = procs.run(
        [procs.PYTHON, "bench/queries.py"], env=world.env(database_url), timeout=120, log_path=world.log_path
    )
    return json.loads(output.strip().splitlines()[-1])


async def phase_throughput(world: World, profile: Profile, results: dict, deadline: float) -> None:
    out = results.setdefault("throughput", {})
    queries = results.setdefault("queries", {})
    sqlite_url = world.sqlite_url(world.sqlite_ours)
    queries["sqlite"] = await asyncio.to_thread(count_queries, world, sqlite_url)
    out["sqlite"] = {}
    await throughput_on(world, profile, "sqlite", sqlite_url, world.sqlite_ours, out["sqlite"])
    reachable, why = postgres_reachable()
    if not reachable:
        out["postgresql"] = {"skipped": f"PostgreSQL not reachable at 127.0.0.1:5432 ({why})"}
        log(out["postgresql"]["skipped"])
        return
    await asyncio.to_thread(world.setup_postgres)
    try:
        queries["postgresql"] = await asyncio.to_thread(count_queries, world, world.pg_url)
        out["postgresql"] = {"connect_ms": await asyncio.to_thread(world.pg_connect_ms)}
        await throughput_on(world, profile, "postgresql", world.pg_url, None, out["postgresql"])
    finally:
        await asyncio.to_thread(world.drop_postgres)


# --- the tables -----------------------------------------------------------------------------


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _paired_ratio(ours: list[float], base: list[float], digits: int = 2, *, zero_ok: bool = False) -> str:
    """Median [p10–p90] of per-round ratios (same round, same machine state);
    n/a when a round's baseline is not positive, or the project's is negative
    (or zero, unless zero_ok: a cost of 0 per stream is a fine 0×)."""
    pairs = [(a, b) for a, b in zip(ours, base, strict=False) if a == a and b == b]
    if not pairs:
        return "n/a"
    if any(b <= 0 for _, b in pairs):
        return "n/a (baseline ≤ 0)"
    if any(a < 0 or (a == 0 and not zero_ok) for a, _ in pairs):
        return "n/a (project ≤ 0)"
    return fmt_summary(summary([a / b for a, b in pairs]), digits, "×")


def render_streams(results: dict, profile: Profile) -> str:
    """Table 1: the event stream against three baselines of the same run."""
    rows: list[tuple[str, ...]] = []
    bases = [name for name in SYSTEMS if name != "ours"]

    def add(label: str, ours: str, cells: dict[str, tuple[str, str]]) -> None:
        row = [label, ours]
        for name in bases:
            row += list(cells.get(name, ("", "")))
        rows.append(tuple(row))

    for n, block in results.get("fanout", {}).items():
        t = block["trials"]
        for metric, label in (
            ("after_response", "last receipt after the POST's response (ms)"),
            ("spread", "first → last receipt (ms)"),
            ("after_request", "last receipt after the POST was sent (ms)"),
            ("response_ms", "the POST's own response time (ms)"),
        ):
            add(
                f"1. fan-out to {n:,}: {label}",
                fmt_summary(summary(clean(t["ours"][metric]))),
                {
                    name: (
                        fmt_summary(summary(clean(t[name][metric]))),
                        _paired_ratio(t["ours"][metric], t[name][metric]),
                    )
                    for name in bases
                },
            )
        cpu = {name: (sum(v["cpu_ms"]) / len(v["cpu_ms"]) if v["cpu_ms"] else float("nan")) for name, v in t.items()}
        add(
            f"1. fan-out to {n:,}: server CPU per fan-out, the POST included (ms, mean)",
            fmt(cpu["ours"]),
            {name: (fmt(cpu[name]), f"{cpu['ours'] / cpu[name]:.1f}×" if cpu[name] > 0 else "n/a") for name in bases},
        )
        failed = {k: v["failed"] for k, v in t.items() if v["failed"]}
        if failed:
            add(
                f"1. fan-out to {n:,}: failed trials",
                str(failed.get("ours", 0)),
                {name: (str(failed.get(name, 0)), "") for name in bases},
            )

    idle = results.get("idle")
    if idle and idle["per_stream"]["ours"]["rss_kb"]:
        ps, n = idle["per_stream"], idle["streams"]
        for key, label, digits in (
            ("rss_kb", "RSS (KB)", 1),
            ("threads", "threads", 3),
            ("db_conns", "DB connections", 3),
        ):
            cells = {}
            for name in bases:
                values = ps[name][key]
                if not values:
                    cells[name] = ("no database", "")
                else:
                    positive = any(v > 0 for v in values)
                    cells[name] = (
                        fmt_summary(summary(values), digits),
                        _paired_ratio(ps["ours"][key], values, zero_ok=True) if positive else "n/a",
                    )
            add(
                f"2. idle cost per stream, 0 → {n:,} streams: {label}",
                fmt_summary(summary(ps["ours"][key]), digits),
                cells,
            )
        absolute = {}
        for name in SYSTEMS:
            last = idle["readings"][name][-1] if idle["readings"][name] else None
            if not last:
                absolute[name] = "n/a"
                continue
            a, b = last["at_0"], last[f"at_{n}"]
            text = (
                f"RSS {a['rss_kb'] / 1024:.0f} → {b['rss_kb'] / 1024:.0f} MB, threads {a['threads']} → {b['threads']}"
            )
            if "db_conns" in a:
                text += f", SQLite connections {a['db_conns']} → {b['db_conns']}"
            absolute[name] = text
        add(
            f"2. the server at 0 and at {n:,} streams (last trial)",
            absolute["ours"],
            {name: (absolute[name], "") for name in bases},
        )

    held = results.get("held", {})
    if held.get("ours", {}).get("steps"):
        ours = held["ours"]
        cells = {"stock": ("not run: a thread and a DB connection per stream (see 2.)", "")}
        for name in ("floor", "raw"):
            other = held.get(name)
            if other and other.get("steps"):
                cells[name] = (f"{other['held']:,}", f"{ours['held'] / other['held']:.2f}×" if other["held"] else "n/a")
        add(
            f"3. idle streams held with keep-alives on time (every {ours['interval']:g} s; p99 of each stream's "
            f"longest gap ≤ {ours['limit']:g} s; steps {', '.join(f'{x:,}' for x in profile.held_steps)})",
            f"{ours['held']:,}",
            cells,
        )
        steps = {
            name: {s["streams"]: s for s in held.get(name, {}).get("steps", []) if "gap_p99" in s} for name in SYSTEMS
        }

        def describe(step: dict) -> str:
            return (
                f"{step['gap_p50']:.2f} / {step['gap_p99']:.2f} / {step['gap_max']:.2f} s; "
                f"{fmt(step['opens_per_second'], 0)} opens/s; {step['rss_kb'] / 1024:.0f} MB; {step['threads']} threads"
            )

        for target in profile.held_steps:
            mine = steps["ours"].get(target)
            if not mine and not any(steps[name].get(target) for name in ("floor", "raw")):
                continue
            cells = {}
            for name in ("floor", "raw"):
                other = steps[name].get(target)
                if other:
                    ratio = f"{mine['gap_p99'] / other['gap_p99']:.2f}× (p99)" if mine else ""
                    cells[name] = (describe(other), ratio)
            add(
                f"3. at {target:,} streams: gap p50 / p99 / max; opens per second; RSS; threads",
                describe(mine) if mine else "not reached",
                cells,
            )
        for name in ("ours", "floor", "raw"):
            for step in held.get(name, {}).get("steps", []):
                if "error" in step:
                    add(f"3. {LABELS[name]}: at {step['streams']:,} streams", step["error"], {})

    replay = results.get("replay")
    if replay and replay["ours"]:
        add(
            f"5. replay: reconnect with a Last-Event-ID {profile.replay_events:,} events behind, "
            "time until all arrived (ms)",
            fmt_summary(summary(replay["ours"])),
            {
                "stock": (fmt_summary(summary(replay["stock"])), _paired_ratio(replay["ours"], replay["stock"])),
                "floor": ("no event log", ""),
                "raw": ("no event log", ""),
            },
        )
    header = ["measure", "this project: median [p10–p90]"]
    for name in bases:
        header += [LABELS[name], "project ÷ " + LABELS[name].split(" (")[0]]
    return _table(tuple(header), rows)


def render_orders(results: dict, profile: Profile) -> str:
    """Table 2: orders through the REST API, SQLite and PostgreSQL side by side."""
    throughput = results.get("throughput", {})
    queries = results.get("queries", {})
    dbs = [db for db in ("sqlite", "postgresql") if db in throughput or db in queries]
    if not dbs:
        return ""
    rows: list[tuple[str, ...]] = []

    def add(label: str, cell) -> None:
        rows.append((label, *(cell(db) for db in dbs)))

    def tp(db: str) -> dict | None:
        t = throughput.get(db)
        return None if not t or "skipped" in t or not t.get("windows") else t

    def windows(db: str, key: str, which: str = "windows") -> list[float]:
        t = tp(db)
        return [w[key] for w in t[which]] if t else []

    def when(db: str, text) -> str:
        return text() if tp(db) else ""

    skipped = {db: throughput[db]["skipped"] for db in dbs if throughput.get(db, {}).get("skipped")}
    c, subs = profile.throughput_clients, profile.throughput_subscribers
    add(
        f"4. create-and-confirm per second (POST /v1/orders with 3 lines and confirm, JWT, {c} clients, "
        f"{subs} subscribers of /events/printer)",
        lambda db: skipped.get(db) or fmt_summary(summary(windows(db, "rate"))),
    )
    add(
        "   baseline, same server, alternating windows: authenticated GET /v1/printers per second",
        lambda db: when(db, lambda: fmt_summary(summary(windows(db, "rate", "floors")))),
    )
    add(
        "   create-and-confirm ÷ baseline (per round)",
        lambda db: when(db, lambda: _paired_ratio(windows(db, "rate"), windows(db, "rate", "floors"), 3)),
    )
    add(
        "   request latency p50 / p90 (ms)",
        lambda db: when(
            db,
            lambda: f"{fmt(percentile(windows(db, 'lat_p50_ms'), 50))} / {fmt(percentile(windows(db, 'lat_p90_ms'), 50))}",
        ),
    )
    add(
        "   server CPU per create-and-confirm (ms); server CPU in use (cores)",
        lambda db: when(
            db,
            lambda: f"{fmt_summary(summary(windows(db, 'server_cpu_ms_per_request')))}; "
            f"{fmt(percentile(windows(db, 'server_cpu_cores'), 50), 2)}",
        ),
    )
    add(
        "   baseline GET: server CPU per request (ms); server CPU in use (cores)",
        lambda db: when(
            db,
            lambda: f"{fmt_summary(summary(windows(db, 'server_cpu_ms_per_request', 'floors')))}; "
            f"{fmt(percentile(windows(db, 'server_cpu_cores', 'floors'), 50), 2)}",
        ),
    )
    add(
        "   client process CPU (cores): load generator and subscribers",
        lambda db: when(db, lambda: fmt(percentile(windows(db, "client_cpu_cores"), 50), 2)),
    )
    add(
        "   most DB connections the server held at once under load",
        lambda db: when(
            db,
            lambda: str(max(windows(db, "db_conns_max"), default=0))
            + (
                f"; {tp(db)['pg_sessions_per_request']:.2f} new PostgreSQL sessions per request"
                if "pg_sessions_per_request" in tp(db)
                else ""
            ),
        ),
    )
    add(
        "   errors; events delivered / expected",
        lambda db: when(
            db,
            lambda: f"{sum(windows(db, 'errors'))}; {tp(db)['events_delivered']:,} / {tp(db)['events_expected']:,}",
        ),
    )

    def diag(db: str, which: str) -> str:
        t = tp(db)
        if not t or which not in t:
            return ""
        w = t[which]
        return (
            f"{fmt(w['rate'])}/s, p50 {fmt(w['lat_p50_ms'])} ms, server CPU {fmt(w['server_cpu_ms_per_request'])} "
            f"ms/request, {fmt(w['server_cpu_cores'], 2)} cores"
        )

    add(f"   diagnostic: 1 client, {subs} subscribers (one window)", lambda db: diag(db, "one_client"))
    add(f"   diagnostic: {c} clients, no subscriber (one window)", lambda db: diag(db, "no_subscribers"))
    add(
        "   a new PostgreSQL connection, as a client sees it (ms)",
        lambda db: fmt_summary(summary(throughput[db]["connect_ms"]), 2)
        if db == "postgresql" and throughput.get(db, {}).get("connect_ms")
        else "",
    )

    def q(db: str, kind: str) -> str:
        if db not in queries:
            return "n/a"
        return " / ".join(str(queries[db]["cases"][str(n)][kind]) for n in (1, 3, 10))

    add("4. queries per request, 1 / 3 / 10 lines: create-and-confirm", lambda db: q(db, "create_and_confirm"))
    add("   create (PENDING)", lambda db: q(db, "create"))
    add("   confirm", lambda db: q(db, "confirm"))
    add(
        "   statements that grow with the number of lines",
        lambda db: (
            "none"
            if not queries[db]["per_line"]
            else "; ".join(
                f"{kind}: {item['query']} {item['counts_1_3_10']}"
                for kind, items in queries[db]["per_line"].items()
                for item in items
            )
        )
        if db in queries
        else "n/a",
    )
    return _table(("measure", *("SQLite" if db == "sqlite" else "PostgreSQL" for db in dbs)), rows)


def render(results: dict, profile: Profile) -> str:
    parts = [render_streams(results, profile), render_orders(results, profile)]
    return "\n\n".join(part for part in parts if part)


def per_line_detail(results: dict) -> str:
    """Every statement of a 3-line create-and-confirm, by where it comes from."""
    out = []
    for db, q in results.get("queries", {}).items():
        sites = q["cases"]["3"]["sites"]["create_and_confirm"]
        out.append(f"Statements of one create-and-confirm with 3 lines on {db} ({sum(sites.values())} in all):")
        for key, count in sites.items():
            site, _, statement = key.rpartition(" | ")
            out.append(f"  {count:>2} × {statement:<42} {site}")
    return "\n".join(out)


# --- main -------------------------------------------------------------------------------

# (name, function, cap in seconds, the least it needs)
PHASES = [
    ("fan-out latency and replay", phase_fanout_and_replay, 170, 45),
    ("idle cost per stream", phase_idle, 90, 25),
    ("streams held", phase_held, 170, 40),
    ("order throughput and queries", phase_throughput, 130, 60),
]


async def main_async(args, world: World, results: dict, profile: Profile) -> None:
    only = set(args.only.split(",")) if args.only else None
    chosen = [(i, phase) for i, phase in enumerate(PHASES, 1) if not only or str(i) in only]
    budget_end = time.monotonic() + profile.budget
    for position, (index, (name, phase, cap, _)) in enumerate(chosen):
        reserve = sum(least for _, (_, _, _, least) in chosen[position + 1 :])
        limit = max(10.0, min(cap, budget_end - time.monotonic() - reserve))
        log(f"phase {index}: {name} (bounded at {limit:.0f}s)")
        started = time.monotonic()
        try:
            # The phase gets a deadline to plan with and a hard stop just after it.
            await asyncio.wait_for(phase(world, profile, results, started + limit), limit + 15)
        except Exception as exc:
            results.setdefault("errors", []).append(f"{name}: {type(exc).__name__}: {exc}")
            log(f"phase {index} failed: {type(exc).__name__}: {exc}")
            traceback.print_exc()
        results.setdefault("phase_seconds", {})[name] = round(time.monotonic() - started, 1)
    results["table"] = render(results, profile)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description="The benchmark suite (issue 6).")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer trials, smaller N")
    parser.add_argument("--only", help="comma-separated phase numbers (1 fan-out+replay, 2 idle, 3 held, 4 throughput)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (databases, server logs)")
    args = parser.parse_args()
    profile = QUICK if args.quick else Profile()

    started = time.monotonic()
    nofile = procs.raise_nofile()
    results: dict = {
        "machine": procs.machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nofile": nofile,
        "code": procs.git_state(),
    }
    log(f"machine: {results['machine']}; open-file limit {nofile}")
    world = World(keep=args.keep)
    exit_code = 0
    try:
        log("setup: SQLite databases (migrate, demo menu, operator, 1,000 stored events)")
        world.setup_sqlite(profile.replay_events)
        asyncio.run(main_async(args, world, results, profile))
    except KeyboardInterrupt:
        log("interrupted")
        exit_code = 130
    finally:
        procs.stop_all()
        world.cleanup()
    results["total_seconds"] = round(time.monotonic() - started, 1)
    if "table" not in results:
        return exit_code or 1

    out_dir = BASE_DIR / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    detail = per_line_detail(results)
    machine = results["machine"]
    summary_text = (
        f"Run of {results['started']} on {machine['nproc']} cores, {machine['memory']}, {machine['cpu']}, "
        f"Python {machine['python']}, kernel {machine['kernel']}, load average at start {machine['loadavg_at_start']}; "
        f"code {results['code']}; "
        f"printer payload {results.get('payload_bytes', '?')} bytes; the script took {results['total_seconds']}s "
        f"({', '.join(f'{k} {v}s' for k, v in results.get('phase_seconds', {}).items())})."
    )
    print()
    print(summary_text)
    print()
    print(results["table"])
    print()
    print(detail)
    if results.get("errors"):
        print("\nErrors:\n" + "\n".join(results["errors"]))
        exit_code = exit_code or 1
    (out_dir / "latest.md").write_text(summary_text + "\n\n" + results["table"] + "\n\n```\n" + detail + "\n```\n")
    (out_dir / "latest.json").write_text(json.dumps(results, indent=1, default=str))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
