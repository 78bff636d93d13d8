"""A station's move as today's boards (mynumeri) see it on a real stream:
`order-station-status-update` on display, never an `order-status-update` for
the order's status change it causes; the cashier hears the order's new status
and never the station's event (clients-heads.md E4-E6)."""

from __future__ import annotations

from django_eventstream.models import EventCounter

from conftest import bearer
from testsupport import SSEStream


def head(channel: str) -> int:
    return EventCounter.objects.filter(name=channel).values_list("value", flat=True).first() or 0


def events_until(stream: SSEStream, last: str) -> list[tuple[str, dict]]:
    """(event, payload) of every event the stream delivers, up to and with
    the first `last` (keep-alives and the position message left out)."""
    seen = []
    while not seen or seen[-1][0] != last:
        message = stream.next(timeout=30)
        if message.event not in ("comment", "message"):
            seen.append((message.event, message.json()))
    return seen


def test_stations_finishing_an_order_reach_the_board_as_station_events_only(daphne, operator, menu, stations, api_for):
    server = daphne()
    api = api_for(server, operator)
    order = api.client.post(
        "/v1/orders",
        json={
            "table": "NO_TABLE_PRESET",
            "customer": "NO CUSTOMER",
            "orderItems": [
                {"foodId": menu["margherita"].id, "quantity": 1, "surcharge": 0},
                {"foodId": menu["lemonade"].id, "quantity": 1, "surcharge": 0},
            ],
            "confirm": {"paymentMethod": "CASH", "userId": "", "cashRegisterId": menu["till"].id, "discount": 0},
        },
    ).json()
    streams = {
        channel: SSEStream(
            f"{server.url}/events/{channel}",
            headers={**bearer(operator), "Last-Event-ID": f"{channel}:{head(channel)}"},
        )
        for channel in ("cashier", "display")
    }
    try:
        for station in ("bar", "kitchen"):
            response = api.client.patch(
                f"/v1/orders/{order['id']}/stations/{stations[station].id}", json={"status": "COMPLETED"}
            )
            assert response.status_code == 200, response.text
        # The board's header sheet then picks the whole order up: an order-level
        # move, announced as order-status-update. Everything before it is what
        # the station moves sent.
        assert api.client.patch(f"/v1/orders/{order['id']}", json={"status": "PICKED_UP"}).status_code == 200
        display = events_until(streams["display"], "order-status-update")
        cashier = events_until(streams["cashier"], "order-status-update")
        cashier += events_until(streams["cashier"], "order-status-update")
    finally:
        for stream in streams.values():
            stream.close()
    bar, kitchen = stations["bar"].id, stations["kitchen"].id
    assert [(kind, payload.get("stationId"), payload["status"]) for kind, payload in display] == [
        ("order-station-status-update", bar, "COMPLETED"),
        ("station-progress", None, "CONFIRMED"),
        ("order-station-status-update", kitchen, "COMPLETED"),
        ("station-progress", None, "COMPLETED"),
        ("order-status-update", None, "PICKED_UP"),
    ]
    assert display[0][1] == {"orderId": order["id"], "stationId": bar, "status": "COMPLETED"}
    assert [(kind, payload["id"], payload["status"]) for kind, payload in cashier] == [
        ("order-status-update", order["id"], "COMPLETED"),
        ("order-status-update", order["id"], "PICKED_UP"),
    ]
