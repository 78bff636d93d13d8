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


# How far a JSON number may be from a cent and still be read as that cent:
# binary-float noise (0.1 * 3 = 0.30000000000000004), never a real sub-cent.
FLOAT_NOISE = Decimal("0.000001")


def parse_money(raw, *, round_float_noise: bool = False) -> Decimal:
    """A JSON number or a decimal string. Raises ValueError with a message
    fit for a client. `round_float_noise`: a JSON number within FLOAT_NOISE
    of a cent is that cent (tills that add prices in binary floats send
    0.8999999999999999 for 0.90); strings stay exact."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError("Must be a decimal number.")
    # A JSON number reaches here as a Decimal (api/rest.py parses them so,
    # never as float) or, from Python callers, as a float.
    from_number = isinstance(raw, Decimal | float)
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
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if value != cents and not (round_float_noise and from_number and abs(value - cents) <= FLOAT_NOISE):
        raise ValueError("Must have at most 2 decimal places.")
    return round_money(value)


# How people read an amount, per language: (decimal mark, thousands mark,
# pattern). Pure Python, so the printer agent formats its tickets with it too.
_DISPLAY = {
    "it": (",", ".", "{amount} €"),
    "en": (".", ",", "€{amount}"),
}


def display_money(value: Decimal | str, language: str) -> str:
    """An amount for a page or a ticket, in the language's format with €:
    "12,50 €" (it), "€12.50" (en). Never for the API, whose wire format is
    format_money's. A language outside _DISPLAY reads as Italian."""
    decimal_mark, thousands_mark, pattern = _DISPLAY.get((language or "it")[:2], _DISPLAY["it"])
    amount = round_money(Decimal(value))
    sign = "-" if amount < ZERO else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    text = thousands_mark.join([whole, *groups]) + decimal_mark + cents
    return sign + pattern.format(amount=text)
