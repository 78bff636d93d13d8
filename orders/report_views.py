"""HTTP for reports and closures (API.md, "Reports and closures"): validate
the query or body, call the report builder or the closure service, answer."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import services
from orders.reports import GROUP_BY_CHOICES, build_reports
from orders.schemas import ref
from orders.serializers import StrictCharField
from users.permissions import IsAdminOrMaintainer, IsAdminOrOperator

ISO_8601 = ["iso-8601", "%Y-%m-%d"]


class ReportQuerySerializer(serializers.Serializer):
    # A date alone means its local midnight; a time without offset is local.
    # `to` is exclusive and defaults to now.
    from_ = serializers.DateTimeField(input_formats=ISO_8601)
    to = serializers.DateTimeField(input_formats=ISO_8601, required=False)
    groupBy = serializers.ChoiceField(choices=GROUP_BY_CHOICES, required=False, default="all")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields

    def validate(self, attrs):
        if "to" not in attrs:
            attrs["to"] = timezone.now()
            if attrs["to"] <= attrs["from"]:
                raise serializers.ValidationError({"from": "Must be in the past when to is not given."})
        elif attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": "Must be later than from."})
        return attrs


class ClosureSerializer(serializers.Serializer):
    cashRegister = StrictCharField(max_length=64)


class ReportsView(APIView):
    permission_classes = [IsAdminOrMaintainer]

    @extend_schema(parameters=[ReportQuerySerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        query = ReportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        return Response(build_reports(start=params["from"], end=params["to"], group_by=params["groupBy"]))


class GeneralClosureView(APIView):
    permission_classes = [IsAdminOrOperator]

    @extend_schema(
        request=ClosureSerializer,
        responses={
            201: OpenApiResponse(
                {"type": "array", "items": {"type": "object"}, "maxItems": 1},
                description="The service day's report as `GET /v1/reports?groupBy=all` shows it ([] without"
                " orders). The printers hear `general-closure` with the same figures as one object with numbers.",
            ),
            404: OpenApiResponse(ref("Error"), description="No such cash register."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = ClosureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        closure = services.general_closure_create(
            cash_register_id=serializer.validated_data["cashRegister"], by=request.user
        )
        return Response(closure.report, status=status.HTTP_201_CREATED)
