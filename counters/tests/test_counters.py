"""The one counter upsert (counters.Counters), on the orders' day counters
and the event log's channel counters, the two tables that use it."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_eventstream.models import EventCounter

from counters import Counters
from orders.models import DayCounter

pytestmark = pytest.mark.django_db(transaction=True)

DAY = Counters(DayCounter._meta.db_table, key=("day", "kind"), named_by="kind")
CHANNELS = Counters(EventCounter._meta.db_table, key=("name",), named_by="name", also=("updated",))
MONDAY = date(2026, 12, 7)


def take(counters: Counters, rows) -> dict:
    with transaction.atomic():
        return counters.increment(rows)


def test_each_row_counts_from_one_on_its_own():
    assert take(DAY, [(MONDAY, "display"), (MONDAY, "ticket")]) == {"display": 1, "ticket": 1}
    assert take(DAY, [(MONDAY, "display")]) == {"display": 2}
    assert take(DAY, [(MONDAY, "display"), (MONDAY, "ticket")]) == {"display": 3, "ticket": 2}
    assert take(DAY, [(date(2026, 12, 8), "display")]) == {"display": 1}


def test_a_number_taken_in_a_transaction_that_rolls_back_is_taken_again():
    take(DAY, [(MONDAY, "ticket")])
    with pytest.raises(RuntimeError), transaction.atomic():
        assert DAY.increment([(MONDAY, "ticket")]) == {"ticket": 2}
        raise RuntimeError("the order was refused")
    assert take(DAY, [(MONDAY, "ticket")]) == {"ticket": 2}


def test_the_other_columns_are_written_on_insert_and_on_update():
    first, later = timezone.now(), timezone.now() + timedelta(seconds=5)
    assert take(CHANNELS, [("printer", first)]) == {"printer": 1}
    assert EventCounter.objects.get(name="printer").updated == first
    assert take(CHANNELS, [("printer", later)]) == {"printer": 2}
    assert EventCounter.objects.get(name="printer").updated == later


def test_a_number_is_taken_inside_a_transaction_only():
    with pytest.raises(AssertionError):
        DAY.increment([(MONDAY, "display")])
