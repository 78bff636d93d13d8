"""A power cut in the middle of a rush: Daphne is killed with SIGKILL while
cashiers confirm from several threads. After a restart, every order the
database holds as CONFIRMED has exactly one `confirmed-order` on each
channel, in the replay; an order that is not confirmed has none."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from django_eventstream.models import EventCounter

from events.tests.test_outbox import pending_orders, replay
from orders.models import Order, OrderStatus

ORDERS = 120
THREADS = 8
KILL_AFTER = 30  # answered confirmations before the power cut


def test_a_daphne_killed_mid_burst_loses_no_event_of_a_committed_confirmation(daphne, operator, menu, api_for):
    first = daphne()
    pending = pending_orders(menu, ORDERS)
    cashiers = [api_for(first, operator) for _ in range(THREADS)]
    answered = 0
    counted = threading.Lock()
    killed = threading.Event()

    def confirm_share(index: int) -> None:
        nonlocal answered
        for order_id in pending[index::THREADS]:
            if killed.is_set():
                return
            try:
                response = cashiers[index].confirm(order_id)
            except httpx.TransportError:
                return  # the server is gone: this cashier's rush ends here
            assert response.status_code == 200, response.text
            with counted:
                answered += 1
                if answered == KILL_AFTER:
                    first.kill()
                    killed.set()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(confirm_share, range(THREADS)))
    assert killed.is_set(), "the burst ended before the kill"

    statuses = dict(Order.objects.filter(pk__in=pending).values_list("pk", "status"))
    confirmed = {pk for pk, status in statuses.items() if status == OrderStatus.CONFIRMED}
    # Mid-burst: some confirmations committed, others never happened.
    assert len(confirmed) >= KILL_AFTER
    assert set(statuses.values()) == {OrderStatus.CONFIRMED, OrderStatus.PENDING}

    second = daphne()
    for channel in ("cashier", "display", "printer"):
        head = EventCounter.objects.get(name=channel).value
        events = replay(second, operator, channel, head)
        assert [m.id for m in events] == [f"{channel}:{n}" for n in range(1, head + 1)]
        confirmations = Counter(m.json()["id"] for m in events if m.event == "confirmed-order")
        assert set(confirmations) == confirmed, channel
        assert set(confirmations.values()) == {1}, channel
    tickets = sorted(Order.objects.filter(pk__in=confirmed).values_list("ticket_number", flat=True))
    assert tickets == list(range(1, len(confirmed) + 1))
