"""Thin HTTP layer: validate the input, call one service, represent the result."""

from __future__ import annotations

import math

from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import selectors, services
from orders.exceptions import Conflict, NotFound
from orders.models import CashRegister, Category, Food, Printer
from orders.representations import cash_register_repr, order_repr, reprint_repr
from orders.serializers import (
    CashRegisterSerializer,
    CategorySerializer,
    ConfirmSerializer,
    FoodSerializer,
    OrderCreateSerializer,
    OrderListQuerySerializer,
    OrderStatusSerializer,
    PrinterSerializer,
    ReprintSerializer,
    to_lines,
)
from users.apikeys import Device
from users.models import ApiKeyKind
from users.permissions import IsAdmin, IsAdminOrOperator, IsStaffMember, ReadAnyoneWriteAdmin

# What devices' API keys may do is listed on each view (`api_key_access`,
# see users/permissions.py); a view without the attribute refuses every key.
PRINTER_AGENT, DISPLAY = ApiKeyKind.PRINTER_AGENT, ApiKeyKind.DISPLAY
KEY_PRINTER_FIELDS = frozenset({"status", "ip", "mac"})


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _order_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise NotFound("Order not found") from None


def _order_response(order_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(order_repr(selectors.order_with_items(order_id)), status=code)


class OrdersView(APIView):
    api_key_access = {(DISPLAY, "GET")}

    def get_permissions(self):
        return [IsStaffMember()] if self.request.method == "POST" else [IsAdminOrOperator()]

    @extend_schema(parameters=[OrderListQuerySerializer])
    def get(self, request: Request) -> Response:
        query = {key: request.query_params.get(key) for key in ("page", "limit", "search", "displayCode")}
        query = {key: value for key, value in query.items() if value is not None}
        if "status" in request.query_params:
            query["status"] = request.query_params.getlist("status")
        params = _validated(OrderListQuerySerializer, query)
        orders = selectors.order_list(
            selectors.OrderFilters(
                statuses=params.get("status", ()), search=params["search"], display_code=params["displayCode"]
            )
        )
        total = orders.count()
        page, limit = params["page"], params["limit"]
        offset = (page - 1) * limit
        # A page past the end is empty; asking the database for it could
        # overflow its integer OFFSET (page=10**20 was a 500 on SQLite).
        rows = orders[offset : offset + limit] if offset < total else []
        return Response(
            {
                "data": [order_repr(order) for order in rows],
                "pagination": {"totalItems": total, "currentPage": page, "totalPages": math.ceil(total / limit)},
            }
        )

    @extend_schema(request=OrderCreateSerializer)
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
        return _order_response(order.id, status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    permission_classes = [IsAdminOrOperator]
    api_key_access = {(PRINTER_AGENT, "GET")}

    def get(self, request: Request, order_id: str) -> Response:
        return _order_response(_order_id(order_id))

    @extend_schema(request=OrderStatusSerializer)
    def patch(self, request: Request, order_id: str) -> Response:
        data = _validated(OrderStatusSerializer, request.data)
        order = services.order_set_status(order_id=_order_id(order_id), by=request.user, status=data["status"])
        return _order_response(order.id)


class OrderConfirmView(APIView):
    permission_classes = [IsAdminOrOperator]

    @extend_schema(request=ConfirmSerializer)
    def post(self, request: Request, order_id: str) -> Response:
        data = _validated(ConfirmSerializer, request.data)
        order = services.order_confirm(
            order_id=_order_id(order_id), by=request.user, confirmation=ConfirmSerializer.to_confirmation(data)
        )
        return _order_response(order.id)


class OrderReprintView(APIView):
    permission_classes = [IsAdminOrOperator]

    @extend_schema(request=ReprintSerializer)
    def post(self, request: Request, order_id: str) -> Response:
        data = _validated(ReprintSerializer, request.data)
        reprint = services.order_reprint(
            order_id=_order_id(order_id), by=request.user, item_ids=data["orderItems"], receipt=data["reprintReceipt"]
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

    def get_object(self):
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except self.get_queryset().model.DoesNotExist:
            raise NotFound(f"{self.resource_name} not found") from None

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
    permission_classes = [ReadAnyoneWriteAdmin]
    resource_name = "Category"

    @property
    def api_key_access(self):
        # A printer agent reads the category list, not single categories.
        return {(PRINTER_AGENT, "GET")} if self.action == "list" else set()


class FoodViewSet(_ResourceViewSet):
    serializer_class = FoodSerializer
    permission_classes = [ReadAnyoneWriteAdmin]
    resource_name = "Food"
    api_key_access = {(PRINTER_AGENT, "GET")}

    def get_queryset(self):
        if self.action != "list":
            return Food.objects.all()
        available = self.request.query_params.get("available")
        if available not in (None, "", "true", "false"):
            raise ValidationError({"available": ["Must be true or false."]})
        return selectors.food_list(
            available=None if available in (None, "") else available == "true",
            category_id=self.request.query_params.get("categoryId") or None,
        )


class _DeviceViewSet(_ResourceViewSet):
    """Printers and cash registers: admins and operators read, admins write."""

    def get_permissions(self):
        if self.action in ("list", "retrieve", *self.operator_actions):
            return [IsAdminOrOperator()]
        return [IsAdmin()]

    operator_actions: tuple[str, ...] = ()


class PrinterViewSet(_DeviceViewSet):
    queryset = Printer.objects.all()
    serializer_class = PrinterSerializer
    resource_name = "Printer"
    api_key_access = {(PRINTER_AGENT, "GET"), (PRINTER_AGENT, "PATCH")}

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

    def list(self, request: Request, *args, **kwargs) -> Response:
        include = self._include_printer()
        return Response([cash_register_repr(r, include_printer=include) for r in self.get_queryset()])

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
