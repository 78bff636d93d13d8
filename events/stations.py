"""`station-progress` on `display`: a kitchen station marked its lines of an
order done, or took the mark back.

Invariant: every saved change of a StationMark records exactly one event, in
the transaction that saves it (events.publisher.record), so a screen sees
each step once the step has committed and never a step that rolled back. The
payload is built at the save from the database as it is inside that
transaction: the absolute state of every station of the order, so applying
the same event twice changes nothing.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from events import payloads
from events.channels import DISPLAY, STATION_PROGRESS
from events.publisher import record
from orders.models import StationMark
from orders.selectors import order_with_items


@receiver(post_save, sender=StationMark, dispatch_uid="events.station_mark_saved")
def station_mark_saved(sender, instance: StationMark, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or (created and instance.done_at is None):
        return  # fixtures, or a row created before its first step
    record(DISPLAY, STATION_PROGRESS, payloads.station_progress_payload(order_with_items(instance.order_id)))
