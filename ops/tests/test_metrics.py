"""GET /metrics: Prometheus' text from this process, closed to the outside
(loopback, METRICS_ALLOWED_NETWORKS or METRICS_TOKEN); its figures move with
what the server does: streams, events, deliveries, orders, requests,
printers."""

import httpx
import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from conftest import bearer
from events.tests.test_balancer import wait_for
from events.tests.test_pushpin import behind_pushpin, pushpin  # noqa: F401  (fixtures)
from orders.models import Printer
from testsupport.sse import SSEStream
from users.apikeys import create_key
from users.models import ApiKeyKind


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize(
    ("address", "networks", "authorization", "status"),
    [
        ("127.0.0.1", [], "", 200),
        ("203.0.113.5", [], "", 404),
        ("10.1.2.3", ["10.0.0.0/8"], "", 200),
        ("203.0.113.5", [], "Bearer the-token", 200),
        ("203.0.113.5", [], "Bearer not-the-token", 404),
    ],
)
def test_metrics_answer_loopback_allowed_networks_and_the_token_only(
    db, settings, address, networks, authorization, status
):
    from ops.proxies import parse_networks

    settings.METRICS_ALLOWED_NETWORKS = parse_networks(networks)
    settings.METRICS_TOKEN = "the-token"
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().get("/metrics", REMOTE_ADDR=address, **headers)
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"].startswith("text/plain")
        assert b"ordering_http_request_duration_seconds" in response.content


def test_the_figures_follow_streams_events_orders_and_printers(daphne, operator, menu):
    Printer.objects.filter(pk=menu["kitchen"].pk).update(status="OFFLINE")
    _, raw_key = create_key(name="Board", kind=ApiKeyKind.DISPLAY)
    server = daphne()
    http = httpx.Client(base_url=server.url, timeout=30, headers=bearer(operator))

    with (
        SSEStream(f"{server.url}/events/cashier", headers=bearer(operator)) as person,
        SSEStream(f"{server.url}/events/display", headers={"X-API-KEY": raw_key}) as device,
    ):
        assert person.next().is_position and device.next().is_position
        placed = http.post(
            "/v1/orders",
            json={"table": "7", "customer": "Lena", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1}]},
        )
        assert placed.status_code == 201, placed.text
        confirmed = http.post(
            f"/v1/orders/{placed.json()['id']}/confirm",
            json={"paymentMethod": "CASH", "cashRegisterId": menu["till"].id},
        )
        assert confirmed.status_code == 200, confirmed.text
        person.collect(2, event=None)  # the new order, then its confirmation, reached the stream

        found = samples(httpx.get(f"{server.url}/metrics", timeout=10).text)

    assert value(found, "ordering_open_streams", channel="cashier", kind="person") == 1
    assert value(found, "ordering_open_streams", channel="display", kind="device") == 1
    assert value(found, "ordering_open_streams", channel="printer", kind="grip") == 0
    assert value(found, "ordering_orders_created_total") == 1
    assert value(found, "ordering_orders_confirmed_total") == 1
    assert value(found, "ordering_events_recorded_total", channel="cashier", type="new-order") == 1
    assert value(found, "ordering_event_delivery_lag_seconds_count") >= 2
    assert all(value(found, "ordering_outbox_backlog", channel=channel) == 0 for channel in ("cashier", "display"))
    assert value(found, "ordering_printers", status="OFFLINE") == 1
    assert value(found, "ordering_http_request_duration_seconds_count", view="orders", status="201") == 1
    assert value(found, "ordering_http_request_duration_seconds_count", view="order-confirm", status="200") == 1

    # Closed, each stream is one access line naming who held it.
    lines = server.log_path.read_text
    wait_for(lambda: lines().count('"GET /events/') >= 2, 30, "the streams' access lines")
    assert " olga" in next(line for line in lines().splitlines() if '"GET /events/cashier" 200' in line)
    assert " key:Board" in next(line for line in lines().splitlines() if '"GET /events/display" 200' in line)


def test_streams_held_by_pushpin_are_counted_by_the_worker_that_answered(
    behind_pushpin,  # noqa: F811  (the fixture imported above)
    pushpin,  # noqa: F811
    operator,
):
    (worker,) = behind_pushpin()
    with SSEStream(f"{pushpin.url}/events/printer", headers=bearer(operator)) as held:
        assert held.next().is_position
        found = samples(httpx.get(f"{worker.url}/metrics", timeout=10).text)
    assert value(found, "ordering_open_streams", channel="printer", kind="grip") == 1
    assert value(found, "ordering_open_streams", channel="printer", kind="person") == 0
