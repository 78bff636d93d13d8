"""The one table of the events app that is not django-eventstream's: the
snapshot of each process's open streams (events/presence/presence.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StreamSnapshot(models.Model):
    """One row per worker process, rewritten whole at every interval; a row
    whose heartbeat is older than three intervals belongs to a dead process
    and is ignored, then deleted."""

    process = models.CharField(primary_key=True, max_length=200)
    heartbeat = models.DateTimeField(db_index=True)
    # [[channel, "user"|"key", id, address, held, [opened, ...]], ...]: one
    # entry per listener and kind of stream (events/presence/presence.py snapshot).
    streams = models.JSONField(default=list)

    class Meta:
        verbose_name = _("live connection")
        verbose_name_plural = _("live connections")

    def __str__(self) -> str:
        return self.process
