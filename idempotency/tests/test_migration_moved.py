"""IdempotentRequest moved from the users app to the idempotency app: the
keys stored before the move are still there after it, and still replay."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

USERS_BEFORE = ("users", "0006_maintainer_and_kitchen_roles")
BEFORE = [USERS_BEFORE, ("idempotency", None)]
AFTER = [("users", "0007_idempotentrequest_moved")]


@pytest.mark.django_db(transaction=True)
def test_keys_stored_before_the_move_are_read_by_the_idempotency_app_after_it():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        OldRequest = executor.loader.project_state([USERS_BEFORE]).apps.get_model("users", "IdempotentRequest")
        OldRequest.objects.create(caller="users.user:7", key="k-1", fingerprint="f" * 64, status_code=201)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        NewRequest = executor.loader.project_state(AFTER).apps.get_model("idempotency", "IdempotentRequest")
        kept = NewRequest.objects.get(caller="users.user:7", key="k-1")
        assert (kept.fingerprint, kept.status_code) == ("f" * 64, 201)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
