"""Sign-in throttling on django-axes: the handler that counts an attempt
before its password is checked (AXES_HANDLER), and the answer to a
locked-out sign-in (AXES_LOCKOUT_CALLABLE): 429 with Retry-After, as JSON
for the API and as a short page for people (the admin login, the kitchen
pages' staff login).

Invariant: an attempt's failure is in axes' AccessAttempt table before its
password is hashed, decided under a lock on every AccessAttempt row of its
username and of its address, so concurrent attempts are counted one after
the other and never more than SIGNIN_FAILURE_LIMIT of them within the
window get to check a password (users/backends.py).

Retry-After is the time until the newest failure that counts against this
username or address leaves the window; attempts refused during a lockout
are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off), so
the client may really sign in again after that many seconds."""

from __future__ import annotations

import math

from axes.attempts import get_cool_off_threshold
from axes.conf import settings as axes_settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import (
    get_client_ip_address,
    get_client_parameters,
    get_client_username,
    get_cool_off,
    get_failure_limit,
)
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.db import transaction
from django.db.models import F, Max, Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import escape

from config.errors import is_api_request


class SignInAttemptHandler(AxesDatabaseHandler):
    """axes' database handler, with the failure of an attempt counted before
    its password is checked (count_attempt) and taken back when the
    password was right (uncount_attempt), instead of recorded after."""

    def count_attempt(self, request, credentials: dict | None) -> bool:
        """Count this attempt as a failure and return True, or return False
        (counting nothing) when its username or address has reached the
        limit. Expects axes' request attributes (AxesProxyHandler sets them).

        Concurrent attempts are serialised by a lock on every attempt row
        that matches the username or the address, each attempt's own row
        committed first: of two attempts, at least one sees the other's row
        and waits for its lock, so each reads the counts the other left.
        (On SQLite every write transaction is serialised anyway.)"""
        username = get_client_username(request, credentials)
        own = {
            "username": username,
            "ip_address": request.axes_ip_address,
            "user_agent": request.axes_user_agent,
        }
        self.clean_expired_user_attempts(request, credentials)
        with transaction.atomic():
            AccessAttempt.objects.get_or_create(
                **own,
                defaults={
                    "get_data": "",
                    "post_data": "",
                    "http_accept": request.axes_http_accept,
                    "path_info": request.axes_path_info,
                    "failures_since_start": 0,
                    "attempt_time": request.axes_attempt_time,
                },
            )
        parameters = get_client_parameters(
            username, request.axes_ip_address, request.axes_user_agent, request, credentials
        )
        matching = Q(**own)
        for parameter in parameters:
            matching |= Q(**parameter)
        threshold = get_cool_off_threshold(request) if axes_settings.AXES_COOLOFF_TIME is not None else None
        limit = get_failure_limit(request, credentials)
        with transaction.atomic():
            rows = list(AccessAttempt.objects.select_for_update().filter(matching).order_by("pk"))
            counted = [row for row in rows if threshold is None or row.attempt_time >= threshold]
            failures = max(
                (
                    sum(row.failures_since_start for row in counted if _matches(row, parameter))
                    for parameter in parameters
                ),
                default=0,
            )
            if failures >= limit:
                return False
            updated = AccessAttempt.objects.filter(**own).update(
                failures_since_start=F("failures_since_start") + 1, attempt_time=request.axes_attempt_time
            )
            if not updated:  # reset (axes_reset) between the two transactions
                AccessAttempt.objects.create(
                    **own,
                    get_data="",
                    post_data="",
                    http_accept=request.axes_http_accept,
                    path_info=request.axes_path_info,
                    failures_since_start=1,
                    attempt_time=request.axes_attempt_time,
                )
        request.signin_attempt_counted = own
        return True

    def uncount_attempt(self, request) -> None:
        """The password was right: this attempt is no failure."""
        own = getattr(request, "signin_attempt_counted", None)
        if own is not None:
            AccessAttempt.objects.filter(**own, failures_since_start__gt=0).update(
                failures_since_start=F("failures_since_start") - 1
            )
            request.signin_attempt_counted = None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None or getattr(request, "signin_attempt_counted", None) is None:
            # Refused during a lockout, or not through our backend: axes' own.
            return super().user_login_failed(sender, credentials, request, **kwargs)
        # Counted before the password check; what remains is to lock out
        # when this failure reached the limit.
        failures = self.get_failures(request, credentials)
        request.axes_failures_since_start = failures
        if axes_settings.AXES_LOCK_OUT_AT_FAILURE and failures >= get_failure_limit(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )


def _matches(row: AccessAttempt, parameter: dict) -> bool:
    return all(getattr(row, field) == value for field, value in parameter.items())


def retry_after_seconds(request, credentials: dict | None) -> int:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds())
    username = get_client_username(request, credentials)
    address = get_client_ip_address(request)
    matches = Q(ip_address=address) if address else Q(pk__in=[])
    if username:
        matches |= Q(username=username)
    newest = AccessAttempt.objects.filter(matches, failures_since_start__gt=0).aggregate(newest=Max("attempt_time"))[
        "newest"
    ]
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
