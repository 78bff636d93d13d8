from decimal import Decimal

import pytest

from orders.money import MAX_MONEY, display_money, format_money, parse_money, round_money


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("25"), "25"),
        (Decimal("25.00"), "25"),
        (Decimal("12.5"), "12.5"),
        (Decimal("12.50"), "12.5"),
        (Decimal("0"), "0"),
        (Decimal("0.00"), "0"),
        (Decimal("-0.00"), "0"),
        (Decimal("1000"), "1000"),
        (Decimal("1000.00"), "1000"),
        (Decimal("0.05"), "0.05"),
        (Decimal("99999999.99"), "99999999.99"),
    ],
)
def test_money_is_formatted_without_trailing_zeros_or_exponent(value, text):
    assert format_money(value) == text


def test_formatting_rounds_to_cents_half_up():
    assert format_money(Decimal("0.005")) == "0.01"
    assert format_money(Decimal("2.675")) == "2.68"


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        # ROUND_HALF_UP, not the banker's rounding Decimal uses by default.
        (Decimal("0.125"), Decimal("0.13")),
        (Decimal("0.025"), Decimal("0.03")),
        (Decimal("0.335"), Decimal("0.34")),
        (Decimal("0.334"), Decimal("0.33")),
        (Decimal("1") / Decimal("3"), Decimal("0.33")),
        (Decimal("2") / Decimal("3"), Decimal("0.67")),
    ],
)
def test_rounding_is_half_up_to_two_places(value, rounded):
    assert round_money(value) == rounded
    assert round_money(value).as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (2, Decimal("2")),
        (0, Decimal("0")),
        (Decimal("2.5"), Decimal("2.5")),
        (Decimal("0.1"), Decimal("0.1")),
        ("2", Decimal("2")),
        ("2.50", Decimal("2.5")),
        ("0.05", Decimal("0.05")),
        (" 12.5 ", Decimal("12.5")),
        ("99999999.99", MAX_MONEY),
    ],
)
def test_money_is_read_from_a_number_or_a_decimal_string(raw, value):
    parsed = parse_money(raw)
    assert isinstance(parsed, Decimal)
    assert parsed == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2.505", "Must have at most 2 decimal places."),
        (Decimal("0.001"), "Must have at most 2 decimal places."),
        ("-1", "Must not be negative."),
        (-1, "Must not be negative."),
        (Decimal("-0.5"), "Must not be negative."),
        ("100000000", "Must not exceed 99999999.99."),
        # Huge values used to crash the quantize() with InvalidOperation.
        ("1e30", "Must not exceed 99999999.99."),
        (10**30, "Must not exceed 99999999.99."),
        ("abc", "Must be a decimal number."),
        ("", "Must be a decimal number."),
        ("NaN", "Must be a decimal number."),
        ("Infinity", "Must be a decimal number."),
        (None, "Must be a decimal number."),
        (True, "Must be a decimal number."),
        ([1], "Must be a decimal number."),
    ],
)
def test_bad_money_is_refused_with_a_message_for_the_client(raw, message):
    with pytest.raises(ValueError) as excinfo:
        parse_money(raw)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("value", "language", "shown"),
    [
        (Decimal("12.5"), "it", "12,50 €"),
        (Decimal("12.5"), "en", "€12.50"),
        ("1234567.5", "it", "1.234.567,50 €"),
        ("1234567.5", "en", "€1,234,567.50"),
        (Decimal("0"), "it", "0,00 €"),
        (Decimal("-3.05"), "it", "-3,05 €"),
        (Decimal("8"), "it-it", "8,00 €"),
        (Decimal("8"), "fr", "8,00 €"),
    ],
)
def test_display_money_shows_the_languages_format_with_the_euro_sign(value, language, shown):
    assert display_money(value, language) == shown


def test_the_wire_format_does_not_change_with_display_money():
    assert format_money(Decimal("12.50")) == "12.5"
