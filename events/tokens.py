"""Short-lived tokens that open event streams and nothing else, for browsers
whose EventSource cannot send an Authorization header. Signed, not stored:
checking one costs no query. A stream opened with one closes when it expires
(events/revocation.py)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing

_SALT = "events.stream-token"


def stream_token_for(user) -> str:
    expires_at = int(time.time()) + settings.EVENTS_STREAM_TOKEN_SECONDS
    return signing.dumps({"uid": user.pk, "exp": expires_at}, salt=_SALT, compress=False)


def stream_token_claims(token: str) -> tuple[str, float] | None:
    """(user id, expiry as Unix time) of a valid token, else None."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.EVENTS_STREAM_TOKEN_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("uid") is None:
        return None
    exp = data.get("exp")
    if not isinstance(exp, int) or exp <= time.time():
        return None
    return str(data["uid"]), float(exp)


def user_id_from_stream_token(token: str) -> str | None:
    claims = stream_token_claims(token)
    return claims[0] if claims is not None else None
