"""API plumbing shared by every app: JSON parsing that keeps money exact, and
the one place where exceptions become the contract's error bodies."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from orders.exceptions import DomainError, InvalidInput
from orders.representations import with_string_order_ids
from users.authentication import signed_in_by_cookie

logger = logging.getLogger(__name__)


class DecimalJSONParser(JSONParser):
    """JSON numbers with a fraction become Decimal, never float, so 0.1 stays
    0.1 on its way to a price or a discount."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            text = stream.read().decode(encoding)
            return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from None
        except RecursionError:
            # Valid JSON nested deeper than the parser's stack: still the
            # client's fault, so a 400 and not a 500.
            raise exceptions.ParseError("Malformed JSON: nested too deeply") from None


class ApiJSONRenderer(JSONRenderer):
    """JSON, with order ids as strings for a caller signed in by the mysagra
    cookie (clients-heads.md, O1): the one place where REST answers take the
    caller's id type; integers for everyone else."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        request = (renderer_context or {}).get("request")
        if request is not None and signed_in_by_cookie(request):
            data = with_string_order_ids(data)
        return super().render(data, accepted_media_type, renderer_context)


class ErrorSerializer(serializers.Serializer):
    """For the OpenAPI docs: the body of every error but a 400."""

    message = serializers.CharField()


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    """For the OpenAPI docs: the body of a 400."""

    errors = FieldErrorSerializer(many=True)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON value")


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail → [{"field": "orderItems.0.quantity", "message": ...}]."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            out.extend(flatten_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"field": prefix, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:
                out.extend(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return [{"field": prefix, "message": str(detail)}]


def validation_error(
    errors: list[dict[str, str]], message: str = "Validation error", *, code: str | None = None
) -> Response:
    """A 400 with its `errors`; when there is exactly one, `message` names it
    ("Margherita is not available"), since that is what a cashier's screen
    shows. Several keep the general message."""
    if len(errors) == 1 and message == "Validation error":
        message = errors[0]["message"]
    body: dict[str, Any] = {"message": message, "errors": errors}
    if code is not None:
        body["error"] = body["type"] = code
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, InvalidInput):
        return validation_error(exc.errors, exc.message, code=exc.code)
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"message": exc.message}
        if exc.status_code == status.HTTP_400_BAD_REQUEST:
            # Every 400 has the same keys, so a client can always read `errors`.
            body["errors"] = []
        return Response(body, status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return validation_error(flatten_errors(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return validation_error([{"field": "body", "message": str(exc.detail)}])
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response = Response({"message": "Authentication required"}, status=status.HTTP_401_UNAUTHORIZED)
        authenticator = context["request"].authenticators[0] if context["request"].authenticators else None
        if authenticator is not None:
            response["WWW-Authenticate"] = authenticator.authenticate_header(context["request"])
        return response
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        return Response({"message": "Insufficient permissions"}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return Response({"message": "Not found"}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable or refused the statement for a reason of
        # its own: the request wrote nothing (it ran in a transaction) and may
        # be retried.
        logger.warning("database unavailable: %s", exc)
        return Response(
            {"message": "Service unavailable, retry shortly"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, exceptions.APIException):
        return Response({"message": str(exc.detail)}, status=exc.status_code)
    return None
