"""Bearer tokens: what a token is checked against, and how one is revoked.

Invariant: an access token is honoured only while (1) its signature and expiry
hold, (2) its user exists and is active, (3) its password digest matches the
user's current password hash, and (4) its `jti` is not on simplejwt's
blacklist. (1) costs nothing, (2) and (3) come from the user row that
authentication loads anyway, and (4) rides along in that same query as an
EXISTS on the blacklist's unique `jti` index: one indexed lookup per request.

Revocation writes to simplejwt's token_blacklist tables (the same ones that
refuse a rotated refresh token), so `manage.py flushexpiredtokens` clears
revoked access tokens once they would have expired anyway.

A login (POST /auth/login, POST /auth/token, or a session sign-in) has an
id, the `sid` claim of its tokens (a refresh token passes it on to the
access tokens and the rotated refresh tokens made from it) and of the
stream tokens minted under it (events/access/tokens.py). A token without `sid`
(issued before logins had ids) is a login of its own: its `jti`. A logout
puts the login id on the same blacklist as the token, so everything the
login issued is refused, (4) above checking `jti` and login id in one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

LOGIN_CLAIM = "sid"


def login_access_token(user) -> AccessToken:
    """The shift-long access token of POST /auth/login (LOGIN_TOKEN_HOURS):
    a login of its own."""
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(hours=settings.LOGIN_TOKEN_HOURS))
    token[LOGIN_CLAIM] = new_login_id()
    return token


def login_refresh_token(user) -> RefreshToken:
    """The refresh token of POST /auth/token: a login of its own, which its
    access tokens and rotated successors belong to."""
    # Not the token's own jti: a rotation blacklists that one.
    token = RefreshToken.for_user(user)
    token[LOGIN_CLAIM] = new_login_id()
    return token


def login_id_of(token: Token) -> str:
    """The login a token belongs to."""
    return str(token.get(LOGIN_CLAIM) or token[api_settings.JTI_CLAIM])


def token_ids(token: Token) -> set[str]:
    """The ids whose blacklisting refuses this token: its own and its login's."""
    return {str(token[api_settings.JTI_CLAIM]), login_id_of(token)}


def login_horizon() -> datetime:
    """A moment after which nothing issued before now is valid any more:
    every token, stream token and session cookie has expired by then."""
    longest = max(
        settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"],
        timedelta(hours=settings.LOGIN_TOKEN_HOURS),
        timedelta(seconds=settings.EVENTS_STREAM_TOKEN_SECONDS),
        timedelta(seconds=settings.SESSION_COOKIE_AGE),
    )
    return timezone.now() + longest


def password_digest_matches(token: Token, user) -> bool:
    """False for a token issued before the user's password last changed."""
    return token.get(api_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)


def revoked_jtis(jtis: Iterable[str]) -> set[str]:
    """Which of these token ids are revoked: one query for a batch (the
    events endpoint re-checks its open streams this way)."""
    jtis = list(jtis)
    if not jtis:
        return set()
    return set(BlacklistedToken.objects.filter(token__jti__in=jtis).values_list("token__jti", flat=True))


def revoked_jtis_since(moment: datetime) -> set[str]:
    """Token ids put on the blacklist at or after `moment` (one query on a
    handful of rows: what a re-check of thousands of open streams reads
    between two passes, instead of every stream's own token id)."""
    return set(BlacklistedToken.objects.filter(blacklisted_at__gte=moment).values_list("token__jti", flat=True))


@transaction.atomic
def token_revoke(*, token: Token, user=None) -> None:
    """Refuse this token, and everything its login issued, from now on,
    everywhere (a logout). Idempotent: revoking twice (two logouts racing)
    leaves one blacklist entry each; the unique `jti` and the one-to-one
    blacklist row make get_or_create safe under concurrency."""
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={
            "user": user,
            "token": str(token),
            "created_at": datetime_from_epoch(token["iat"]) if "iat" in token else None,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    BlacklistedToken.objects.get_or_create(token=outstanding)
    login_revoke(login_id=login_id_of(token), user=user)


@transaction.atomic
def login_revoke(*, login_id: str, user=None) -> None:
    """Refuse everything the login `login_id` issued (its tokens, rotated
    ones included, and its stream tokens) from now on, everywhere. Its
    blacklist entry is kept until all of them have expired (login_horizon),
    also when the id is a token's own jti that would expire sooner."""
    if not login_id:
        return
    horizon = login_horizon()
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=login_id, defaults={"user": user, "token": "", "created_at": timezone.now(), "expires_at": horizon}
    )
    if outstanding.expires_at < horizon:
        OutstandingToken.objects.filter(pk=outstanding.pk).update(expires_at=horizon)
    BlacklistedToken.objects.get_or_create(token=outstanding)


def new_login_id() -> str:
    return uuid.uuid4().hex


SESSION_LOGIN_KEY = "_login_id"


def session_login_id(session) -> str:
    """The login id of a Django session: given at sign-in (session_login_begun),
    or now to a session signed in before logins had ids."""
    login_id = session.get(SESSION_LOGIN_KEY)
    if not login_id:
        login_id = session[SESSION_LOGIN_KEY] = new_login_id()
    return login_id


def request_login_id(request) -> str:
    """The login a DRF request is made under: its Bearer token's, else its
    session's; "" for anything else (a device key)."""
    if isinstance(request.auth, Token):
        return login_id_of(request.auth)
    session = getattr(request._request, "session", None)
    if session is not None and request.user.is_authenticated and session.get("_auth_user_id"):
        return session_login_id(session)
    return ""


def session_login_begun(sender, request, user, **kwargs) -> None:
    """user_logged_in: a session sign-in is a new login."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_LOGIN_KEY] = new_login_id()


def session_login_ended(sender, request, user, **kwargs) -> None:
    """user_logged_out (any logout: the API's, the admin's, the pages'):
    what the session's login issued (stream tokens) ends with it."""
    session = getattr(request, "session", None)
    login_id = session.get(SESSION_LOGIN_KEY) if session is not None else None
    if login_id:
        login_revoke(login_id=login_id, user=user if getattr(user, "pk", None) else None)
