"""Facts the orders app announces beyond its models' own saves, for the
events app to hear without this app knowing it exists.

`order_placed` (sender: Order; `order`): a new order's row, lines and
stations' states are written, in the transaction that creates it, and still
loaded on `order` (orders.services._sync_station_states). Sent once per
order, by orders.services.order_create, after its last write: the order's
own post_save came before its lines existed."""

from django.dispatch import Signal

order_placed = Signal()
