"""What docs/deploy.md promises when a part of the deployment fails, run for
real: Pushpin unreachable, and a backup restored into an empty database."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from django.db import connection
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter

from conftest import bearer
from orders.models import Order
from testsupport import SSEStream, database_url


def test_an_order_is_accepted_and_reaches_direct_streams_while_pushpin_is_unreachable(
    daphne, operator, menu, closed_port
):
    # GRIP configured, but nothing listens where Pushpin should be.
    server = daphne(GRIP_URL=f"http://127.0.0.1:{closed_port}", GRIP_SIG_KEY="a-key-nobody-checks")
    with SSEStream(f"{server.url}/events/cashier", headers=bearer(operator)) as stream:
        assert stream.status_code == 200
        response = httpx.post(
            f"{server.url}/v1/orders",
            json={"table": "2", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1}]},
            headers=bearer(operator),
            timeout=30,
        )
        assert response.status_code == 201, response.text
        order_id = response.json()["id"]
        delivered = stream.collect(1, event="new-order")
    assert delivered[0].json()["id"] == order_id
    assert Order.objects.filter(pk=order_id).exists()
    assert StoredEvent.objects.filter(channel="cashier", type="new-order").count() == 1


def _rows(dsn: str) -> dict[str, list[tuple]]:
    import psycopg

    queries = {
        "orders": "SELECT id, display_code, status, total FROM orders_order ORDER BY id",
        "events": "SELECT channel, eid, type, data FROM django_eventstream_event ORDER BY channel, eid",
        "counters": "SELECT name, value FROM django_eventstream_eventcounter ORDER BY name",
    }
    with psycopg.connect(dsn) as database:
        return {name: database.execute(sql).fetchall() for name, sql in queries.items()}


def test_a_dump_restored_into_an_empty_database_gives_the_same_orders_events_and_counters(
    transactional_db, operator, menu
):
    if connection.vendor != "postgresql":
        pytest.skip("the documented backup is pg_dump/pg_restore: runs on the PostgreSQL set-up (make test-production)")
    from orders import services
    from orders.services import ConfirmInput, LineInput

    for n in range(3):
        order = services.order_create(
            table=str(n), customer=f"guest {n}", lines=[LineInput(food_id=menu["margherita"].id, quantity=n + 1)]
        )
    services.order_confirm(order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CASH"))
    assert EventCounter.objects.get(name="printer").value == 1

    source = database_url(connection.settings_dict)
    restored_name = f"{connection.settings_dict['NAME']}_restored"
    restored = source.rsplit("/", 1)[0] + f"/{restored_name}"
    admin = source.rsplit("/", 1)[0] + "/postgres"
    dump = subprocess.run(["pg_dump", "--format=custom", source], capture_output=True, timeout=120, check=True).stdout

    import psycopg

    with psycopg.connect(admin, autocommit=True) as database:
        database.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
        database.execute(f'CREATE DATABASE "{restored_name}"')
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--dbname", restored], input=dump, capture_output=True, timeout=120, check=True
        )
        original, copy = _rows(source), _rows(restored)
        assert len(original["orders"]) == 3 and len(original["events"]) >= 6
        assert copy == original
    finally:
        with psycopg.connect(admin, autocommit=True) as database:
            database.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
