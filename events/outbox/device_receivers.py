"""Facts about devices become events here: a printer's new status (reported
by its agent) and a drawer opening. Invariant: each event is recorded in the
transaction that saved its fact (events.outbox.publisher.record), so it is sent
after that commits and never for a rolled-back save; a status saved again
unchanged sends nothing."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from events.core.channels import CASHIER, OPEN_DRAWER, PRINTER, PRINTER_STATUS_CHANGED
from events.outbox import payloads
from events.outbox.publisher import joined_transaction, record
from orders.models import DrawerOpening, Printer


@receiver(post_save, sender=Printer, dispatch_uid="events.printer_saved")
def printer_saved(sender, instance: Printer, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or created:
        return  # a new printer's status is UNKNOWN until an agent reports
    before = getattr(instance, "status_before_save", None)
    if before is not None and before != instance.status:
        with joined_transaction():
            record(CASHIER, PRINTER_STATUS_CHANGED, payloads.printer_status_changed_payload(instance))


@receiver(post_save, sender=DrawerOpening, dispatch_uid="events.drawer_opened")
def drawer_opened(sender, instance: DrawerOpening, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        with joined_transaction():
            record(PRINTER, OPEN_DRAWER, payloads.open_drawer_payload(instance))
