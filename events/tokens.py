"""Short-lived tokens that open event streams and nothing else, for browsers
whose EventSource cannot send an Authorization header. Signed, not stored:
checking one costs no query."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

_SALT = "events.stream-token"


def stream_token_for(user) -> str:
    return signing.dumps({"uid": user.pk}, salt=_SALT, compress=False)


def user_id_from_stream_token(token: str) -> str | None:
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.EVENTS_STREAM_TOKEN_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    return data.get("uid") if isinstance(data, dict) else None
