"""`make bench-storm`: reconnect storms, straight to one worker and through
the cluster of `make run-cluster` (Pushpin → HAProxy → two workers), on
PostgreSQL and a private Redis, in one bounded run.

    python bench/storm.py            # 2,000 and 10,000 clients; about 5 minutes
    python bench/storm.py --quick    # 300 clients: a smoke run

A storm: N clients, each with its own Bearer token (N ÷ 25 operators, so the
per-user stream limit of 50 is in force and not reached), open
`GET /events/cashier` evenly within one second, no gate and no retry, and
hold what they get. Per storm: every client's outcome (200, or the status or
the connection error), the time from a client's scheduled moment to its
first SSE message (p50/p99), the time from the storm's start to the last
stream, openings per second, the CPU per opening of the workers, Pushpin,
PostgreSQL and the load generator, and PostgreSQL transactions per opening
(pg_stat_database of the bench database, less the rate the servers run on
their own, measured over 3 quiet seconds before the storm).

Each size runs twice against the same processes: `cold` on freshly started
servers (no credential seen before: a restart), then `warm`, after every
client has dropped its stream, the same clients again with the
Last-Event-ID they were given (a network blip: EventSource's reconnection).
After the warm storm, with every stream still open, one order is created
(a `new-order` on the cashier channel) and its arrival timed at every
stream: a screen is back when events reach it, not when it has a 200. A
stream the server ends meanwhile is opened again as a browser's EventSource
does (after 3 s, with its Last-Event-ID), and the event counts when its
replay brings it; how many ended, and how many of those reconnections were
refused (EventSource gives up on a non-200), is reported.

The load generator is bench/storm_client.py, several processes (one process
may hold RLIMIT_NOFILE sockets, and a storm wants more than one client
core). Nothing asserts: it prints a table and writes
bench/results/storm.{md,json}. Everything binds 127.0.0.1 on free ports;
every wait is bounded; children are stopped by PID; the database
`bench_<pid>` is dropped at the end."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import procs  # noqa: E402
from bench.cluster import Cluster, machine_busy_seconds, postgres_backends  # noqa: E402
from bench.common import PG_DSN, Api, HeldPort, World, answers, hold_port_in, log, run_on_postgres  # noqa: E402
from bench.report import table  # noqa: E402
from bench.stats import fmt, percentile  # noqa: E402
from testsupport import RedisServer, redis_server_installed  # noqa: E402

PATH = "/events/cashier"
TOKENS_PER_USER = 25


@dataclass
class StormProfile:
    sizes: tuple[int, ...] = (2000, 10000)
    over: float = 1.0  # seconds in which a storm's clients open
    client_processes: int = 4
    timeout: float = 90.0  # after the storm, for every client's outcome
    event_timeout: float = 60.0  # for the first event after the storm to reach every stream
    budget: float = 900.0
    only: str = ""  # "worker" or "cluster": one target only


QUICK = StormProfile(sizes=(300,), client_processes=2, timeout=30.0, event_timeout=30.0, budget=240.0)


# --- what the processes spent ---------------------------------------------------------------


def pg_transactions(database: str) -> tuple[float, int | None]:
    """(time.monotonic(), transactions of the bench database so far): each
    query Django runs in autocommit is one. A backend reports its counts
    when a transaction ends a second or more after its last report, so a
    reading is about a second behind."""
    import psycopg

    try:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", [database]
            ).fetchone()
            return time.monotonic(), (int(row[0]) if row else None)
    except Exception:
        return time.monotonic(), None


async def background_transactions(database: str, seconds: float = 3.0) -> tuple[float, int | None, float]:
    """A reading, and the rate of transactions per second the servers run
    on their own (the streams' re-validation, the live-connections
    snapshot), over `seconds` of quiet before a storm."""
    first_at, first = pg_transactions(database)
    await asyncio.sleep(seconds)
    at, count = pg_transactions(database)
    rate = (count - first) / (at - first_at) if first is not None and count is not None else 0.0
    return at, count, rate


class Groups:
    """CPU seconds so far of the processes under test, by role."""

    def __init__(self, groups: dict[str, list[int]], database: str):
        self.groups = groups
        self.database = database

    def cpu(self) -> dict[str, float]:
        out = {name: sum(_cpu(pid) for pid in pids) for name, pids in self.groups.items()}
        out["PostgreSQL backends"] = sum(_cpu(pid) for pid in postgres_backends(self.database))
        out["machine"] = machine_busy_seconds()
        return out


def _cpu(pid: int) -> float:
    try:
        return procs.cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return 0.0


# --- one storm -------------------------------------------------------------------------------


async def run_storm(
    world: World,
    port: int,
    size: int,
    tokens: Path,
    groups: Groups,
    profile: StormProfile,
    last_ids: dict,
    then_publish: bool = False,
) -> dict:
    ids_path = world.tmp / f"last-ids-{size}.json"
    ids_path.write_text(json.dumps(last_ids))
    count = min(profile.client_processes, max(1, size // 250))
    before_at, transactions_before, background = await background_transactions(world.pg_name)
    cpu_before = groups.cpu()
    start = time.monotonic() + 2.0 + 0.3 * count  # every client process is up and waiting by then
    clients = [
        procs.start(
            [
                procs.PYTHON,
                "bench/storm_client.py",
                "--port",
                str(port),
                "--path",
                PATH,
                "--tokens",
                str(tokens),
                "--share",
                f"{n}/{count}",
                "--clients",
                str(size),
                "--over",
                str(profile.over),
                "--start",
                repr(start),
                "--timeout",
                str(profile.timeout),
                *(["--last-ids", str(ids_path)] if last_ids else []),
            ],
            env=world.env(""),
            log_path=world.tmp / f"storm-client-{n}.log",
            piped=True,
        )
        for n in range(count)
    ]
    try:
        results = await asyncio.gather(
            *(procs.ask(c, {"op": "result"}, profile.timeout + profile.over + 30) for c in clients)
        )
        cpu_after = groups.cpu()
        elapsed = time.monotonic() - start
        event = await first_event_after(port, clients, profile) if then_publish else None
        await asyncio.gather(*(procs.ask(c, {"op": "close"}, 30) for c in clients))
    finally:
        for client in clients:
            try:
                client.stdin.close()
            except OSError:
                pass
            procs.stop(client)
    await asyncio.sleep(2.0)  # the backends have reported the storm's transactions
    after_at, transactions_after = pg_transactions(world.pg_name)
    outcomes: dict[str, int] = {}
    refusals: dict[str, str] = {}
    for result in results:
        refusals.update(result["refusals"])
        for outcome, n in result["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + n
    latencies = [first - at for result in results for at, first in result["opened"]]
    firsts = [first for result in results for _, first in result["opened"]]
    opened = len(firsts)
    to_last = (max(firsts) - start) if firsts else float("nan")
    cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
    cpu["load generator"] = sum(result["cpu"] for result in results)
    return {
        "size": size,
        "outcomes": outcomes,
        "refusals": refusals,
        "opened": opened,
        "to_last_s": to_last,
        "opens_per_s": opened / to_last if firsts and to_last > 0 else float("nan"),
        "latency_p50_ms": percentile(latencies, 50) * 1000 if latencies else float("nan"),
        "latency_p99_ms": percentile(latencies, 99) * 1000 if latencies else float("nan"),
        "cpu_seconds": cpu,
        "elapsed_s": elapsed,
        "cpu_ms_per_open": {name: seconds * 1000 / max(1, opened) for name, seconds in cpu.items()},
        "pg_transactions_per_open": (
            (transactions_after - transactions_before - background * (after_at - before_at)) / max(1, opened)
            if transactions_before is not None and transactions_after is not None
            else float("nan")
        ),
        "last_ids": {k: v for result in results for k, v in result["last_ids"].items()},
        "event": event,
    }


async def first_event_after(port: int, clients, profile: StormProfile) -> dict:
    """With every stream of the storm still open, create one order (a
    `new-order` on the cashier channel) and time its arrival at each: the
    storm is over for a screen when events reach it again."""
    listening = sum(
        r["listening"] for r in await asyncio.gather(*(procs.ask(c, {"op": "listen"}, 30) for c in clients))
    )
    api = await Api(port).login()
    try:
        sent = time.monotonic()
        await api.conn.json("POST", "/v1/orders", body=api.order_body(False), headers=api.auth)
    finally:
        api.conn.close()
    timeout = profile.event_timeout
    answers = await asyncio.gather(*(procs.ask(c, {"op": "heard", "timeout": timeout}, timeout + 30) for c in clients))
    heard = [at - sent for r in answers for at in r["heard"]]
    return {
        "listening": listening,
        "heard": len(heard),
        # Streams the server ended while the event was awaited, reopened as
        # EventSource does (bench/storm_client.py); of those, how many had
        # the event through a reconnection, and how many reconnections were
        # answered other than 200.
        "ended": sum(r["ended"] for r in answers),
        "reconnections": sum(r["reconnections"] for r in answers),
        "heard_after_reconnecting": sum(r["heard_after_reconnecting"] for r in answers),
        "lost": sum(r["lost"] for r in answers),
        "p50_s": percentile(heard, 50) if heard else float("nan"),
        "last_s": max(heard) if heard else float("nan"),
        "timeout_s": timeout,
    }


# --- the servers -----------------------------------------------------------------------------


class Worker:
    """One Daphne worker, as `make run` starts it."""

    def __init__(self, world: World, env: dict[str, str]):
        self.world, self.env = world, env
        self.held_ports: list[HeldPort] = []
        self.port = hold_port_in(self.held_ports)
        self.process = None

    async def start(self, timeout: float = 40.0) -> Worker:
        cmd = [procs.PYTHON, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]
        self.process = procs.start(cmd, env=self.env, log_path=self.world.tmp / f"worker-{self.port}.log")
        if await answers(self.process, self.port, "/v1/categories", (200, 401), timeout, pause=0.2):
            return self
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited ({self.process.returncode})")
        raise RuntimeError("the worker did not answer")

    def groups(self) -> dict[str, list[int]]:
        return {"worker": [self.process.pid]}

    def stop(self) -> None:
        procs.stop(self.process)


class ClusterUnderTest:
    """scripts/cluster.py, as bench/cluster.py starts it (two workers)."""

    def __init__(self, world: World, env: dict[str, str]):
        self.cluster = Cluster(world, env)

    async def start(self) -> ClusterUnderTest:
        await self.cluster.start()
        self.port = self.cluster.port
        return self

    def groups(self) -> dict[str, list[int]]:
        state = self.cluster.state
        groups = {f"worker :{w['port']}": [w["pid"]] for w in state["workers"]}
        groups["HAProxy"] = [state["haproxy"]["pid"]]
        groups["Pushpin"] = [state["pushpin"]["pid"], *state["pushpin"]["children"]]
        return groups

    def stop(self) -> None:
        self.cluster.stop()


async def main_async(world: World, profile: StormProfile, results: dict) -> None:
    deadline = time.monotonic() + profile.budget
    redis = RedisServer(world.tmp / "redis.log").start() if redis_server_installed()[0] else None
    env = world.env(world.pg_url, EVENTS_MAX_STREAMS_PER_USER="50", **({"REDIS_URL": redis.url} if redis else {}))
    tokens = world.tmp / "tokens.txt"
    most = max(profile.sizes)
    procs.run(
        [procs.PYTHON, "bench/mint_tokens.py", "--users", str(max(1, most // TOKENS_PER_USER)), "--count", str(most)]
        + ["--out", str(tokens)],
        env=env,
        log_path=world.log_path,
    )
    try:
        targets = [("straight to one worker", Worker), ("through Pushpin → HAProxy → 2 workers", ClusterUnderTest)]
        if profile.only:
            targets = [target for target in targets if target[1].__name__.lower().startswith(profile.only)]
        for target, make in targets:
            for size in profile.sizes:
                if time.monotonic() > deadline:
                    results["notes"].append(f"budget spent: {target}, {size} not run")
                    continue
                server = await make(world, env).start()
                try:
                    groups = Groups(server.groups(), world.pg_name)
                    await asyncio.sleep(1.0)
                    log(f"{target}: a storm of {size:,} (cold)")
                    cold = await run_storm(world, server.port, size, tokens, groups, profile, {})
                    _log_storm(cold)
                    await asyncio.sleep(3.0)  # every server has seen its streams go
                    log(f"{target}: a storm of {size:,} (warm: the same clients, with their Last-Event-ID)")
                    warm = await run_storm(
                        world, server.port, size, tokens, groups, profile, cold["last_ids"], then_publish=True
                    )
                    _log_storm(warm)
                    for run in (cold, warm):
                        run.pop("last_ids")
                    results["storms"].append({"target": target, "size": size, "cold": cold, "warm": warm})
                finally:
                    server.stop()
    finally:
        if redis is not None:
            redis.stop()


def _log_storm(run: dict) -> None:
    log(
        f"  {run['opened']:,} of {run['size']:,} streams; outcomes {run['outcomes']}; last after "
        f"{run['to_last_s']:.2f} s; p50/p99 {run['latency_p50_ms']:.0f}/{run['latency_p99_ms']:.0f} ms; "
        f"{run['pg_transactions_per_open']:.2f} PostgreSQL transactions per opening"
    )
    for status, body in run["refusals"].items():
        log(f"  a {status}: {body!r}")
    if run.get("event"):
        event = run["event"]
        log(
            f"  then one event: {event['heard']:,} of {event['listening']:,} streams had it within "
            f"{event['timeout_s']:.0f} s; p50 {event['p50_s']:.2f} s, last {event['last_s']:.2f} s; "
            f"{event['ended']:,} streams ended meanwhile ({event['reconnections']:,} reconnections, "
            f"{event['heard_after_reconnecting']:,} had it after reconnecting, {event['lost']:,} refused)"
        )


def render(results: dict) -> str:
    rows = []
    for storm in results["storms"]:
        for phase in ("cold", "warm"):
            run = storm[phase]
            errors = {k: v for k, v in run["outcomes"].items() if k != "200"}
            per_open = run["cpu_ms_per_open"]
            workers = sum(v for k, v in per_open.items() if k.startswith("worker"))
            rows.append(
                (
                    f"{storm['target']}, {storm['size']:,} ({phase})",
                    f"{run['opened']:,}",
                    ", ".join(f"{k}: {v:,}" for k, v in sorted(errors.items())) or "none",
                    fmt(run["to_last_s"], 2),
                    fmt(run["opens_per_s"], 0),
                    f"{fmt(run['latency_p50_ms'], 0)} / {fmt(run['latency_p99_ms'], 0)}",
                    f"{fmt(workers, 2)}; {fmt(per_open.get('Pushpin', float('nan')), 2)}; "
                    f"{fmt(per_open['PostgreSQL backends'], 2)}; {fmt(per_open['load generator'], 2)}",
                    fmt(run["pg_transactions_per_open"], 2),
                    _event_cell(run.get("event")),
                )
            )
    return table(
        (
            f"storm on {PATH} within 1 s",
            "200 streams",
            "other outcomes",
            "last stream after (s)",
            "openings/s",
            "first message p50 / p99 (ms)",
            "CPU per opening (ms): workers; Pushpin; PostgreSQL; load generator",
            "PostgreSQL transactions per opening",
            "then one event: streams that had it (a stream that ends is reopened as EventSource does); p50 / last (s)",
        ),
        rows,
    )


def _event_cell(event: dict | None) -> str:
    if not event:
        return "—"
    cell = f"{event['heard']:,} of {event['listening']:,}; {fmt(event['p50_s'], 2)} / {fmt(event['last_s'], 2)}"
    if event.get("ended"):
        cell += (
            f"; {event['ended']:,} ended by the server and reconnected, "
            f"{event['heard_after_reconnecting']:,} of them had it then"
        )
    if event.get("lost"):
        cell += f"; {event['lost']:,} reconnections refused"
    return cell


def main() -> int:
    procs.interrupt_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 clients")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, generated configs)")
    parser.add_argument("--sizes", default="", help="comma-separated storm sizes instead of the profile's")
    parser.add_argument("--only", choices=("worker", "cluster"), default="", help="one target only")
    args = parser.parse_args()
    profile = QUICK if args.quick else StormProfile()
    profile.only = args.only
    if args.sizes:
        profile.sizes = tuple(int(n) for n in args.sizes.split(","))
    return run_on_postgres(
        "storm", args.keep, lambda world, results: main_async(world, profile, results), render, {"storms": []}
    )


if __name__ == "__main__":
    sys.exit(main())
