"""The three channels of the contract and who may listen to them."""

CASHIER = "cashier"
DISPLAY = "display"
PRINTER = "printer"
CHANNELS = (CASHIER, DISPLAY, PRINTER)

NEW_ORDER = "new-order"
CONFIRMED_ORDER = "confirmed-order"
REPRINT_ORDER = "reprint-order"
ORDER_STATUS_UPDATE = "order-status-update"
