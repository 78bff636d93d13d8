"""Two checkouts of the project side by side: alternated fan-outs to the
same number of /events/printer streams on each, for a change to the write
path that `make bench` (one checkout against the baselines) cannot compare
with its parent. Not part of `make bench`; nothing here asserts, it prints.

    .venv/bin/python bench/ab_fanout.py A_DIR B_DIR --streams 100,1000,2000 --trials 20
    .venv/bin/python bench/ab_fanout.py A_DIR B_DIR --postgres --redis --streams 100 --throughput 6

A_DIR and B_DIR are work trees of the project (`git worktree add`), each
served by `python -m config.serve` from its own directory with this
checkout's virtualenv, on a copy of one demo database each: SQLite, or
with --postgres a PostgreSQL database each (the second a copy of the
first), with --redis on Redis as well (each deployment on its own pub/sub
channel, derived from its database). Per trial: a new order, then its confirmation as the trigger; the measures are
from the confirmation sent to the first and to the last stream's receipt,
the confirmation's own response time, and the server's CPU over the trial
(/proc ticks are 10 ms: only the mean over trials means much). Who goes
first alternates trial by trial; per measure it prints each side's median
(CPU: mean) and the median of the per-trial ratios B ÷ A with their
10th–90th percentiles.

--throughput SECONDS adds, after the fan-outs at each stream count,
alternated windows of that length (--windows of them per side, 8 clients
each, --clients) making create-and-confirm pairs as two requests, as a
till does and as MySagra's kit measures: pairs per second and the server's
CPU per pair per window, each side's median and the median of the
per-window-pair ratios B ÷ A."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import procs  # noqa: E402
from bench.client import Fleet, HttpConn  # noqa: E402
from bench.common import PG_DSN, Api, Server, World, answers  # noqa: E402
from bench.throughput import run_window  # noqa: E402

MEASURES = ("first", "last", "response", "cpu")


async def start(world: World, root: Path, database_url: str, db: Path | None, **env: str) -> Server:
    server = Server(world, "ours", database_url=database_url, db_path=db, **env)
    endpoint = f"tcp:port={server.port}:interface=127.0.0.1:backlog=2048"
    command = [procs.PYTHON, "-m", "config.serve", "-e", endpoint, "config.asgi:application"]
    server.process = procs.start(command, env=server.env, log_path=server.log_path, cwd=root)
    if not await answers(server.process, server.port, "/v1/categories", (200,), 40, 0.1):
        raise RuntimeError(f"{root} did not answer:\n{server.log_tail()}")
    return server


async def trial(api: Api, fleet: Fleet, server: Server) -> dict[str, float]:
    order = await api.conn.json("POST", "/v1/orders", body=api.order_body(False), headers=api.auth)
    await asyncio.sleep(0.02)  # the new-order event (cashier) is out of the way

    async def confirm():
        await api.conn.json("POST", f"/v1/orders/{order['id']}/confirm", body=api.confirm_body(), headers=api.auth)

    cpu = procs.cpu_seconds(server.pid)
    t = await fleet.fan_out(confirm)
    return {
        "first": (t["first"] - t["sent"]) * 1000,
        "last": (t["last"] - t["sent"]) * 1000,
        "response": (t["responded"] - t["sent"]) * 1000,
        "cpu": (procs.cpu_seconds(server.pid) - cpu) * 1000,
    }


async def window(api: Api, server: Server, clients: int, seconds: float) -> dict[str, float]:
    """`clients` tills making create-and-confirm pairs for `seconds`
    (bench/throughput.py's window, each request a pair)."""
    order = json.dumps(api.order_body(False)).encode()
    confirm = json.dumps(api.confirm_body()).encode()

    async def pair(conn: HttpConn) -> None:
        status, content = await conn.request("POST", "/v1/orders", body=order, headers=api.auth)
        if status != 201:
            raise RuntimeError(f"create: {status} {content[:200]!r}")
        path = f"/v1/orders/{json.loads(content)['id']}/confirm"
        status, content = await conn.request("POST", path, body=confirm, headers=api.auth)
        if status != 200:
            raise RuntimeError(f"confirm: {status} {content[:200]!r}")

    out = await run_window(server.port, clients, seconds, pair, server)
    if out["errors"]:
        print(f"  ({out['errors']} pairs failed in this window)")
    return {"pairs/s": out["rate"], "cpu ms/pair": out["server_cpu_ms_per_request"]}


def report_throughput(n: int, clients: int, results: dict[str, dict[str, list[float]]]) -> None:
    print(f"create-and-confirm, {clients} clients, N={n:,} streams open, load average {os.getloadavg()[0]:.1f}")
    for measure in ("pairs/s", "cpu ms/pair"):
        a, b = results["A"][measure], results["B"][measure]
        ratios = sorted(y / x for x, y in zip(a, b, strict=True) if x > 0)
        print(
            f"  {measure:12s} A {statistics.median(a):7.1f}  B {statistics.median(b):7.1f}  "
            f"B ÷ A per window pair: {statistics.median(ratios):.2f} [{ratios[0]:.2f}–{ratios[-1]:.2f}]"
        )


def report(n: int, results: dict[str, dict[str, list[float]]]) -> None:
    print(f"N={n:,} streams, load average {os.getloadavg()[0]:.1f}")
    for measure in MEASURES:
        a, b = results["A"][measure], results["B"][measure]
        ratios = sorted(y / x for x, y in zip(a, b, strict=True) if x > 0)
        middle = statistics.mean if measure == "cpu" else statistics.median
        spread = f"[{ratios[len(ratios) // 10]:.2f}–{ratios[-1 - len(ratios) // 10]:.2f}]" if ratios else ""
        ratio = f"{statistics.median(ratios):.2f} {spread}" if ratios else "n/a"
        print(f"  {measure:8s} A {middle(a):8.1f}  B {middle(b):8.1f}  B ÷ A per trial: {ratio}")


def copy_postgres(world: World) -> str:
    """A second database, a copy of the World's (no connection may be open to it)."""
    import psycopg

    name = f"{world.pg_name}_a"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{world.pg_name}"')
    return name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main_async(a_dir: Path, b_dir: Path, ns: list[int], trials: int, options: argparse.Namespace) -> None:
    world = World(keep=False)
    servers, fleets = {}, {}
    copied = None
    env = {"REDIS_URL": options.redis_url} if options.redis else {}
    try:
        if options.postgres:
            world.setup_postgres()
            copied = copy_postgres(world)
            databases = {"A": (world.pg_url.rsplit("/", 1)[0] + "/" + copied, None), "B": (world.pg_url, None)}
        else:
            world.setup_sqlite(10)
            copy = world.tmp / "a.sqlite3"
            source, target = sqlite3.connect(world.sqlite_ours), sqlite3.connect(copy)
            with target:
                source.backup(target)
            source.close()
            target.close()
            databases = {
                "A": (world.sqlite_url(copy), copy),
                "B": (world.sqlite_url(world.sqlite_ours), world.sqlite_ours),
            }
        apis = {}
        for side, root in (("A", a_dir), ("B", b_dir)):
            servers[side] = await start(world, root, *databases[side], **env)
            apis[side] = await Api(servers[side].port).login()
            fleets[side] = Fleet(servers[side].port, "/events/printer", apis[side].auth)
        for n in ns:
            for fleet in fleets.values():
                await fleet.grow(n)
            await asyncio.sleep(1.0)
            results = {side: {m: [] for m in MEASURES} for side in servers}
            for number in range(trials):
                for side in ("A", "B") if number % 2 == 0 else ("B", "A"):
                    for measure, value in (await trial(apis[side], fleets[side], servers[side])).items():
                        results[side][measure].append(value)
                    await asyncio.sleep(0.05)
            report(n, results)
            if options.throughput:
                for side in servers:  # warm-up
                    await window(apis[side], servers[side], options.clients, 1.0)
                rates = {side: {"pairs/s": [], "cpu ms/pair": []} for side in servers}
                for number in range(options.windows):
                    for side in ("A", "B") if number % 2 == 0 else ("B", "A"):
                        for measure, value in (
                            await window(apis[side], servers[side], options.clients, options.throughput)
                        ).items():
                            rates[side][measure].append(value)
                        await asyncio.sleep(0.5)
                report_throughput(n, options.clients, rates)
    finally:
        for fleet in fleets.values():
            fleet.close()
        for server in servers.values():
            server.stop()
        if copied:
            drop_postgres(copied)
        world.cleanup()


def main() -> int:
    procs.interrupt_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a_dir", type=Path)
    parser.add_argument("b_dir", type=Path)
    parser.add_argument("--streams", default="100,1000,2000", help="comma-separated stream counts")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL database each instead of SQLite")
    parser.add_argument("--redis", action="store_true", help="with Redis, as a production deployment")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--throughput", type=float, default=0.0, help="seconds per throughput window (0: none)")
    parser.add_argument("--windows", type=int, default=6, help="throughput windows per side")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    ns = [int(n) for n in args.streams.split(",")]
    asyncio.run(main_async(args.a_dir.resolve(), args.b_dir.resolve(), ns, args.trials, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
