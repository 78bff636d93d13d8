"""Input validation for the REST API (shapes, ranges, lengths) and the model
serializers of the menu and devices. Business rules live in services; the
rules of the menu's and devices' data (unique names, a printer's address and
port, a price) live on the models (orders/validators.py), and the model
serializers run them through `Model.full_clean()`, as the admin's forms do."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime, time

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import (
    CashRegister,
    Category,
    Food,
    Ingredient,
    OrderStatus,
    PaymentMethod,
    Printer,
    PrinterStatus,
    Station,
)
from orders.money import ZERO, format_money, parse_money
from orders.representations import (
    cash_register_repr,
    category_repr,
    food_repr,
    ingredient_repr,
    printer_repr,
    station_repr,
)
from orders.selectors import ORDER_SORTS
from orders.services import STATION_STATUSES, ConfirmInput, LineInput

MAX_LINES = 100
MAC_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}", re.ASCII)


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string"}],
        "description": "A money value: a JSON number or a decimal string, at most 2 decimals.",
        "example": "2.5",
    }
)
class MoneyField(serializers.Field):
    """A JSON number or decimal string in; the contract's string out.
    `round_float_noise` (amounts a till computes: line surcharges, the
    discount) reads a JSON number within a millionth of a cent as that cent."""

    default_error_messages = {"invalid": "{message}"}

    def __init__(self, *, round_float_noise: bool = False, **kwargs):
        self.round_float_noise = round_float_noise
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_money(data, round_float_noise=self.round_float_noise)
        except ValueError as exc:
            self.fail("invalid", message=str(exc))

    def to_representation(self, value):
        return format_money(value)


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them
    into strings."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: "yes", "true", 1 and null are refused, where DRF's
    BooleanField would guess."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanQueryField(serializers.Field):
    """`true` or `false` in a query string, nothing else."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if data not in ("true", "false"):
            self.fail("invalid")
        return data == "true"


@extend_schema_field({"type": "string", "description": "ISO-8601 date or date-time.", "example": "2026-01-15"})
class MomentQueryField(serializers.Field):
    """An ISO-8601 date or date-time in a query string. A date alone means
    the start of that local day (`end_of_day=False`) or its last instant
    (`end_of_day=True`), so `dateFrom=d&dateTo=d` is the whole day; a
    date-time without an offset is local time."""

    default_error_messages = {
        "invalid": "Must be an ISO-8601 date or date-time, such as 2026-01-15 or 2026-01-15T18:30:00.000Z."
    }
    _DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", re.ASCII)

    def __init__(self, *, end_of_day: bool, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.isascii():
            self.fail("invalid")
        try:
            if self._DATE.match(data):
                day = date.fromisoformat(data)
                moment = datetime.combine(day, time.max if self.end_of_day else time.min)
            else:
                moment = parse_datetime(data)
        except ValueError:
            self.fail("invalid")
        if moment is None:
            self.fail("invalid")
        try:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            # The database compares in UTC: year 1 at +05:00 has no UTC time.
            moment.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("invalid")
        return moment


def _name_field(**kwargs) -> StrictCharField:
    return StrictCharField(max_length=100, trim_whitespace=True, **kwargs)


class LineSerializer(serializers.Serializer):
    foodId = StrictCharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=999)
    notes = StrictCharField(max_length=250, required=False, allow_blank=True, default="")
    surcharge = MoneyField(required=False, round_float_noise=True)


def _lines_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=LineSerializer(), min_length=1, max_length=MAX_LINES, **kwargs)


def to_lines(data: list[dict]) -> list[LineInput]:
    """Validated `orderItems` → the services' line inputs."""
    return [
        LineInput(
            food_id=line["foodId"],
            quantity=line["quantity"],
            notes=line.get("notes", ""),
            surcharge=line.get("surcharge", ZERO),
        )
        for line in data
    ]


class ConfirmSerializer(serializers.Serializer):
    paymentMethod = serializers.ChoiceField(choices=PaymentMethod.values)
    cashRegisterId = StrictCharField(max_length=64, required=False, allow_null=True, default=None)
    discount = MoneyField(required=False, round_float_noise=True)
    customer = _name_field(required=False)
    table = _name_field(required=False)
    # Sent by today's tills (the signed-in user's id, or ""); the order's
    # user is always the caller, whatever it says.
    userId = serializers.CharField(required=False, allow_blank=True, max_length=64, write_only=True)
    orderItems = _lines_field(required=False)

    @staticmethod
    def to_confirmation(data: dict) -> ConfirmInput:
        return ConfirmInput(
            payment_method=data["paymentMethod"],
            cash_register_id=data.get("cashRegisterId"),
            discount=data.get("discount", ZERO),
            customer=data.get("customer"),
            table=data.get("table"),
            items=to_lines(data["orderItems"]) if "orderItems" in data else None,
        )


class OrderCreateSerializer(serializers.Serializer):
    table = _name_field()
    customer = _name_field()
    orderItems = _lines_field()
    confirm = ConfirmSerializer(required=False)


class OrderStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.values)


class StationStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(STATION_STATUSES))


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}]}
)
class OrderItemRefField(serializers.Field):
    """An order item named by its id, as a string or as `{"id": ...}` (the
    cashier SPA sends the line objects it shows)."""

    default_error_messages = {"invalid": 'Must be an order item id or {{"id": <order item id>}}.'}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = data.get("id")
        if not isinstance(data, str) or not data or len(data) > 64:
            self.fail("invalid")
        return data


class ReprintSerializer(serializers.Serializer):
    orderItems = serializers.ListField(child=OrderItemRefField(), required=False, default=list, max_length=MAX_LINES)
    reprintReceipt = StrictBooleanField()

    def validate(self, attrs):
        if not attrs["orderItems"] and not attrs["reprintReceipt"]:
            raise serializers.ValidationError({"orderItems": "Ask for at least one item or the receipt."})
        return attrs


class OrderListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    status = serializers.ListField(child=serializers.ChoiceField(choices=OrderStatus.values), required=False)
    search = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    displayCode = serializers.CharField(max_length=8, required=False, allow_blank=True, default="")
    dateFrom = MomentQueryField(end_of_day=False, required=False, help_text="Inclusive, on createdAt.")
    dateTo = MomentQueryField(end_of_day=True, required=False, help_text="Inclusive, on createdAt.")
    sortBy = serializers.ChoiceField(
        choices=list(ORDER_SORTS),
        required=False,
        default="-createdAt",
        help_text="`createdAt`, `-createdAt` and `completedAt`: newest first (as MySagra); `confirmedAt`: oldest first.",
    )
    include = serializers.ChoiceField(
        choices=["ordersStationsStates"],
        required=False,
        help_text="Accepted for today's boards; `orderStationStates` is always there.",
    )

    def validate(self, attrs):
        if "dateFrom" in attrs and "dateTo" in attrs and attrs["dateFrom"] > attrs["dateTo"]:
            raise serializers.ValidationError({"dateTo": "Must not be before dateFrom."})
        return attrs


class AvailabilityQuerySerializer(serializers.Serializer):
    available = BooleanQueryField(required=False, help_text="Only the available (true) or unavailable (false) ones.")


class CategoryQuerySerializer(AvailabilityQuerySerializer):
    include = serializers.ChoiceField(
        choices=["foods", "foods.ingredients"],
        required=False,
        help_text="`foods` nests each category's foods; `foods.ingredients` is the same (foods carry ingredients).",
    )
    foodsAvailable = serializers.ChoiceField(
        choices=["true", "false", "all"],
        required=False,
        default="all",
        help_text="With an include: only the available (true) or unavailable (false) foods, by their own flag.",
    )


class StationQuerySerializer(serializers.Serializer):
    include = serializers.ChoiceField(
        choices=["categories", "categories.foods", "categories.foods.ingredients"],
        required=False,
        help_text="Nest each station's categories (and their foods, which carry their ingredients).",
    )


class FoodQuerySerializer(AvailabilityQuerySerializer):
    categoryId = serializers.CharField(required=False, allow_blank=True, help_text="Only the foods of this category.")


# --- menu and devices -------------------------------------------------------------


class _ReprSerializer(serializers.ModelSerializer):
    """Writes through the model serializer, reads through the one pure
    representation function, so the JSON shape is defined once. The model's
    own validation (`full_clean`: unique names, ranges, addresses) runs on the
    would-be row, and its errors come back under the API's field names.
    Read-only fields are declared for the documentation only."""

    represent = None
    id = serializers.CharField(read_only=True)

    def to_representation(self, instance):
        return type(self).represent(instance)

    def validate(self, attrs):
        model = self.Meta.model
        many_to_many = {field.name for field in model._meta.many_to_many}
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            if name not in many_to_many:
                setattr(candidate, name, value)
        try:
            candidate.full_clean()
        except DjangoValidationError as exc:
            api_names = {field.source: name for name, field in self.fields.items() if not field.read_only}
            raise serializers.ValidationError(
                {
                    api_names.get(field, "non_field_errors" if field == NON_FIELD_ERRORS else field): messages
                    for field, messages in exc.message_dict.items()
                }
            ) from None
        return attrs


class PrinterSerializer(_ReprSerializer):
    represent = staticmethod(printer_repr)
    name = _name_field()
    ip = StrictCharField(max_length=255, required=False, allow_blank=True)
    # The range is the model's (one message for the API and the admin).
    port = serializers.IntegerField(required=False)
    mac = StrictCharField(max_length=17, required=False, allow_blank=True)
    description = StrictCharField(max_length=255, required=False, allow_blank=True)
    # Reported by the printer's agent (or set by an admin) on an existing
    # printer; a new one is UNKNOWN until an agent reports.
    status = serializers.ChoiceField(choices=PrinterStatus.values, required=False)

    class Meta:
        model = Printer
        fields = ["id", "name", "ip", "port", "mac", "description", "status"]

    def validate_mac(self, value: str) -> str:
        """ "aa-bb-cc-dd-ee-ff" or "AA:BB:…" → "AA:BB:CC:DD:EE:FF"; "" clears it."""
        if value == "":
            return value
        if not MAC_ADDRESS.fullmatch(value):
            raise serializers.ValidationError("Must be a MAC address such as AA:BB:CC:DD:EE:FF.")
        return value.replace("-", ":").upper()

    def validate_status(self, value: str) -> str:
        if self.instance is None:
            raise serializers.ValidationError("A new printer's status is UNKNOWN until its agent reports one.")
        return value


class CashRegisterSerializer(_ReprSerializer):
    represent = staticmethod(cash_register_repr)
    name = _name_field()
    defaultPrinterId = serializers.PrimaryKeyRelatedField(
        source="default_printer", queryset=Printer.objects.all(), required=False, allow_null=True
    )
    enabled = StrictBooleanField(required=False)

    class Meta:
        model = CashRegister
        fields = ["id", "name", "defaultPrinterId", "enabled"]


class StationSerializer(_ReprSerializer):
    represent = staticmethod(station_repr)
    name = _name_field()
    position = serializers.IntegerField(required=False, min_value=-100000, max_value=100000)

    class Meta:
        model = Station
        fields = ["id", "name", "position"]


class CategorySerializer(_ReprSerializer):
    represent = staticmethod(category_repr)
    name = _name_field()
    printerId = serializers.PrimaryKeyRelatedField(
        source="printer", queryset=Printer.objects.all(), required=False, allow_null=True
    )
    stationId = serializers.PrimaryKeyRelatedField(
        source="station", queryset=Station.objects.all(), required=False, allow_null=True
    )
    available = StrictBooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=-100000, max_value=100000)

    class Meta:
        model = Category
        fields = ["id", "name", "printerId", "stationId", "available", "position"]


class IngredientSerializer(_ReprSerializer):
    represent = staticmethod(ingredient_repr)
    name = _name_field()
    surcharge = MoneyField(required=False, help_text="Charged by the till per extra unit; 0 by default.")

    class Meta:
        model = Ingredient
        fields = ["id", "name", "surcharge"]


class FoodSerializer(_ReprSerializer):
    represent = staticmethod(food_repr)
    name = _name_field()
    price = MoneyField()
    categoryId = serializers.PrimaryKeyRelatedField(source="category", queryset=Category.objects.all())
    printerId = serializers.PrimaryKeyRelatedField(
        source="printer", queryset=Printer.objects.all(), required=False, allow_null=True
    )
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    available = StrictBooleanField(required=False)
    ingredientIds = serializers.PrimaryKeyRelatedField(
        source="ingredients", queryset=Ingredient.objects.all(), many=True, required=False, write_only=True
    )
    ingredients = IngredientSerializer(many=True, read_only=True)
    category = CategorySerializer(read_only=True, help_text="The food's category, as GET /v1/categories shows it.")

    class Meta:
        model = Food
        fields = [
            *("id", "name", "price", "categoryId", "printerId", "description", "available"),
            *("ingredientIds", "ingredients", "category"),
        ]
