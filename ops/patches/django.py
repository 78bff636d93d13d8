"""Django's internals this project relies on (Django 5.2.19).

- The SQL compiler of an INSERT (`django.db.models.sql.InsertQuery`,
  `get_compiler().as_sql()`) and a saved row's `_state`: `insert_together`
  sends the INSERTs of a new order's lines and stations' states as one
  statement on PostgreSQL, then marks the rows saved as bulk_create would
  (orders/services.py). Django's bulk_create takes one statement per model.
- `SimpleLazyObject._wrapped`: `lazy_value` gives what a lazy object holds
  only if it was evaluated already: the access log names the user without
  running authentication for it (ops/requestlog.py).
- `ASGIHandler.__init__` builds the middleware chain with
  `load_middleware(is_async=True)` and `ASGIHandler.handle` answers through
  `run_get_response`, which awaits `get_response_async`: config/django_handler.py overrides both, to build
  the chain for sync and run it, with the view, in one hop to the request's
  thread (BaseHandler.get_response, what a WSGI server calls).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.sql import InsertQuery
from django.utils.functional import SimpleLazyObject, empty

WRITTEN_FOR = "5.2.19"


def insert_together(*groups: list) -> None:
    """Insert new rows of several models, each list of one model, their ids
    set in Python (as every id of these models is): on PostgreSQL in one
    statement (the INSERTs but the last in a WITH: one round trip, and the
    rows are those of one bulk_create per list), elsewhere one bulk_create
    per list. No signal is sent, as bulk_create sends none."""
    groups = tuple(rows for rows in groups if rows)
    if connection.vendor != "postgresql" or len(groups) < 2:
        for rows in groups:
            type(rows[0]).objects.bulk_create(rows)
        return
    statements = []
    for rows in groups:
        model = type(rows[0])
        query = InsertQuery(model)
        query.insert_values([field for field in model._meta.concrete_fields if not field.generated], rows)
        [statement] = query.get_compiler(connection=connection).as_sql()
        statements.append(statement)
    *first, (last_sql, last_params) = statements
    sql = "WITH " + ", ".join(f"inserted_{n} AS ({part})" for n, (part, _) in enumerate(first)) + f" {last_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(value for _, params in first for value in params), *last_params])
    for rows in groups:
        for row in rows:
            row._state.adding, row._state.db = False, connection.alias


def lazy_value(value: Any) -> Any:
    """What `value` holds when it is a SimpleLazyObject: its object if it
    was evaluated, else None (it is not evaluated here); any other value
    as it is."""
    if isinstance(value, SimpleLazyObject):
        return None if value._wrapped is empty else value._wrapped
    return value
