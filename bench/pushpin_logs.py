"""Pushpin's recovery requests, counted in its handlers' logs: how many a
worker answered, how many Pushpin's proxy refused (the handler logs those
with an error instead of the worker's status; five refusals in a row end the
stream), and the most answered in one second.

`bench/cluster.py` prints this after its held steps; on a directory kept
with `--keep` (or any `make run-cluster` directory):

    .venv/bin/python bench/pushpin_logs.py DIR

Each Pushpin instance's handler logs to `<its dir>/log/pushpin-handler.log`
at `log_level` 2, one line per request it made, e.g.
`[INFO] 2026-12-07 03:38:08.452 GET http://…/events/display?recover=1&… route=… code=200 …`.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

# A request the handler made for a recovery link (its parameter is
# events/transport/grip.py NEXT_PARAM); `code=` and a number when a worker answered.
RECOVERY = re.compile(r"^\[\w+\] (\S+ \d\d:\d\d:\d\d)\.\d+ GET \S*\?recover=")
ANSWERED = re.compile(r" code=\d+\b")


def count(handler_log: Path) -> dict:
    answered = refused = 0
    per_second: Counter[str] = Counter()
    with open(handler_log, errors="replace") as lines:
        for line in lines:
            found = RECOVERY.match(line)
            if found is None:
                continue
            second = found.group(1)
            if ANSWERED.search(line):
                answered += 1
                per_second[second] += 1
            else:
                refused += 1
    return {
        "answered": answered,
        "refused": refused,
        "most_answered_in_a_second": max(per_second.values(), default=0),
    }


def count_all(directory: Path) -> dict[str, dict]:
    """Per Pushpin instance (its directory's name) under `directory`."""
    return {path.parent.parent.name: count(path) for path in sorted(Path(directory).glob("*/log/pushpin-handler.log"))}


def summary_line(counts: dict[str, dict]) -> str:
    if not counts:
        return "Pushpin's recovery requests: no handler log found"
    each = "; ".join(
        f"{name}: {c['answered']:,} answered, {c['refused']:,} refused, at most {c['most_answered_in_a_second']:,} "
        "answered in one second"
        for name, c in counts.items()
    )
    total = sum(c["refused"] for c in counts.values())
    return f"Pushpin's recovery requests (handler logs): {each}; refused in all: {total:,}"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(summary_line(count_all(Path(sys.argv[1]))))
