"""Sold out from the admin by an operator (cashier): on foods and
categories they may tick `available` (the change list's column and the
change form's box) and nothing else; adding and deleting stay an admin's.
An admin's pages are unchanged. The same right as the API's PATCH of
`available` alone (users.permissions.ReadAnyoneWriteAdminSoldOutOperator)."""

from __future__ import annotations

from functools import partial

from django.forms import modelformset_factory

from users.models import Role

SOLD_OUT_FIELDS = ("available",)


def _only_sold_out(request) -> bool:
    user = request.user
    return user.has_role(Role.OPERATOR) and not user.has_role(Role.ADMIN)


class SoldOutByOperators:
    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) or _only_sold_out(request)

    def get_readonly_fields(self, request, obj=None):
        if not _only_sold_out(request):
            return super().get_readonly_fields(request, obj)
        fields = self.model._meta.get_fields()
        return [
            field.name
            for field in fields
            if getattr(field, "editable", False) and not field.auto_created and field.name not in SOLD_OUT_FIELDS
        ]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if _only_sold_out(request):
            changelist.list_editable = tuple(name for name in self.list_editable if name in SOLD_OUT_FIELDS)
        return changelist

    def get_changelist_formset(self, request, **kwargs):
        if not _only_sold_out(request):
            return super().get_changelist_formset(request, **kwargs)
        return modelformset_factory(
            self.model,
            self.get_changelist_form(request),
            extra=0,
            fields=SOLD_OUT_FIELDS,
            formfield_callback=partial(self.formfield_for_dbfield, request=request),
            **kwargs,
        )
