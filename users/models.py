from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from config.ids import new_id


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator (cashier)"
    WAITER = "waiter", "Waiter"


class User(AbstractUser):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.WAITER)

    @property
    def effective_role(self) -> str:
        """A Django superuser counts as admin whatever its role field says."""
        return Role.ADMIN if self.is_superuser else self.role

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.effective_role in roles


class IdempotentRequest(models.Model):
    """A write answered under an Idempotency-Key header, kept so that a retry
    with the same key gets the same answer (config/idempotency.py)."""

    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    # sha256 of the method, the path and the parsed body.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_one_write_per_key")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
