"""Fixtures for the orders tests: a quick password hasher, orders placed
through the services, and a snapshot of everything a request could write."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orders import services
from orders.models import Order
from orders.services import ConfirmInput, LineInput


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The default hasher costs ~0.4 s per user on this machine; these tests
    # are about orders, not about password hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def place_order(menu) -> Callable[..., Order]:
    """`place_order(confirm=..., lines=..., **fields)`: an order created
    through the service, PENDING unless `confirm` (a ConfirmInput) is given.
    By default one line: 2 × Margherita."""

    def place(
        *,
        lines: list[LineInput] | None = None,
        confirm: ConfirmInput | None = None,
        table: str = "3",
        customer: str = "John Doe",
        created_by=None,
    ) -> Order:
        return services.order_create(
            table=table,
            customer=customer,
            lines=lines or [LineInput(food_id=menu["margherita"].id, quantity=2)],
            created_by=created_by,
            confirmation=confirm,
        )

    return place


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """`send(client, "post", path, body)`: a request whose on_commit callbacks
    (the events app's publishing) really run, as they would in production."""

    def send(client, method: str, path: str, body=None, *, raw: str | bytes | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            if raw is not None:
                return getattr(client, method)(path, data=raw, content_type="application/json")
            return getattr(client, method)(path, body, format="json")

    return send
