"""Backups of the database: `manage.py backup` and `manage.py restore`.

- SQLite: an online copy with sqlite3's backup API, page by page, while the
  server goes on serving (readers and the writer are not stopped; the copy is
  one consistent state). Restore writes the copy into the database file the
  same way; stop the server first (an open stream would go on from the old
  log position).
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot, online) and
  `pg_restore --clean --if-exists --no-owner` into the configured database.
  The password goes to the tools in PGPASSWORD, never on a command line.

Invariant: a backup is written to a temporary name beside its target and
renamed when complete, so a file that has a backup's name is a whole one.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections

SQLITE, POSTGRESQL = "django.db.backends.sqlite3", "django.db.backends.postgresql"


class BackupError(Exception):
    """What an operator must fix: said in one line."""


def engine(alias: str = "default") -> str:
    found = connections[alias].settings_dict["ENGINE"]
    if found not in (SQLITE, POSTGRESQL):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {found}")
    return found


def default_path(alias: str = "default") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if engine(alias) == SQLITE else "dump"
    return Path(settings.VAR_DIR) / "backups" / f"db-{stamp}.{suffix}"


def _pg_env(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} not found: install PostgreSQL's client tools (Debian: postgresql-client)")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def backup(path: Path, alias: str = "default") -> Path:
    """Write a backup of the database to `path`; returns it."""
    settings_dict = connections[alias].settings_dict
    kind = engine(alias)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    if kind == SQLITE:
        source = sqlite3.connect(settings_dict["NAME"], timeout=30)
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    else:
        args, env = _pg_env(settings_dict)
        _run(["pg_dump", "--format=custom", "--file", str(partial), *args, settings_dict["NAME"]], env)
    partial.rename(path)
    return path


def restore(path: Path, alias: str = "default") -> None:
    """Replace the database's content with the backup at `path`."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    settings_dict = connections[alias].settings_dict
    connections[alias].close()
    if engine(alias) == SQLITE:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            source.close()
            raise BackupError(f"{path} is not an SQLite backup: {exc}") from None
        try:
            target = sqlite3.connect(settings_dict["NAME"], timeout=30)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    else:
        args, env = _pg_env(settings_dict)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                "--dbname",
                settings_dict["NAME"],
                str(path),
            ],
            env,
        )
