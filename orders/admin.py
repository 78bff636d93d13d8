"""The admin a manager runs an evening from. Rules live in the models'
clean() and in orders/services.py; the admin only surfaces them: a form
shows the model's validation messages, an order changes only through the
actions (the services), and deleting a printer that anything still prints
through is refused with the list of what uses it."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from events.admin import printer_listeners_html
from orders import services
from orders.admin_soldout import SoldOutByOperators
from orders.exceptions import DomainError
from orders.forms import MoneyField
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
    Station,
)
from orders.money import display_money

admin.site.site_header = _("Ordering backend · admin")
admin.site.site_title = _("Ordering backend")
admin.site.index_title = _("Menu, printers, tills and orders")


def _shown(amount) -> str:
    """An amount as the admin's reader writes it (12,50 € in Italian)."""
    return display_money(amount, get_language())


# "View site": the staff landing page (links to the kitchen, the board, the docs).
admin.site.site_url = "/"


def _printer_users(printers) -> list[str]:
    """What prints through these printers, in words, one entry each."""
    uses = []
    for printer in printers:
        for category in Category.objects.filter(printer=printer).order_by("name"):
            uses.append(
                _("Category “{category}” prints on {printer}").format(category=category.name, printer=printer.name)
            )
        for food in Food.objects.filter(printer=printer).order_by("name"):
            uses.append(_("Food “{food}” prints on {printer}").format(food=food.name, printer=printer.name))
        for register in CashRegister.objects.filter(default_printer=printer).order_by("name"):
            uses.append(
                _("Cash register “{register}” prints its receipts on {printer}").format(
                    register=register.name, printer=printer.name
                )
            )
    return uses


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    list_display = ("name", "ip", "port", "status", "status_changed_at", "description")
    list_filter = ("status",)
    # Reported by the printer's agent (PATCH /v1/printers/{id}), not typed in.
    readonly_fields = ("status", "status_changed_at", "listening_now")
    search_fields = ("name", "ip")
    # Above the list: who listens on /events/printer (events/presence/presence.py).
    change_list_template = "admin/orders/printer/change_list.html"

    @admin.display(description=_("Listening on /events/printer now"))
    def listening_now(self, obj: Printer) -> str:
        return mark_safe(printer_listeners_html())  # rendered by a template, escaped there

    def changelist_view(self, request, extra_context=None):
        extra = {"printer_listeners": mark_safe(printer_listeners_html()), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def get_deleted_objects(self, objs, request):
        """Refuse to delete a printer that categories, foods or tills still
        use (their tickets would move to another printer, or print nowhere):
        Django's delete page then lists them as what must change first, and
        deletes nothing."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        return to_delete, model_count, perms_needed, list(protected) + _printer_users(objs)


@admin.register(CashRegister)
class CashRegisterAdmin(admin.ModelAdmin):
    list_display = ("name", "default_printer", "enabled")
    list_filter = ("enabled",)
    search_fields = ("name",)


class StationCategoryInline(admin.TabularInline):
    """The categories a station makes; assigned from the category's side."""

    model = Category
    fields = ("name", "position", "available")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    """Kitchen stations (grill, bar…): each category names the station that
    makes it; the kitchen display has a view per station."""

    list_display = ("name", "position")
    list_editable = ("position",)
    search_fields = ("name",)
    inlines = [StationCategoryInline]

    def get_deleted_objects(self, objs, request):
        """Refuse to delete a station live orders still wait on: Django's
        delete page then lists those orders and deletes nothing."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        live = (OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.COMPLETED)
        waiting = [
            f"Order {state.order.display_code} ({state.order.status}) waits on {state.station.name}"
            for station in objs
            for state in station.order_states.filter(order__status__in=live).select_related("order", "station")
        ]
        return to_delete, model_count, perms_needed, list(protected) + waiting

    def delete_model(self, request, obj: Station) -> None:
        # Through the service: refused while live orders wait on the station.
        try:
            services.station_delete(station_id=obj.pk)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for station in queryset:
            self.delete_model(request, station)


@admin.register(Category)
class CategoryAdmin(SoldOutByOperators, admin.ModelAdmin):
    # "available" second: on a phone the first columns are what fits.
    list_display = ("name", "available", "position", "printer", "station")
    list_editable = ("available", "position", "station")
    list_filter = ("available", "printer", "station")
    search_fields = ("name",)


class IngredientForm(forms.ModelForm):
    """`surcharge` may be left empty: no extra charge (0)."""

    surcharge = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=2, help_text="Per extra unit; empty means 0."
    )

    class Meta:
        model = Ingredient
        fields = ("name", "surcharge")

    def clean_surcharge(self):
        value = self.cleaned_data.get("surcharge")
        return Decimal("0") if value is None else value


@admin.register(Ingredient)
class IngredientAdmin(admin.ModelAdmin):
    form = IngredientForm
    list_display = ("name", "surcharge")
    search_fields = ("name",)


@admin.register(Food)
class FoodAdmin(SoldOutByOperators, admin.ModelAdmin):
    # "available" second: on a phone the first columns are what fits.
    list_display = ("name", "available", "category", "price_display", "effective_printer")
    list_editable = ("available",)
    list_filter = ("available", "category", "printer")
    search_fields = ("name", "description")
    list_select_related = ("category__printer", "printer")
    filter_horizontal = ("ingredients",)
    formfield_overrides = {models.DecimalField: {"form_class": MoneyField}}

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, food: Food) -> str:
        return _shown(food.price)

    @admin.display(description=_("prints on"))
    def effective_printer(self, food: Food) -> str:
        """The printer its lines go to: its own, else its category's, else
        the printer of the till that took the order (the printer agent's
        fallback; a till without one prints them nowhere)."""
        if food.printer_id:
            return food.printer.name
        if food.category.printer_id:
            return _("{printer} (through {category})").format(
                printer=food.category.printer.name, category=food.category.name
            )
        return _("the till's printer")


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    fields = ("food_name", "quantity", "unit_price_display", "unit_surcharge_display", "total_display", "notes")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "line"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("food")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("food"))
    def food_name(self, item: OrderItem) -> str:
        return item.food.name

    @admin.display(description=_("unit price"))
    def unit_price_display(self, item: OrderItem) -> str:
        return _shown(item.unit_price)

    @admin.display(description=_("surcharge per unit"))
    def unit_surcharge_display(self, item: OrderItem) -> str:
        return _shown(item.unit_surcharge)

    @admin.display(description=_("total"))
    def total_display(self, item: OrderItem) -> str:
        return _shown(item.total)


def reprint_in_words(reprint: Reprint) -> str:
    """ "The receipt and 2 × Margherita, 1 × Lemonade" (lines that no longer
    exist are counted, not named)."""
    items = OrderItem.objects.filter(pk__in=reprint.item_ids).select_related("food").order_by("position")
    named = [f"{item.quantity} × {item.food.name}" for item in items]
    missing = len(reprint.item_ids) - len(named)
    if missing:
        named.append(_("{count} line(s) no longer in the order").format(count=missing))
    parts = ([str(_("the receipt"))] if reprint.receipt else []) + ([", ".join(named)] if named else [])
    return (str(_(" and ")).join(parts) or str(_("nothing"))).capitalize()


class ReprintInline(admin.TabularInline):
    model = Reprint
    fields = ("created_at", "requested_by", "what")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "reprint"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("printed again"))
    def what(self, reprint: Reprint) -> str:
        return reprint_in_words(reprint)


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
        modeladmin.message_user(request, _("{verb} {count} order(s).").format(verb=verb, count=done), messages.SUCCESS)
    for message in refused:
        modeladmin.message_user(request, message, messages.ERROR)


def _confirm_action(method: str):
    def action(modeladmin, request, queryset):
        confirmation = services.ConfirmInput(payment_method=method)
        _run_on_each(
            modeladmin,
            request,
            queryset,
            _("Confirmed"),
            lambda order: services.order_confirm(order_id=order.id, by=request.user, confirmation=confirmation),
        )

    action.__name__ = f"confirm_{method.lower()}"
    description = _("Confirm, paid in cash") if method == PaymentMethod.CASH else _("Confirm, paid by card")
    return admin.action(description=description, permissions=["change"])(action)


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


@admin.action(description=_("Reprint all items and the receipt"), permissions=["change"])
def reprint_everything(modeladmin, request, queryset):
    _run_on_each(
        modeladmin,
        request,
        queryset,
        _("Sent to the printers"),
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
        _status_action(OrderStatus.COMPLETED, _("Completed"), _("Mark completed (ready for pickup)")),
        _status_action(OrderStatus.PICKED_UP, _("Marked picked up"), _("Mark picked up")),
        _status_action(OrderStatus.CANCELLED, _("Cancelled"), _("Cancel")),
        reprint_everything,
    ]
    readonly_fields = [field.name for field in Order._meta.fields] + [
        "sub_total_display",
        "surcharge_display",
        "discount_display",
        "total_display",
    ]
    fieldsets = (
        (None, {"fields": ("id", "display_code", "status", "table", "customer")}),
        (
            _("Confirmation"),
            {"fields": ("ticket_number", "ticket_day", "confirmed_at", "user", "cash_register", "payment_method")},
        ),
        (_("Amounts"), {"fields": ("sub_total_display", "surcharge_display", "discount_display", "total_display")}),
        (_("History"), {"fields": ("created_at", "created_by", "code_day", "status_changed_at", "completed_at")}),
    )

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, order: Order) -> str:
        return _shown(order.total)

    @admin.display(description=_("sub-total"))
    def sub_total_display(self, order: Order) -> str:
        return _shown(order.sub_total)

    @admin.display(description=_("surcharge"))
    def surcharge_display(self, order: Order) -> str:
        return _shown(order.surcharge)

    @admin.display(description=_("discount"))
    def discount_display(self, order: Order) -> str:
        return _shown(order.discount)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: a Save button would save nothing.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request) -> bool:
        return False  # orders come from the tills and waiters, through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order is history; cancel it instead


# The day report page and the closures live in their own module.
from orders import admin_reports  # noqa: E402, F401
