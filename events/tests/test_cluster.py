"""Several Daphne workers on one database, joined by Redis: ticket numbers,
races between cashiers on different workers, a worker killed mid-burst, and
many streams against a bounded number of database connections.

These run on whichever database the suite runs on; CI runs the suite once on
SQLite and once on PostgreSQL + Redis."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import bearer
from events.tests.test_delivery import stream
from events.tests.test_resources import connection_budget, database_connections_of, open_raw_stream
from testsupport import RedisServer, redis_server_installed, require_service

pytestmark = [pytest.mark.redis, pytest.mark.heavy]


@pytest.fixture
def workers(daphne, tmp_path):
    """Two workers sharing the test database and a private Redis."""
    require_service("redis-server", *redis_server_installed())
    redis_server = RedisServer(tmp_path / "redis.log").start()
    # One operator opens all the streams of these tests: no per-user limit.
    env = {"REDIS_URL": redis_server.url, "EVENTS_MAX_STREAMS_PER_USER": "1000"}
    yield daphne(**env), daphne(**env)
    redis_server.stop()


def test_eight_cashiers_on_two_workers_get_unique_gapless_ticket_numbers(workers, operator, menu, api_for):
    a, b = workers
    creator = api_for(a, operator)
    pending = [creator.create_order(menu["margherita"].id)["id"] for _ in range(48)]
    cashiers = [api_for(a if n % 2 == 0 else b, operator) for n in range(8)]

    def confirm_share(index: int) -> list[dict]:
        responses = [cashiers[index].confirm(order_id) for order_id in pending[index::8]]
        assert [response.status_code for response in responses] == [200] * len(responses)
        return [response.json() for response in responses]

    with ThreadPoolExecutor(max_workers=8) as pool:
        confirmed = [order for share in pool.map(confirm_share, range(8)) for order in share]
    assert sorted(order["ticketNumber"] for order in confirmed) == list(range(1, 49))
    assert len({order["displayCode"] for order in confirmed}) == 48


def test_two_cashiers_confirming_one_order_on_two_workers_exactly_one_wins(workers, operator, menu, api_for):
    a, b = workers
    on_a, on_b = api_for(a, operator), api_for(b, operator)

    def race(order_id: int) -> list[int]:
        start = threading.Barrier(2, timeout=10)

        def confirm(api) -> int:
            start.wait()
            return api.confirm(order_id).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            return sorted(pool.map(confirm, [on_a, on_b]))

    for _ in range(6):
        assert race(on_a.create_order(menu["margherita"].id)["id"]) == [200, 409]


def test_a_worker_killed_mid_burst_loses_nothing_for_clients_that_reconnect_to_another(
    workers, operator, menu, api_for
):
    a, b = workers
    on_b = api_for(b, operator)
    pending = [on_b.create_order(menu["margherita"].id)["id"] for _ in range(40)]
    printer_on_a = stream(a, operator, "printer")
    try:
        assert printer_on_a.next().is_position
        burst = threading.Thread(target=lambda: [on_b.confirm(order_id) for order_id in pending], daemon=True)
        burst.start()
        before_kill = printer_on_a.collect(10, timeout=30)
        a.kill()
    finally:
        printer_on_a.close()
    # Whatever arrived after the tenth event and before the kill is lost with
    # the connection; the client resumes from the last id it processed.
    last_seen = before_kill[-1].id
    with stream(b, operator, "printer", last_event_id=last_seen) as printer_on_b:
        assert printer_on_b.next().is_position
        rest = printer_on_b.collect(30, timeout=60)
        burst.join(timeout=60)
        assert not burst.is_alive()
    received = before_kill + rest
    assert [m.id for m in received] == [f"printer:{n}" for n in range(1, 41)]
    assert sorted(m.json()["id"] for m in received) == sorted(pending)


def test_five_hundred_streams_share_a_handful_of_database_connections(workers, operator, menu, api_for):
    a, b = workers
    headers = bearer(operator)
    sockets = []
    try:
        for n in range(500):
            sockets.append(open_raw_stream((a if n % 2 == 0 else b).port, headers))
        held = database_connections_of(a.process.pid) + database_connections_of(b.process.pid)
        assert held <= 2 * connection_budget(), f"{held} database connections for 500 idle streams"
        order = api_for(a, operator).create_order(menu["margherita"].id)
        assert api_for(b, operator).confirm(order["id"]).status_code == 200
        wanted = f'"id": {order["id"]}'.encode()
        for sock in sockets:
            received = b""
            while wanted not in received:
                chunk = sock.recv(65536)
                assert chunk, "a stream closed before the confirmation arrived"
                received += chunk
    finally:
        for sock in sockets:
            sock.close()
