"""Thin HTTP layer: validate the input, call one service, represent the result."""

from __future__ import annotations

import math
import threading

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.rest import ApiJSONRenderer
from idempotency.decorators import idempotent
from orders import selectors, services
from orders.exceptions import Conflict, NotFound
from orders.models import CashRegister, Category, Food, Ingredient, OrderStatus, Printer, Station
from orders.representations import (
    cash_register_repr,
    category_with_foods_repr,
    order_rest_repr,
    order_station_state_repr,
    reprint_repr,
    station_repr,
    station_with_categories_repr,
)
from orders.schemas import ref
from orders.serializers import (
    CashRegisterSerializer,
    CategoryQuerySerializer,
    CategorySerializer,
    ConfirmSerializer,
    FoodQuerySerializer,
    FoodSerializer,
    IngredientSerializer,
    OrderCreateSerializer,
    OrderListQuerySerializer,
    OrderStatusSerializer,
    PrinterSerializer,
    ReprintSerializer,
    StationQuerySerializer,
    StationSerializer,
    StationStatusSerializer,
    to_lines,
)
from users.apikeys import Device
from users.models import ApiKeyKind
from users.permissions import (
    IsAdmin,
    IsAdminOrMaintainer,
    IsAdminOrOperator,
    IsStaffMember,
    ReadAnyoneWriteAdmin,
    ReadAnyoneWriteAdminSoldOutOperator,
)

# What devices' API keys may do is listed on each view (`api_key_access`,
# see users/permissions.py); a view without the attribute refuses every key.
PRINTER_AGENT, DISPLAY = ApiKeyKind.PRINTER_AGENT, ApiKeyKind.DISPLAY
KEY_PRINTER_FIELDS = frozenset({"status", "ip", "mac"})
_PAGE_BUILDS = threading.BoundedSemaphore(settings.ORDERS_PAGE_BUILDS)

ORDER = OpenApiResponse(ref("OrderDetail"), description="The order, with `categorizedItems`.")
NOT_PENDING = "The order is not PENDING."
STATUS_MOVE_REFUSED = "The rules allow no such move from the order's status (e.g. a final one)."


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _query(request: Request, *, repeatable: tuple[str, ...] = ()) -> dict:
    """The query string as a serializer's input: one value per key, a list
    for the repeatable ones."""
    params = request.query_params
    return {key: params.getlist(key) if key in repeatable else params.get(key) for key in params}


def _order_response(order_id: int, code: int = status.HTTP_200_OK) -> Response:
    order = selectors.order_with_items(order_id, queryset=selectors.orders_for_rest())
    return Response(order_rest_repr(order), status=code)


class OrdersView(APIView):
    api_key_access = {(DISPLAY, "GET")}

    def get_permissions(self):
        return [IsStaffMember()] if self.request.method == "POST" else [IsAdminOrOperator()]

    @extend_schema(
        operation_id="v1_orders_list",
        parameters=[OrderListQuerySerializer],
        responses={200: OpenApiResponse(ref("OrderPage"), description="One page of orders.")},
    )
    def get(self, request: Request) -> Response:
        params = _validated(OrderListQuerySerializer, _query(request, repeatable=("status",)))
        orders = selectors.order_list(
            selectors.OrderFilters(
                statuses=params.get("status", ()),
                search=params["search"],
                display_code=params["displayCode"],
                created_from=params.get("dateFrom"),
                created_to=params.get("dateTo"),
                sort_by=params["sortBy"],
            )
        )
        # At most ORDERS_PAGE_BUILDS pages are built at once: each request
        # runs in a thread of its own, and building a page peaks at several
        # times its JSON (the orders, their dicts, the rendering), which
        # glibc keeps mapped once freed. The page is rendered here, inside
        # that limit, so that nothing but its JSON outlives it.
        with _PAGE_BUILDS:
            total = orders.count()
            page = params["page"]
            # `limit`, or fewer orders a page when that many of this listing's
            # largest could pass ORDERS_PAGE_MAX_BYTES: the same for all its pages.
            size = selectors.order_page_size(orders, params["limit"], settings.ORDERS_PAGE_MAX_BYTES) if total else 1
            offset = (page - 1) * size
            # A page past the end is empty; asking the database for it could
            # overflow its integer OFFSET (page=10**20 was a 500 on SQLite).
            rows = orders[offset : offset + size] if offset < total else []
            # The API's renderer, so that a cookie caller reads string ids here too.
            body = ApiJSONRenderer().render(
                {
                    "data": [order_rest_repr(order) for order in rows],
                    "pagination": {"totalItems": total, "currentPage": page, "totalPages": math.ceil(total / size)},
                },
                renderer_context={"request": request},
            )
        return HttpResponse(body, content_type="application/json")

    @extend_schema(request=OrderCreateSerializer, responses={201: ORDER})
    @idempotent
    def post(self, request: Request) -> Response:
        # A waiter may create orders but not confirm them: "confirm" in the
        # create body is the confirm endpoint's power, so it needs its role.
        # Checked before validation, as permissions always are (403 before 400).
        if isinstance(request.data, dict) and "confirm" in request.data:
            if not IsAdminOrOperator().has_permission(request, self):
                raise PermissionDenied()
        data = _validated(OrderCreateSerializer, request.data)
        order = services.order_create(
            table=data["table"],
            customer=data["customer"],
            lines=to_lines(data["orderItems"]),
            created_by=request.user,
            confirmation=ConfirmSerializer.to_confirmation(data["confirm"]) if "confirm" in data else None,
        )
        # The service leaves the order loaded as the response shows it.
        return Response(order_rest_repr(order), status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    permission_classes = [IsAdminOrOperator]
    api_key_access = {(PRINTER_AGENT, "GET")}
    conflicts = {"PATCH": STATUS_MOVE_REFUSED, "DELETE": "The order is already PICKED_UP or CANCELLED."}

    @extend_schema(responses={200: ORDER})
    def get(self, request: Request, order_id: int) -> Response:
        return _order_response(order_id)

    @extend_schema(request=OrderStatusSerializer, responses={200: ORDER})
    def patch(self, request: Request, order_id: int) -> Response:
        data = _validated(OrderStatusSerializer, request.data)
        order = services.order_set_status(order_id=order_id, by=request.user, status=data["status"])
        return _order_response(order.id)

    @extend_schema(responses={200: OpenApiResponse(ref("OrderDetail"), description="The cancelled order.")})
    def delete(self, request: Request, order_id: int) -> Response:
        """Cancel the order: the same as PATCH {"status": "CANCELLED"}."""
        order = services.order_set_status(order_id=order_id, by=request.user, status=OrderStatus.CANCELLED)
        return _order_response(order.id)


class OrderStationView(APIView):
    """PATCH /v1/orders/{id}/stations/{stationId}: a station's move."""

    permission_classes = [IsAdminOrOperator]
    conflicts = {"PATCH": "The order is PENDING or CANCELLED."}

    @extend_schema(
        request=StationStatusSerializer,
        responses={200: OpenApiResponse(ref("OrderStationState"), description="The station's new state.")},
    )
    def patch(self, request: Request, order_id: int, station_id: str) -> Response:
        """Set one station's state of a confirmed order (CONFIRMED, COMPLETED
        or PICKED_UP); the order's status follows all its stations (any
        CONFIRMED: CONFIRMED; else the lowest of COMPLETED and PICKED_UP).
        The display hears `order-station-status-update`, never an
        `order-status-update`, for it. 404 when the order has no state for
        the station."""
        data = _validated(StationStatusSerializer, request.data)
        state = services.order_station_set_status(
            order_id=order_id, station_id=station_id, status=data["status"], by=request.user
        )
        return Response(order_station_state_repr(state))


class NoSuchOrderView(APIView):
    """An order path whose id is not an order id: 404 "Order not found"
    for every method, once the caller is known to be allowed to ask."""

    permission_classes = [IsAdminOrOperator]
    schema = None  # not an endpoint of its own

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound("Order not found")


class OrderConfirmView(APIView):
    permission_classes = [IsAdminOrOperator]
    conflicts = {"POST": NOT_PENDING}

    @extend_schema(request=ConfirmSerializer, responses={200: ORDER})
    @idempotent
    def post(self, request: Request, order_id: int) -> Response:
        data = _validated(ConfirmSerializer, request.data)
        order = services.order_confirm(
            order_id=order_id, by=request.user, confirmation=ConfirmSerializer.to_confirmation(data)
        )
        return Response(order_rest_repr(order))


class OrderReprintView(APIView):
    permission_classes = [IsAdminOrOperator]

    @extend_schema(
        request=ReprintSerializer,
        responses={200: OpenApiResponse(ref("Reprint"), description="The `reprint-order` payload.")},
    )
    @idempotent
    def post(self, request: Request, order_id: int) -> Response:
        data = _validated(ReprintSerializer, request.data)
        reprint = services.order_reprint(
            order_id=order_id, by=request.user, item_ids=data["orderItems"], receipt=data["reprintReceipt"]
        )
        order = selectors.order_with_items(reprint.order_id)
        return Response(reprint_repr(order, item_ids=reprint.item_ids, receipt=reprint.receipt))


# --- menu and devices ---------------------------------------------------------------


class _ResourceViewSet(viewsets.ModelViewSet):
    """CRUD without PUT; a missing id is a 404 naming the resource, and a
    deletion that would orphan orders or foods is a 409."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = None
    resource_name = "Resource"
    conflicts = {
        "POST": "A clashing change was saved at the same moment.",
        "PATCH": "A clashing change was saved at the same moment.",
    }

    def get_object(self):
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except self.get_queryset().model.DoesNotExist:
            raise NotFound(f"{self.resource_name} not found") from None

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer)

    def _save(self, serializer):
        # One transaction per write, so that an event a save causes (a food
        # made unavailable) commits with it (events/outbox/receivers.py).
        # The serializer ran the model's validation; a database constraint
        # can still refuse the row when another request saved a clashing one
        # in between. That is a conflict with the current state, not a crash.
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError:
            raise Conflict(f"{self.resource_name} clashes with a change made at the same moment; try again.") from None

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError:
            raise Conflict(
                f"{self.resource_name} is still in use; mark it unavailable instead of deleting it."
            ) from None


class CategoryViewSet(_ResourceViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    permission_classes = [ReadAnyoneWriteAdminSoldOutOperator]
    resource_name = "Category"
    conflicts = {**_ResourceViewSet.conflicts, "DELETE": "The category still has foods."}

    @extend_schema(
        parameters=[CategoryQuerySerializer],
        responses={
            200: {
                "allOf": [
                    ref("Category"),
                    {
                        "type": "object",
                        "properties": {
                            "foods": {
                                "type": "array",
                                "items": ref("Food"),
                                "description": "With ?include=foods only: all the category's foods.",
                            }
                        },
                    },
                ]
            }
        },
    )
    def list(self, request: Request) -> Response:
        params = _validated(CategoryQuerySerializer, _query(request))
        include_foods = params.get("include") in ("foods", "foods.ingredients")
        foods_available = {"true": True, "false": False, "all": None}[params["foodsAvailable"]]
        categories = selectors.category_list(
            available=params.get("available"), include_foods=include_foods, foods_available=foods_available
        )
        represent = category_with_foods_repr if include_foods else self.get_serializer().to_representation
        return Response([represent(category) for category in categories])

    @property
    def api_key_access(self):
        # A printer agent reads the category list, not single categories.
        return {(PRINTER_AGENT, "GET")} if self.action == "list" else set()


class StationViewSet(_ResourceViewSet):
    """Kitchen stations: admins and operators read (and printer agents'
    keys, as MySagra lets them), admins write. A station's categories are
    set on the categories (`stationId`)."""

    queryset = Station.objects.all()
    serializer_class = StationSerializer
    resource_name = "Station"
    api_key_access = {(PRINTER_AGENT, "GET")}
    conflicts = {**_ResourceViewSet.conflicts, "DELETE": "Live orders still have a state for the station."}

    def get_permissions(self):
        return [IsAdminOrOperator()] if self.action in ("list", "retrieve") else [IsAdmin()]

    def _include(self) -> str | None:
        include = _validated(StationQuerySerializer, _query(self.request)).get("include")
        return "categories.foods" if include == "categories.foods.ingredients" else include

    def _represent(self, station: Station, include: str | None) -> dict:
        if include is None:
            return station_repr(station)
        return station_with_categories_repr(station, with_foods=include == "categories.foods")

    @extend_schema(
        parameters=[StationQuerySerializer],
        responses={200: OpenApiResponse(ref("StationWithCategories"), description="The stations, in list order.")},
    )
    def list(self, request: Request) -> Response:
        include = self._include()
        return Response([self._represent(station, include) for station in selectors.station_list(include=include)])

    @extend_schema(
        parameters=[StationQuerySerializer],
        responses={200: OpenApiResponse(ref("StationWithCategories"), description="The station.")},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        include = self._include()
        station = selectors.station_list(include=include).filter(pk=pk).first()
        if station is None:
            raise NotFound("Station not found")
        return Response(self._represent(station, include))

    def perform_destroy(self, instance):
        services.station_delete(station_id=instance.pk)


class FoodViewSet(_ResourceViewSet):
    serializer_class = FoodSerializer
    permission_classes = [ReadAnyoneWriteAdminSoldOutOperator]
    resource_name = "Food"
    api_key_access = {(PRINTER_AGENT, "GET")}
    conflicts = {**_ResourceViewSet.conflicts, "DELETE": "Orders use the food; mark it unavailable instead."}

    @extend_schema(parameters=[FoodQuerySerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if self.action != "list":
            return Food.objects.select_related("category").prefetch_related("ingredients")
        params = _validated(FoodQuerySerializer, _query(self.request))
        return selectors.food_list(available=params.get("available"), category_id=params.get("categoryId") or None)


class IngredientViewSet(_ResourceViewSet):
    queryset = Ingredient.objects.all()
    serializer_class = IngredientSerializer
    permission_classes = [ReadAnyoneWriteAdmin]
    resource_name = "Ingredient"


class _DeviceViewSet(_ResourceViewSet):
    """Printers and cash registers: admins, operators and maintainers read,
    admins write (maintainers what `maintainer_actions` lists)."""

    def get_permissions(self):
        if self.action in ("list", "retrieve", *self.operator_actions):
            return [IsAdminOrOperator()]
        if self.action in self.maintainer_actions:
            return [IsAdminOrMaintainer()]
        return [IsAdmin()]

    operator_actions: tuple[str, ...] = ()
    maintainer_actions: tuple[str, ...] = ()


class PrinterViewSet(_DeviceViewSet):
    queryset = Printer.objects.all()
    serializer_class = PrinterSerializer
    resource_name = "Printer"
    api_key_access = {(PRINTER_AGENT, "GET"), (PRINTER_AGENT, "PATCH")}
    # The printer agent's configuration (its printers' addresses) is a
    # maintainer's job too.
    maintainer_actions = ("partial_update",)

    def partial_update(self, request, *args, **kwargs):
        # A printer agent reports what it sees of a printer; naming and
        # placing printers stays an admin's. Another field is a 403 (the
        # right is missing), checked before the body is validated.
        if isinstance(request.user, Device) and isinstance(request.data, dict):
            if set(request.data) - KEY_PRINTER_FIELDS:
                raise PermissionDenied()
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        # Through the service: it stamps statusChangedAt when the status
        # really changes (and the events app hears of that change).
        serializer.instance = services.printer_update(
            printer_id=serializer.instance.pk, changes=serializer.validated_data
        )


ENABLED_PARAMETER = OpenApiParameter(
    "enabled",
    OpenApiTypes.STR,
    enum=["true", "false"],
    description="Only the enabled (true) or disabled (false) tills.",
)
INCLUDE_PRINTER_PARAMETER = OpenApiParameter(
    "include",
    OpenApiTypes.STR,
    enum=["printer"],
    description="`printer` embeds the default printer as `defaultPrinter` (null when there is none).",
)


class CashRegisterViewSet(_DeviceViewSet):
    queryset = CashRegister.objects.select_related("default_printer")
    serializer_class = CashRegisterSerializer
    resource_name = "Cash register"
    api_key_access = {(PRINTER_AGENT, "GET")}
    operator_actions = ("open_drawer",)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        enabled = self.request.query_params.get("enabled")
        if enabled not in (None, "", "true", "false"):
            raise ValidationError({"enabled": ["Must be true or false."]})
        return queryset if enabled in (None, "") else queryset.filter(enabled=enabled == "true")

    def _include_printer(self) -> bool:
        include = self.request.query_params.get("include")
        if include not in (None, "", "printer"):
            raise ValidationError({"include": ["The only include is printer."]})
        return include == "printer"

    @extend_schema(parameters=[ENABLED_PARAMETER, INCLUDE_PRINTER_PARAMETER])
    def list(self, request: Request, *args, **kwargs) -> Response:
        include = self._include_printer()
        return Response([cash_register_repr(r, include_printer=include) for r in self.get_queryset()])

    @extend_schema(parameters=[INCLUDE_PRINTER_PARAMETER])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        include = self._include_printer()
        return Response(cash_register_repr(self.get_object(), include_printer=include))

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"], url_path="open-drawer")
    def open_drawer(self, request: Request, pk: str) -> Response:
        """The register's drawer opens on its default printer: the printer
        channel hears `open-drawer` once this commits."""
        opening = services.cash_register_open_drawer(cash_register_id=pk, by=request.user)
        return Response(
            {"cashRegisterId": opening.cash_register_id, "printerId": opening.printer_id},
            status=status.HTTP_202_ACCEPTED,
        )
