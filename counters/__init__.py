"""Counters kept in the database and advanced by one upsert: the orders'
per-day display codes and ticket numbers (orders.services) and the event
log's per-channel ids (events.outbox.storage) are taken here.

Invariant: `Counters.increment` adds one to each named counter row (creating
it at 1), inside the caller's transaction, and returns the new values. The
upsert is one statement that locks the rows in the order given and holds the
locks until the caller's transaction ends, so concurrent takers queue on them
and a rollback gives the numbers back: no gap, no number twice. Callers keep
one order of rows across transactions (deadlock freedom).

Imports nothing of the project, so both apps may import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection


@dataclass(frozen=True)
class Counters:
    """A table of counters: one row per `key` (its columns), the number in
    `value`, `also` columns written as given on insert and update; a taken
    number is reported under the row's `named_by` column."""

    table: str
    key: tuple[str, ...]
    named_by: str
    also: tuple[str, ...] = ()

    def increment_sql(self, rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
        """The upsert as (SQL, parameters), for a caller that runs it inside
        a larger statement: each of `rows` holds the values of the `key`
        columns, then of the `also` ones; it returns (named_by, value) rows."""
        columns = [*self.key, "value", *self.also]
        row = "(" + ", ".join(["%s"] * len(self.key) + ["1"] + ["%s"] * len(self.also)) + ")"
        updates = [f"value = {self.table}.value + 1", *(f"{column} = excluded.{column}" for column in self.also)]
        sql = (
            f"INSERT INTO {self.table} ({', '.join(columns)}) VALUES "
            + ", ".join([row] * len(rows))
            + f" ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {', '.join(updates)} "
            f"RETURNING {self.named_by}, value"
        )
        return sql, [value for values in rows for value in values]

    def increment(self, rows: Sequence[Sequence[Any]]) -> dict[Any, int]:
        """Advance each row's counter: {its `named_by` value: its new value}."""
        assert connection.in_atomic_block, "a counter must be taken inside the transaction that uses its number"
        sql, params = self.increment_sql(rows)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return dict(cursor.fetchall())
