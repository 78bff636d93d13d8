"""Sign-in throttling: django-axes' backend, first in AUTHENTICATION_BACKENDS.

Invariant: every authenticate() that comes from an HTTP request (the admin
login form, POST /auth/login, POST /auth/token) passes through axes, which
refuses it while its username or its address is locked out, whatever the
password. Calls without a request come from code (Django's test client
`login()`, management commands), where there is no client to throttle."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class SignInThrottleBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
