"""`make run-cluster` with HAProxy between Pushpin and the workers: requests
spread over every worker, a worker killed with SIGKILL is taken out with no
failed request beyond the one it was serving, and put back once the script
has restarted it; what HAProxy answers itself is JSON.

The cluster runs as `make run-cluster` runs it (scripts/cluster.py in a child
process, its own Pushpin, HAProxy and Daphne workers on free ports), on the
suite's database and a private Redis; everything is stopped by PID."""

import json
import os
import re
import signal
import socket
import threading
import time

import httpx
import pytest

from events.tests.test_pushpin import (
    Api,
    _running,
    cluster_args,
    cluster_env,
    cluster_ports,  # noqa: F401  (a fixture)
    listen,
    redis_server,  # noqa: F401  (a fixture)
    run_cluster,
)
from scripts.haproxy import HAProxy, check_host, missing_binary
from testsupport import pushpin_installed, require_service


def require_haproxy() -> None:
    missing = missing_binary()
    require_service("haproxy", missing is None, "haproxy is not installed (Debian: apt-get install haproxy)")


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} within {timeout:g} s"
        time.sleep(interval)


def served_by(log_text: str, path: str) -> int:
    """Requests for `path` in a worker's Daphne access log."""
    return len(re.findall(rf'"GET {re.escape(path)}" 200', log_text))


@pytest.mark.redis
@pytest.mark.heavy
def test_run_cluster_spreads_requests_over_every_worker_and_takes_a_killed_one_out_and_back(
    transactional_db,
    tmp_path,
    settings,
    redis_server,  # noqa: F811  (the fixture imported above)
    cluster_ports,  # noqa: F811
    operator,
    menu,
):
    require_service("pushpin", *pushpin_installed())
    require_haproxy()
    port, first_worker = cluster_ports.port, cluster_ports.first_worker
    env = cluster_env(settings, REDIS_URL=redis_server.url)
    process = run_cluster(tmp_path, env, *cluster_args(cluster_ports))
    directory = tmp_path / "cluster"
    state_path = directory / "state.json"
    url = f"http://127.0.0.1:{port}"
    workers = [f"127.0.0.1:{first_worker}", f"127.0.0.1:{first_worker + 1}"]
    state = restarted = {"pushpin": {"pid": 0, "children": []}, "haproxy": {"pid": 0}, "workers": []}
    try:
        wait_for(lambda: state_path.exists() or process.poll() is not None, 60, "the cluster started")
        assert process.poll() is None, process.stdout.read()
        state = json.loads(state_path.read_text())
        balancer = HAProxy(
            directory / "haproxy", workers, port=state["haproxy"]["port"], stats_port=state["haproxy"]["stats_port"]
        )
        routes = (directory / "pushpin" / "routes").read_text().splitlines()
        assert routes[0].split() == ["*", balancer.target], "Pushpin's one target is the balancer"

        # Requests through Pushpin reach both workers (each worker's own
        # access log says so, and HAProxy's count agrees).
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(20):
                assert client.get("/v1/categories").status_code == 200
        logs = [(directory / f"worker-{first_worker + n}.log") for n in range(2)]
        counts = [served_by(path.read_text(), "/v1/categories") for path in logs]
        assert all(count >= 3 for count in counts), counts
        stats = balancer.stats()
        assert [stats[worker]["status"] for worker in workers] == ["UP", "UP"]

        # The workers see the client's own address through Pushpin and
        # HAProxy (TRUSTED_PROXIES set by the script), not one it claims.
        elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=url, timeout=10, transport=elsewhere) as client:
            assert client.get("/v1/categories", headers={"X-Forwarded-For": "6.6.6.6"}).status_code == 200

        def lines() -> list[str]:
            return [line for path in logs for line in path.read_text().splitlines()]

        # (The access line is written once the response has ended.)
        wait_for(
            lambda: any('"GET /v1/categories" 200 ' in line and " 127.0.0.2 " in line for line in lines()),
            10,
            "the access line with the client's own address",
        )
        assert not any("6.6.6.6" in line for line in lines())

        # A stream held by Pushpin while its worker dies, and requests going
        # on all along: only a request the worker was serving may fail.
        statuses: list[int] = []
        stop = threading.Event()

        def keep_asking() -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                while not stop.is_set() and len(statuses) < 5000:
                    try:
                        statuses.append(client.get("/v1/categories").status_code)
                    except httpx.HTTPError:
                        statuses.append(0)

        asker = threading.Thread(target=keep_asking)
        with listen(url, operator, "printer") as printer:
            assert printer.next().is_position
            asker.start()
            try:
                wait_for(lambda: len(statuses) >= 10, 30, "requests flowing")
                victim = state["workers"][0]
                os.kill(victim["pid"], signal.SIGKILL)
                log_path = directory / "haproxy" / "haproxy.log"
                name = HAProxy.server_name(workers[0])
                wait_for(lambda: f"{name} is DOWN" in log_path.read_text(), 30, "the killed worker taken out")
                asked_at_down = len(statuses)
                wait_for(lambda: len(statuses) >= asked_at_down + 10, 30, "requests served while it was out")
                restarted = wait_for(
                    lambda: (s := json.loads(state_path.read_text()))["workers"][0]["pid"] != victim["pid"] and s,
                    30,
                    "the script restarted the worker",
                )
                wait_for(lambda: f"{name} is UP" in log_path.read_text(), 60, "the restarted worker put back")
                before = served_by(logs[0].read_text(), "/v1/categories")
                wait_for(
                    lambda: served_by(logs[0].read_text(), "/v1/categories") > before + 3,
                    30,
                    "requests reaching the restarted worker",
                )
            finally:
                stop.set()
                asker.join(timeout=30)
            failed = [status for status in statuses if status != 200]
            assert len(failed) <= 1, f"{len(failed)} failed of {len(statuses)}: {failed[:10]}"
            assert all(status in (0, 502) for status in failed), failed

            # The stream outlived its worker: an order placed now reaches it.
            cashier = Api(url, operator)
            order = cashier.order(menu["margherita"].id)
            cashier.confirm(order["id"])
            cashier.close()
            assert printer.next(timeout=15).json()["id"] == order["id"]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    pids = [
        state["haproxy"]["pid"],
        restarted["haproxy"]["pid"],
        *(state["pushpin"]["pid"], *state["pushpin"]["children"]),
        *(w["pid"] for w in restarted["workers"]),
    ]
    assert [pid for pid in pids if pid and _running(pid)] == []


def test_with_no_worker_up_the_balancer_answers_json_503_with_retry_after(tmp_path, closed_port):
    require_haproxy()
    balancer = HAProxy(tmp_path / "haproxy", [f"127.0.0.1:{closed_port}"], check_interval_ms=200).start()
    try:
        wait_for(lambda: balancer.stats()[balancer.workers[0]]["status"] == "DOWN", 15, "the closed port marked down")
        response = httpx.post(f"http://127.0.0.1:{balancer.port}/v1/orders", json={}, timeout=10)
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.headers["retry-after"] == "5"
        assert response.json() == {"message": "Service unavailable, retry shortly"}
    finally:
        balancer.stop()
    assert not _running(balancer.process.pid)


def test_nobody_can_take_the_balancers_ports_between_its_making_and_its_start_and_it_binds_them(tmp_path, closed_port):
    """scripts/cluster.py makes its HAProxy, then starts the workers (which
    bind theirs), then HAProxy: its ports are held meanwhile."""
    require_haproxy()
    balancer = HAProxy(tmp_path / "haproxy", [f"127.0.0.1:{closed_port}"])
    for port in (balancer.port, balancer.stats_port):
        with socket.socket() as squatter, pytest.raises(OSError):
            squatter.bind(("127.0.0.1", port))
    balancer.start()  # it waits until its stats port answers
    try:
        socket.create_connection(("127.0.0.1", balancer.port), timeout=5).close()
    finally:
        balancer.stop()


@pytest.mark.parametrize(
    ("allowed_hosts", "expected"),
    [
        ("", "127.0.0.1"),
        ("*", "127.0.0.1"),
        ("orders.example.org,127.0.0.1", "orders.example.org"),
        (" .example.org , localhost", "example.org"),
    ],
)
def test_the_health_check_asks_with_a_host_the_workers_accept(allowed_hosts, expected):
    assert check_host(allowed_hosts) == expected


def test_the_balancer_sends_nothing_to_a_worker_that_is_not_ready(daphne, tmp_path, menu, closed_port):
    """The health check is /readyz: a worker whose Redis does not answer is
    taken out, the other serves every request."""
    require_haproxy()
    ready = daphne()
    unready = daphne(REDIS_URL=f"redis://127.0.0.1:{closed_port}/0", READY_TIMEOUT_SECONDS="0.5")
    workers = [f"127.0.0.1:{ready.port}", f"127.0.0.1:{unready.port}"]
    balancer = HAProxy(tmp_path / "haproxy", workers, check_interval_ms=200).start()
    try:
        wait_for(
            lambda: [balancer.stats()[worker]["status"] for worker in workers] == ["UP", "DOWN"],
            20,
            "the worker without Redis marked down and the other up",
        )
        before = served_by(unready.log_path.read_text(), "/v1/categories")
        with httpx.Client(base_url=f"http://127.0.0.1:{balancer.port}", timeout=10) as client:
            assert [client.get("/v1/categories").status_code for _ in range(10)] == [200] * 10
        assert served_by(ready.log_path.read_text(), "/v1/categories") >= 10
        assert served_by(unready.log_path.read_text(), "/v1/categories") == before
    finally:
        balancer.stop()
