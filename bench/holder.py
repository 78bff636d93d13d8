"""One load-generator process of bench/cluster.py: holds up to a few
thousand SSE streams (bench/client.py's Fleet) and answers commands, one JSON
object a line on stdin, one JSON answer a line on stdout.

    python bench/holder.py --port 8000 --path /events/printer --header "Authorization: Bearer …"

Commands: {"op": "grow", "total": n, "concurrency": c, "timeout": s} (at
most c openings in flight) · {"op": "reset_gaps"} ·
{"op": "gaps"} (each open stream's longest silence since the reset) ·
{"op": "arm"} (the next confirmed-order is a trial for every open stream) ·
{"op": "wait", "timeout": s} (the trial's first and last receipt, in
time.monotonic(), which every process on the machine shares) · {"op": "cpu"} ·
{"op": "close"}.

Why a process of its own: a process may hold at most RLIMIT_NOFILE sockets
(20,000 on the benchmark machine, not raisable there), and 20,000 streams
want more than one client core. Invariant: every command is answered exactly
once (an error as {"error": "..."}), and the process exits when stdin closes,
so the parent never waits on a holder that is gone."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import Fleet, Trial  # noqa: E402
from bench.procs import raise_nofile  # noqa: E402


async def serve(fleet: Fleet) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    trial: Trial | None = None
    refused = 0  # openings refused so far, over every grow

    def answer(payload: dict) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while line := await reader.readline():
        command = json.loads(line)
        op = command["op"]
        try:
            if op == "grow":
                # An opening refused (Pushpin's 502, say) or closed before its
                # first frame is counted and tried again, as a client
                # application would, at most three times.
                deadline = time.monotonic() + command.get("timeout", 120.0)
                for _ in range(3):
                    try:
                        await fleet.grow(
                            command["total"],
                            concurrency=command.get("concurrency", 64),
                            timeout=max(1.0, deadline - time.monotonic()),
                        )
                    except RuntimeError:
                        fleet.refused = 0
                    before = len(fleet.subscribers)
                    fleet.subscribers = [sub for sub in fleet.subscribers if sub.opened and not sub.closed]
                    refused += before - len(fleet.subscribers)  # refused, or closed before they opened
                    if fleet.live() >= command["total"]:
                        break
                answer({"live": fleet.live(), "refused": refused})
            elif op == "reset_gaps":
                fleet.reset_gaps()
                answer({"live": fleet.live()})
            elif op == "gaps":
                answer({"gaps": [round(g, 4) for g in fleet.gaps(time.monotonic())], "lost": fleet.lost})
            elif op == "arm":
                trial = Trial(fleet.live())
                fleet.trial = trial
                answer({"expected": trial.expected})
            elif op == "wait":
                try:
                    await asyncio.wait_for(trial.done.wait(), command.get("timeout", 30.0))
                finally:
                    fleet.trial = None
                answer(
                    {
                        "first": trial.first,
                        "last": trial.last,
                        "received": trial.received,
                        "expected": trial.expected,
                        "mismatched": trial.mismatched,
                        "event_id": (trial.event_id or b"").decode(),
                    }
                )
            elif op == "cpu":
                answer({"cpu": sum(os.times()[:2])})
            elif op == "close":
                fleet.close()
                answer({"closed": True})
                return
            else:
                answer({"error": f"unknown op {op!r}"})
        except Exception as exc:  # reported to the parent, which decides
            answer({"error": f"{type(exc).__name__}: {exc}", "live": fleet.live(), "refused": fleet.refused})
    fleet.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    args = parser.parse_args()
    raise_nofile()
    headers = dict(h.split(": ", 1) for h in args.header)
    asyncio.run(serve(Fleet(args.port, args.path, headers)))


if __name__ == "__main__":
    main()
