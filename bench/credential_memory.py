"""Python heap per entry of the credential cache (events/access/credentials.py),
measured with tracemalloc: the figure docs/deploy.md gives for
EVENTS_CREDENTIAL_CACHE_SIZE.

In a throw-away SQLite database (a temp dir as VAR_DIR), N operators each
get a Bearer token. Each round authenticates every token as a stream opening
does (events.access.authentication.authenticate, then CredentialCache.put under
credential_key) into a fresh cache, and takes the Python heap the cache
keeps: a tracemalloc snapshot before the round and one after it, once the
round's own references are dropped and garbage is collected, so what is
left is what the cache holds. The tokens are made before tracing starts;
each opening's Authorization header is a new string, as a request's is, and
the cache keeps it (the Identity's credential). Rounds alternate with a
round of the same tokens through one user (each entry then still holds its
own user instance). Prints each round and the medians.

    .venv/bin/python bench/credential_memory.py [--tokens 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import shutil
import statistics
import sys
import tempfile
import tracemalloc
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
VAR = tempfile.mkdtemp(prefix="bench-credentials-")
atexit.register(shutil.rmtree, VAR, ignore_errors=True)
os.environ["VAR_DIR"] = VAR
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from events.access.authentication import authenticate, credential_key  # noqa: E402
from events.access.credentials import CredentialCache  # noqa: E402
from users.models import Role, User  # noqa: E402


def fill(tokens: list[str]) -> CredentialCache:
    cache = CredentialCache(max_entries=len(tokens) + 1, idle_seconds=3600, max_age=3600)
    for token in tokens:
        headers = {"authorization": "Bearer " + token}  # a new string, as each request's is
        principal = authenticate(headers, {})
        assert principal is not None, "a token did not authenticate"
        cache.put(credential_key(headers, {}), principal)
    return cache


def kept_per_entry(tokens: list[str]) -> float:
    """Bytes of Python heap a cache of these tokens keeps, per entry."""
    gc.collect()
    before = tracemalloc.take_snapshot()
    cache = fill(tokens)
    gc.collect()
    after = tracemalloc.take_snapshot()
    assert len(cache) == len(tokens)
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del cache
    return grown / len(tokens)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    User.objects.bulk_create(
        User(username=f"operator-{n}", role=Role.OPERATOR, password="!") for n in range(args.tokens)
    )
    users = list(User.objects.filter(username__startswith="operator-"))
    distinct = [str(AccessToken.for_user(user)) for user in users]
    one_user = [str(AccessToken.for_user(users[0])) for _ in range(args.tokens)]
    fill(distinct[:50] + one_user[:50])  # warm-up: imports, query compilation, caches of the libraries

    tracemalloc.start(1)
    results: dict[str, list[float]] = {"distinct users": [], "one user": []}
    for n in range(args.rounds):
        for name, tokens in (("distinct users", distinct), ("one user", one_user)):
            per_entry = kept_per_entry(tokens)
            results[name].append(per_entry)
            print(f"round {n + 1}, {args.tokens:,} Bearer tokens of {name}: {per_entry / 1024:.2f} KB per entry")
    tracemalloc.stop()
    for name, values in results.items():
        median = statistics.median(values)
        print(
            f"median over {args.rounds} rounds, {name}: {median / 1024:.2f} KB of Python heap per Bearer token "
            f"[{min(values) / 1024:.2f}-{max(values) / 1024:.2f}]; a full cache of 20,000: "
            f"{median * 20000 / 2**20:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
