from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from users.models import User
from users.services import user_apply_role


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "role", "first_name", "last_name", "is_active", "is_superuser")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = BaseUserAdmin.fieldsets + (("Role", {"fields": ("role",)}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Role", {"fields": ("role",)}),)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change or "role" in form.changed_data:
            # The role decides admin access, as for `manage.py createuser`;
            # after the form's own permissions, which it would overwrite.
            user_apply_role(user=form.instance)
