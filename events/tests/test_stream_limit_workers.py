"""EVENTS_MAX_STREAMS_PER_USER holds over every worker, not per process:
two real Daphne workers on one database and one Redis (a private
redis-server), and, without Redis, two workers reading each other's
presence snapshots. A worker killed with SIGKILL stops counting once its
heartbeat in Redis expires."""

import time

import httpx
import pytest
import redis

from conftest import bearer
from events.models import StreamSnapshot
from events.tests.rawstream import open_stream, status_of
from testsupport import RedisServer, redis_server_installed, require_service

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server(tmp_path):
    require_service("redis-server", *redis_server_installed())
    server = RedisServer(tmp_path / "redis.log").start()
    yield server
    server.stop()


def open_many(server, headers, count: int) -> list:
    held = [open_stream(server.port, "/events/cashier", headers) for _ in range(count)]
    assert [status_of(received) for _, received in held] == [200] * count
    return [sock for sock, _ in held]


def refusal(server, headers) -> dict:
    """The answer to one more stream, which must be a JSON 429 (the status
    is checked before reading: an accepted stream never ends)."""
    with httpx.stream("GET", server.url + "/events/printer", headers=headers, timeout=10) as answer:
        assert answer.status_code == 429
        assert answer.headers["content-type"] == "application/json"
        return answer.read() and answer.json()


def assert_json_429(server, headers) -> None:
    assert refusal(server, headers) == {"message": "Too many open event streams (at most 50 per user or device)"}


def redis_now_ms(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


def heartbeat_of(client: redis.Redis, pid: int) -> float:
    """Until when (Redis time, ms) the worker with this PID counts."""
    [(name, score)] = [
        (name, score)
        for key in client.scan_iter("*:stream-workers")
        for name, score in client.zrange(key, 0, -1, withscores=True)
        if name.decode().split(":")[-2] == str(pid)
    ]
    return score


def test_the_limit_holds_over_two_workers_and_a_killed_workers_streams_stop_counting(daphne, redis_server, operator):
    env = {"REDIS_URL": redis_server.url, "EVENTS_STREAM_COUNT_SECONDS": "3"}
    a, b = daphne(**env), daphne(**env)
    headers = bearer(operator)
    held = open_many(a, headers, 25) + open_many(b, headers, 25)
    try:
        # The 51st over both, on either worker, is a JSON 429.
        assert_json_429(a, headers)
        assert_json_429(b, headers)

        client = redis.Redis.from_url(redis_server.url)
        b.kill()  # SIGKILL by PID: its 25 streams are never released
        killed_at = redis_now_ms(client)
        expiry = heartbeat_of(client, b.process.pid)
        # Its last heartbeat was renewed before the kill: it counts until
        # at most one interval after it.
        assert expiry <= killed_at + 3000
        # Refused while B's heartbeat is fresh; the first opening that
        # starts after it expired is accepted.
        outcomes = []
        for _ in range(400):
            started = redis_now_ms(client)
            sock, received = open_stream(a.port, "/events/cashier", headers)
            outcomes.append((started >= expiry, status_of(received)))
            if status_of(received) == 200:
                held.append(sock)
                break
            sock.close()
            time.sleep(0.05)
        assert outcomes[-1] == (True, 200)
        assert all(status == 429 for after_expiry, status in outcomes[:-1] if not after_expiry)
        assert [status for after_expiry, status in outcomes if after_expiry] == [200]
        # B did not come back to renew it.
        assert heartbeat_of(client, b.process.pid) == expiry
        # A's 25 and the new one count, and B's no more: A takes 24 more, then
        # the 51st is refused.
        held += open_many(a, headers, 24)
        assert_json_429(a, headers)
    finally:
        for sock in held:
            sock.close()


def test_without_redis_the_limit_counts_the_other_workers_streams_from_their_snapshots(daphne, operator):
    env = {"EVENTS_MAX_STREAMS_PER_USER": "3", "EVENTS_PRESENCE_SECONDS": "0.3", "EVENTS_POLL_SECONDS": "300"}
    a, b = daphne(**env), daphne(**env)
    headers = bearer(operator)
    held = open_many(a, headers, 2) + open_many(b, headers, 1)
    try:
        # Wait until A has written its snapshot twice after B's snapshot
        # listed B's stream: A read B's snapshot in between.
        def row(pid):
            return StreamSnapshot.objects.filter(process__endswith=f":{pid}").first()

        for _ in range(400):
            b_row = row(b.process.pid)
            if b_row is not None and b_row.streams:
                break
            time.sleep(0.05)
        else:
            pytest.fail("B never wrote its snapshot")
        beats = []
        for _ in range(400):
            a_row = row(a.process.pid)
            if a_row is not None and a_row.heartbeat > b_row.heartbeat and a_row.heartbeat not in beats:
                beats.append(a_row.heartbeat)
            if len(beats) == 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("A stopped writing its snapshot")
        assert refusal(a, headers) == {"message": "Too many open event streams (at most 3 per user or device)"}
    finally:
        for sock in held:
            sock.close()
