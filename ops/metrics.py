"""The Prometheus figures of one server process (prometheus_client).

Each process (a Daphne worker) counts its own requests, streams and
deliveries: with several workers, scrape each worker on its own port (the
balancer would hand each scrape to another worker). The figures that are the
same for every process (printers) and those a process's hub knows (its open
streams, its outbox backlog) are read when scraped (ops/exposition.py).

Invariants: the stream hot path pays nothing per stream; per event, one
counter increment and one histogram observation in a process (at commit and
when its hub hands the event over), never one per stream; no label ever names
a stream, a user or an order. Imports nothing of the project: the apps import this module to
count what they do.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from prometheus_client import Counter, Histogram

REQUESTS = Histogram(
    "ordering_http_request_duration_seconds",
    "Requests answered, by view and status, with their duration (an event stream: how long it was open).",
    ["view", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600),
)
EVENTS_RECORDED = Counter(
    "ordering_events_recorded_total",
    "Events recorded in the log by this process, by channel and type.",
    ["channel", "type"],
)
DELIVERY_LAG = Histogram(
    "ordering_event_delivery_lag_seconds",
    "From the commit of an event recorded in this process to its hand-over to this process's open streams.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ORDERS_CREATED = Counter("ordering_orders_created_total", "Orders created through this process.")
ORDERS_CONFIRMED = Counter("ordering_orders_confirmed_total", "Orders confirmed through this process.")


def observe_request(view: str, status: int, seconds: float) -> None:
    REQUESTS.labels(view, str(status)).observe(seconds)


def event_recorded(channel: str, event_type: str) -> None:
    EVENTS_RECORDED.labels(channel, event_type).inc()


# Commit times of the events this process recorded, until its hub hands
# them over; bounded, so events delivered elsewhere (another process's
# streams) do not pile up.
_committed: OrderedDict[tuple[str, int], float] = OrderedDict()
_COMMITTED_MAX = 10_000


def event_committed(channel: str, event_id: int) -> None:
    _committed[(channel, event_id)] = time.monotonic()
    if len(_committed) > _COMMITTED_MAX:
        _committed.popitem(last=False)


def event_handed_over(channel: str, event_id: int) -> None:
    committed = _committed.pop((channel, event_id), None)
    if committed is not None:
        DELIVERY_LAG.observe(time.monotonic() - committed)
