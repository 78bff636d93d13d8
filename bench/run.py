"""`make bench`: the performance suite, in one bounded run.

Each benchmark is its own module (bench/fanout.py phases 1 and 5,
bench/idle.py phase 2, bench/held.py phase 3, bench/throughput.py phase 4;
bench/cluster.py, `make bench-cluster`, runs apart). This runner gives each
phase its share of the time budget, catches a phase's failure so the others
still run, prints the two tables and writes bench/results/latest.{md,json}.
Nothing here asserts a timing; it only prints.

    python bench/run.py            # the full suite (a few minutes)
    python bench/run.py --quick    # a smoke run: fewer trials, smaller N
    python bench/run.py --only 1,3 --keep

Every child is stopped by PID in a finally block; the throw-away SQLite
files live in a temp dir and the PostgreSQL database `bench_<pid>` is
dropped at the end."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import fanout, held, idle, procs, throughput  # noqa: E402
from bench.common import QUICK, Profile, World, log  # noqa: E402
from bench.report import StreamsTable  # noqa: E402

# (name, function, cap in seconds, the least it needs)
PHASES = [
    ("fan-out latency and replay", fanout.phase_fanout_and_replay, 170, 45),
    ("idle cost per stream", idle.phase_idle, 90, 25),
    ("streams held", held.phase_held, 170, 40),
    ("order throughput and queries", throughput.phase_throughput, 130, 60),
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


def render(results: dict, profile: Profile) -> str:
    """Table 1 (streams: phases 1, 2, 3, 5 against the baselines) and table 2
    (orders: phase 4, SQLite and PostgreSQL side by side)."""
    streams = StreamsTable()
    fanout.rows(streams, results, profile)
    idle.rows(streams, results, profile)
    held.rows(streams, results, profile)
    fanout.replay_rows(streams, results, profile)
    parts = [streams.render() if streams.rows else "", throughput.render_orders(results, profile)]
    return "\n\n".join(part for part in parts if part)


def main() -> int:
    procs.interrupt_on_sigterm()
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
    detail = throughput.per_line_detail(results)
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
