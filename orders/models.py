from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from config.ids import new_id
from orders.validators import UniqueNameConstraint, port_validators, price_validators, validate_host

MONEY = {"max_digits": 10, "decimal_places": 2}


class RemembersStatus(models.Model):
    """Bookkeeping for post_save receivers: `status_before_save` is what the
    `status` field held before the save that fired the signal (None for a new
    row), so the events app can tell a real change from a save that kept it,
    without this app knowing the events app exists."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.status_before_save = getattr(self, "_status_loaded", None)
        super().save(*args, **kwargs)
        self._status_loaded = self.status

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._status_loaded = instance.__dict__.get("status")
        return instance


class PrinterStatus(models.TextChoices):
    UNKNOWN = "UNKNOWN"  # until a printer agent reports
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    ERROR = "ERROR"


class Printer(RemembersStatus):
    """A network printer. `status` is what its printer agent last reported."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    ip = models.CharField("IP address or host name", max_length=255, blank=True, validators=[validate_host])
    # IntegerField, not Positive…: its form field would answer a negative port
    # with its own "≥ 0" message before the model's range check is reached.
    port = models.IntegerField(default=9100, validators=port_validators)
    mac = models.CharField("MAC address", max_length=17, blank=True)
    description = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=PrinterStatus.choices, default=PrinterStatus.UNKNOWN)
    status_changed_at = models.DateTimeField("status since", null=True, blank=True)

    class Meta:
        verbose_name = _("printer")
        verbose_name_plural = _("printers")
        ordering = ["name"]
        constraints = [
            UniqueNameConstraint(Lower("name"), name="printer_name_unique"),
            models.CheckConstraint(
                condition=models.Q(port__gte=1, port__lte=65535),
                name="printer_port_in_range",
                violation_error_message="Enter a port between 1 and 65535",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CashRegister(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    default_printer = models.ForeignKey(Printer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("cash register")
        verbose_name_plural = _("cash registers")
        ordering = ["name"]
        constraints = [UniqueNameConstraint(Lower("name"), name="cash_register_name_unique")]

    def __str__(self) -> str:
        return self.name


class Ingredient(models.Model):
    """An ingredient. `surcharge` is what the till charges for one extra
    unit of it; the till adds it to the line's surcharge, the server never
    adds it by itself."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    surcharge = models.DecimalField(**MONEY, default=Decimal("0"), blank=True, validators=price_validators)

    class Meta:
        verbose_name = _("ingredient")
        verbose_name_plural = _("ingredients")
        ordering = ["name"]
        constraints = [UniqueNameConstraint(Lower("name"), name="ingredient_name_unique")]

    def __str__(self) -> str:
        return self.name


class DrawerOpening(models.Model):
    """A request to open a cash register's drawer, a fact the printers hear
    of: the drawer hangs on the register's default printer, which the
    printer agent drives. Kept as a row so that every opening is on record."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    cash_register = models.ForeignKey(CashRegister, on_delete=models.CASCADE, related_name="drawer_openings")
    printer = models.ForeignKey(Printer, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("drawer opening")
        verbose_name_plural = _("drawer openings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Drawer of {self.cash_register_id} opened"


class Station(models.Model):
    """A kitchen station (grill, bar, fryer): where a category's lines are
    made. Not a printer: a station may print on any printer, or on none.
    An order's stations are those of its lines' categories; each has an
    OrderStationState on the order. Listed by `position`, then name, so
    screens that show a column per station keep them in place."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    position = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["position", "name", "id"]
        constraints = [UniqueNameConstraint(Lower("name"), name="station_name_unique")]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    printer = models.ForeignKey(Printer, null=True, blank=True, on_delete=models.SET_NULL, related_name="categories")
    station = models.ForeignKey(Station, null=True, blank=True, on_delete=models.SET_NULL, related_name="categories")
    available = models.BooleanField(default=True)
    position = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]
        constraints = [UniqueNameConstraint(Lower("name"), name="category_name_unique")]

    def __str__(self) -> str:
        return self.name


class Food(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    price = models.DecimalField(**MONEY, validators=price_validators)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="foods")
    printer = models.ForeignKey(Printer, null=True, blank=True, on_delete=models.SET_NULL, related_name="foods")
    description = models.CharField(max_length=500, blank=True)
    available = models.BooleanField(default=True)
    ingredients = models.ManyToManyField(Ingredient, blank=True, related_name="foods")

    class Meta:
        verbose_name = _("food")
        verbose_name_plural = _("foods")
        ordering = ["category__position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0),
                name="food_price_not_negative",
                violation_error_message="A price cannot be negative",
            ),
            UniqueNameConstraint(Lower("name"), "category", name="food_name_unique_in_category"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_printer_id(self) -> str | None:
        """The food's own printer, else its category's."""
        return self.printer_id or self.category.printer_id


class OrderStatus(models.TextChoices):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    PICKED_UP = "PICKED_UP"
    CANCELLED = "CANCELLED"


class PaymentMethod(models.TextChoices):
    CASH = "CASH"
    CARD = "CARD"


class Order(RemembersStatus):
    """An order. `status_before_save` (RemembersStatus) lets the events app
    tell a creation, a confirmation and a status change apart;
    `changed_by_station`, set by the service for the save it makes, that a
    station's move (not a move of the whole order) changed the status."""

    changed_by_station = False

    id = models.BigAutoField(primary_key=True)
    display_code = models.CharField(max_length=8)
    code_day = models.DateField(help_text="Service day the display code belongs to.")
    table = models.CharField(max_length=100)
    customer = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ticket_day = models.DateField(null=True, blank=True, help_text="Service day of the ticket number.")
    ticket_number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True)
    # null, not "": the contract's paymentMethod is null until confirmation.
    payment_method = models.CharField(  # noqa: DJ001
        max_length=8, choices=PaymentMethod.choices, null=True, blank=True
    )
    sub_total = models.DecimalField(**MONEY, default=Decimal("0"))
    discount = models.DecimalField(**MONEY, default=Decimal("0"))
    surcharge = models.DecimalField(**MONEY, default=Decimal("0"))
    total = models.DecimalField(**MONEY, default=Decimal("0"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmed_orders",
        help_text="Staff member who confirmed the order.",
    )
    cash_register = models.ForeignKey(
        CashRegister, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # When the kitchen finished it (CONFIRMED → COMPLETED); cleared when the
    # completion is undone, kept through PICKED_UP: reports measure
    # confirmation → completion with it.
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket_day", "ticket_number"], name="ticket_unique_per_service_day"),
            models.UniqueConstraint(fields=["code_day", "display_code"], name="display_code_unique_per_service_day"),
        ]

    def __str__(self) -> str:
        return f"{self.display_code} (#{self.pk})"


class OrderItem(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    food = models.ForeignKey(Food, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    unit_surcharge = models.DecimalField(**MONEY, default=Decimal("0"))
    total = models.DecimalField(**MONEY)
    notes = models.CharField(max_length=250, blank=True, default="")

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "position"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.food.name}"


class OrderStationState(models.Model):
    """How far one station is with one order: one row per (order, station)
    of the order's lines' categories, created with the order and kept in
    step with its lines and its status. Written only by orders.services,
    under the order's row lock, so the order's status and its states change
    together."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="station_states")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="order_states")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order's station state")
        verbose_name_plural = _("orders' station states")
        ordering = ["station__position", "station__name", "station_id"]
        constraints = [models.UniqueConstraint(fields=["order", "station"], name="one_state_per_order_and_station")]

    def __str__(self) -> str:
        return f"{self.station_id} on order #{self.order_id}: {self.status}"


class Reprint(models.Model):
    """A cashier's request to print an order again: a fact the printers hear of."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reprints")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    item_ids = models.JSONField(default=list, help_text="Ids of the order items to print again.")
    receipt = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reprint")
        verbose_name_plural = _("reprints")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reprint of order #{self.order_id}"


class DayCounter(models.Model):
    """Per-service-day sequences (ticket numbers, display codes). Incremented
    by an upsert inside the transaction that uses the number, so a rollback
    gives it back and no two transactions can take the same one."""

    day = models.DateField()
    kind = models.CharField(max_length=16)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("day counter")
        verbose_name_plural = _("day counters")
        constraints = [models.UniqueConstraint(fields=["day", "kind"], name="one_counter_per_day_and_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.day}: {self.value}"


class Closure(models.Model):
    """A general closure: a till's end-of-day, with the service day's report
    as it stood when it was taken (the printer prints exactly this)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    cash_register = models.ForeignKey(CashRegister, on_delete=models.PROTECT, related_name="closures")
    service_day = models.DateField()
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    report = models.JSONField(default=list, help_text="The service day's report, as sent to the printer.")

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Closure of {self.cash_register_id} on {self.service_day}"


class DayReport(Order):
    """No table of its own: the admin's page of a day's figures hangs on it,
    so that the admin index links to it like to any other page."""

    class Meta:
        verbose_name = _("day report")
        verbose_name_plural = _("day reports")
        proxy = True
