"""Helpers shared by the orders tests (fixtures live in conftest.py)."""

from __future__ import annotations

from django.db.models import Sum
from django_eventstream.models import Event
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from orders.models import DayCounter, Order, OrderItem, Reprint
from orders.services import ConfirmInput
from users.models import User


def make_staff(username: str, role: str, password: str = "a-long-test-password", **extra) -> User:
    user = User(username=username, role=role, **extra)
    user.set_password(password)
    user.save()
    return user


def api_client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def snapshot() -> dict[str, int]:
    """Everything a failed request must leave as it was: rows of the orders
    app, the per-day counters (ticket numbers, display codes) and the event log."""
    return {
        "orders": Order.objects.count(),
        "items": OrderItem.objects.count(),
        "reprints": Reprint.objects.count(),
        "counters": DayCounter.objects.aggregate(total=Sum("value"))["total"] or 0,
        "events": Event.objects.count(),
    }


def events_since(before: dict[str, int]) -> list[tuple[str, str]]:
    """(channel, type) of the events stored since `before` was taken,
    placeholders of django-eventstream's counters left out."""
    rows = Event.objects.order_by("id")[before["events"] :]
    return [(event.channel, event.type) for event in rows if event.type]


CASH = ConfirmInput(payment_method="CASH")
