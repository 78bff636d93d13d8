"""manage.py backup while the server serves, manage.py restore into another
database, and a server on that database serves what the backup held."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import httpx
import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conftest import bearer
from testsupport import DaphneServer, server_env
from testsupport.processes import BASE_DIR, database_url


def restored_database(tmp_path) -> tuple[str, callable]:
    """A DATABASE_URL for an empty database beside the test's, and how to drop it."""
    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}", lambda: None
    name = f"{settings_dict['NAME']}_restored"
    admin = {**settings_dict, "NAME": "postgres"}

    def run(sql: str) -> None:
        with psycopg.connect(database_url(admin), autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}"')
    run(f'CREATE DATABASE "{name}"')
    return database_url({**settings_dict, "NAME": name}), lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_taken_while_serving_restores_into_a_database_that_serves_it(
    daphne, operator, menu, tmp_path, settings
):
    server = daphne()
    placed = httpx.post(
        f"{server.url}/v1/orders",
        json={
            "table": "9",
            "customer": "Backed-up Lena",
            "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1}],
        },
        headers=bearer(operator),
        timeout=30,
    )
    assert placed.status_code == 201, placed.text

    out = StringIO()
    call_command("backup", output=str(tmp_path / "backup.bin"), stdout=out)  # the server still serving
    written = Path(out.getvalue().strip())
    assert written == tmp_path / "backup.bin" and written.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))

    target, drop = restored_database(tmp_path)
    restored = None
    try:
        env = server_env(connection.settings_dict, settings.SECRET_KEY, DATABASE_URL=target)
        result = subprocess.run(
            [sys.executable, "manage.py", "restore", str(written)],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        restored = DaphneServer(env, tmp_path / "restored.log").start()
        order = httpx.get(f"{restored.url}/v1/orders/{placed.json()['id']}", headers=bearer(operator), timeout=30)
        assert order.status_code == 200, order.text
        assert order.json()["customer"] == "Backed-up Lena"
    finally:
        if restored is not None:
            restored.stop()
        drop()


def test_restoring_a_file_that_is_not_there_is_refused_with_its_name(db, tmp_path):
    with pytest.raises(CommandError, match="no backup at .*missing.bin"):
        call_command("restore", str(tmp_path / "missing.bin"))
