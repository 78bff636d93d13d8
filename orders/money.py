"""Money: Decimal in, Decimal out, one rounding rule, one wire format."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
# DecimalField(max_digits=10, decimal_places=2)
MAX_MONEY = Decimal("99999999.99")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal) -> str:
    """The contract's string: at most two decimals, no trailing zeros, no
    exponent ("25", "12.5", "0.05", "1000")."""
    text = format(round_money(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def parse_money(raw) -> Decimal:
    """A JSON number or a decimal string. Raises ValueError with a message
    fit for a client."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError("Must be a decimal number.")
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError("Must be a decimal number.") from None
    if not value.is_finite():
        raise ValueError("Must be a decimal number.")
    # Range first: quantizing a huge value (1e30) raises InvalidOperation,
    # which is no ValueError and would surface as a 500.
    if value < ZERO:
        raise ValueError("Must not be negative.")
    if value > MAX_MONEY:
        raise ValueError(f"Must not exceed {format_money(MAX_MONEY)}.")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError("Must have at most 2 decimal places.")
    return round_money(value)
