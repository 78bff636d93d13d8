"""What every benchmark of `make bench` shares: the profile (trials, N, time
budget), the throw-away world (temp dir, SQLite files, the PostgreSQL
database `bench_<pid>`), the servers under test and the operator's API
client.

Invariant: every server is a child started through bench/procs.py (own
session, registered, stopped by PID), binds 127.0.0.1 on a free port, and
runs the project exactly as `make run` does; nothing in config/, events/ or
orders/ is patched."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import procs
from bench.client import HttpConn
from scripts.ports import HeldPort, hold_port, hold_port_in, hold_ports_in_a_row  # noqa: F401  (for the benches)

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
            # One operator opens every stream of a benchmark: lift the per-user cap.
            EVENTS_MAX_STREAMS_PER_USER="1000000",
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


def measure_on_each_database(script: str, args: list[str], engines: list[str], describe: str) -> list[dict]:
    """The frame of the in-process benchmarks (bench/list_cpu.py, bench/profile_pair.py): for each
    engine ("sqlite", "postgresql") a throw-away database (migrated, demo menu, operator), `script
    --measure *args` run on it in a child process, whose last line of output is read as JSON.
    PostgreSQL is skipped with a note when it is not there; the databases are dropped at the end."""
    import json

    world = World(keep=False)
    results = []
    try:
        for engine in engines:
            if engine == "postgresql":
                reachable, why = postgres_reachable()
                if not reachable:
                    log(f"PostgreSQL skipped: {why}")
                    continue
                world.setup_postgres()
                url = world.pg_url
            else:
                url = world.sqlite_url(world.sqlite_ours)
                world.prepare_database(url)
            log(f"{engine}: {describe}")
            output = procs.run(
                [procs.PYTHON, script, "--measure", *args], env=world.env(url), timeout=900, log_path=world.log_path
            )
            results.append(json.loads(output.strip().splitlines()[-1]))
    finally:
        world.cleanup()
    return results


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


async def answers(process, port: int, path: str, statuses: tuple[int, ...], timeout: float, pause: float) -> bool:
    """Whether the server `process` on `port` answers GET `path` with one of
    `statuses` within `timeout`, asking every `pause` seconds; False as soon
    as it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        conn = HttpConn(port)
        try:
            status, _ = await conn.request("GET", path, timeout=2)
            if status in statuses:
                return True
        except (TimeoutError, OSError, ValueError, IndexError):
            pass
        finally:
            conn.close()
        await asyncio.sleep(pause)
    return False


class Server:
    """One child server: `ours` (config.asgi under config/serve.py's Daphne), `stock`
    (bench.stock_asgi under Daphne), `floor` (bench.daphne_floor under
    Daphne) or `raw` (bench/raw_broadcaster.py, no Daphne)."""

    def __init__(self, world: World, kind: str, *, database_url: str = "", db_path: Path | None = None, **env):
        self.world, self.kind, self.db_path = world, kind, db_path
        self.held_ports: list[HeldPort] = []
        self.port = hold_port_in(self.held_ports)
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
            # The project is served as `make run` serves it (config/serve.py); the
            # baselines by Daphne's own command line.
            server = "config.serve" if self.kind == "ours" else "daphne"
            cmd = [procs.PYTHON, "-m", server, "-e", endpoint, APPS[self.kind]]
            probe = PROBES[self.kind]
        self.process = procs.start(cmd, env=self.env, log_path=self.log_path)
        if await answers(self.process, self.port, probe, (200,), timeout, pause=0.1):
            return self
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.kind} server exited ({self.process.returncode}):\n{self.log_tail()}")
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


def clean(values: list[float]) -> list[float]:
    return [v for v in values if v == v]  # drop NaN (failed trials)


def run_on_postgres(name: str, keep: bool, body, render, results: dict | None = None) -> int:
    """The frame of a benchmark on a throw-away PostgreSQL database (bench/cluster.py,
    bench/storm.py): the machine and the code in `results`, the database set up, `body(world,
    results)` (a coroutine function) run, every child stopped and the database dropped whatever
    happened, then `render(results)` printed under a line naming the run and written, with every
    number, to bench/results/<name>.{md,json}. Returns the process's exit code."""
    import json

    nofile = procs.raise_nofile()
    results = {
        "machine": procs.machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nofile": nofile,
        "code": procs.git_state(),
        "notes": [],
        **(results or {}),
    }
    log(f"machine: {results['machine']}; open-file limit {nofile} (raised to the hard limit)")
    reachable, why = postgres_reachable()
    if not reachable:
        log(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({why}): this benchmark needs it")
        return 1
    world = World(keep=keep)
    started = time.monotonic()
    exit_code = 0
    try:
        log("setup: PostgreSQL database (migrate, demo menu, operator)")
        world.setup_postgres()
        asyncio.run(body(world, results))
    except KeyboardInterrupt:
        log("interrupted")
        exit_code = 130
    except Exception as exc:
        log(f"failed: {type(exc).__name__}: {exc}")
        results["notes"].append(f"failed: {type(exc).__name__}: {exc}")
        exit_code = 1
    finally:
        procs.stop_all()
        world.cleanup()
    results["total_seconds"] = round(time.monotonic() - started, 1)
    text = render(results)
    machine = results["machine"]
    head = (
        f"Run of {results['started']} on {machine['nproc']} cores, {machine['memory']}, {machine['cpu']}, "
        f"load average at start {machine['loadavg_at_start']}; code {results['code']}; open-file limit {nofile}; "
        f"the script took {results['total_seconds']}s."
    )
    print(f"\n{head}\n\n{text}\n")
    for note in results["notes"]:
        print(f"note: {note}")
    out_dir = procs.BASE_DIR / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"{name}.md").write_text(head + "\n\n" + text + "\n")
    (out_dir / f"{name}.json").write_text(json.dumps(results, indent=1, default=str))
    return exit_code
