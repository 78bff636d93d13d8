"""Several cashiers at once, on the real database file: threads, each with its
own connection, confirming in parallel. SQLite must queue them (IMMEDIATE
transactions, WAL, a busy timeout), never answer "database is locked"."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from orders import services
from orders.exceptions import Conflict
from orders.models import Order
from orders.services import LineInput
from orders.tests.helpers import CASH

THREADS = 8
ORDERS = 40
JOIN_TIMEOUT = 60


def run_in_threads(work: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Run each callable in its own thread, all released at once. Returns the
    results and every exception raised, whatever its type."""
    barrier = threading.Barrier(len(work))
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(job):
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            outcome = job()
            with lock:
                results.append(outcome)
        except BaseException as exc:  # every failure counts, "database is locked" above all
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(job,), daemon=True) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a confirming thread hung"
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_parallel_confirmations_number_tickets_without_gaps_or_duplicates(menu, operator):
    lines = [LineInput(food_id=menu["margherita"].id, quantity=1)]
    order_ids = [services.order_create(table=str(n), customer="Guest", lines=lines).id for n in range(ORDERS)]
    shares = [order_ids[start::THREADS] for start in range(THREADS)]

    def confirm_share(ids: list[int]) -> Callable[[], list[int]]:
        def confirm_all() -> list[int]:
            return [
                services.order_confirm(order_id=order_id, by=operator, confirmation=CASH).ticket_number
                for order_id in ids
            ]

        return confirm_all

    results, errors = run_in_threads([confirm_share(share) for share in shares])

    assert errors == []
    taken = sorted(number for numbers in results for number in numbers)
    assert taken == list(range(1, ORDERS + 1))
    stored = sorted(Order.objects.values_list("ticket_number", flat=True))
    assert stored == list(range(1, ORDERS + 1))
    assert Order.objects.filter(status="CONFIRMED").count() == ORDERS


@pytest.mark.django_db(transaction=True)
def test_two_cashiers_confirming_one_order_make_exactly_one_confirmation(menu, operator, admin_user):
    order = services.order_create(
        table="1", customer="Guest", lines=[LineInput(food_id=menu["margherita"].id, quantity=1)]
    )

    def confirm_by(user) -> Callable[[], Order]:
        return lambda: services.order_confirm(order_id=order.id, by=user, confirmation=CASH)

    results, errors = run_in_threads([confirm_by(operator), confirm_by(admin_user)])

    assert len(results) == 1
    assert [type(error) for error in errors] == [Conflict]
    order.refresh_from_db()
    assert order.ticket_number == 1
    assert order.user_id == results[0].user_id


@pytest.mark.django_db(transaction=True)
def test_parallel_creations_get_distinct_display_codes(menu, waiter):
    lines = [LineInput(food_id=menu["lemonade"].id, quantity=1)]

    def create_five() -> list[str]:
        return [
            services.order_create(table="1", customer="Guest", lines=lines, created_by=waiter).display_code
            for _ in range(5)
        ]

    results, errors = run_in_threads([create_five for _ in range(THREADS)])

    assert errors == []
    codes = sorted(code for batch in results for code in batch)
    assert codes == [f"A{n:02d}" for n in range(1, THREADS * 5 + 1)]
