"""Django's stock ASGI handler against config/django_handler.py's, in one
process, request pair by request pair (issue 27): the create-and-confirm of
bench/profile_pair.py (`POST /v1/orders` with 3 lines, confirmed), signed
in with a JWT, through the pacing and the wake-ups after the response
(config.asgi's stack below the request log), the two handlers taking turns
so that both see the same machine. Per pair, the process's CPU
(time.process_time, every thread); prints each handler's mean and median
and the median of the per-round ratios one-hop ÷ stock, on SQLite and
PostgreSQL throw-away databases (bench/common.py). Asserts nothing.

    .venv/bin/python bench/ab_handler.py                  # both databases, 300 rounds
    .venv/bin/python bench/ab_handler.py --sqlite --rounds 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

WARM_UP = 30


async def rounds(count: int) -> dict:
    from django.conf import settings
    from django.core.handlers.asgi import ASGIHandler

    from bench.common import Api
    from bench.profile_pair import in_process_conn
    from config.django_handler import OneHopASGIHandler
    from config.pacing import PacedResponses
    from events.transport.after_response import NotifyAfterResponse
    from events.transport.hub import get_hub, stop_hub

    def stack(handler):
        return NotifyAfterResponse(PacedResponses(handler, timeout=settings.HTTP_SEND_TIMEOUT_SECONDS))

    apps = {"stock": stack(ASGIHandler()), "one hop": stack(OneHopASGIHandler())}
    hub = await get_hub()
    while hub.check_pending:
        await asyncio.sleep(0.05)
    apis = {}
    for name, app in apps.items():
        api = Api(0)
        api.conn = in_process_conn(app)
        apis[name] = await api.login()
    order = json.dumps(apis["stock"].order_body(True)).encode()

    async def pair(name: str) -> float:
        api = apis[name]
        started = time.process_time()
        status, content = await api.conn.request("POST", "/v1/orders", body=order, headers=api.auth)
        if status != 201:
            raise SystemExit(f"POST /v1/orders -> {status}: {content[:300]!r}")
        return time.process_time() - started  # the wake-ups were sent before the application returned

    for number in range(WARM_UP):
        await pair("stock" if number % 2 else "one hop")
    cpu = {name: [] for name in apps}
    for number in range(count):
        for name in ("stock", "one hop") if number % 2 == 0 else ("one hop", "stock"):
            cpu[name].append(await pair(name) * 1000)
    await stop_hub()
    ratios = [b / a for a, b in zip(cpu["stock"], cpu["one hop"], strict=True) if a > 0]
    return {
        "rounds": count,
        "mean_ms": {name: statistics.mean(values) for name, values in cpu.items()},
        "median_ms": {name: statistics.median(values) for name, values in cpu.items()},
        "ratio_median": statistics.median(ratios),
    }


def measure(count: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    return {"engine": connection.vendor, **asyncio.run(rounds(count))}


def main(options) -> None:
    from bench import procs
    from bench.common import measure_on_each_database

    engines = ["sqlite"] if options.sqlite else ["sqlite", "postgresql"]
    machine = procs.machine()
    results = measure_on_each_database(
        "bench/ab_handler.py", ["--rounds", str(options.rounds)], engines, f"{options.rounds} rounds"
    )
    print(f"load average at start {machine['loadavg_at_start']}; code {procs.git_state()}")
    for r in results:
        print(
            f"{r['engine']}: CPU per pair, stock {r['mean_ms']['stock']:.2f} ms (median "
            f"{r['median_ms']['stock']:.2f}), one hop {r['mean_ms']['one hop']:.2f} ms (median "
            f"{r['median_ms']['one hop']:.2f}); one hop ÷ stock per round, median {r['ratio_median']:.3f}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--sqlite", action="store_true", help="SQLite only")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(options.rounds)))
    else:
        main(options)
