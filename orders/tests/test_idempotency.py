"""Idempotency-Key on POST /v1/orders, /confirm and /reprint
(idempotency/decorators.py): a retry gets the first answer and writes nothing."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from conftest import bearer
from idempotency.models import IdempotentRequest
from orders.models import Order
from orders.tests.helpers import api_client_for, events_since, make_staff, snapshot
from testsupport import SSEStream
from users.models import Role


@pytest.fixture
def new_order(menu):
    return {"table": "4", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 2}]}


def keyed(client, key: str):
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"], HTTP_IDEMPOTENCY_KEY=key)
    return client


def test_a_retried_create_returns_the_first_answer_and_creates_nothing(operator_client, send, new_order):
    client = keyed(operator_client, "order-7f3a")
    first = send(client, "post", "/v1/orders", new_order)
    before = snapshot()

    retry = send(client, "post", "/v1/orders", new_order)

    assert first.status_code == 201
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert snapshot() == before
    assert events_since(before) == []


def test_the_same_key_with_another_body_is_a_409_and_writes_nothing(operator_client, send, new_order):
    client = keyed(operator_client, "order-1")
    send(client, "post", "/v1/orders", new_order)
    before = snapshot()

    response = send(client, "post", "/v1/orders", {**new_order, "table": "5"})

    assert response.status_code == 409
    assert set(response.json()) == {"message"}
    assert snapshot() == before


def test_the_same_key_on_another_endpoint_is_a_409(operator_client, send, new_order, place_order):
    client = keyed(operator_client, "k-1")
    order = place_order()
    send(client, "post", "/v1/orders", new_order)
    before = snapshot()
    response = send(client, "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CASH"})
    assert response.status_code == 409
    assert snapshot() == before


def test_keys_belong_to_their_caller(operator, send, new_order):
    other = make_staff("otto", Role.OPERATOR)
    first = send(keyed(api_client_for(operator), "same-key"), "post", "/v1/orders", new_order)
    second = send(keyed(api_client_for(other), "same-key"), "post", "/v1/orders", new_order)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_a_retried_confirmation_returns_the_confirmed_order_without_a_second_ticket(operator_client, send, place_order):
    order = place_order()
    client = keyed(operator_client, "confirm-1")
    first = send(client, "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CASH"})
    before = snapshot()

    retry = send(client, "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CASH"})

    assert (first.status_code, first.json()["ticketNumber"]) == (200, 1)
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert snapshot() == before
    # Without the key, confirming again is the usual conflict.
    operator_client.credentials(HTTP_AUTHORIZATION=operator_client._credentials["HTTP_AUTHORIZATION"])
    assert send(operator_client, "post", f"/v1/orders/{order.id}/confirm", {"paymentMethod": "CASH"}).status_code == 409


def test_a_retried_reprint_prints_once(operator_client, send, place_order, menu):
    from orders.tests.helpers import CASH

    order = place_order(confirm=CASH)
    client = keyed(operator_client, "reprint-1")
    body = {"reprintReceipt": True}
    first = send(client, "post", f"/v1/orders/{order.id}/reprint", body)
    before = snapshot()

    retry = send(client, "post", f"/v1/orders/{order.id}/reprint", body)

    assert first.status_code == 200, first.content
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert snapshot() == before
    assert events_since(before) == []


def test_a_failed_request_keeps_no_key_and_its_retry_runs_again(operator_client, send, new_order):
    client = keyed(operator_client, "bad-then-good")
    bad = {**new_order, "orderItems": [{**new_order["orderItems"][0], "quantity": 0}]}
    before = snapshot()

    assert send(client, "post", "/v1/orders", bad).status_code == 400
    assert send(client, "post", "/v1/orders", bad).status_code == 400
    assert snapshot() == before
    assert IdempotentRequest.objects.count() == 0
    # The client fixes the body and tries again with the same key.
    assert send(client, "post", "/v1/orders", new_order).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "two words"])
def test_a_malformed_key_is_a_400_naming_the_header(operator_client, send, new_order, key):
    before = snapshot()
    response = send(keyed(operator_client, key), "post", "/v1/orders", new_order)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["Idempotency-Key"]
    assert snapshot() == before


def test_an_anonymous_request_with_a_key_is_a_401_and_keeps_nothing(anon_client, send, new_order):
    anon_client.credentials(HTTP_IDEMPOTENCY_KEY="anon")
    assert send(anon_client, "post", "/v1/orders", new_order).status_code == 401
    assert IdempotentRequest.objects.count() == 0


def test_a_key_older_than_the_window_is_free_again(operator_client, send, new_order, settings):
    client = keyed(operator_client, "old-key")
    first = send(client, "post", "/v1/orders", new_order).json()
    IdempotentRequest.objects.update(
        created_at=IdempotentRequest.objects.get().created_at - timedelta(hours=24, seconds=1)
    )

    again = send(client, "post", "/v1/orders", new_order)

    assert again.status_code == 201
    assert again.json()["id"] != first["id"]
    assert Order.objects.count() == 2


# --- a real server: concurrent retries, and the events a client sees -------------------


def test_concurrent_requests_with_one_key_make_one_order_and_one_event(daphne, operator, menu, new_order):
    server = daphne()
    headers = {**bearer(operator), "Idempotency-Key": "burst-1"}

    def create(_):
        return httpx.post(f"{server.url}/v1/orders", json=new_order, headers=headers, timeout=60)

    with SSEStream(f"{server.url}/events/cashier", headers=bearer(operator)) as stream:
        with ThreadPoolExecutor(max_workers=6) as pool:
            responses = list(pool.map(create, range(6)))
        # A marker after the burst: every new-order before it is the burst's.
        marker = httpx.post(f"{server.url}/v1/orders", json={**new_order, "table": "M"}, headers=bearer(operator))
        received = stream.collect(2, event="new-order")

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert Order.objects.count() == 2
    assert [message.json()["id"] for message in received] == [responses[0].json()["id"], marker.json()["id"]]
