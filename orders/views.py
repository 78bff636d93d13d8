"""Thin HTTP layer: validate the input, call one service, represent the result."""

from __future__ import annotations

import math

from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import selectors, services
from orders.exceptions import Conflict, NotFound
from orders.models import CashRegister, Category, Food, Printer
from orders.representations import order_rest_repr, reprint_repr
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
from users.permissions import IsAdmin, IsAdminOrOperator, IsStaffMember, ReadAnyoneWriteAdmin


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
    return Response(order_rest_repr(selectors.order_with_items(order_id)), status=code)


class OrdersView(APIView):
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
                "data": [order_rest_repr(order) for order in rows],
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


class FoodViewSet(_ResourceViewSet):
    serializer_class = FoodSerializer
    permission_classes = [ReadAnyoneWriteAdmin]
    resource_name = "Food"

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


class PrinterViewSet(_ResourceViewSet):
    queryset = Printer.objects.all()
    serializer_class = PrinterSerializer
    resource_name = "Printer"

    def get_permissions(self):
        return [IsAdminOrOperator()] if self.action in ("list", "retrieve") else [IsAdmin()]


class CashRegisterViewSet(PrinterViewSet):
    queryset = CashRegister.objects.all()
    serializer_class = CashRegisterSerializer
    resource_name = "Cash register"
