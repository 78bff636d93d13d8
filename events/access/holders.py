"""Who a GRIP hold is for, and when it asks again (the part of GRIP that the
access checks, revocation and presence read; events/transport/grip.py answers the
requests with it).

A hold subscribes to its holder channel, which names its listener: the
identity, signed, without its credential (only a digest). Pushpin names that
channel in the Grip-Last of every recovery request, where the worker reads
the listener back; events/access/revocation.py publishes a `close` on it. An idle
hold asks for its next link after `recover_seconds`.

May import: events.access.identity, Django. Imported by events.transport.grip,
events.access.authentication, events.access.revocation, events.presence.presence.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.core import signing

from events.access.identity import Identity

NEXT_PARAM = "recover"
# A worker forgets a hold it has not answered for in this long (its
# revocation watch, events/access/revocation.py): a busy stream goes long without a
# recovery, but not a day.
HOLD_MEMORY_SECONDS = 24 * 3600
HOLDER_PREFIX = "holder."
# The holder position every hold declares, and the id and prev-id of the
# close published on a holder channel (events/access/revocation.py): equal, so a
# close follows every hold and every earlier close.
HOLDER_POSITION = "0"
_HOLDER_SALT = "events.grip-holder"


def holder_channel(holder: Identity) -> str:
    """The Pushpin channel named after the stream's listener: every hold of
    this identity subscribes to it (events/access/revocation.py publishes a `close`
    on it), with a prev-id, so that Pushpin names it in the Grip-Last of
    every recovery request, where the worker reads the listener back.

    The name is the identity, signed, without its credential (the name
    shows in Pushpin's logs), only the credential's digest: the same name
    for the identity read back from it, and for every stream of it. It
    never reaches the client (Pushpin consumes Grip-* headers)."""
    data = [
        holder.kind,
        holder.user_id,
        holder.key_id,
        holder.expires_at,
        holder.auth_hash,
        holder.credential_digest(),
        holder.token_id,
        holder.login_id,
    ]
    return HOLDER_PREFIX + signing.Signer(salt=_HOLDER_SALT).sign_object(data, compress=False)


def identity_from_holder_channel(name: str) -> Identity | None:
    """The identity a valid holder channel names, else None."""
    if not name.startswith(HOLDER_PREFIX):
        return None
    try:
        data = signing.Signer(salt=_HOLDER_SALT).unsign_object(name[len(HOLDER_PREFIX) :])
        # Seven fields: a name given before identities had a login id.
        kind, user_id, key_id, expires_at, auth_hash, digest, token_id, login_id = [*data, ""][:8]
        return Identity(
            str(kind),
            user_id=user_id,
            key_id=key_id,
            expires_at=expires_at,
            auth_hash=str(auth_hash),
            known_digest=str(digest),
            token_id=str(token_id or ""),
            login_id=str(login_id or ""),
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None


def recovering_holder(headers: dict[str, str]) -> str | None:
    """The holder channel a recovery request names in its Grip-Last."""
    for name in parse_grip_last(headers.get("grip-last", "")):
        if name.startswith(HOLDER_PREFIX):
            return name
    return None


def parse_grip_last(value: str) -> dict[str, str]:
    """`events-printer; last-id=41, events-cashier; last-id=7` → {channel: last id}."""
    found: dict[str, str] = {}
    for part in value.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        for param in params:
            key, _, raw = param.partition("=")
            if name and key.strip().lower() == "last-id":
                found[name] = raw.strip().strip('"')
    return found


def recover_seconds() -> int:
    """The idle time after which this hold asks for its next link:
    GRIP_RECOVER_SECONDS plus up to half as much again, drawn per answer.

    Pushpin keeps one timer per (timeout, path), and every idle stream of
    that pair asks at once when it fires; the requests of such a round that
    come faster than its proxy takes them are refused, and a stream whose
    recovery fails five times is closed. Spread over up to
    GRIP_RECOVER_SECONDS / 2 + 1 timers, a round is that much smaller."""
    base = settings.GRIP_RECOVER_SECONDS
    return base + random.randint(0, base // 2)


def longest_recover_seconds() -> int:
    """The most `recover_seconds` gives."""
    return settings.GRIP_RECOVER_SECONDS + settings.GRIP_RECOVER_SECONDS // 2
