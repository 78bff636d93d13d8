"""Phase 4 of `make bench`: orders through the REST API. Create-and-confirm
(3 lines, JWT) from 8 keep-alive clients with 100 subscribers of
/events/printer, in windows alternating with an authenticated GET on the same
server (the request floor of the moment), on SQLite and on PostgreSQL (a
throw-away database); the queries each request issues, counted in-process.

Invariant: a window's rate is completed requests over the time until the last
one came back, and the server's CPU is read from /proc over that same window;
every event the subscribers should have received is counted against what they
did receive."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from bench import procs
from bench.client import Fleet, HttpConn
from bench.common import Api, Profile, Server, World, log, postgres_reachable
from bench.report import paired_ratio, table
from bench.stats import fmt, fmt_summary, percentile, summary


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
        lambda db: when(db, lambda: paired_ratio(windows(db, "rate"), windows(db, "rate", "floors"), 3)),
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
    return table(("measure", *("SQLite" if db == "sqlite" else "PostgreSQL" for db in dbs)), rows)


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
