"""GET /metrics: this process's figures in Prometheus' text format.

Closed to the outside by default: it answers a client on loopback or in
METRICS_ALLOWED_NETWORKS (the address ops/proxies.py made), or a request with
"Authorization: Bearer METRICS_TOKEN"; anyone else gets the 404 an unknown
path gets, so a scan learns nothing.

Read when scraped, not counted: printers by status (one query), and the
outbox backlog, per channel: the events in the log that this process's hub
has not yet handed to its streams (the log's head minus the hub's position;
absent before the process's first stream).
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

from events.access.holders import longest_recover_seconds
from events.core import log
from events.core.channels import CHANNELS
from events.transport.hub import running_hub
from ops.proxies import is_trusted, parse_address
from orders.models import Printer

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]


def _printers() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "ordering_printers", "Printers by the status their agent last reported.", labels=["status"]
    )


def _streams() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "ordering_open_streams",
        "Event streams open on this process by channel and kind: person, device, "
        "grip (held by Pushpin, answered lately by this process).",
        labels=["channel", "kind"],
    )


def _backlog() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "ordering_outbox_backlog",
        "Events in the log that this process's hub has not yet handed to its streams.",
        labels=["channel"],
    )


class ReadWhenScraped:
    def describe(self):
        # What register() asks for: the names, without a query.
        return [_printers(), _streams(), _backlog()]

    def collect(self):
        printers = _printers()
        counted = dict(Printer.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in Printer._meta.get_field("status").choices:
            printers.add_metric([status[0]], counted.get(status[0], 0))
        yield printers
        streams, backlog = _streams(), _backlog()
        hub = running_hub()
        if hub is not None:
            for channel, count in open_streams(hub).items():
                for kind, n in count.items():
                    streams.add_metric([channel, kind], n)
        yield streams
        if hub is not None:
            heads = log.head_ids(CHANNELS)
            for channel in CHANNELS:
                backlog.add_metric([channel], max(0, heads[channel] - hub.last_ids.get(channel, heads[channel])))
        yield backlog


def open_streams(hub) -> dict[str, dict[str, int]]:
    """Per channel: the streams this process serves, by person and device,
    and those Pushpin holds that it answered lately."""
    counts = {channel: {"person": 0, "device": 0, "grip": 0} for channel in CHANNELS}
    for channel, members in list(hub.subscribers.items()):
        for subscriber in list(members):  # the event loop changes the set meanwhile
            if subscriber.closed or subscriber.identity is None:
                continue
            counts[channel]["person" if subscriber.identity.user_id is not None else "device"] += 1
    horizon = time.time() - 2 * longest_recover_seconds()
    for key, held in list(hub.held_streams.items()):
        if held.seen >= horizon and key[0] in counts:
            counts[key[0]]["grip"] += 1
    return counts


REGISTRY.register(ReadWhenScraped())  # once: urls.py imports this module once a process


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    address = parse_address(request.META.get("REMOTE_ADDR") or "")
    return is_trusted(address, LOOPBACK + list(settings.METRICS_ALLOWED_NETWORKS))


@require_safe
def metrics(request):
    if not allowed(request):
        raise Http404
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
