"""The festival's cashier SPA, walked through over HTTP against a real
Daphne with its cashier stream open: sign in, menu, a pending order, confirm
with a discount, the day's list, the detail, a reprint by {"id"}, the
board's ready and undo, a cancel.
The SPA treats every cashier event other than new-order, confirmed-order and
food-availability-changed as a whole order: each event it receives must be
one of those or carry the whole order."""

from __future__ import annotations

from datetime import date

import httpx

from conftest import PASSWORD
from testsupport import SSEStream

KNOWN = {"new-order", "confirmed-order", "food-availability-changed"}
ORDER_KEYS = {
    "id",
    "displayCode",
    "table",
    "customer",
    "createdAt",
    "confirmedAt",
    "ticketNumber",
    "status",
    "paymentMethod",
    "subTotal",
    "discount",
    "surcharge",
    "total",
    "userId",
    "cashRegisterId",
    "orderItems",
}


def test_the_whole_cashier_flow_works_as_the_spa_calls_it_and_every_cashier_event_is_known_or_an_order(
    daphne, operator, menu
):
    server = daphne()
    http = httpx.Client(base_url=server.url, timeout=30)
    signed_in = http.post("/auth/login", json={"username": operator.username, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"] == {"id": operator.pk, "username": operator.username, "role": "operator"}
    http.headers["Authorization"] = f"Bearer {signed_in.json()['accessToken']}"

    with SSEStream(f"{server.url}/events/cashier", headers={"Authorization": http.headers["Authorization"]}) as stream:
        assert stream.status_code == 200
        assert stream.next().is_position

        categories = http.get("/v1/categories", params={"available": "true", "include": "foods"}).json()
        foods = {food["name"]: food for category in categories for food in category["foods"]}
        assert foods["Margherita"]["available"] is True and foods["Margherita"]["price"] == "12.5"

        placed = http.post(
            "/v1/orders",
            json={
                "table": "7",
                "customer": "Lena",
                "orderItems": [{"foodId": foods["Margherita"]["id"], "quantity": 2, "notes": "well done"}],
            },
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        assert placed.json()["status"] == "PENDING"

        confirmed = http.post(
            f"/v1/orders/{order_id}/confirm",
            json={"paymentMethod": "CASH", "discount": "2", "cashRegisterId": menu["till"].id},
        )
        assert confirmed.status_code == 200, confirmed.text
        assert (confirmed.json()["status"], confirmed.json()["total"], confirmed.json()["ticketNumber"]) == (
            "CONFIRMED",
            "23",
            1,
        )

        today = date.today().isoformat()
        day = http.get("/v1/orders", params={"dateFrom": today, "dateTo": today, "sortBy": "-createdAt"})
        assert day.status_code == 200, day.text
        assert [order["id"] for order in day.json()["data"]] == [order_id]

        detail = http.get(f"/v1/orders/{order_id}").json()
        [group] = detail["categorizedItems"]
        assert group["category"] == {"id": menu["pizza"].id, "name": "Pizza"}
        [line] = group["items"]
        assert (line["food"]["name"], line["quantity"], line["notes"]) == ("Margherita", 2, "well done")

        reprinted = http.post(
            f"/v1/orders/{order_id}/reprint", json={"orderItems": [{"id": line["id"]}], "reprintReceipt": False}
        )
        assert reprinted.status_code == 200, reprinted.text
        assert [item["id"] for item in reprinted.json()["reprintOrderItems"]] == [line["id"]]

        # The board's moves: ready, then undone.
        for status in ("COMPLETED", "CONFIRMED"):
            moved = http.patch(f"/v1/orders/{order_id}", json={"status": status})
            assert (moved.status_code, moved.json()["status"]) == (200, status), moved.text

        cancelled = http.delete(f"/v1/orders/{order_id}")
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED")

        received = []
        while not received or received[-1].event != "order-cancelled":
            received.append(stream.next(timeout=15))
    http.close()

    assert [message.event for message in received] == [
        "new-order",
        "confirmed-order",
        "order-status-update",
        "order-status-update",
        "order-cancelled",
    ]
    assert [message.json()["status"] for message in received[2:]] == ["COMPLETED", "CONFIRMED", "CANCELLED"]
    for message in received:
        payload = message.json()
        assert message.event in KNOWN or ORDER_KEYS <= payload.keys(), (message.event, payload)
    assert received[-1].json()["status"] == "CANCELLED"
    assert received[-1].json()["id"] == order_id
