from django.contrib import admin, messages
from django.db.models import QuerySet

from orders import services
from orders.exceptions import DomainError
from orders.models import (
    CashRegister,
    Category,
    Food,
    Ingredient,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    Printer,
    Reprint,
)
from orders.money import format_money


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    list_display = ("name", "ip", "port", "status", "status_changed_at", "description")
    list_filter = ("status",)
    # Reported by the printer's agent (PATCH /v1/printers/{id}), not typed in.
    readonly_fields = ("status", "status_changed_at")
    search_fields = ("name", "ip")


@admin.register(CashRegister)
class CashRegisterAdmin(admin.ModelAdmin):
    list_display = ("name", "default_printer", "enabled")
    list_filter = ("enabled",)
    search_fields = ("name",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "printer", "available")
    list_editable = ("position", "available")
    list_filter = ("available", "printer")
    search_fields = ("name",)


@admin.register(Ingredient)
class IngredientAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(Food)
class FoodAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "price", "printer", "available")
    list_editable = ("available",)
    list_filter = ("available", "category", "printer")
    search_fields = ("name", "description")
    list_select_related = ("category", "printer")
    filter_horizontal = ("ingredients",)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = ("food", "quantity", "unit_price", "unit_surcharge", "total", "notes")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReprintInline(admin.TabularInline):
    model = Reprint
    fields = ("created_at", "requested_by", "receipt", "item_ids")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _run_on_each(modeladmin, request, queryset: QuerySet, verb: str, call) -> None:
    """Apply a service to each selected order; a refusal is reported, never
    forced through."""
    done, refused = 0, []
    for order in queryset.order_by("id"):
        try:
            call(order)
            done += 1
        except DomainError as exc:
            refused.append(f"{order.display_code}: {exc.message}")
    if done:
        modeladmin.message_user(request, f"{verb} {done} order(s).", messages.SUCCESS)
    for message in refused:
        modeladmin.message_user(request, message, messages.ERROR)


def _confirm_action(method: str):
    def action(modeladmin, request, queryset):
        confirmation = services.ConfirmInput(payment_method=method)
        _run_on_each(
            modeladmin,
            request,
            queryset,
            "Confirmed",
            lambda order: services.order_confirm(order_id=order.id, by=request.user, confirmation=confirmation),
        )

    action.__name__ = f"confirm_{method.lower()}"
    return admin.action(description=f"Confirm, paid by {method.lower()}", permissions=["change"])(action)


def _status_action(status: str, verb: str, description: str):
    def action(modeladmin, request, queryset):
        _run_on_each(
            modeladmin,
            request,
            queryset,
            verb,
            lambda order: services.order_set_status(order_id=order.id, by=request.user, status=status),
        )

    action.__name__ = f"mark_{status.lower()}"
    return admin.action(description=description, permissions=["change"])(action)


@admin.action(description="Reprint all items and the receipt", permissions=["change"])
def reprint_everything(modeladmin, request, queryset):
    _run_on_each(
        modeladmin,
        request,
        queryset,
        "Sent to the printers",
        lambda order: services.order_reprint(
            order_id=order.id, by=request.user, item_ids=list(order.items.values_list("id", flat=True)), receipt=True
        ),
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are read here and changed only through the actions, which call
    the same services as the API: no field can be edited around a rule."""

    list_display = (
        "display_code",
        "ticket_number",
        "status",
        "table",
        "customer",
        "total_display",
        "created_at",
        "confirmed_at",
    )
    list_filter = ("status", "payment_method", "created_at", "confirmed_at", "cash_register")
    search_fields = ("display_code", "table", "customer")
    date_hierarchy = "created_at"
    list_select_related = ("cash_register", "user")
    inlines = [OrderItemInline, ReprintInline]
    actions = [
        _confirm_action(PaymentMethod.CASH),
        _confirm_action(PaymentMethod.CARD),
        _status_action(OrderStatus.COMPLETED, "Completed", "Mark completed (ready for pickup)"),
        _status_action(OrderStatus.PICKED_UP, "Marked picked up", "Mark picked up"),
        _status_action(OrderStatus.CANCELLED, "Cancelled", "Cancel"),
        reprint_everything,
    ]
    readonly_fields = [field.name for field in Order._meta.fields]
    fieldsets = (
        (None, {"fields": ("id", "display_code", "status", "table", "customer")}),
        (
            "Confirmation",
            {"fields": ("ticket_number", "ticket_day", "confirmed_at", "user", "cash_register", "payment_method")},
        ),
        ("Amounts", {"fields": ("sub_total", "surcharge", "discount", "total")}),
        ("History", {"fields": ("created_at", "created_by", "code_day", "status_changed_at", "completed_at")}),
    )

    @admin.display(description="total", ordering="total")
    def total_display(self, order: Order) -> str:
        return format_money(order.total)

    def has_add_permission(self, request) -> bool:
        return False  # orders come from the tills and waiters, through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order is history; cancel it instead


# The day report page and the closures live in their own module.
from orders import admin_reports  # noqa: E402, F401
