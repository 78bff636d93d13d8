"""The admin's live view of open event streams: per channel, who listens
(a user or a device key), from which address, since when and on which
process. It reads the per-process snapshots of events/presence/presence.py, so it
shows every worker's streams, at most one EVENTS_PRESENCE_SECONDS late."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from events.core.channels import CHANNELS, PRINTER
from events.models import StreamSnapshot
from events.presence import presence
from users.models import Role


def _is_admin(request: HttpRequest) -> bool:
    """Plumbing: superusers only (an admin made by the role is one)."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.is_superuser and user.has_role(Role.ADMIN))


def printer_listeners_html() -> str:
    """The devices and users on /events/printer right now, as an admin
    fragment (the printers' admin pages show it)."""
    listeners = presence.live_streams().get(PRINTER, [])
    return render_to_string("admin/events/listeners.html", {"streams": listeners, "channel": PRINTER})


@admin.register(StreamSnapshot)
class LiveConnectionsAdmin(admin.ModelAdmin):
    """Not a list of rows: its page is the live view. Read-only, admins only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # no "Add" link on the index

    def get_urls(self):
        """Only the live page: there is nothing to add, change or delete."""
        view = self.admin_site.admin_view(self.changelist_view)
        opts = self.model._meta
        return [path("", view, name=f"{opts.app_label}_{opts.model_name}_changelist")]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        live = presence.live_streams()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Live connections"),
            "channels": [(channel, live.get(channel, [])) for channel in CHANNELS],
            "interval": presence.interval(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/events/streamsnapshot/live.html", context)
