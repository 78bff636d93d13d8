"""docs/deploy.md's two machines, played on this one: two sets of processes
(`scripts/cluster.py` each, their own VAR_DIR and ports: Pushpin, HAProxy,
two workers), one PostgreSQL, one Redis, a balancer in front of both
Pushpins. Streams opened through the balancer land on both machines; a
worker of each is killed; requests go on being served, and every stream
gets the next order, whichever machine's worker recorded it.

Everything is stopped by PID; nothing is left running."""

import json
import os
import secrets
import signal

import httpx
import pytest
from django.db import connection

from conftest import bearer
from events.tests.test_balancer import require_haproxy, wait_for
from events.tests.test_pushpin import (
    _running,
    cluster_env,
    redis_server,  # noqa: F401  (a fixture)
    run_cluster,
)
from scripts.haproxy import HAProxy
from testsupport import hold_port, hold_ports_in_a_row, pushpin_installed, require_service
from testsupport.sse import SSEStream


class Machine:
    def __init__(self, name: str, tmp_path, env: dict[str, str]):
        self.name = name
        self.root = tmp_path / name
        self.root.mkdir()
        # Held for the machine's life: its cluster script's programs bind
        # them beside the holds (scripts/ports.py).
        self.holds = [hold_port(), hold_port(), *hold_ports_in_a_row(2)]
        self.port, self.publish_port, self.first_worker = (held.port for held in self.holds[:3])
        self.env = {**env, "VAR_DIR": str(self.root)}
        self.process = None

    @property
    def grip_url(self) -> str:
        return f"http://127.0.0.1:{self.publish_port}"

    def start(self, peer: "Machine") -> None:
        self.process = run_cluster(
            self.root,
            self.env,
            "--workers", "2",
            "--port", str(self.port),
            "--publish-port", str(self.publish_port),
            "--first-worker-port", str(self.first_worker),
            "--peer-grip-url", peer.grip_url,
            "--forwarded-for", "append",  # behind the balancer, whose X-Forwarded-For is believed
            "--no-prepare",
        )  # fmt: skip

    @property
    def state_path(self):
        return self.root / "cluster" / "state.json"

    def state(self) -> dict:
        return json.loads(self.state_path.read_text())

    def worker_logs(self) -> str:
        return "".join(path.read_text() for path in (self.root / "cluster").glob("worker-*.log"))

    def pids(self) -> list[int]:
        if not self.state_path.exists():
            return []
        state = self.state()
        return [
            state["haproxy"]["pid"],
            *(pid for pushpin in state["pushpins"] for pid in (pushpin["pid"], *pushpin["children"])),
            *(worker["pid"] for worker in state["workers"]),
        ]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.mark.redis
@pytest.mark.heavy  # two whole clusters and a balancer: alone, after the others
def test_two_machines_behind_a_balancer_keep_serving_and_streaming_with_a_worker_of_each_killed(
    transactional_db,
    tmp_path,
    settings,
    redis_server,  # noqa: F811  (the fixture imported above)
    operator,
    menu,
):
    if not connection.vendor == "postgresql":
        pytest.skip("the two-machine set-up runs on PostgreSQL (DATABASE_URL=postgres://…)")
    require_service("pushpin", *pushpin_installed())
    require_haproxy()
    env = cluster_env(
        settings,
        REDIS_URL=redis_server.url,
        GRIP_SIG_KEY=secrets.token_urlsafe(32),  # the same on both machines
        TRUSTED_PROXIES="127.0.0.1/32",  # the balancer, this machine's Pushpin and HAProxy
    )
    a, b = Machine("a", tmp_path, env), Machine("b", tmp_path, env)
    balancer = HAProxy(tmp_path / "balancer", [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], check_interval_ms=500)
    streams: list[SSEStream] = []
    pids: list[int] = []
    try:
        a.start(peer=b)
        b.start(peer=a)
        for machine in (a, b):
            wait_for(
                lambda m=machine: m.state_path.exists() or m.process.poll() is not None,
                90,
                f"machine {machine.name} up",
            )
            assert machine.process.poll() is None, machine.process.stdout.read()
        pids = a.pids() + b.pids()
        balancer.start()
        wait_for(lambda: [row["status"] for row in balancer.stats().values()] == ["UP", "UP"], 30, "both machines in")
        url = f"http://127.0.0.1:{balancer.port}"

        # Streams through the balancer: leastconn spreads them over both
        # machines' Pushpins.
        for _ in range(4):
            stream = SSEStream(f"{url}/events/cashier", headers=bearer(operator))
            streams.append(stream)
            assert stream.status_code == 200
            assert stream.next().is_position
        for machine in (a, b):
            wait_for(
                lambda m=machine: '"GET /events/cashier" 200 ' in m.worker_logs(), 10, f"a stream on {machine.name}"
            )

        # A worker of each machine dies.
        for machine in (a, b):
            os.kill(machine.state()["workers"][0]["pid"], signal.SIGKILL)

        with httpx.Client(base_url=url, timeout=30, headers=bearer(operator)) as client:
            assert [client.get("/v1/categories").status_code for _ in range(10)] == [200] * 10
            placed = client.post(
                "/v1/orders",
                json={
                    "table": "4",
                    "customer": "Two machines",
                    "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1}],
                },
            )
            assert placed.status_code == 201, placed.text

        # Every stream, whichever machine holds it, gets the order.
        for stream in streams:
            assert stream.collect(1, event="new-order")[0].json()["id"] == placed.json()["id"]

        # The client's own address through balancer, Pushpin and HAProxy.
        elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=url, timeout=30, transport=elsewhere) as client:
            rid = client.get("/v1/categories").headers["X-Request-ID"]
        wait_for(
            lambda: any(rid in line and " 127.0.0.2 " in line for m in (a, b) for line in m.worker_logs().splitlines()),
            10,
            "the access line with the client's address",
        )
    finally:
        for stream in streams:
            stream.close()
        balancer.stop()
        for machine in (a, b):
            pids += machine.pids()
            machine.stop()
    assert [pid for pid in set(pids) if pid and _running(pid)] == []
    assert not _running(balancer.process.pid)
