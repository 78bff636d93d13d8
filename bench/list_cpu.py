"""The list screens' cost (issue 27): GET /v1/orders?limit=100 with lines and
stations' states, and the first loads of the kitchen display
(/kitchen/state) and the board (/display/state), over 100 confirmed orders
of 3 lines each on two stations, on SQLite and on PostgreSQL.

Measured in-process, with Django's test client on a throw-away database
(bench/common.py World: migrate, demo menu, operator): per request the CPU
time of this process (time.process_time: the view, the ORM, the rendering,
the database driver; not the PostgreSQL server's own CPU, nor Daphne's
share of a real request), the wall time (the list with the till's Bearer
token, the screens with a session, as the statement counts are pinned), the SQL statements and the
response's bytes, as medians over ROUNDS requests after WARM_UP. Prints the
table and the run's line; asserts nothing.

    .venv/bin/python bench/list_cpu.py            # both databases
    .venv/bin/python bench/list_cpu.py --sqlite   # SQLite only
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

PATHS = ("/v1/orders?limit=100", "/kitchen/state", "/display/state")
ORDERS = 100
ROUNDS = 30
WARM_UP = 3


def measure() -> dict:
    """In the child process, on DATABASE_URL: seed, then time each path."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.common import OPERATOR
    from orders import services
    from orders.models import Category, Food, Station
    from users.models import User

    operator = User.objects.get(username=OPERATOR)
    categories = list(Category.objects.order_by("position", "name")[:2])
    for position, category in enumerate(categories, start=1):
        station = Station.objects.create(name=f"Station {position}", position=position)
        Category.objects.filter(pk=category.pk).update(station=station)
    foods = [Food.objects.filter(category=category).values_list("id", flat=True).first() for category in categories]
    lines = [services.LineInput(food_id=foods[i % len(foods)], quantity=1 + i, notes="bench") for i in range(3)]
    for n in range(ORDERS):
        services.order_create(
            table=str(n),
            customer=f"Customer {n}",
            lines=lines,
            created_by=operator,
            confirmation=services.ConfirmInput(payment_method="CASH"),
        )

    # The till reads the list with its Bearer token, the screens with a session.
    token = f"Bearer {RefreshToken.for_user(operator).access_token}"
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=token)
    screens = Client(HTTP_HOST="127.0.0.1")
    screens.force_login(operator)
    result = {"engine": connection.vendor, "paths": {}}
    for path in PATHS:
        client = api if path.startswith("/v1/") else screens
        for _ in range(WARM_UP):
            client.get(path)
        cpu, wall = [], []
        for _ in range(ROUNDS):
            with CaptureQueriesContext(connection) as captured:
                started_cpu, started = time.process_time(), time.perf_counter()
                response = client.get(path)
                cpu.append((time.process_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} -> {response.status_code}")
        result["paths"][path] = {
            "cpu_ms": round(statistics.median(cpu), 1),
            "cpu_ms_range": [round(min(cpu), 1), round(max(cpu), 1)],
            "wall_ms": round(statistics.median(wall), 1),
            "statements": len(captured.captured_queries),
            "bytes": len(response.content),
        }
    return result


def main() -> None:
    from bench import procs
    from bench.common import measure_on_each_database

    engines = ["sqlite"] if "--sqlite" in sys.argv else ["sqlite", "postgresql"]
    machine, when = procs.machine(), time.strftime("%Y-%m-%d %H:%M:%S %Z")
    started = time.monotonic()
    results = measure_on_each_database(
        "bench/list_cpu.py", [], engines, f"{ORDERS} orders of 3 lines, then {ROUNDS} requests per path"
    )
    print(
        f"\nRun of {when} on {machine['nproc']} cores, {machine['cpu']}, "
        f"load average at start {machine['loadavg_at_start']}; code {procs.git_state()}; "
        f"the script took {time.monotonic() - started:.1f}s.\n"
    )
    print(
        "| request (100 orders, 3 lines, 2 stations) | database | CPU ms, median [min–max] | wall ms | statements | bytes |"
    )
    print("|---|---|---|---|---|---|")
    for result in results:
        for path, figures in result["paths"].items():
            low, high = figures["cpu_ms_range"]
            print(
                f"| GET {path} | {result['engine']} | {figures['cpu_ms']} [{low}–{high}] | {figures['wall_ms']} "
                f"| {figures['statements']} | {figures['bytes']:,} |"
            )


if __name__ == "__main__":
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
    else:
        main()
