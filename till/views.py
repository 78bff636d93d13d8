"""The till (/till/, admins and cashiers) and the waiter pad (/waiter/, every
staff role): pages rendered by Django for a staff member's session, whose
scripts (static/till/) talk to the public REST API and the `cashier` event
stream exactly as any other client does.

The only JSON of this app's own is /waiter/orders: a waiter may create
orders but neither read them through the API nor open an event stream, so
the pad asks here for the waiter's own orders of the day and their status.

Never twice, never lost (static/till/common.js is the client half): every
order the pages send carries an Idempotency-Key made when the cart is sent
and kept with the cart in localStorage until the server has answered, so a
resend after a lost answer replays the first answer instead of making a
second order or a second ticket (idempotency/decorators.py).

Every string the pages show is in a template ({% translate %}) or in the
catalogue below, handed to the scripts with json_script.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.core.channels import (
    CASHIER,
    CATEGORY_AVAILABILITY_CHANGED,
    CONFIRMED_ORDER,
    FOOD_AVAILABILITY_CHANGED,
    NEW_ORDER,
    ORDER_CANCELLED,
    ORDER_STATUS_UPDATE,
)
from orders.representations import format_timestamp
from till import selectors
from users.models import Role
from users.permissions import IsStaffMember

TILL_ROLES = (Role.ADMIN, Role.OPERATOR, Role.MAINTAINER)
WAITER_ROLES = (Role.ADMIN, Role.OPERATOR, Role.MAINTAINER, Role.WAITER)
# The till listens to everything on `cashier`, the opt-in category event included.
TILL_EVENTS = [
    NEW_ORDER,
    CONFIRMED_ORDER,
    ORDER_STATUS_UPDATE,
    ORDER_CANCELLED,
    FOOD_AVAILABILITY_CHANGED,
    CATEGORY_AVAILABILITY_CHANGED,
]
# How often the waiter pad asks for its orders and the menu (no event stream for waiters).
WAITER_POLL_SECONDS = 4


def role_page(*roles: str):
    """Anonymous → the staff login; a signed-in user without one of `roles` → 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), login_url=reverse("pages:login"))
            if not request.user.has_role(*roles):
                return render(request, "till/refused.html", status=403)
            return view(request, *args, **kwargs)

        return never_cache(wrapper)

    return decorate


def shared_labels() -> dict[str, str]:
    """Strings both scripts show (placeholders in {braces})."""
    return {
        "all": _("All"),
        "soldOut": _("Sold out"),
        "networkDown": _(
            "Not sent: the connection dropped. The cart is kept. Send again: it cannot make a second order."
        ),
        "expired": _(
            "This cart was sent more than {hours} hours ago and may have been taken: check the orders, then clear it."
        ),
        "inDoubt": _("This cart was being sent when the page closed. Send it again: it cannot make a second order."),
        "sendAgain": _("Send again"),
        "sending": _("Sending…"),
        "signedOut": _("Your session ended. Sign in again; the cart is kept."),
        "refused": _("Not accepted: {message}"),
        "lockedCart": _("The cart is locked until it is sent."),
        "discardInDoubt": _("Discard this cart? It may already have reached the till: check the orders first."),
        "remove": _("Remove"),
        "quantity": _("Quantity"),
        "notes": _("Notes"),
        "empty": _("Tap a food to start an order."),
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "lost": _("Reconnecting…"),
        "pending": _("Waiting for the till"),
        "confirmed": _("Confirmed"),
        "cancelled": _("Cancelled"),
        "completed": _("Ready"),
        "pickedUp": _("Picked up"),
        "ticket": _("Ticket {number}"),
        "soldOutInCart": _("Sold out since it was added: remove it to continue."),
        "tableDefault": _("Counter"),
        "customerDefault": _("Guest"),
    }


def till_labels() -> dict[str, str]:
    return {
        **shared_labels(),
        "without": _("no {name}"),
        "extra": _("extra {name}"),
        "noIngredients": _("No ingredients listed for this food."),
        "change": pgettext("money given back", "Change"),
        "tooLittle": _("{amount} short"),
        "cash": _("Cash"),
        "card": _("Card"),
        "discount": _("Discount"),
        "pendingEmpty": _("No orders from waiters."),
        "finishCartFirst": _("Finish or clear the current cart first."),
        "confirmedElsewhere": _("This order was confirmed or cancelled at another till."),
        "loadedPending": _("Order {code} from table {table} is in the cart."),
        "noOrders": _("No orders match."),
        "reprinted": _("Sent to the printers again."),
        "cancelledOrder": _("Order {code} cancelled."),
        "reallyCancel": _("Tap again to cancel order {code}."),
        "drawerOpened": _("Drawer opening."),
        "chooseRegister": _("Choose this till's cash register first."),
        "reallyClose": _("Tap again to close the day for this register."),
        "closed": _("Day closed: {orders} orders, {total} (cash {cash}, card {card})."),
        "reprint": _("Reprint"),
        "cancelOrder": _("Cancel order"),
        "loadIntoCart": _("Load into cart"),
        "unknownFood": _("Unknown food"),
        "newOrder": _("New order"),
    }


def waiter_labels() -> dict[str, str]:
    return {
        **shared_labels(),
        "sent": _("Sent as {code}"),
        "noMine": _("You have sent no orders today."),
        "items": _("Items: {count}"),
        "needTable": _("Enter the table."),
    }


@role_page(*TILL_ROLES)
def till_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    config = {
        "userId": user.pk,
        "mayCloseDay": user.has_role(Role.ADMIN, Role.MAINTAINER),
        "eventsUrl": f"/events/{CASHIER}?events={','.join(TILL_EVENTS)}",
        "dayStart": format_timestamp(selectors.service_day_start()),
        "keyHours": settings.IDEMPOTENCY_KEY_HOURS,
        "labels": till_labels(),
    }
    return render(request, "till/till.html", {"config": config})


@role_page(*WAITER_ROLES)
def waiter_page(request: HttpRequest) -> HttpResponse:
    config = {
        "userId": request.user.pk,
        "mineUrl": reverse("till:waiter-orders"),
        "pollSeconds": WAITER_POLL_SECONDS,
        "keyHours": settings.IDEMPOTENCY_KEY_HOURS,
        "labels": waiter_labels(),
    }
    return render(request, "till/waiter.html", {"config": config})


class WaiterOrdersView(APIView):
    """GET /waiter/orders: the caller's own orders of the service day,
    newest first, with their status (any staff role; session or Bearer)."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        orders = selectors.waiter_orders(request.user)
        return Response({"orders": [selectors.waiter_order_entry(order) for order in orders]})
