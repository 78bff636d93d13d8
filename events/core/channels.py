"""The three channels of the contract, their event catalogue, and who may
listen to them (../shared/spec/API.md, section Events)."""

from functools import cache

CASHIER = "cashier"
DISPLAY = "display"
PRINTER = "printer"
CHANNELS = (CASHIER, DISPLAY, PRINTER)

NEW_ORDER = "new-order"
CONFIRMED_ORDER = "confirmed-order"
REPRINT_ORDER = "reprint-order"
ORDER_STATUS_UPDATE = "order-status-update"
ORDER_CANCELLED = "order-cancelled"
FOOD_AVAILABILITY_CHANGED = "food-availability-changed"
CATEGORY_AVAILABILITY_CHANGED = "category-availability-changed"
PRINTER_STATUS_CHANGED = "printer-status-changed"
OPEN_DRAWER = "open-drawer"
GENERAL_CLOSURE = "general-closure"
STATION_PROGRESS = "station-progress"
ORDER_STATION_STATUS_UPDATE = "order-station-status-update"
# Sent by the server itself, never recorded in the log.
STREAM_RESET = "stream-reset"

# What each channel may carry; nothing else is ever sent on it (but
# stream-reset).
CATALOGUE: dict[str, tuple[str, ...]] = {
    CASHIER: (
        NEW_ORDER,
        CONFIRMED_ORDER,
        ORDER_STATUS_UPDATE,
        ORDER_CANCELLED,
        FOOD_AVAILABILITY_CHANGED,
        CATEGORY_AVAILABILITY_CHANGED,
        PRINTER_STATUS_CHANGED,
    ),
    # Station events never go to the cashier: its SPAs show every event they
    # do not know as an order.
    DISPLAY: (CONFIRMED_ORDER, ORDER_STATUS_UPDATE, ORDER_CANCELLED, STATION_PROGRESS, ORDER_STATION_STATUS_UPDATE),
    PRINTER: (CONFIRMED_ORDER, REPRINT_ORDER, ORDER_CANCELLED, OPEN_DRAWER, GENERAL_CLOSURE),
}
# Received only by a stream that names them in ?events=: cashier SPAs in use
# show every cashier event they do not know as an order. Not so for streams
# opened with the mysagra cookie (today's MySagra clients expect them:
# clients-heads.md, E2).
OPT_IN: frozenset[str] = frozenset({CATEGORY_AVAILABILITY_CHANGED, PRINTER_STATUS_CHANGED})


@cache
def default_events(channel: str, by_cookie: bool = False) -> frozenset[str]:
    """The events a stream without ?events= receives (one shared set per
    channel and kind of caller: every open stream keeps it): the catalogue
    without the opt-in events, the whole catalogue for a cookie stream."""
    if by_cookie:
        return frozenset(CATALOGUE[channel])
    return frozenset(CATALOGUE[channel]) - OPT_IN
