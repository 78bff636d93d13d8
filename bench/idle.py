"""Phase 2 of `make bench`: what an idle stream costs. RSS and threads
from /proc, and database connections (descriptors on the SQLite file), at 0
and at N open streams after a warm-up stream; per stream = delta / N. The
project, stock django-eventstream, the Daphne floor and raw asyncio, on
fresh servers each trial.

Invariant: the warm-up stream is opened and closed before the first reading,
so the hub, the URLconf and the first connection are not counted per stream."""

from __future__ import annotations

import asyncio
import time

from bench.client import Fleet
from bench.common import SYSTEMS, Api, Profile, Server, World, log
from bench.report import BASES, StreamsTable, paired_ratio
from bench.stats import fmt_summary, summary


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


def rows(tbl: StreamsTable, results: dict, profile: Profile) -> None:
    idle = results.get("idle")
    if idle and idle["per_stream"]["ours"]["rss_kb"]:
        ps, n = idle["per_stream"], idle["streams"]
        for key, label, digits in (
            ("rss_kb", "RSS (KB)", 1),
            ("threads", "threads", 3),
            ("db_conns", "DB connections", 3),
        ):
            cells = {}
            for name in BASES:
                values = ps[name][key]
                if not values:
                    cells[name] = ("no database", "")
                else:
                    positive = any(v > 0 for v in values)
                    cells[name] = (
                        fmt_summary(summary(values), digits),
                        paired_ratio(ps["ours"][key], values, zero_ok=True) if positive else "n/a",
                    )
            tbl.add(
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
        tbl.add(
            f"2. the server at 0 and at {n:,} streams (last trial)",
            absolute["ours"],
            {name: (absolute[name], "") for name in BASES},
        )
