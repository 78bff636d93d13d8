"""Migration 0004 gives orders that are COMPLETED when it runs their
completion moment (their last status change), so that reports include them."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("orders", "0005_devices_printer_status_drawer")]
AFTER = [("orders", "0006_reports_completed_at_closure")]


@pytest.mark.django_db(transaction=True)
def test_completed_orders_get_their_last_status_change_as_completion_and_others_stay_unknown():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        Order = executor.loader.project_state(BEFORE).apps.get_model("orders", "Order")
        changed = datetime(2026, 7, 4, 18, 30, tzinfo=UTC)
        common = {"table": "1", "customer": "Ada", "status_changed_at": changed}
        completed = Order.objects.create(display_code="A01", code_day="2026-07-04", status="COMPLETED", **common)
        picked_up = Order.objects.create(display_code="A02", code_day="2026-07-04", status="PICKED_UP", **common)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        Order = executor.loader.project_state(AFTER).apps.get_model("orders", "Order")
        assert Order.objects.get(pk=completed.pk).completed_at == changed
        assert Order.objects.get(pk=picked_up.pk).completed_at is None
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
