"""Who is asking for an event stream: a Bearer token (checked by the first
JWT authenticator of REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES, so
that every check the REST API makes on a token applies to streams too), a
device's X-API-KEY, a stream token (?token=), the login token in the
mysagra_session or mysagra_token cookie (users.authentication's
CookieAuthentication, REST's own check), Pushpin's recovery request (its
listener named by the holder channel in its Grip-Last), or a staff member's
Django session, in that order. A bad Authorization, X-API-KEY or mysagra
cookie is final: no fallback to the others.

Each answer carries the stream's Identity (events/access/identity.py), which
events/access/revocation.py re-checks while the stream is open.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils.module_loading import import_string

from events.access import holders, identity
from events.access.credentials import cache_key
from events.access.identity import Identity
from events.access.roles import KITCHEN_CHANNEL, LISTENER_ROLES
from events.access.tokens import stream_token_claims
from events.core import log
from users.apikeys import SCREEN_COOKIE
from users.authentication import SESSION_COOKIE, CookieAuthentication, cookie_credential
from users.models import Role
from users.tokens import login_id_of, revoked_jtis


@dataclass(frozen=True)
class Principal:
    subject: Any  # a users.User, or a device's API key
    identity: Identity

    @property
    def holder_channel(self) -> str:
        return holders.holder_channel(self.identity)

    def may_listen(self, channel: str) -> bool:
        """The role check (403): people by role; a device key by its kind:
        the one channel it is made for, anything else (an unknown channel
        too) is a 403, as every other request a key's kind does not list."""
        if self.identity.key_id is not None:
            from users.apikeys import STREAM_CHANNEL

            return STREAM_CHANNEL.get(getattr(self.subject, "kind", None)) == channel
        if self.subject.has_role(Role.KITCHEN):
            return channel == KITCHEN_CHANNEL
        return self.subject.has_role(*LISTENER_ROLES)

    @property
    def by_cookie(self) -> bool:
        """Signed in by the mysagra cookie: today's MySagra clients, who get
        a cashier's whole catalogue by default and string order ids."""
        return self.identity.kind == identity.COOKIE


def screen_cookie(headers: dict[str, str]) -> str | None:
    """The key a screen keeps in its cookie (screens/keys.py), or None."""
    if "cookie" not in headers:
        return None
    return parse_cookie(headers["cookie"]).get(SCREEN_COOKIE) or None


@cache
def bearer_authenticator_class():
    """The first JWT authenticator the REST API is configured with (the
    project's own subclass, when there is one), else simplejwt's."""
    from rest_framework_simplejwt.authentication import JWTAuthentication

    for path in settings.REST_FRAMEWORK.get("DEFAULT_AUTHENTICATION_CLASSES", ()):
        cls = import_string(path)
        if isinstance(cls, type) and issubclass(cls, JWTAuthentication):
            return cls
    return JWTAuthentication


def user_from_bearer(authorization: str):
    """(user, validated token) for an Authorization header, or None. Runs the
    configured authenticator on a bare request, as DRF would."""
    from django.http import HttpRequest
    from rest_framework.exceptions import APIException

    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = authorization
    try:
        found = bearer_authenticator_class()().authenticate(request)
    except APIException:  # AuthenticationFailed, InvalidToken …
        return None
    if found is None or not found[0].is_active:
        return None
    return found


def user_from_cookie(raw: str):
    """(user, validated token) for a mysagra cookie's value, or None: REST's
    own cookie check."""
    from django.http import HttpRequest
    from rest_framework.exceptions import APIException

    request = HttpRequest()
    request.COOKIES = {SESSION_COOKIE: raw}
    try:
        found = CookieAuthentication().authenticate(request)
    except APIException:  # AuthenticationFailed, InvalidToken …
        return None
    if found is None or not found[0].is_active:
        return None
    return found


def request_cookie(headers: dict[str, str]) -> str | None:
    """The mysagra cookie's value in the Cookie header, or None."""
    cookie = headers.get("cookie")
    return cookie_credential(parse_cookie(cookie)) if cookie else None


def _active_user(user_id):
    from django.contrib.auth import get_user_model

    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=str(user_id), is_active=True).first()


def _live_key(key_id: str):
    """A device key by id, unless revoked (a GRIP recovery knows only the id)."""
    from events.access.revocation import live_keys

    if key_id not in live_keys({key_id}):
        return None
    from django.apps import apps

    return apps.get_model("users", "ApiKey").objects.filter(pk=key_id).first()


def credential_key(
    headers: dict[str, str], query: dict[str, list[str]], via_grip: bool = False
) -> tuple[str, str] | None:
    """The key under which events/access/credentials.py remembers what
    authenticate() concludes for these headers and query: the credential it
    would check, in the same order. None for a session (Channels'
    middleware checks it) or no credential at all."""
    if via_grip and holders.NEXT_PARAM in query:
        return cache_key("holder", holders.recovering_holder(headers) or "")
    for header, kind in (("authorization", "bearer"), ("x-api-key", "api-key")):
        if header in headers:
            return cache_key(kind, headers[header])
    screen_key = screen_cookie(headers)
    if screen_key is not None:
        return cache_key("api-key", screen_key)
    if "token" in query:
        return cache_key("token", query["token"][0])
    raw_cookie = request_cookie(headers)
    if raw_cookie is not None:
        return cache_key("cookie", raw_cookie)
    return None


@log.closes_connection
def authenticate(
    headers: dict[str, str], query: dict[str, list[str]], via_grip: bool = False, address: str | None = None
):
    """The Principal behind the request, or None (a 401). `address` is the
    client's, noted as a device key's last use.

    `via_grip` is set only for a request that Pushpin signed: then a
    recovery request (a GRIP next link, which carries none of the client's
    headers) is its listener's, as the holder channel in its Grip-Last names
    them (events/transport/grip.py)."""
    if via_grip and holders.NEXT_PARAM in query:
        holder = holders.identity_from_holder_channel(holders.recovering_holder(headers) or "")
        if holder is None:
            return None
        if holder.expires_at is not None and holder.expires_at <= time.time():
            return None
        if holder.key_id is not None:
            key = _live_key(holder.key_id)
            return Principal(key, holder) if key is not None else None
        user = _active_user(holder.user_id)
        if user is None or user.get_session_auth_hash() != holder.auth_hash:
            return None  # deactivated, or the password changed since the hold
        return Principal(user, holder)
    authorization = headers.get("authorization")
    if authorization is not None:
        found = user_from_bearer(authorization)
        if found is None:
            return None
        user, token = found
        return _token_principal(identity.BEARER, user, token, authorization)
    raw_key = headers.get("x-api-key")
    if raw_key is None:
        raw_key = screen_cookie(headers)  # a screen's key (screens/keys.py)
    if raw_key is not None:
        from users.apikeys import authenticate_key

        key = authenticate_key(raw_key, address=address)
        if key is None:
            return None
        return Principal(key, Identity(identity.API_KEY, key_id=str(key.pk)))
    if "token" in query:
        claims = stream_token_claims(query["token"][0])
        if claims is None:
            return None
        user_id, expires_at, login_id = claims
        if login_id and revoked_jtis({login_id}):
            return None  # its login was logged out
        user = _active_user(user_id)
        if user is None:
            return None
        return Principal(
            user,
            Identity(
                identity.STREAM_TOKEN,
                user_id=user.pk,
                expires_at=expires_at,
                auth_hash=user.get_session_auth_hash(),
                login_id=login_id,
            ),
        )
    raw_cookie = request_cookie(headers)
    if raw_cookie is not None:
        found = user_from_cookie(raw_cookie)
        if found is None:
            return None
        user, token = found
        return _token_principal(identity.COOKIE, user, token, raw_cookie)
    return None


@log.closes_connection
def from_session(session, user) -> Principal | None:
    """The staff member signed in to a Django session, as Channels'
    AuthMiddleware found them (it checks the session's auth hash, like
    Django's), with the session's own expiry."""
    if session is None or not session.session_key or not user.is_active:
        return None
    expires_at = time.time() + session.get_expiry_age()
    return Principal(
        user,
        Identity(
            identity.SESSION,
            user_id=user.pk,
            credential=session.session_key,
            expires_at=expires_at,
            auth_hash=user.get_session_auth_hash(),
        ),
    )


def _token_principal(kind: str, user, token, credential: str) -> Principal:
    """A person signed in by a login token (a Bearer header or the login
    cookie): the identity names the token and the login it belongs to, so a
    logout of either, and the user's own changes, close the stream."""
    exp = token.get("exp")
    return Principal(
        user,
        Identity(
            kind,
            user_id=user.pk,
            credential=credential,
            expires_at=float(exp) if isinstance(exp, int | float) else None,
            auth_hash=user.get_session_auth_hash(),
            token_id=str(token.get("jti") or ""),
            login_id=login_id_of(token),
        ),
    )
