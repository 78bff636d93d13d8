"""The kitchen display (/kitchen/) and the "now serving" board (/display/):
pages rendered by Django for a staff member's session, and the small
session-authenticated JSON endpoints their scripts use.

How a page stays right (screens/static/pages/live.js is the client half):

- Its state always comes from the server. A state endpoint answers with a
  snapshot *and* the position of the display channel's event log, read just
  before the snapshot; the page then opens /events/display?lastEventId=<that
  position>. Every event after the position is replayed to it, so nothing
  falls between the snapshot and the stream. An event the snapshot already
  shows may come again: the scripts key everything by order id and apply
  absolute statuses, which makes a repeat harmless.
- The EventSource rides on the session cookie (same origin). No JWT and no
  stream token ever appears in a page or a URL.

Both pages listen to the `display` channel only: `confirmed-order`,
`order-status-update` and `order-cancelled` say which order changed and to
what, `station-progress` how far each kitchen station is with it; the
kitchen asks /kitchen/orders/<id> for the lines of an order it has not seen
yet.

A kitchen station is a Station (a line's station is its food's category's).
Its view (?station=<id>) lists the confirmed orders it has a state in and
has not finished; its "done" and "undo" go through orders.services, which
completes the order when the last station is done. Such a station-driven
change reaches the pages as `station-progress` (it carries the order's
status): the display never hears it as `order-status-update`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial, wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_eventstream.models import EventCounter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.core.channels import CONFIRMED_ORDER, DISPLAY, ORDER_CANCELLED, ORDER_STATUS_UPDATE, STATION_PROGRESS
from events.outbox.payloads import order_status_update_display_payload
from events.transport.wire import wire_id
from orders import services
from orders.exceptions import NotFound
from orders.loaded import lines_of
from orders.models import Order, OrderStationState, OrderStatus, Station
from orders.representations import format_timestamp, order_stations_repr
from orders.selectors import order_with_items, orders_with_items
from screens.labels import board_labels, kitchen_labels
from users.models import ApiKeyKind, Role
from users.permissions import IsKitchenStaff

PAGE_ROLES = (Role.ADMIN, Role.OPERATOR, Role.MAINTAINER)
# The kitchen display and its bumps are for cooks too (not the board, not pick-ups).
KITCHEN_ROLES = (*PAGE_ROLES, Role.KITCHEN)
# How many of the last bumped orders the kitchen offers to recall.
RECALL_LIMIT = 8
# Served by events/transport/stream.py in front of Django (config/asgi.py), so no URL name.
EVENTS_URL = f"/events/{DISPLAY}"
EVENT_TYPES = [CONFIRMED_ORDER, ORDER_STATUS_UPDATE, ORDER_CANCELLED, STATION_PROGRESS]


# --- reads --------------------------------------------------------------------------


def display_log_position() -> str:
    """The id of the newest event on the display channel ("display:0" before
    the first). Read it *before* the snapshot: an event committed in between
    is then both in the snapshot and replayed, never in neither."""
    head = EventCounter.objects.filter(name=DISPLAY).values_list("value", flat=True).first() or 0
    return wire_id(DISPLAY, head)


def _station_or_none(station_id: str | None) -> Station | None:
    if not station_id:
        return None
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        raise NotFound("Station not found")
    return station


def kitchen_orders(station: Station | None) -> tuple[list[Order], list[Order]]:
    """(the orders still to make, oldest first; the last bumped ones, newest
    first). For a station, "to make" means confirmed and not yet finished
    by that station, and "bumped" means the station finished it."""
    confirmed = orders_with_items().filter(status=OrderStatus.CONFIRMED)
    if station is None:
        bumped = orders_with_items().filter(status=OrderStatus.COMPLETED)
        return (
            list(confirmed.order_by("confirmed_at", "id")),
            list(bumped.order_by("-status_changed_at", "-id")[:RECALL_LIMIT]),
        )
    states = OrderStationState.objects.filter(station=station)
    waiting = confirmed.filter(id__in=states.filter(status=OrderStatus.CONFIRMED).values("order_id"))
    marks = (
        states.filter(status=OrderStatus.COMPLETED, order__status__in=(OrderStatus.CONFIRMED, OrderStatus.COMPLETED))
        .order_by("-updated_at", "-order_id")
        .values_list("order_id", flat=True)[:RECALL_LIMIT]
    )
    recent = list(marks)
    by_id = orders_with_items().in_bulk(recent)
    return list(waiting.order_by("confirmed_at", "id")), [by_id[order_id] for order_id in recent]


def board_orders() -> tuple[list[Order], list[Order]]:
    """(being prepared, oldest first; ready for pickup for at most
    BOARD_READY_MINUTES, in the order they became ready)."""
    fields = ("id", "display_code", "ticket_number", "status", "status_changed_at")
    since = timezone.now() - timedelta(minutes=settings.BOARD_READY_MINUTES)
    preparing = Order.objects.filter(status=OrderStatus.CONFIRMED).only(*fields).order_by("confirmed_at", "id")
    ready = (
        Order.objects.filter(status=OrderStatus.COMPLETED, status_changed_at__gte=since)
        .only(*fields)
        .order_by("status_changed_at", "id")
    )
    return list(preparing), list(ready)


# --- representations -------------------------------------------------------------------


def kitchen_card(order: Order, station: Station | None) -> dict[str, Any]:
    """An order as a kitchen card: on a station's screen, only that station's
    lines, and how many lines went to other stations; everywhere, the
    progress of every station with lines in the order."""
    items = list(lines_of(order))
    mine = [item for item in items if station is None or item.food.category.station_id == station.pk]
    stations = order_stations_repr(order)
    return {
        "id": order.id,
        "displayCode": order.display_code,
        "ticketNumber": order.ticket_number,
        "table": order.table,
        "customer": order.customer,
        "status": order.status,
        "confirmedAt": format_timestamp(order.confirmed_at),
        "forStation": bool(mine),
        "otherStationLines": len(items) - len(mine),
        "stations": stations,
        "lines": [
            {
                "id": item.id,
                "quantity": item.quantity,
                "name": item.food.name,
                "notes": item.notes,
                "stationId": item.food.category.station_id,
            }
            for item in mine
        ],
    }


def board_entry(order: Order) -> dict[str, Any]:
    """An order on the board: the keys of `order-status-update`, and since
    when it has its status (the board lets ready codes go after
    BOARD_READY_MINUTES)."""
    return {**order_status_update_display_payload(order), "since": format_timestamp(order.status_changed_at)}


# --- pages ----------------------------------------------------------------------------


def staff_page(view, roles=PAGE_ROLES):
    """Anonymous → the login page; a signed-in waiter → 403 (the event stream
    would refuse them anyway)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("pages:login"))
        if not request.user.has_role(*roles):
            return render(request, "pages/refused.html", status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


@partial(staff_page, roles=KITCHEN_ROLES)
def kitchen_page(request: HttpRequest) -> HttpResponse:
    try:
        station = _station_or_none(request.GET.get("station"))
    except NotFound:
        message = {"title": _("Unknown station"), "message": _("No station has this id.")}
        return render(request, "pages/message.html", message, status=404)
    query = "?" + urlencode({"station": station.pk}) if station else ""
    config = {
        "eventsUrl": EVENTS_URL,
        "eventTypes": EVENT_TYPES,
        "stateUrl": reverse("pages:kitchen-state") + query,
        # The scripts add "<id>", "<id>/bump", "<id>/recall", "<id>/pickup"
        # and "<id>/stations/<station id>/done|undo" (see page_urls).
        "ordersUrl": reverse("pages:kitchen") + "orders/",
        "stationQuery": query,
        "stationId": station.pk if station else None,
        "stationName": station.name if station else None,
        "recallLimit": RECALL_LIMIT,
        "lateMinutes": settings.KITCHEN_LATE_MINUTES,
        "veryLateMinutes": settings.KITCHEN_VERY_LATE_MINUTES,
        "mayPickUp": request.user.has_role(*PAGE_ROLES),
        "labels": kitchen_labels(),
    }
    context = {
        "config": config,
        "station": station,
        "stations": Station.objects.all(),
        "late_minutes": settings.KITCHEN_LATE_MINUTES,
        "very_late_minutes": settings.KITCHEN_VERY_LATE_MINUTES,
    }
    return render(request, "pages/kitchen.html", context)


@staff_page
def display_page(request: HttpRequest) -> HttpResponse:
    config = {
        "eventsUrl": EVENTS_URL,
        "eventTypes": EVENT_TYPES,
        "stateUrl": reverse("pages:display-state"),
        "readyMinutes": settings.BOARD_READY_MINUTES,
        "labels": board_labels(),
    }
    return render(request, "pages/display.html", {"config": config})


def home_page(request: HttpRequest) -> HttpResponse:
    """`/`: where staff find the admin, the kitchen, the board and the API
    docs. Public: it holds links only."""
    stations = Station.objects.all() if request.user.is_authenticated else []
    return render(request, "pages/home.html", {"stations": stations})


# --- JSON for the pages' scripts (session + CSRF, or a Bearer token) ---------------------
# The default permission is IsAdminOrOperator, the same roles as the pages.


def _now() -> str:
    return format_timestamp(timezone.now())


class KitchenStateView(APIView):
    """GET /kitchen/state[?station=<id>]: what the kitchen display shows."""

    permission_classes = [IsKitchenStaff]
    api_key_access = {(ApiKeyKind.KITCHEN, "GET")}  # a kitchen screen (screens/keys.py)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        station = _station_or_none(request.query_params.get("station"))
        position = display_log_position()
        waiting, bumped = kitchen_orders(station)
        return Response(
            {
                "lastEventId": position,
                "serverTime": _now(),
                "lateMinutes": settings.KITCHEN_LATE_MINUTES,
                "veryLateMinutes": settings.KITCHEN_VERY_LATE_MINUTES,
                "orders": [kitchen_card(order, station) for order in waiting],
                "recall": [kitchen_card(order, station) for order in bumped],
            }
        )


class KitchenOrderView(APIView):
    """GET /kitchen/orders/<id>[?station=<id>]: one card, for an order the
    page heard of on the stream."""

    permission_classes = [IsKitchenStaff]
    api_key_access = {(ApiKeyKind.KITCHEN, "GET")}  # a kitchen screen (screens/keys.py)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, order_id: int) -> Response:
        station = _station_or_none(request.query_params.get("station"))
        return Response(kitchen_card(order_with_items(order_id), station))


class KitchenBumpView(APIView):
    """POST /kitchen/orders/<id>/bump: CONFIRMED → COMPLETED (409 otherwise)."""

    permission_classes = [IsKitchenStaff]
    api_key_access = {(ApiKeyKind.KITCHEN, "POST")}  # a kitchen screen (screens/keys.py)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, order_id: int) -> Response:
        order = services.order_set_status(order_id=order_id, by=request.user, status=OrderStatus.COMPLETED)
        return Response(board_entry(order))


class KitchenRecallView(APIView):
    """POST /kitchen/orders/<id>/recall: COMPLETED → CONFIRMED (409 otherwise)."""

    permission_classes = [IsKitchenStaff]
    api_key_access = {(ApiKeyKind.KITCHEN, "POST")}  # a kitchen screen (screens/keys.py)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, order_id: int) -> Response:
        order = services.order_recall(order_id=order_id, by=request.user)
        return Response(board_entry(order))


class KitchenPickupView(APIView):
    """POST /kitchen/orders/<id>/pickup: COMPLETED → PICKED_UP (409 otherwise);
    the code leaves the board."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, order_id: int) -> Response:
        order = services.order_set_status(order_id=order_id, by=request.user, status=OrderStatus.PICKED_UP)
        return Response(board_entry(order))


class StationDoneView(APIView):
    """POST /kitchen/orders/<id>/stations/<station id>/done: the station made
    its lines; the last station to do so completes the order. 404 for an
    unknown order or station, 409 when the order is not CONFIRMED, has
    nothing for the station, or the station already marked it."""

    permission_classes = [IsKitchenStaff]
    api_key_access = {(ApiKeyKind.KITCHEN, "POST")}  # a kitchen screen (screens/keys.py)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, order_id: int, station_id: str) -> Response:
        order = services.order_station_done(order_id=order_id, station_id=station_id, by=request.user)
        return Response(kitchen_card(order_with_items(order.id), None))


class StationUndoView(APIView):
    """POST /kitchen/orders/<id>/stations/<station id>/undo: take a station's
    mark back (a COMPLETED order returns to CONFIRMED). 409 when the station
    has no mark or the order is picked up or cancelled."""

    permission_classes = [IsKitchenStaff]
    api_key_access = {(ApiKeyKind.KITCHEN, "POST")}  # a kitchen screen (screens/keys.py)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, order_id: int, station_id: str) -> Response:
        order = services.order_station_undo(order_id=order_id, station_id=station_id, by=request.user)
        return Response(kitchen_card(order_with_items(order.id), None))


class DisplayStateView(APIView):
    """GET /display/state: what the board shows."""

    api_key_access = {(ApiKeyKind.DISPLAY, "GET")}  # a TV (screens/keys.py)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        position = display_log_position()
        preparing, ready = board_orders()
        return Response(
            {
                "lastEventId": position,
                "serverTime": _now(),
                "readyMinutes": settings.BOARD_READY_MINUTES,
                "preparing": [board_entry(order) for order in preparing],
                "ready": [board_entry(order) for order in ready],
            }
        )
