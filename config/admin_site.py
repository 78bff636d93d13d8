"""The admin site an organiser runs a festival from. Invariants: the index
opens with the set-up (menu, stations, printers, tills, staff, screens) in
the order one prepares an evening, then the evening itself (orders, day
report, closures); the plumbing (sign-in lockouts, token blacklist, groups,
live connections) comes last and only a superuser ever sees it (the
ModelAdmins in config/admin_plumbing.py refuse everyone else)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# (app_label, object_name) in the order an organiser prepares an evening.
SET_UP = (
    ("orders", "Category"),
    ("orders", "Food"),
    ("orders", "Ingredient"),
    ("orders", "Station"),
    ("orders", "Printer"),
    ("orders", "CashRegister"),
    ("users", "User"),
    ("users", "ApiKey"),
)
EVENING = (
    ("orders", "Order"),
    ("orders", "DayReport"),
    ("orders", "Closure"),
)


class OrganiserAdminSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps  # an app's own page: Django's list of its models
        models = {(app["app_label"], model["object_name"]): (app, model) for app in apps for model in app["models"]}
        sections = []
        for label, name, keys in (("setup", _("Set-up"), SET_UP), ("evening", _("The evening"), EVENING)):
            found = [models.pop(key) for key in keys if key in models]
            if found:
                first_app = found[0][0]
                sections.append(
                    {
                        **first_app,
                        "name": name,
                        "app_label": label,
                        "models": [model for _app, model in found],
                    }
                )
        rest = []
        for app in apps:
            left = [model for model in app["models"] if (app["app_label"], model["object_name"]) in models]
            if left:
                rest.append({**app, "models": left})
        return sections + rest


class OrganiserAdminConfig(AdminConfig):
    default_site = "config.admin_site.OrganiserAdminSite"
