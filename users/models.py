from django.contrib.auth.models import AbstractUser
from django.db import models

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
