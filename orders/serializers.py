"""Input validation for the REST API (shapes, ranges, lengths) and the model
serializers of the menu and devices. Business rules live in services."""

from __future__ import annotations

import re

from rest_framework import serializers

from orders.models import CashRegister, Category, Food, OrderStatus, PaymentMethod, Printer, PrinterStatus
from orders.money import ZERO, format_money, parse_money
from orders.representations import cash_register_repr, category_repr, food_repr, printer_repr
from orders.services import ConfirmInput, LineInput

MAX_LINES = 100
MAC_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}", re.ASCII)


class MoneyField(serializers.Field):
    """A JSON number or decimal string in; the contract's string out."""

    default_error_messages = {"invalid": "{message}"}

    def to_internal_value(self, data):
        try:
            return parse_money(data)
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


def _name_field(**kwargs) -> StrictCharField:
    return StrictCharField(max_length=100, trim_whitespace=True, **kwargs)


class LineSerializer(serializers.Serializer):
    foodId = StrictCharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=999)
    notes = StrictCharField(max_length=250, required=False, allow_blank=True, default="")
    surcharge = MoneyField(required=False)


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
    discount = MoneyField(required=False)
    customer = _name_field(required=False)
    orderItems = _lines_field(required=False)

    @staticmethod
    def to_confirmation(data: dict) -> ConfirmInput:
        return ConfirmInput(
            payment_method=data["paymentMethod"],
            cash_register_id=data.get("cashRegisterId"),
            discount=data.get("discount", ZERO),
            customer=data.get("customer"),
            items=to_lines(data["orderItems"]) if "orderItems" in data else None,
        )


class OrderCreateSerializer(serializers.Serializer):
    table = _name_field()
    customer = _name_field()
    orderItems = _lines_field()
    confirm = ConfirmSerializer(required=False)


class OrderStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.values)


class ReprintSerializer(serializers.Serializer):
    orderItems = serializers.ListField(
        child=StrictCharField(max_length=64), required=False, default=list, max_length=MAX_LINES
    )
    reprintReceipt = serializers.BooleanField()

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


# --- menu and devices -------------------------------------------------------------


class _ReprSerializer(serializers.ModelSerializer):
    """Writes through the model serializer, reads through the one pure
    representation function, so the JSON shape is defined once."""

    represent = None

    def to_representation(self, instance):
        return type(self).represent(instance)


class PrinterSerializer(_ReprSerializer):
    represent = staticmethod(printer_repr)
    name = _name_field()
    ip = StrictCharField(max_length=255, required=False, allow_blank=True)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    mac = StrictCharField(max_length=17, required=False, allow_blank=True)
    description = StrictCharField(max_length=255, required=False, allow_blank=True)
    # Reported by the printer's agent (or set by an admin) on an existing
    # printer; a new one is UNKNOWN until an agent reports.
    status = serializers.ChoiceField(choices=PrinterStatus.values, required=False)

    class Meta:
        model = Printer
        fields = ["name", "ip", "port", "mac", "description", "status"]

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
    enabled = serializers.BooleanField(required=False)

    class Meta:
        model = CashRegister
        fields = ["name", "defaultPrinterId", "enabled"]


class CategorySerializer(_ReprSerializer):
    represent = staticmethod(category_repr)
    name = _name_field()
    printerId = serializers.PrimaryKeyRelatedField(
        source="printer", queryset=Printer.objects.all(), required=False, allow_null=True
    )
    available = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=-100000, max_value=100000)

    class Meta:
        model = Category
        fields = ["name", "printerId", "available", "position"]


class FoodSerializer(_ReprSerializer):
    represent = staticmethod(food_repr)
    name = _name_field()
    price = MoneyField()
    categoryId = serializers.PrimaryKeyRelatedField(source="category", queryset=Category.objects.all())
    printerId = serializers.PrimaryKeyRelatedField(
        source="printer", queryset=Printer.objects.all(), required=False, allow_null=True
    )
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    available = serializers.BooleanField(required=False)

    class Meta:
        model = Food
        fields = ["name", "price", "categoryId", "printerId", "description", "available"]
