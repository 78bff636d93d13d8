"""Retry-safe writes: the Idempotency-Key header.

A cashier on festival Wi-Fi whose response was lost presses again; with the
same Idempotency-Key the second request gets the first one's answer instead of
a second order, ticket or print job.

Invariant: for one caller and one key, at most one request runs its write
within IDEMPOTENCY_KEY_HOURS; every other request with that key gets the
first answer back (status and body, marked `Idempotent-Replayed: true`) and
runs nothing, so it writes nothing and causes no event; with another method,
path or body it is a 409. The key's row is inserted in the same transaction
as the write, before it, under a unique (caller, key) constraint: a
concurrent request with the same key waits for the first one's transaction
(on PostgreSQL at the unique index, on SQLite for the single writer), then
finds the row and replays it. A request that fails (an exception or a non-2xx
answer) rolls back together with its key, so its retry runs afresh; a failure
writes nothing, so running it again is safe.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from idempotency.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Visible ASCII, as the IETF draft's examples and clients' UUIDs are.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This Idempotency-Key was already used for a different request"


def idempotent(handler):
    """Decorate an APIView method (after authentication and permissions have
    run, so the caller is known and a refusal is never stored)."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY.fullmatch(raw_key):
            raise ValidationError({HEADER: ["Must be 1 to 255 visible ASCII characters."]})
        caller = _caller(request)
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            record, claimed = _claim(caller=caller, key=raw_key, fingerprint=fingerprint)
            if not claimed:
                if record.fingerprint != fingerprint:
                    raise IdempotencyConflict()
                return Response(record.response_body, status=record.status_code, headers={REPLAYED_HEADER: "true"})
            response = handler(view, request, *args, **kwargs)
            if not status.is_success(response.status_code):
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
            return response

    return wrapper


def _caller(request) -> str:
    user = request.user
    label = getattr(getattr(user, "_meta", None), "label_lower", type(user).__name__)
    return f"{label}:{user.pk}"


def _fingerprint(request) -> str:
    # The parsed body, not the bytes: they may already have been read (a
    # session's CSRF check reads them), and key order or spacing does not
    # make another request.
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _claim(*, caller: str, key: str, fingerprint: str):
    """(record, True) when this request holds the key now; (the earlier
    record, False) when another request held it within the window."""
    now = timezone.now()
    # Expired keys go first: a key older than the window is free again.
    IdempotentRequest.objects.filter(created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)).delete()
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the outer transaction usable
            record = IdempotentRequest.objects.create(caller=caller, key=key, fingerprint=fingerprint, created_at=now)
            return record, True
    except IntegrityError:
        return IdempotentRequest.objects.get(caller=caller, key=key), False
