"""Screens are devices: a `display` API key opens the board (/display/) and
a `kitchen` key the kitchen display (/kitchen/) on a TV or a kitchen PC,
with no staff session.

- The key is given once, in the address: /display/?key=<key>. The page
  checks it, keeps it in an HttpOnly cookie (users.apikeys.SCREEN_COOKIE, SameSite=Strict,
  Secure over HTTPS) and redirects to the same address without it, so the
  key leaves the address bar and the history.
- Later requests of that screen carry the cookie: the page, its JSON
  (ScreenKeyAuthentication; a write needs the CSRF token, as a session's
  does) and its event stream (events.access.authentication reads the cookie as it
  reads X-API-KEY). What a key may do is still listed per view
  (`api_key_access`) and per channel (users.apikeys.STREAM_CHANNEL).
- Revoking the key closes the screen's stream at the next re-check
  (events/access/revocation.py); the page's script then finds its state refused
  and reloads, and the page answers a screen whose cookie holds a dead key
  with the blank "disconnected" page, never the staff login (nobody types a
  password on a TV).

Imports users (keys) and Django; the page views it wraps are handed to it
by screens/urls.py.
"""

from __future__ import annotations

import inspect
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.exceptions import PermissionDenied

from users.apikeys import SCREEN_COOKIE, Device, authenticate_key

KEY_PARAM = "key"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the most browsers keep a cookie


def screen_key_from_cookie(cookies: dict[str, str], address: str | None = None):
    """The live key in the screen cookie, or None."""
    raw = cookies.get(SCREEN_COOKIE)
    return authenticate_key(raw, address=address) if raw else None


def disconnected(request: HttpRequest) -> HttpResponse:
    response = render(request, "pages/disconnected.html", status=403)
    response.delete_cookie(SCREEN_COOKIE)
    return response


def screen_page(staff_view, *, kind: str):
    """`staff_view` (a page for signed-in staff, screens/views.py) also for
    a screen holding a key of `kind`: by ?key= once, then by cookie."""
    page = inspect.unwrap(staff_view)  # the view under its staff gate and never_cache

    @wraps(page)
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        address = request.META.get("REMOTE_ADDR") or None
        if KEY_PARAM in request.GET:
            raw = request.GET[KEY_PARAM]
            key = authenticate_key(raw, address=address)
            if key is None or key.kind != kind:
                return disconnected(request)
            query = request.GET.copy()
            del query[KEY_PARAM]
            response = redirect(request.path + (f"?{query.urlencode()}" if query else ""))
            response.set_cookie(
                SCREEN_COOKIE,
                raw,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Strict",
                secure=request.is_secure(),
            )
            return response
        if SCREEN_COOKIE in request.COOKIES and not request.user.is_authenticated:
            key = screen_key_from_cookie(request.COOKIES, address)
            if key is None or key.kind != kind:
                return disconnected(request)
            request.user = Device(key)
            return page(request, *args, **kwargs)
        return staff_view(request, *args, **kwargs)

    return never_cache(view)


class ScreenKeyAuthentication(BaseAuthentication):
    """DRF authentication by the screen cookie, for the pages' JSON. No
    cookie, or a dead key in it: not this class's business (None: the
    session, or anonymous, which the views refuse). A write must carry the
    CSRF token, as SessionAuthentication asks of a session."""

    def authenticate(self, request):
        key = screen_key_from_cookie(request.COOKIES, request.META.get("REMOTE_ADDR") or None)
        if key is None:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            self._enforce_csrf(request)
        return Device(key), key

    def _enforce_csrf(self, request) -> None:
        check = CSRFCheck(lambda _request: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise PermissionDenied(f"CSRF Failed: {reason}")
