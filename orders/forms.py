"""Form fields of the admin. MoneyField takes an amount as people type it:
"8,50" or "8.50" (one decimal mark, comma or point, whatever the language),
with or without a € sign; it shows the stored amount in the active
language's format. Thousands separators are refused (is "1.250" one
thousand two hundred fifty or one and a quarter?)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

_AMOUNT = re.compile(r"[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+", re.ASCII)


class MoneyField(forms.DecimalField):
    default_error_messages = {
        "invalid": _("Enter an amount such as 8,50 or 8.50 (no thousands separator)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)
        # localize turns the widget into a text input: keep the number keypad on phones.
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().removesuffix("€").removeprefix("€").strip()
        if not _AMOUNT.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        # Not DecimalField's localized parsing: in Italian it reads the point
        # as a thousands mark and would turn "8.50" into 850.
        try:
            return Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
