"""Phase 3 of `make bench`: how many idle streams one server holds with
keep-alives on time. Each server (the project, the Daphne floor, raw
asyncio) ramps alone through the steps with a short keep-alive interval; at
each step every stream's longest silence over a few intervals is recorded.

Invariant: a step holds when every stream is still open and the p99 of those
silences is at most the interval + 1 s; the ramp stops at the first step that
does not hold. The three servers share one keep-alive policy (due after
interval − tick of silence, ticks on a fixed rhythm, as events/transport/hub.py), so the
gaps compare implementations, not policies."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from bench.client import Fleet
from bench.common import LABELS, SYSTEMS, Api, Profile, Server, World, log
from bench.report import StreamsTable
from bench.stats import fmt, percentile


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


def rows(tbl: StreamsTable, results: dict, profile: Profile) -> None:
    held = results.get("held", {})
    if held.get("ours", {}).get("steps"):
        ours = held["ours"]
        cells = {"stock": ("not run: a thread and a DB connection per stream (see 2.)", "")}
        for name in ("floor", "raw"):
            other = held.get(name)
            if other and other.get("steps"):
                cells[name] = (f"{other['held']:,}", f"{ours['held'] / other['held']:.2f}×" if other["held"] else "n/a")
        tbl.add(
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
            tbl.add(
                f"3. at {target:,} streams: gap p50 / p99 / max; opens per second; RSS; threads",
                describe(mine) if mine else "not reached",
                cells,
            )
        for name in ("ours", "floor", "raw"):
            for step in held.get(name, {}).get("steps", []):
                if "error" in step:
                    tbl.add(f"3. {LABELS[name]}: at {step['streams']:,} streams", step["error"], {})
