"""Bearer authentication with every check a token must pass (see
users/tokens.py for the invariant). Listed first in
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]; the events endpoint loads it
from there, so a stream is opened under exactly the rules of a REST call.

Device keys (X-API-KEY) are another class in the same list, and so is the
login cookie of today's MySagra clients (CookieAuthentication): the same
token, read from a cookie, under the same checks."""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Exists
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import Token

from users.tokens import password_digest_matches, token_ids

# A sentinel for the user id while the statement is compiled: its place
# among the compiled parameters is where each request's id goes.
_USER_SENTINEL = -7_340_017_259
USER = -1  # the place of the user's id among a statement's parameters


def _user_statement(user_model, alias: str, count: int) -> tuple[str, list, list[int | None]]:
    """The statement of `user_and_revocation` for `count` token ids, as the
    ORM writes it for this database, and for each of its parameters which
    id goes there: USER for the user's, a position for a token id's, None
    for a constant the ORM passes as a parameter (kept as compiled)."""
    sentinels = [f"\x00token-id-{n}" for n in range(count)]
    revoked = BlacklistedToken.objects.filter(token__jti__in=sentinels)
    query = (
        user_model.objects.using(alias)
        .annotate(token_revoked=Exists(revoked))
        .filter(**{api_settings.USER_ID_FIELD: _USER_SENTINEL})
        .order_by()[:1]
    )
    sql, params = query.query.get_compiler(using=alias).as_sql()
    user_sentinel = user_model._meta.get_field(api_settings.USER_ID_FIELD).get_prep_value(_USER_SENTINEL)
    places = [
        USER if param == user_sentinel else sentinels.index(param) if param in sentinels else None for param in params
    ]
    return sql, list(params), places


_statements: dict[tuple, tuple[str, list, list[int | None]]] = {}


def user_and_revocation(user_model, user_id, ids: list[str]):
    """The user (None if there is none) with `token_revoked`: whether one of
    `ids` (the token's own, its login's) was revoked (logout). One query,
    via the blacklist's unique index on jti; its SQL is compiled once per
    database and number of ids, not on every request (the ORM's compiling
    cost about as much as the rest of the authentication)."""
    alias = router.db_for_read(user_model)
    key = (alias, connections[alias].vendor, connections[alias].settings_dict["NAME"], len(ids))
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = _user_statement(user_model, alias, len(ids))
    sql, compiled, places = statement
    try:
        user_id = user_model._meta.get_field(api_settings.USER_ID_FIELD).get_prep_value(user_id)
    except (TypeError, ValueError):
        return None
    params = [
        compiled[n] if place is None else user_id if place == USER else ids[place] for n, place in enumerate(places)
    ]
    found = list(user_model.objects.raw(sql, params).using(alias))
    if not found:
        return None
    user = found[0]
    user.token_revoked = bool(user.token_revoked)
    return user


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
            ids = token_ids(validated_token)
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        user = user_and_revocation(self.user_model, user_id, sorted(ids))
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
