"""Fixtures shared by every app's tests: staff per role with their tokens, a
small menu, and real Daphne servers."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from orders.models import CashRegister, Category, Food, Printer, Station
from testsupport import DaphneServer, hold_port, server_env
from users.models import Role, User

PASSWORD = "a-long-test-password"


def make_user(username: str, role: str, **extra) -> User:
    user = User(username=username, role=role, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


@pytest.fixture
def admin_user(db) -> User:
    return make_user("ada", Role.ADMIN)


@pytest.fixture
def operator(db) -> User:
    return make_user("olga", Role.OPERATOR)


@pytest.fixture
def maintainer(db) -> User:
    return make_user("mara", Role.MAINTAINER)


@pytest.fixture
def waiter(db) -> User:
    return make_user("walt", Role.WAITER)


def _client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    return _client_for(admin_user)


@pytest.fixture
def operator_client(operator) -> APIClient:
    return _client_for(operator)


@pytest.fixture
def waiter_client(waiter) -> APIClient:
    return _client_for(waiter)


@pytest.fixture
def menu(db):
    """Two printers, two categories, three foods (one unavailable), a till."""
    kitchen = Printer.objects.create(name="Kitchen")
    bar = Printer.objects.create(name="Bar")
    pizza = Category.objects.create(name="Pizza", printer=kitchen, position=1)
    drinks = Category.objects.create(name="Drinks", position=2)
    margherita = Food.objects.create(name="Margherita", price=Decimal("12.5"), category=pizza)
    lemonade = Food.objects.create(name="Lemonade", price=Decimal("3.5"), category=drinks, printer=bar)
    sold_out = Food.objects.create(name="Calzone", price=Decimal("14"), category=pizza, available=False)
    till = CashRegister.objects.create(name="Till 1", default_printer=bar)
    return {
        "kitchen": kitchen,
        "bar": bar,
        "pizza": pizza,
        "drinks": drinks,
        "margherita": margherita,
        "lemonade": lemonade,
        "sold_out": sold_out,
        "till": till,
    }


@pytest.fixture
def stations(menu):
    """Two kitchen stations on the menu: the kitchen makes the pizzas, the
    bar the drinks (by their categories)."""
    kitchen = Station.objects.create(name="Kitchen", position=1)
    bar = Station.objects.create(name="Bar", position=2)
    Category.objects.filter(pk=menu["pizza"].pk).update(station=kitchen)
    Category.objects.filter(pk=menu["drinks"].pk).update(station=bar)
    return {"kitchen": kitchen, "bar": bar}


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on, held for the test (scripts/ports.py):
    a connection to it is refused, and no other process can start listening
    there meanwhile."""
    held = hold_port()
    yield held.port
    held.release()


def _daphne_factory(log_dir, secret_key):
    from django.db import connection

    servers: list[DaphneServer] = []

    def start(**env: str) -> DaphneServer:
        server = DaphneServer(
            server_env(connection.settings_dict, secret_key, **env),
            log_dir / f"daphne-{len(servers)}.log",
        )
        servers.append(server)
        return server.start()

    return start, servers


@pytest.fixture(scope="module")
def shared_daphne(django_db_setup, django_db_blocker, tmp_path_factory):
    """One Daphne for a whole module whose tests write no events (refusals,
    headers): starting a server per test would cost seconds each. Tests that
    use it still need `transactional_db` for the rows they create."""
    from django.conf import settings

    start, servers = _daphne_factory(tmp_path_factory.mktemp("daphne"), settings.SECRET_KEY)
    server = start()
    yield server
    for server in servers:
        server.stop()


@pytest.fixture
def daphne(transactional_db, tmp_path, settings):
    """Start real Daphne servers on the test database: `daphne(**env)`.
    Each is stopped (by PID) at the end of the test."""
    start, servers = _daphne_factory(tmp_path, settings.SECRET_KEY)
    yield start
    for server in servers:
        server.stop()


def pytest_sessionstart(session):
    """The production set-up (REDIS_URL set) is tested on a Redis that is
    there: the product falls back to polling the log when Redis is away,
    which would let the suite pass slowly while testing the fallback instead.
    CI (REQUIRE_SERVICES=1) stops at once; a developer is warned."""
    from django.conf import settings

    from testsupport import redis_reachable, services_required

    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return
    reachable, reason = redis_reachable(url)
    if reachable:
        return
    if services_required():
        pytest.exit(f"Redis required (REQUIRE_SERVICES=1, REDIS_URL is set) but {reason}", returncode=3)
    session.config.issue_config_time_warning(
        pytest.PytestConfigWarning(f"REDIS_URL is set but {reason}: events fall back to polling the log"), 2
    )


def pytest_sessionfinish(session, exitstatus):
    """pytest-django removes the SQLite test database; WAL mode leaves its
    -wal and -shm files beside it."""
    from pathlib import Path

    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(str(database["TEST"]["NAME"]) + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session", autouse=True)
def _close_database_pools(django_db_setup):
    """On PostgreSQL each process keeps a connection pool; close it before
    pytest-django drops the test database, which open sessions would block."""
    yield
    from django.db import connections

    for connection in connections.all():
        if hasattr(connection, "close_pool"):
            connection.close_pool()


# Tests read English in UTC unless they say otherwise: the product's own
# defaults are Italian (LANGUAGE_CODE) and the festival's zone (TIME_ZONE,
# Europe/Rome). Set before any server or agent process is started, which
# inherit them; in this process the fixture below.
os.environ["LANGUAGE_CODE"] = "en"
os.environ["TIME_ZONE"] = "UTC"


@pytest.fixture(autouse=True)
def english_in_utc(settings):
    """English active and UTC for the test (a test that wants Italian sets
    settings.LANGUAGE_CODE, sends Accept-Language or activates it; one that
    wants a zone sets settings.TIME_ZONE)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    settings.TIME_ZONE = "UTC"
    with translation.override("en"):
        yield
