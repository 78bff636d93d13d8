"""The unique-name and port constraints apply to a database in use: rows
that break them are made valid first (migration 0003), not refused."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("orders", "0002_initial")]


def migrate(targets=None):
    """Migrate the test database to `targets` (default: every app's latest,
    so the test leaves the schema as it found it) and return the models of
    that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def pending_migrations() -> list:
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


@contextmanager
def schema_at(targets):
    """The test database (shared by the later tests of this process)
    migrated to `targets`, and forward to the latest again on the way out,
    whatever happened inside."""
    try:
        yield migrate(targets)
    finally:
        migrate()


@pytest.mark.django_db(transaction=True)
def test_a_test_that_fails_on_an_old_schema_leaves_the_latest_schema_behind():
    with pytest.raises(RuntimeError, match="failed on the old schema"), schema_at(BEFORE):
        assert pending_migrations() != []
        raise RuntimeError("failed on the old schema")
    assert pending_migrations() == []


@pytest.mark.django_db(transaction=True)
def test_existing_repeated_names_are_numbered_and_bad_ports_reset():
    with schema_at(BEFORE) as old:
        category = old.get_model("orders", "Category")
        food = old.get_model("orders", "Food")
        printer = old.get_model("orders", "Printer")
        pizza = category.objects.create(id="c1", name="Pizza")
        category.objects.create(id="c2", name="PIZZA")
        drinks = category.objects.create(id="c3", name="Drinks")
        food.objects.create(id="f1", name="Water", price=1, category=drinks)
        food.objects.create(id="f2", name="water", price=1, category=drinks)
        food.objects.create(id="f3", name="Water", price=1, category=pizza)  # another category: fine
        printer.objects.create(id="p1", name="Bar", port=0)
        printer.objects.create(id="p2", name="Grill", port=9101)

        new = migrate()

        categories = sorted(new.get_model("orders", "Category").objects.values_list("id", "name"))
        assert categories == [("c1", "Pizza"), ("c2", "PIZZA (2)"), ("c3", "Drinks")]
        foods = sorted(new.get_model("orders", "Food").objects.values_list("id", "category_id", "name"))
        assert foods == [("f1", "c3", "Water"), ("f2", "c3", "water (2)"), ("f3", "c1", "Water")]
        ports = dict(new.get_model("orders", "Printer").objects.values_list("name", "port"))
        assert ports == {"Bar": 9100, "Grill": 9101}
