"""A database that cannot be reached at start is one line, not a traceback.

`python -m config.serve` checks before it listens, and manage.py when a
command fails: the message names the database URL (its password masked) and
the reason, and the process exits with status 1. STARTUP_TRACEBACK=1 (or
manage.py's --traceback) shows the traceback as well.

PostgreSQL is checked with a direct connection, not through the pool: the
pool's own error ("couldn't get a connection after 5.00 sec") hides why.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from django.db import DEFAULT_DB_ALIAS, connections

CONNECT_TIMEOUT_SECONDS = 5


def masked(url: str) -> str:
    """The URL with its password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def database_url(settings_dict: dict) -> str:
    """What DATABASE_URL says, else a URL rebuilt from the settings."""
    raw = os.environ.get("DATABASE_URL")
    if raw:
        return masked(raw)
    engine = settings_dict["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    auth = f"{user}:***@" if settings_dict.get("PASSWORD") else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{engine}://{auth}{settings_dict.get('HOST') or ''}{port}/{settings_dict['NAME']}"


def _reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return "; ".join(lines[:2]) or type(exc).__name__


def database_problem(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """None when the database answers; else one line saying which and why."""
    connection = connections[alias]
    settings_dict = connection.settings_dict
    try:
        if settings_dict["ENGINE"] == "django.db.backends.postgresql":
            import psycopg

            options = {
                k: v for k, v in settings_dict.get("OPTIONS", {}).items() if k not in ("pool", "server_side_binding")
            }
            with psycopg.connect(
                dbname=settings_dict.get("NAME") or "postgres",
                user=settings_dict.get("USER") or None,
                password=settings_dict.get("PASSWORD") or None,
                host=settings_dict.get("HOST") or None,
                port=settings_dict.get("PORT") or None,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                **options,
            ) as direct:
                direct.execute("SELECT 1")
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            connection.close()
    except Exception as exc:  # whatever the driver raises, it is the reason
        return f"cannot reach the database {database_url(settings_dict)}: {_reason(exc)}"
    return None


def traceback_wanted(argv: list[str] = ()) -> bool:
    return os.environ.get("STARTUP_TRACEBACK") in ("1", "true", "yes") or "--traceback" in argv
