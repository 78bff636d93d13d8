"""Two deployments on one Redis server (each on its own database and Redis
database number; Redis pub/sub ignores the number): neither hears the
other's events, and each still delivers its own live. Real Daphne servers,
a private redis-server."""

import json
import subprocess
import sys

import pytest
from django.db import connection

from events.tests.test_delivery import stream
from testsupport import BASE_DIR, RedisServer, database_url, redis_server_installed, require_service, server_env

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server(tmp_path):
    require_service("redis-server", *redis_server_installed())
    server = RedisServer(tmp_path / "redis.log").start()
    yield server
    server.stop()


def run_django(env: dict[str, str], code: str) -> None:
    """Python with Django set up, in a process of the given deployment."""
    done = subprocess.run(
        [sys.executable, "-c", f"import django\ndjango.setup()\n{code}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture
def other_database(tmp_path, transactional_db, settings):
    """A second, migrated database beside the test database: another
    deployment's (a file for SQLite, a database on the same server for
    PostgreSQL). Yields its DATABASE_URL."""
    own = dict(connection.settings_dict)
    if own["ENGINE"].endswith("sqlite3"):
        other = {**own, "NAME": str(tmp_path / "other.sqlite3")}
    else:
        other = {**own, "NAME": f"{own['NAME']}_other"}
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{other["NAME"]}"')
    url = database_url(other)
    env = server_env(own, settings.SECRET_KEY, DATABASE_URL=url)
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    yield url
    if not own["ENGINE"].endswith("sqlite3"):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{other["NAME"]}" WITH (FORCE)')


def publish_code(marker: str) -> str:
    return f"from events.outbox.publisher import publish\npublish('printer', 'confirmed-order', {{'who': {marker!r}}})"


def test_two_deployments_on_one_redis_server_never_see_each_others_events_and_keep_their_own_live(
    daphne, redis_server, other_database, operator, settings
):
    redis_at = redis_server.url.rsplit("/", 1)[0]
    # A poll interval far beyond the test's waits: only Redis can deliver in time.
    x_env = {"REDIS_URL": f"{redis_at}/7", "EVENTS_POLL_SECONDS": "300"}
    y_env = {"REDIS_URL": f"{redis_at}/8", "EVENTS_POLL_SECONDS": "300", "DATABASE_URL": other_database}
    x = daphne(**x_env)
    daphne(**y_env)  # Y's worker listens too, as in production
    publish_on_x = server_env(connection.settings_dict, settings.SECRET_KEY, **x_env)
    publish_on_y = server_env(connection.settings_dict, settings.SECRET_KEY, **y_env)

    with stream(x, operator, "printer") as printer_on_x:
        assert printer_on_x.next().id == "printer:0"
        run_django(publish_on_y, publish_code("Y"))  # Y's printer:1
        run_django(publish_on_x, publish_code("X"))  # X's printer:1
        run_django(publish_on_y, publish_code("Y"))  # Y's printer:2
        run_django(publish_on_x, publish_code("X"))  # X's printer:2
        received = printer_on_x.collect(2, timeout=10)
        assert [(m.id, m.json()) for m in received] == [("printer:1", {"who": "X"}), ("printer:2", {"who": "X"})]
        assert printer_on_x.pending() == []


def test_the_librarys_send_event_wakes_only_this_deployments_channel(redis_server, transactional_db, monkeypatch):
    """Benchmarks publish through django-eventstream's send_event, which
    names one fixed channel for every deployment: it is pointed at ours."""
    import redis
    from django_eventstream import eventstream, send_event

    from events.core import log
    from events.outbox.publisher import DeploymentRedis, install_redis_channel

    monkeypatch.setattr(eventstream, "redis_client", redis.Redis.from_url(redis_server.url))
    install_redis_channel()
    assert isinstance(eventstream.redis_client, DeploymentRedis)
    listener = redis.Redis.from_url(redis_server.url).pubsub()
    listener.subscribe(log.redis_channel(), "events_channel")
    for _ in range(2):
        assert listener.get_message(timeout=5)["type"] == "subscribe"
    send_event("printer", "confirmed-order", {"who": "bench"})
    message = listener.get_message(timeout=5)
    assert message["channel"].decode() == log.redis_channel()
    assert json.loads(message["data"])["pub_id"] == "1"
    assert listener.get_message(timeout=0.5) is None  # nothing on the library's fixed name
    listener.close()
