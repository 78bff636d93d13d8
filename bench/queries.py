"""Queries per request, counted in-process with CaptureQueriesContext, for
orders of 1, 3 and 10 lines: create-and-confirm (one POST /v1/orders with
`confirm`), create alone, and confirm alone. Each query is also tagged with
the first project frame (file:line) that issued it, so a query that repeats
per line can be named. The count includes what the request's on_commit
callbacks run (event payloads and the event log), as a real request does.

Prints one JSON object. Runs against DATABASE_URL (the bench's database)."""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from orders.models import CashRegister, Food  # noqa: E402
from users.models import Role, User  # noqa: E402

SKIP = (str(BASE_DIR / ".venv"), str(BASE_DIR / "bench"), "/lib/python3")


def _where(frame) -> str:
    name = frame.filename
    short = name.split("site-packages/")[1] if "site-packages/" in name else os.path.relpath(name, BASE_DIR)
    return f"{short}:{frame.lineno} ({frame.name})"


def project_site() -> str:
    """Where a query comes from: the innermost project frame (file:line), and
    before it the innermost library frame outside Django when a library
    issued it ("django_eventstream/models.py:… ← events/outbox/publisher.py:…")."""
    stack = traceback.extract_stack()[:-2]
    project = library = None
    for frame in reversed(stack):
        name = frame.filename
        if name.startswith(str(BASE_DIR)) and not name.startswith(SKIP):
            project = frame
            break
        if library is None and "site-packages/" in name and "site-packages/django/" not in name:
            library = frame
    if project is None:
        return _where(library) if library else "?"
    return f"{_where(library)} ← {_where(project)}" if library else _where(project)


def shape(sql: str) -> str:
    """Verb and table ("INSERT orders_orderitem", "SELECT … FOR UPDATE"):
    the same statement reads the same whatever the number of rows, even
    where the backend writes a multi-row insert differently (PostgreSQL's
    UNNEST form)."""
    text = re.sub(r"\s+", " ", sql).strip()
    verb = text.split(" ", 1)[0].upper()
    pattern = {
        "SELECT": r"\bFROM \"?(\w+)",
        "INSERT": r"\bINTO \"?(\w+)",
        "UPDATE": r"^UPDATE \"?(\w+)",
        "DELETE": r"\bFROM \"?(\w+)",
    }
    match = re.search(pattern[verb], text, re.IGNORECASE) if verb in pattern else None
    if match is None:
        return text[:40]
    return f"{verb} {match.group(1)}" + (" FOR UPDATE" if text.upper().endswith("FOR UPDATE") else "")


EXAMPLES: dict[str, str] = {}


class Recorder:
    def __init__(self):
        self.sites: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        key = f"{project_site()} | {shape(sql)}"
        EXAMPLES.setdefault(key, re.sub(r"\s+", " ", sql)[:200])
        self.sites.append(key)
        return execute(sql, params, many, context)


TRANSACTION_CONTROL = "(Django's atomic) | COMMIT / BEGIN / SAVEPOINT, not through cursor.execute"


def measure(client: APIClient, method: str, path: str, body: dict | None) -> tuple[int, Counter, dict]:
    recorder = Recorder()
    with connection.execute_wrapper(recorder), CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, body, format="json")
    if response.status_code not in (200, 201):
        raise SystemExit(f"{method.upper()} {path} -> {response.status_code}: {response.content[:300]!r}")
    sites = Counter(recorder.sites)
    # CaptureQueriesContext also logs the transaction statements that Django
    # issues through the connection itself (COMMIT, and BEGIN on PostgreSQL).
    unseen = len(captured.captured_queries) - len(recorder.sites)
    if unseen > 0:
        sites[TRANSACTION_CONTROL] = unseen
    return len(captured.captured_queries), sites, response.json()


def main() -> None:
    user = User.objects.filter(username="bench-queries").first()
    if user is None:
        user = User(username="bench-queries", role=Role.OPERATOR)
        user.set_password("bench-queries-password")
        user.save()
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    foods = list(Food.objects.filter(available=True, category__available=True).values_list("id", flat=True))
    till = CashRegister.objects.filter(enabled=True).values_list("id", flat=True).first()
    confirm = {"paymentMethod": "CASH", **({"cashRegisterId": till} if till else {})}

    def lines(n: int) -> list[dict]:
        return [{"foodId": foods[i % len(foods)], "quantity": 1 + i % 3, "notes": "bench"} for i in range(n)]

    # One warm-up request: first-use costs (content types, counters) are not per request.
    measure(client, "post", "/v1/orders", {"table": "Q", "customer": "Q", "orderItems": lines(1), "confirm": confirm})

    result = {"engine": connection.vendor, "cases": {}}
    for n in (1, 3, 10):
        total, create_confirm_sites, _ = measure(
            client, "post", "/v1/orders", {"table": "Q", "customer": "Q", "orderItems": lines(n), "confirm": confirm}
        )
        created, create_sites, order = measure(
            client, "post", "/v1/orders", {"table": "Q", "customer": "Q", "orderItems": lines(n)}
        )
        confirmed, confirm_sites, _ = measure(client, "post", f"/v1/orders/{order['id']}/confirm", confirm)
        result["cases"][n] = {
            "create_and_confirm": total,
            "create": created,
            "confirm": confirmed,
            "sites": {"create_and_confirm": create_confirm_sites, "create": create_sites, "confirm": confirm_sites},
        }
    # Which (site, statement) pairs grow with the number of lines?
    per_line = {}
    for kind in ("create_and_confirm", "create", "confirm"):
        keys = set().union(*(result["cases"][n]["sites"][kind] for n in (1, 3, 10)))
        for key in sorted(keys):
            counts = [result["cases"][n]["sites"][kind].get(key, 0) for n in (1, 3, 10)]
            if counts[2] > counts[0]:
                per_line.setdefault(kind, []).append({"query": key, "counts_1_3_10": counts})
    result["per_line"] = per_line
    result["examples"] = EXAMPLES
    print(json.dumps(result, default=dict))


if __name__ == "__main__":
    main()
