"""Station events on `display`: `order-station-status-update` (today's
boards: a station's new status on an order) and `station-progress` (the
project's own pages: every station of the order, and the order's status).

Invariant: every save of an OrderStationState (a station's own move, made by
orders.services under the order's row lock) records exactly these two
events, in the transaction that saves it (events.outbox.publisher.record), so a
screen sees each step once the step has committed and never a step that
rolled back. States created with an order, or moved with the whole order,
are written in bulk and announced by the order's own events. The payloads
are absolute (a status, not a change), so applying one twice changes
nothing.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from events.core.channels import DISPLAY, ORDER_STATION_STATUS_UPDATE, STATION_PROGRESS
from events.outbox import payloads
from events.outbox.publisher import joined_transaction, record
from orders.models import OrderStationState
from orders.selectors import order_with_items


@receiver(post_save, sender=OrderStationState, dispatch_uid="events.order_station_state_saved")
def order_station_state_saved(sender, instance: OrderStationState, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or created:
        return  # fixtures, or a state created with its order (announced by the order)
    with joined_transaction():
        record(DISPLAY, ORDER_STATION_STATUS_UPDATE, payloads.order_station_status_update_payload(instance))
        record(DISPLAY, STATION_PROGRESS, payloads.station_progress_payload(order_with_items(instance.order_id)))
