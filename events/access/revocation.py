"""Closing the open streams of a right that ended.

API.md, "Roles and authentication": deactivating a user, a role change that
removes access, a password change, a logout, a revoked API key, or the end
of the credential a stream was opened with (a token's or a session's expiry)
closes the affected streams within 5 seconds.

Each process re-checks the distinct identities (events/access/identity.py) of all
the streams it serves, and of its credential cache (events/access/credentials.py),
every EVENTS_REVALIDATE_SECONDS (0.5 s), in one worker thread: one query for
all their users, one for all their sessions, one for all their API keys, one
for the Bearer tokens and logins on the blacklist (a logout), whatever their
number. A stream whose identity fails is closed before it writes anything
more, and the cache forgets it.

Invariant: a stream is never served longer than one re-check interval plus
one re-check's duration after its identity stopped being valid. A re-check
that fails (the database is down) closes nothing and is retried: streams are
not cut because of an outage, and are checked again once it ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from events.access import identity
from events.access.identity import Identity
from events.core import log

logger = logging.getLogger(__name__)

# A logout's blacklist row carries the time of the process that wrote it,
# and commits a moment later: reading from this long before the previous
# re-check covers both (processes of one site share a clock to well within it).
BLACKLIST_MARGIN = timedelta(seconds=5)


@log.closes_connection
def invalid_identities(
    identities: Iterable[Identity], now: float, seen: set[Identity] = frozenset(), since: datetime | None = None
) -> set[Identity]:
    """The identities among `identities` whose right has ended. `seen` are
    those a re-check that read the database from `since` on found valid:
    for them only Bearer tokens put on the blacklist since then are read,
    not the whole blacklist."""
    from django.contrib.auth import get_user_model

    from events.access.roles import STREAM_ROLES
    from users.tokens import revoked_jtis, revoked_jtis_since

    identities = set(identities)
    invalid = {found for found in identities if found.expires_at is not None and found.expires_at <= now}
    pending = identities - invalid

    user_ids = {found.user_id for found in pending if found.user_id is not None}
    users = get_user_model().objects.filter(pk__in=user_ids) if user_ids else ()
    # Per user: None when they may no longer listen, else their auth hash.
    rights = {user.pk: user.get_session_auth_hash() if user.has_role(*STREAM_ROLES) else None for user in users}
    for found in pending:
        if found.user_id is None:
            continue
        auth_hash = rights.get(found.user_id)
        if auth_hash is None or (found.auth_hash and auth_hash != found.auth_hash):
            invalid.add(found)

    # An identity read back from a GRIP holder channel (a recovery that
    # reached a process that did not answer the hold) has no credential,
    # only its digest: its user, key and expiry are still checked.
    sessions = {found.credential for found in pending if found.kind == identity.SESSION and found.credential}
    if sessions:
        alive = _live_sessions(sessions)
        invalid |= {
            found for found in pending if found.kind == identity.SESSION and found.credential in sessions - alive
        }

    key_ids = {found.key_id for found in pending if found.key_id is not None}
    if key_ids:
        alive = live_keys(key_ids)
        invalid |= {found for found in pending if found.key_id is not None and found.key_id not in alive}

    # A Bearer token passes REST's checks (users/tokens.py) while it is
    # unexpired, its user active with the same password, and neither its jti
    # nor its login on the blacklist: the first three are checked above, the
    # last here, one query for all tokens; a stream token's login the same
    # way (a logout). Every Bearer identity carries its jti (the
    # authenticator requires one, and a holder channel keeps it).
    revocable = [found for found in pending - invalid if found.token_id or found.login_id]
    known = since is not None and seen
    revoked = revoked_jtis(
        {
            blacklisted
            for found in revocable
            if not (known and found in seen)
            for blacklisted in (found.token_id, found.login_id)
            if blacklisted
        }
    )
    if known:
        revoked |= revoked_jtis_since(since - BLACKLIST_MARGIN)
    invalid |= {found for found in revocable if found.token_id in revoked or found.login_id in revoked}
    return invalid


def _live_sessions(keys: set[str]) -> set[str]:
    from importlib import import_module

    from django.utils import timezone

    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        return set(
            Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
                "session_key", flat=True
            )
        )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return {key for key in keys if store().exists(key)}


def live_keys(key_ids: set[str]) -> set[str]:
    """Device keys that are not revoked (one query)."""
    from users.apikeys import live_key_ids

    return {str(pk) for pk in live_key_ids(key_ids)}


def close_pushpin_streams(channels: list[str]) -> None:
    """Tell Pushpin to close every stream it holds on these holder channels.
    Each close names the holder position of every hold (events/transport/grip.py) as
    its id and prev-id, so it follows them, and any close before it."""
    from django_grip import publish
    from gripcontrol import HttpStreamFormat

    from events.access.holders import HOLDER_POSITION

    for channel in channels:
        publish(channel, HttpStreamFormat(close=True), id=HOLDER_POSITION, prev_id=HOLDER_POSITION, blocking=True)


async def watch(hub) -> None:
    """Run for the process's hub: re-check the identities of its streams, of
    the Pushpin holds it answered and of its credential cache
    (events/access/credentials.py), and close the streams of those that failed,
    including streams opened while the re-check ran."""
    from events.access.holders import HOLD_MEMORY_SECONDS, holder_channel
    from events.core.threads import in_thread

    interval = settings.EVENTS_REVALIDATE_SECONDS
    # What the last successful re-check found valid, and when it started.
    seen: set[Identity] = set()
    seen_since: datetime | None = None
    while True:
        await asyncio.sleep(interval)
        # A hold not renewed for a day has ended (an idle one recovers after
        # at most one and a half GRIP_RECOVER_SECONDS).
        cutoff = hub.loop.time() - HOLD_MEMORY_SECONDS
        for found in [found for found, last in hub.pushpin_holds.items() if last < cutoff]:
            del hub.pushpin_holds[found]
        checked = _streams_identities(hub) | hub.pushpin_holds.keys() | hub.credentials.identities()
        if not checked:
            continue
        started, started_at = time.monotonic(), timezone.now()
        try:
            invalid = await in_thread(invalid_identities, checked, time.time(), seen, seen_since)
        except Exception as exc:
            logger.warning("could not re-check the open streams' rights: %s", exc)
            continue
        seen, seen_since = checked - invalid, started_at
        hub.credentials.confirm(checked, invalid, started)
        if not invalid:
            continue
        for subscribers in list(hub.by_holder.values()):
            for subscriber in list(subscribers):
                if subscriber.identity in invalid:
                    subscriber.close()
        closing = [holder_channel(found) for found in invalid if hub.pushpin_holds.pop(found, None) is not None]
        if closing:
            try:
                await in_thread(close_pushpin_streams, closing)
            except Exception as exc:
                logger.warning("could not tell Pushpin to close %d stream group(s): %s", len(closing), exc)
        logger.info("closed the streams of %d ended right(s)", len(invalid))


def _streams_identities(hub) -> set[Identity]:
    return {subscriber.identity for subscribers in hub.by_holder.values() for subscriber in subscribers}
