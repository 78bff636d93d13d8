"""Two checkouts of the project side by side: alternated fan-outs to the
same number of /events/printer streams on each, for a change to the write
path that `make bench` (one checkout against the baselines) cannot compare
with its parent. Not part of `make bench`; nothing here asserts, it prints.

    .venv/bin/python bench/ab_fanout.py A_DIR B_DIR --streams 100,1000,2000 --trials 20

A_DIR and B_DIR are work trees of the project (`git worktree add`), each
served by `python -m config.serve` from its own directory with this
checkout's virtualenv, on a SQLite copy of one demo database each. Per
trial: a new order, then its confirmation as the trigger; the measures are
from the confirmation sent to the first and to the last stream's receipt,
the confirmation's own response time, and the server's CPU over the trial
(/proc ticks are 10 ms: only the mean over trials means much). Who goes
first alternates trial by trial; per measure it prints each side's median
(CPU: mean) and the median of the per-trial ratios B ÷ A with their
10th–90th percentiles."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import procs  # noqa: E402
from bench.client import Fleet  # noqa: E402
from bench.common import Api, Server, World, answers  # noqa: E402

MEASURES = ("first", "last", "response", "cpu")


async def start(world: World, root: Path, db: Path) -> Server:
    server = Server(world, "ours", database_url=world.sqlite_url(db), db_path=db)
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


def report(n: int, results: dict[str, dict[str, list[float]]]) -> None:
    print(f"N={n:,} streams, load average {os.getloadavg()[0]:.1f}")
    for measure in MEASURES:
        a, b = results["A"][measure], results["B"][measure]
        ratios = sorted(y / x for x, y in zip(a, b, strict=True) if x > 0)
        middle = statistics.mean if measure == "cpu" else statistics.median
        spread = f"[{ratios[len(ratios) // 10]:.2f}–{ratios[-1 - len(ratios) // 10]:.2f}]" if ratios else ""
        ratio = f"{statistics.median(ratios):.2f} {spread}" if ratios else "n/a"
        print(f"  {measure:8s} A {middle(a):8.1f}  B {middle(b):8.1f}  B ÷ A per trial: {ratio}")


async def main_async(a_dir: Path, b_dir: Path, ns: list[int], trials: int) -> None:
    world = World(keep=False)
    servers, fleets = {}, {}
    try:
        world.setup_sqlite(10)
        copy = world.tmp / "a.sqlite3"
        source, target = sqlite3.connect(world.sqlite_ours), sqlite3.connect(copy)
        with target:
            source.backup(target)
        source.close()
        target.close()
        apis = {}
        for side, root, db in (("A", a_dir, copy), ("B", b_dir, world.sqlite_ours)):
            servers[side] = await start(world, root, db)
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
    finally:
        for fleet in fleets.values():
            fleet.close()
        for server in servers.values():
            server.stop()
        world.cleanup()


def main() -> int:
    procs.interrupt_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a_dir", type=Path)
    parser.add_argument("b_dir", type=Path)
    parser.add_argument("--streams", default="100,1000,2000", help="comma-separated stream counts")
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    ns = [int(n) for n in args.streams.split(",")]
    asyncio.run(main_async(args.a_dir.resolve(), args.b_dir.resolve(), ns, args.trials))
    return 0


if __name__ == "__main__":
    sys.exit(main())
