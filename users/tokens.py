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
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password


def login_access_token(user) -> AccessToken:
    """The shift-long access token of POST /auth/login (LOGIN_TOKEN_HOURS)."""
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(hours=settings.LOGIN_TOKEN_HOURS))
    return token


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
    """Refuse this token from now on, everywhere. Idempotent: revoking twice
    (two logouts racing) leaves one blacklist entry; the unique `jti` and
    the one-to-one blacklist row make get_or_create safe under concurrency."""
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
