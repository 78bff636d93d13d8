"""Validation of the menu and devices, in one place for the REST API and the
admin: field validators and constraints that the models declare, so that
`Model.full_clean()` (which every ModelForm runs and which the menu's
serializers call) reports each problem in words a manager understands.

Invariant: every rule here that the database can hold is also a database
constraint, so a write that bypasses validation (a race between two
requests, a script) is refused rather than stored.
"""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DEFAULT_DB_ALIAS, models

PORT_MESSAGE = "Enter a port between 1 and 65535"
port_validators = [MinValueValidator(1, message=PORT_MESSAGE), MaxValueValidator(65535, message=PORT_MESSAGE)]

price_validators = [MinValueValidator(0, message="A price cannot be negative")]

# RFC 1123 labels: letters, digits and inner hyphens, 1 to 63 characters.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z", re.ASCII)


def validate_host(value: str) -> None:
    """An IPv4/IPv6 address or a host name such as `kitchen-printer.local`."""
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    valid = (
        len(value) <= 253
        and all(_LABEL.match(label) for label in labels)
        # An all-digit last label is a mistyped address (10.0.0.300), not a name.
        and not labels[-1].isdigit()
    )
    if not valid:
        raise ValidationError(
            "Enter an IP address (such as 192.168.1.50) or a host name (such as kitchen-printer.local)",
            code="invalid_host",
        )


class UniqueNameConstraint(models.UniqueConstraint):
    """A UniqueConstraint on a lower-cased name (and optionally the fields that
    scope it), whose validation error sits on the `name` field and names the
    clash: "A category named “Pizza” already exists"."""

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        try:
            super().validate(model, instance, exclude=exclude, using=using)
        except ValidationError:
            raise ValidationError(
                {"name": ValidationError(self.clash_message(model, instance), code="unique")}
            ) from None

    def clash_message(self, model, instance) -> str:
        noun = str(model._meta.verbose_name)
        article = "An" if noun[:1].lower() in "aeiou" else "A"
        scopes = [expression.name for expression in self.expressions if isinstance(expression, models.F)]
        # Name the row that is already there, spelt as it is stored.
        existing = (
            model._default_manager.filter(
                name__iexact=instance.name, **{scope: getattr(instance, scope) for scope in scopes}
            )
            .exclude(pk=instance.pk)
            .values_list("name", flat=True)
            .first()
        )
        message = f"{article} {noun} named “{existing or instance.name}” already exists"
        for scope in scopes:
            message += f" in {getattr(instance, scope)}"
        return message
