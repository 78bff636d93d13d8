from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.ids import new_id


class Role(models.TextChoices):
    ADMIN = "admin", pgettext_lazy("role", "Admin")
    OPERATOR = "operator", _("Operator (cashier)")
    # An operator who may also run the general closure, read reports and
    # set up the printer agent (MySagra's role of that name).
    MAINTAINER = "maintainer", _("Maintainer (operator, closures, printer agent)")
    WAITER = "waiter", _("Waiter")
    # Cooks who sign in: the kitchen display and its bump, nothing else.
    KITCHEN = "kitchen", _("Kitchen (cook)")


class User(AbstractUser):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.WAITER)

    @property
    def effective_role(self) -> str:
        """A Django superuser counts as admin whatever its role field says."""
        return Role.ADMIN if self.is_superuser else self.role

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.effective_role in roles

    class Meta(AbstractUser.Meta):
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")


class ApiKeyKind(models.TextChoices):
    PRINTER_AGENT = "printer-agent", _("Printer agent")
    DISPLAY = "display", _("Display")
    KITCHEN = "kitchen", _("Kitchen display")


class ApiKey(models.Model):
    """A device's credential (a printer agent, an unattended screen). The
    secret is shown once when the key is made; only its SHA-256 is kept.
    `prefix` is not secret: it finds the row and names the key in lists."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    name = models.CharField(max_length=100, help_text="The device it belongs to, e.g. “Kitchen printer agent”.")
    kind = models.CharField(max_length=16, choices=ApiKeyKind.choices)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_from = models.GenericIPAddressField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
