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

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

from events import log
from events.channels import CHANNELS
from events.hub import running_hub
from ops.proxies import is_trusted, parse_address
from orders.models import Printer

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]


def _printers() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "ordering_printers", "Printers by the status their agent last reported.", labels=["status"]
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
        return [_printers(), _backlog()]

    def collect(self):
        printers = _printers()
        counted = dict(Printer.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in Printer._meta.get_field("status").choices:
            printers.add_metric([status[0]], counted.get(status[0], 0))
        yield printers
        backlog = _backlog()
        hub = running_hub()
        if hub is not None:
            heads = log.head_ids(CHANNELS)
            for channel in CHANNELS:
                backlog.add_metric([channel], max(0, heads[channel] - hub.last_ids.get(channel, heads[channel])))
        yield backlog


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
