from __future__ import annotations

import httpx
import pytest

from conftest import bearer


class Api:
    """A cashier's HTTP client against a running server."""

    def __init__(self, base_url: str, user):
        self.client = httpx.Client(base_url=base_url, headers=bearer(user), timeout=30)

    def create_order(
        self, food_id: str, *, quantity: int = 1, table: str = "1", customer: str = "Ann", **extra
    ) -> dict:
        response = self.client.post(
            "/v1/orders",
            json={
                "table": table,
                "customer": customer,
                "orderItems": [{"foodId": food_id, "quantity": quantity}],
                **extra,
            },
        )
        assert response.status_code == 201, response.text
        return response.json()

    def confirm(self, order_id: int, **body) -> httpx.Response:
        return self.client.post(f"/v1/orders/{order_id}/confirm", json={"paymentMethod": "CASH", **body})

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def api_for():
    clients: list[Api] = []

    def make(server, user) -> Api:
        client = Api(server.url, user)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
