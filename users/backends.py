"""Sign-in throttling and password check: the one authentication backend.

Invariant: every authenticate() that comes from an HTTP request (the admin
login form, POST /auth/login, POST /auth/token, the staff login page) is
counted as a failure against its username and its address *before* its
password is checked (users.throttling.SignInAttemptHandler), and refused
without a check while either has reached SIGNIN_FAILURE_LIMIT; a right
password takes its count back. So however many attempts arrive at once,
at most the limit of them get their password hashed, and none once the
limit is reached: the right password too is refused until the lockout ends.

Calls without a request come from code (Django's test client `login()`,
management commands), where there is no client to throttle."""

from __future__ import annotations

from axes.backends import AxesBackend, AxesStandaloneBackend
from axes.conf import settings as axes_settings
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection


class SignInThrottleBackend(AxesBackend):
    """axes' backend (its lockout check, then Django's ModelBackend), with
    the attempt counted between the two."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not axes_settings.AXES_ENABLED:
            return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        # axes' own check first: during a lockout it refuses with reads only.
        AxesStandaloneBackend.authenticate(self, request, username=username, password=password, **kwargs)
        handler = AxesProxyHandler.get_implementation()
        credentials = get_credentials(username=username, password=password, **kwargs)
        if not handler.count_attempt(request, credentials):
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied("The sign-in failure limit was reached")
        user = self._check_password(username, password, **kwargs)
        if user is not None:
            handler.uncount_attempt(request)
        return user

    def _check_password(self, username, password, **kwargs):
        """ModelBackend.authenticate, giving the database connection back to
        the pool (PostgreSQL) before the password hash: a burst of sign-ins
        then holds no connection during its ~0.3 s of hashing, and the
        requests behind it do not wait for one until they time out (503)."""
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user = None
        if _pooled() and not connection.in_atomic_block:
            connection.close()
        if user is None:
            # As ModelBackend: hash once, so that an unknown username takes
            # as long as a known one.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def _pooled() -> bool:
    return bool(connection.settings_dict.get("OPTIONS", {}).get("pool"))
