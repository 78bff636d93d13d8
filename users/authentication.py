"""Bearer authentication with every check a token must pass (see
users/tokens.py for the invariant). Listed first in
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]; the events endpoint loads it
from there, so a stream is opened under exactly the rules of a REST call.

Device keys (X-API-KEY) are another class in the same list, and so is the
login cookie of today's MySagra clients (CookieAuthentication): the same
token, read from a cookie, under the same checks."""

from __future__ import annotations

from django.db.models import Exists
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import Token

from users.tokens import password_digest_matches, token_ids


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
            ids = token_ids(validated_token)
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        # One query: the user row, and whether this very token or its login
        # was revoked (logout), via the blacklist's unique index on jti.
        revoked = BlacklistedToken.objects.filter(token__jti__in=ids)
        user = (
            self.user_model.objects.annotate(token_revoked=Exists(revoked))
            .filter(**{api_settings.USER_ID_FIELD: user_id})
            .first()
        )
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if user.token_revoked:
            raise AuthenticationFailed("Token was revoked", code="token_revoked")
        if not password_digest_matches(validated_token, user):
            raise AuthenticationFailed("The user's password has been changed", code="password_changed")
        return user


# The cookies that today's MySagra clients forward (clients-heads.md, A2/A3):
# both hold the same credential, the login's access token; when both are
# sent, the first wins.
SESSION_COOKIE = "mysagra_session"
TOKEN_COOKIE = "mysagra_token"
LOGIN_COOKIES = (SESSION_COOKIE, TOKEN_COOKIE)


def cookie_credential(cookies) -> str | None:
    """The credential of the request's mysagra cookie, "" for an empty one,
    None when it sent neither."""
    for name in LOGIN_COOKIES:
        if name in cookies:
            return cookies[name]
    return None


class CookieAuthentication(BearerAuthentication):
    """The login's access token from the `mysagra_session` (else
    `mysagra_token`) cookie, with every check of a Bearer token: signature,
    expiry, logout of its login, user active, password unchanged. Listed
    after the Bearer and key authenticators (they take precedence) and
    before the Django session. A cookie that is present but fails is a 401,
    never a fall back to the session.

    No CSRF check: the cookie is HttpOnly and SameSite=Lax, only this API
    accepts it, and its callers are servers that forward it (clients-heads.md,
    A3). Django's own pages keep `sessionid`, whose CSRF check stays."""

    def authenticate(self, request):
        raw = cookie_credential(request.COOKIES)
        if raw is None:
            return None
        if not raw:
            raise AuthenticationFailed("Empty login cookie", code="bad_cookie")
        validated = self.get_validated_token(raw.encode("latin-1", "replace"))
        return self.get_user(validated), validated

    def authenticate_header(self, request) -> str:
        return 'Cookie realm="api"'


def signed_in_by_cookie(request) -> bool:
    """Whether a DRF request was authenticated by the mysagra cookie: such a
    caller reads order ids as strings (clients-heads.md, O1). Only asks
    what authentication found when it ran: rendering an answer given before
    it (a 503 while the database is away) must not start it now."""
    return isinstance(getattr(request, "_authenticator", None), CookieAuthentication)
