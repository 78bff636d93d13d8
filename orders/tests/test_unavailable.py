"""A database that cannot be reached gives a JSON 503 that says to retry,
not a crash page."""

import pytest
from django.db import connection


@pytest.fixture
def unreachable_database(transactional_db):
    original = dict(connection.settings_dict)
    connection.close()
    if hasattr(connection, "close_pool"):  # PostgreSQL: a pool made with the good address would keep serving
        connection.close_pool()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-directory/db.sqlite3"
    else:
        connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", "1"
    yield
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


def test_an_order_list_asked_for_while_the_database_is_unreachable_is_a_503(operator_client, unreachable_database):
    response = operator_client.get("/v1/orders")
    assert response.status_code == 503
    assert response.json() == {"message": "Service unavailable, retry shortly"}
    assert response["Retry-After"] == "5"


def test_an_order_placed_while_the_database_is_unreachable_is_a_503(waiter_client, unreachable_database):
    response = waiter_client.post(
        "/v1/orders",
        {"table": "1", "customer": "Ann", "orderItems": [{"foodId": "x", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 503
