"""Short-lived tokens that open event streams and nothing else, for browsers
whose EventSource cannot send an Authorization header. Signed, not stored.
Each names the login it was minted under (users/tokens.py): a logout of
that login refuses it and closes the streams opened with it, as its expiry
does (events/access/revocation.py)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing

_SALT = "events.stream-token"


def stream_token_for(user, login_id: str = "") -> str:
    expires_at = int(time.time()) + settings.EVENTS_STREAM_TOKEN_SECONDS
    claims = {"uid": user.pk, "exp": expires_at}
    if login_id:
        claims["sid"] = login_id
    return signing.dumps(claims, salt=_SALT, compress=False)


def stream_token_claims(token: str) -> tuple[str, float, str] | None:
    """(user id, expiry as Unix time, login id or "") of a validly signed,
    unexpired token, else None."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.EVENTS_STREAM_TOKEN_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("uid") is None:
        return None
    exp = data.get("exp")
    if not isinstance(exp, int) or exp <= time.time():
        return None
    login_id = data.get("sid")
    return str(data["uid"]), float(exp), login_id if isinstance(login_id, str) else ""
