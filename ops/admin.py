"""The plumbing in the admin: sign-in lockouts (django-axes), the token
blacklist, groups. Invariant: only a superuser sees or opens these pages;
an organiser's admin shows the festival, not the machinery. Each library's
ModelAdmin is kept (its columns and filters) and re-registered as a
subclass that refuses everyone else."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from rest_framework_simplejwt.token_blacklist.admin import BlacklistedTokenAdmin, OutstandingTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken


def superuser_only(base: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`base`, shown and opened by superusers only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser) and base.has_change_permission(
            self, request, obj
        )

    return type(
        f"SuperuserOnly{base.__name__}",
        (base,),
        {
            "has_module_permission": has_module_permission,
            "has_view_permission": has_view_permission,
            "has_change_permission": has_change_permission,
            "__module__": __name__,
        },
    )


PLUMBING = (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
    (OutstandingToken, OutstandingTokenAdmin),
    (BlacklistedToken, BlacklistedTokenAdmin),
    (Group, GroupAdmin),
)

for model, model_admin in PLUMBING:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, superuser_only(model_admin))
