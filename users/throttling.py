"""The answer to a locked-out sign-in (django-axes' AXES_LOCKOUT_CALLABLE):
429 with Retry-After, as JSON for the API and as a short page for people (the
admin login, the kitchen pages' staff login).

Retry-After is the time until the newest failure that counts against this
username or address leaves the window; attempts refused during a lockout
are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off), so
the client may really sign in again after that many seconds."""

from __future__ import annotations

import math

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import escape

from config.errors import is_api_request


def retry_after_seconds(request, credentials: dict | None) -> int:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds())
    username = get_client_username(request, credentials)
    address = get_client_ip_address(request)
    matches = Q(ip_address=address) if address else Q(pk__in=[])
    if username:
        matches |= Q(username=username)
    newest = AccessAttempt.objects.filter(matches).aggregate(newest=Max("attempt_time"))["newest"]
    if newest is None:
        return seconds
    remaining = (newest + cool_off - timezone.now()).total_seconds()
    return max(1, min(seconds, math.ceil(remaining)))


def lockout_response(request, original_response=None, credentials: dict | None = None) -> HttpResponse:
    retry_after = retry_after_seconds(request, credentials)
    minutes = math.ceil(retry_after / 60)
    message = f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    if not is_api_request(request):
        response = HttpResponse(
            f"<!doctype html><title>Too many attempts</title><h1>Too many attempts</h1><p>{escape(message)}</p>",
            status=429,
            content_type="text/html; charset=utf-8",
        )
    else:
        response = JsonResponse({"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
