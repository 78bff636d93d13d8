"""What the proposed fixes would buy, measured before anyone makes them.

    .venv/bin/python bench/experiments/run.py [--only wsgi,lean,pool,scaleout,ticker]

Not part of `make bench`. Each experiment runs the project as it is next to
a variant (bench/experiments/asgi.py applies it in memory; no file of the
project is changed), on its own copy of the database, and alternates
measurement windows between the two, so both see the same machine:

wsgi      the REST API served as WSGI inside the ASGI app (one thread hop a request)
lean      a confirmation's three events in one transaction, 2 statements an event
pool      PostgreSQL through Django's connection pool instead of a connection a request
scaleout  two Daphne processes (one a core) joined by Redis, 4 clients and 50
          subscribers each, against one process with 8 clients and 100
          subscribers (a private redis-server on a free loopback port)
ticker    keep-alives due one tick early, at 5,000 streams with a 2 s interval

Prints one line per measure: project, variant, variant ÷ project (median of
per-round ratios)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import common as bench  # noqa: E402
from bench import procs  # noqa: E402
from bench.client import Fleet  # noqa: E402
from bench.stats import fmt_summary, percentile, summary  # noqa: E402
from bench.throughput import run_window  # noqa: E402

bench.APPS["exp"] = "bench.experiments.asgi:application"
bench.PROBES["exp"] = "/v1/categories"
bench.STREAM_PATHS["exp"] = "/events/printer"
PKGS = Path("/tmp/bench-exp-pkgs")  # psycopg_pool for the pool variant, outside the project's venv

ROUNDS = 4
WINDOW = 3.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def variant_server(world: bench.World, **kwargs) -> bench.Server:
    server = bench.Server(world, "exp", **kwargs)
    server.env["DJANGO_SETTINGS_MODULE"] = "bench.experiments.settings"
    return server


def sqlite_copy(world: bench.World, name: str) -> Path:
    path = world.tmp / f"{name}.sqlite3"
    source, target = sqlite3.connect(world.sqlite_ours), sqlite3.connect(path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return path


def line(label: str, base: list[float], variant: list[float], digits: int = 1) -> str:
    ratio = summary([v / b for b, v in zip(base, variant, strict=False) if b > 0])
    return (
        f"  {label:<44} project {fmt_summary(summary(base), digits)}   variant {fmt_summary(summary(variant), digits)}"
        f"   variant ÷ project {fmt_summary(ratio, 2, '×')}"
    )


async def throughput_pair(world, base_server, variant_server) -> list[str]:
    """Alternate create-and-confirm and GET windows between the two servers,
    each with 100 subscribers listening on /events/printer."""
    apis, fleets, bodies = {}, {}, {}
    results = {name: {"orders": [], "orders_cpu": [], "gets": [], "gets_cpu": []} for name in ("base", "variant")}
    servers = {"base": base_server, "variant": variant_server}
    try:
        await asyncio.gather(*(server.start() for server in servers.values()))
        for name, server in servers.items():
            apis[name] = await bench.Api(server.port).login()
            fleets[name] = Fleet(server.port, "/events/printer", apis[name].auth)
            await fleets[name].grow(100)
            bodies[name] = json.dumps(apis[name].order_body(True)).encode()

        def orders(name):
            async def call(conn):
                status, content = await conn.request("POST", "/v1/orders", body=bodies[name], headers=apis[name].auth)
                if status != 201:
                    raise RuntimeError(f"{status} {content[:200]!r}")

            return call

        def gets(name):
            async def call(conn):
                status, _ = await conn.request("GET", "/v1/printers", headers=apis[name].auth)
                if status != 200:
                    raise RuntimeError(str(status))

            return call

        for name, server in servers.items():  # warm-up
            await run_window(server.port, 8, 1.0, orders(name))
        for round_no in range(ROUNDS):
            for name in ("base", "variant") if round_no % 2 == 0 else ("variant", "base"):
                server = servers[name]
                w = await run_window(server.port, 8, WINDOW, orders(name), server)
                results[name]["orders"].append(w["rate"])
                results[name]["orders_cpu"].append(w["server_cpu_ms_per_request"])
                if w["errors"]:
                    log(f"  {name}: {w['errors']} errors")
                g = await run_window(server.port, 8, 2.0, gets(name), server)
                results[name]["gets"].append(g["rate"])
                results[name]["gets_cpu"].append(g["server_cpu_ms_per_request"])
    finally:
        for fleet in fleets.values():
            fleet.close()
        for server in servers.values():
            server.stop()
    b, v = results["base"], results["variant"]
    return [
        line("create-and-confirm per second (8 clients)", b["orders"], v["orders"]),
        line("server CPU per create-and-confirm (ms)", b["orders_cpu"], v["orders_cpu"]),
        line("authenticated GET /v1/printers per second", b["gets"], v["gets"]),
        line("server CPU per GET (ms)", b["gets_cpu"], v["gets_cpu"]),
    ]


async def sqlite_experiment(world, name: str, env: dict[str, str]) -> list[str]:
    base_db, variant_db = sqlite_copy(world, f"{name}-base"), sqlite_copy(world, f"{name}-variant")
    base = bench.Server(world, "ours", database_url=world.sqlite_url(base_db), db_path=base_db)
    variant = variant_server(world, database_url=world.sqlite_url(variant_db), db_path=variant_db, **env)
    return await throughput_pair(world, base, variant)


def create_pg(world, name: str) -> str:
    import psycopg

    with psycopg.connect(bench.PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    world.prepare_database(url)
    return url


def drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(bench.PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def pool_experiment(world) -> list[str]:
    if not (PKGS / "psycopg_pool").exists():
        subprocess.run(
            [procs.PYTHON, "-m", "pip", "install", "--quiet", "--target", str(PKGS), "psycopg-pool"],
            check=True,
            timeout=300,
        )
    names = [f"bench_exp_{os.getpid()}_base", f"bench_exp_{os.getpid()}_pool"]
    try:
        urls = [await asyncio.to_thread(create_pg, world, name) for name in names]
        base = bench.Server(world, "ours", database_url=urls[0])
        variant = variant_server(world, database_url=urls[1], EXP_POOL="1")
        variant.env["PYTHONPATH"] = f"{PKGS}:{variant.env.get('PYTHONPATH', '')}".rstrip(":")
        return await throughput_pair(world, base, variant)
    finally:
        for name in names:
            await asyncio.to_thread(drop_pg, name)


async def scaleout_experiment(world) -> list[str]:
    """One process against two, same database engine (SQLite copies), same
    client count and subscriber count in all."""
    redis_held = bench.hold_port()  # until redis-server binds it
    redis_port = redis_held.port
    redis = procs.start(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        env=dict(os.environ),
        log_path=world.tmp / "redis.log",
    )
    single_db, pair_db = sqlite_copy(world, "single"), sqlite_copy(world, "pair")
    single = bench.Server(world, "ours", database_url=world.sqlite_url(single_db), db_path=single_db)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    pair = [
        bench.Server(world, "ours", database_url=world.sqlite_url(pair_db), db_path=pair_db, REDIS_URL=redis_url)
        for _ in range(2)
    ]
    fleets, apis = [], {}
    rates = {"single": [], "pair": []}
    cpu = {"single": [], "pair": []}
    try:
        await asyncio.gather(single.start(), *(server.start() for server in pair))
        for server in [single, *pair]:
            apis[server.port] = await bench.Api(server.port).login()
        for server, count in [(single, 100), (pair[0], 50), (pair[1], 50)]:
            fleet = Fleet(server.port, "/events/printer", apis[server.port].auth)
            await fleet.grow(count)
            fleets.append(fleet)
        body = json.dumps(apis[single.port].order_body(True)).encode()

        def orders(port):
            async def call(conn):
                status, content = await conn.request("POST", "/v1/orders", body=body, headers=apis[port].auth)
                if status != 201:
                    raise RuntimeError(f"{status} {content[:200]!r}")

            return call

        async def measure(servers, clients_each):
            before = sum(procs.cpu_seconds(s.pid) for s in servers)
            windows = await asyncio.gather(*(run_window(s.port, clients_each, WINDOW, orders(s.port)) for s in servers))
            done = sum(w["count"] for w in windows)
            elapsed = max(w["count"] / w["rate"] for w in windows if w["rate"])
            return done / elapsed, (sum(procs.cpu_seconds(s.pid) for s in servers) - before) * 1000 / max(done, 1)

        await measure([single], 8)
        await measure(pair, 4)  # warm-ups
        for round_no in range(ROUNDS):
            for name in ("single", "pair") if round_no % 2 == 0 else ("pair", "single"):
                rate, cpu_ms = await measure([single] if name == "single" else pair, 8 if name == "single" else 4)
                rates[name].append(rate)
                cpu[name].append(cpu_ms)
        await asyncio.sleep(1.0)
        delivered = sum(sub.targets for fleet in fleets[1:] for sub in fleet.subscribers)
        per_sub = [sub.targets for fleet in fleets[1:] for sub in fleet.subscribers]
    finally:
        for fleet in fleets:
            fleet.close()
        for server in [single, *pair]:
            server.stop()
        procs.stop(redis)
    return [
        line("create-and-confirm per second (8 clients)", rates["single"], rates["pair"]),
        line("server CPU per create-and-confirm, all processes (ms)", cpu["single"], cpu["pair"]),
        f"  two processes: every subscriber got every order: {min(per_sub) == max(per_sub)} "
        f"({delivered:,} events to 100 subscribers)",
    ]


async def ticker_experiment(world, streams: int = 5000, windows: int = 2) -> list[str]:
    out = {}
    for name, env in (("base", {}), ("variant", {"EXP_TICKER": "1"})):
        db = sqlite_copy(world, f"ticker-{name}")
        make = bench.Server if name == "base" else None
        kwargs = {"database_url": world.sqlite_url(db), "db_path": db, "EVENTS_KEEPALIVE_SECONDS": "2", **env}
        server = make(world, "ours", **kwargs) if make else variant_server(world, **kwargs)
        fleet = None
        try:
            await server.start()
            api = await bench.Api(server.port).login()
            fleet = Fleet(server.port, "/events/printer", api.auth)
            await fleet.grow(streams, timeout=120)
            gaps = []
            for _ in range(windows):
                fleet.reset_gaps()
                await asyncio.sleep(6.0)
                gaps.append(fleet.gaps(time.monotonic()))
            out[name] = gaps
        finally:
            if fleet is not None:
                fleet.close()
            server.stop()
        await asyncio.sleep(1.0)
    lines = []
    for label, p in (("median", 50), ("p99", 99)):
        b = [percentile(g, p) for g in out["base"]]
        v = [percentile(g, p) for g in out["variant"]]
        lines.append(line(f"keep-alive gap {label} at {streams:,} streams, 2 s (s)", b, v, 2))
    b = [max(g) for g in out["base"]]
    v = [max(g) for g in out["variant"]]
    lines.append(line(f"keep-alive gap max at {streams:,} streams (s)", b, v, 2))
    return lines


async def main_async(only: set[str], world) -> None:
    experiments = {
        "wsgi": lambda: sqlite_experiment(world, "wsgi", {"EXP_WSGI": "1"}),
        "lean": lambda: sqlite_experiment(world, "lean", {"EXP_LEAN": "1"}),
        "pool": lambda: pool_experiment(world),
        "scaleout": lambda: scaleout_experiment(world),
        "ticker": lambda: ticker_experiment(world),
    }
    report = []
    for name, experiment in experiments.items():
        if only and name not in only:
            continue
        log(f"experiment {name}")
        try:
            lines = await asyncio.wait_for(experiment(), 240)
        except Exception as exc:
            lines = [f"  failed: {type(exc).__name__}: {exc}"]
        for text in lines:
            print(text, flush=True)
        report += [f"{name}:", *lines]
    print("\n" + "\n".join(report))
    machine = procs.machine()
    print(f"\n(on {machine['nproc']} cores, {machine['cpu']}, load average at start {machine['loadavg_at_start']})")


def main() -> int:
    parser = argparse.ArgumentParser(description="Measure the proposed fixes next to the project as it is.")
    parser.add_argument("--only", help="comma-separated: wsgi, lean, pool, scaleout, ticker")
    args = parser.parse_args()
    procs.raise_nofile()
    world = bench.World(keep=False)
    try:
        world.setup_sqlite(10)
        asyncio.run(main_async(set(args.only.split(",")) if args.only else set(), world))
    except KeyboardInterrupt:
        return 130
    finally:
        procs.stop_all()
        world.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
