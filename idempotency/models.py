from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotentRequest(models.Model):
    """A write answered under an Idempotency-Key header, kept so that a retry
    with the same key gets the same answer (idempotency/decorators.py)."""

    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    # sha256 of the method, the path and the parsed body.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        # The table it had in the users app: the move kept its rows.
        db_table = "users_idempotentrequest"
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_one_write_per_key")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
