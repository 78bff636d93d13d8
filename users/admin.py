from urllib.parse import urlencode

import segno
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from users.apikeys import issue_key, revoke_key
from users.models import ApiKey, ApiKeyKind, User
from users.services import user_apply_role

# The page each screen key opens (screens/keys.py).
SCREEN_PAGES = {ApiKeyKind.DISPLAY: "/display/", ApiKeyKind.KITCHEN: "/kitchen/"}


def qr_svg(address: str) -> SafeString:
    """The address as a QR code, an inline SVG a phone's camera or a tablet
    reads off the admin's screen (segno draws it from the address alone)."""
    return mark_safe(segno.make(address, error="m").svg_inline(scale=4, border=2, title=str(_("Screen address"))))


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "role", "first_name", "last_name", "is_active", "is_superuser")
    list_filter = ("role", "is_active", "is_superuser")
    # Who they are, what they do, then the rest: the role beside the name.
    fieldsets = (
        (None, {"fields": ("username", "first_name", "role", "password")}),
        *(
            (title, {**options, "fields": tuple(f for f in options["fields"] if f != "first_name")})
            for title, options in BaseUserAdmin.fieldsets[1:]
        ),
    )
    # A new staff member: name, role and password, nothing else to scroll past.
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "first_name", "role", "usable_password", "password1", "password2"),
            },
        ),
    )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change or "role" in form.changed_data:
            # The role decides admin access, as for `manage.py createuser`;
            # after the form's own permissions, which it would overwrite.
            user_apply_role(user=form.instance)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys for devices. The secret exists only in the message after the
    key is added (the message storage holds it until that next page shows
    it); afterwards only its prefix is ever shown."""

    list_display = ("name", "prefix", "kind", "created_at", "last_used_at", "last_used_from", "revoked_at")
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "kind")
        return ("name", "kind", "prefix", "created_at", "last_used_at", "last_used_from", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        # A key's kind is its rights: to change them, make a new key.
        if obj is None:
            return ()
        return ("kind", "prefix", "created_at", "last_used_at", "last_used_from", "revoked_at")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        raw = issue_key(key=obj)
        page = SCREEN_PAGES.get(obj.kind)
        if page is not None:
            # A screen gets an address to open once: the page keeps the key
            # in a cookie and drops it from the address bar (screens/keys.py).
            address = request.build_absolute_uri(f"{page}?{urlencode({'key': raw})}")
            messages.warning(
                request,
                format_html(
                    _(
                        'The screen address for {} is <code class="screen-address">{}</code>. Open it once on '
                        "the screen now (copy it, type it, or scan the code): it is not shown again."
                    )
                    + '<span class="screen-qr">{}</span>',
                    obj.name,
                    address,
                    qr_svg(address),
                ),
            )
            return
        messages.warning(
            request,
            format_html(
                _("The key for {} is <code>{}</code>. Copy it into the device now: it is not shown again."),
                obj.name,
                raw,
            ),
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            revoke_key(key=key)
        self.message_user(request, _("Revoked. Devices using these keys are refused from now on."))
