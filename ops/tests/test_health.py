"""/healthz answers while the process does, touching nothing else; /readyz
answers 200 only when the database, the event log, Redis and every Pushpin
configured answer, else a 503 naming what is down."""

import shutil
import socket
import threading

import httpx
import pytest
from django.test import Client

from testsupport import DaphneServer, hold_port, server_env


def test_healthz_answers_without_a_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_200_when_the_database_and_the_event_log_answer(db, settings):
    settings.REDIS_URL, settings.GRIP_PROXIES = "", []
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "event_log": "ok"}}


def test_readyz_names_a_redis_that_does_not_answer(db, settings, closed_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    settings.READY_TIMEOUT_SECONDS = 1
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert list(body["down"]) == ["redis"]
    assert body["checks"]["database"] == "ok"
    assert "redis down" in body["message"]


def test_readyz_names_each_pushpin_that_does_not_answer(db, settings):
    settings.REDIS_URL = ""
    closed = [hold_port(), hold_port()]  # held, so nothing listens there meanwhile
    settings.GRIP_PROXIES = [{"control_uri": f"http://127.0.0.1:{held.port}"} for held in closed]
    settings.READY_TIMEOUT_SECONDS = 1
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert sorted(response.json()["down"]) == ["pushpin-1", "pushpin-2"]


def test_with_one_pushpin_of_two_answering_the_worker_is_ready_and_names_the_other(db, settings, closed_port):
    """Another machine's Pushpin down must not take this machine's workers out."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        answering = threading.Thread(target=_answer_once, args=(listening,), daemon=True)
        answering.start()
        settings.REDIS_URL = ""
        settings.GRIP_PROXIES = [
            {"control_uri": f"http://127.0.0.1:{listening.getsockname()[1]}"},
            {"control_uri": f"http://127.0.0.1:{closed_port}"},
        ]
        settings.READY_TIMEOUT_SECONDS = 1
        response = Client().get("/readyz")
        answering.join(5)
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["pushpin-1"] == "ok"
    assert list(response.json()["degraded"]) == ["pushpin-2"]


def _answer_once(listening: socket.socket) -> None:
    connection, _ = listening.accept()
    with connection:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_refuse_writes(db, path):
    assert Client().post(path).status_code == 405


def test_a_server_whose_database_vanished_is_healthy_but_not_ready(tmp_path, settings):
    """A real Daphne on an SQLite file with no tables (the event log is
    down), then with its directory gone (the database is down too)."""
    folder = tmp_path / "data"
    folder.mkdir()
    env = server_env(
        {"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / "db.sqlite3")},
        settings.SECRET_KEY,
        REDIS_URL="",
        GRIP_URL="",
        GRIP_SIG_KEY="",
    )
    server = DaphneServer(env, tmp_path / "daphne.log", ready_path="/healthz").start()
    try:
        first = httpx.get(server.url + "/readyz", timeout=10)
        assert first.status_code == 503
        assert list(first.json()["down"]) == ["event_log"]
        assert first.json()["checks"]["database"] == "ok"

        shutil.rmtree(folder)
        second = httpx.get(server.url + "/readyz", timeout=10)
        assert second.status_code == 503
        assert set(second.json()["down"]) == {"database", "event_log"}
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
