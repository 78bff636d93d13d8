"""JSON for errors that never reach a DRF view: an unknown URL, a crash, a
request Django refuses before any view runs (a Host outside ALLOWED_HOSTS, a
body over DATA_UPLOAD_MAX_MEMORY_SIZE, a multipart body it cannot parse), and
a CSRF refusal.

Invariant: a client of the API (paths under API_PREFIXES) gets a JSON body
with a "message" for every error status, never Django's HTML page; pages for
people (the admin, the kitchen screens) keep Django's HTML pages, except for
404 and 500, which have always been JSON here."""

from __future__ import annotations

from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure

API_PREFIXES = ("/v1/", "/auth/", "/events/", "/docs/schema/")
TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES) or request.path in {"/v1", "/auth", "/events"}


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if isinstance(exception, TOO_LARGE):
        # Django files these under 400 (SuspiciousOperation); the status that
        # tells a client what to change is 413.
        if not is_api_request(request):
            response = defaults.bad_request(request, exception)
            response.status_code = 413
            return response
        return JsonResponse({"message": "Request body too large"}, status=413)
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        return JsonResponse({"message": "Bad request: host not allowed", "errors": []}, status=400)
    return JsonResponse({"message": "Bad request: the request could not be read", "errors": []}, status=400)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if not is_api_request(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse({"message": "Insufficient permissions"}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if not is_api_request(request):
        return django_csrf_failure(request, reason)
    return JsonResponse({"message": "Insufficient permissions: CSRF check failed"}, status=403)


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return JsonResponse({"message": "Not found"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"message": "Internal server error"}, status=500)
