"""Closing the open streams of a right that ended.

API.md, "Roles and authentication": deactivating a user, a role change that
removes access, a password change, a logout, a revoked API key, or the end
of the credential a stream was opened with (a token's or a session's expiry)
closes the affected streams within 5 seconds.

Each process re-checks the distinct identities (events/identity.py) of all
the streams it serves every EVENTS_REVALIDATE_SECONDS (0.5 s), in one worker
thread: one query for all their users, one for all their sessions, one for
all their API keys, plus the configured Bearer authenticator once per
distinct token (so that whatever the REST API refuses, such as a logged-out
token, closes streams too; simplejwt itself needs no query for it). A stream
whose identity fails is closed before it writes anything more.

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

from django.conf import settings

from events import identity, log
from events.identity import Identity

logger = logging.getLogger(__name__)


@log.closes_connection
def invalid_identities(identities: Iterable[Identity], now: float) -> set[Identity]:
    """The identities among `identities` whose right has ended."""
    from django.contrib.auth import get_user_model

    from events.authentication import LISTENER_ROLES, user_from_bearer

    identities = set(identities)
    invalid = {found for found in identities if found.expires_at is not None and found.expires_at <= now}
    pending = identities - invalid

    user_ids = {found.user_id for found in pending if found.user_id is not None}
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    for found in pending:
        if found.user_id is None:
            continue
        user = users.get(found.user_id)
        if (
            user is None
            or not user.has_role(*LISTENER_ROLES)
            or (found.auth_hash and user.get_session_auth_hash() != found.auth_hash)
        ):
            invalid.add(found)

    # An identity renewed through a GRIP next link has no credential (only
    # its digest): its user, key and expiry are still checked.
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

    tokens = {found.credential for found in pending - invalid if found.kind == identity.BEARER and found.credential}
    refused = {token for token in tokens if user_from_bearer(token) is None}
    invalid |= {found for found in pending if found.kind == identity.BEARER and found.credential in refused}
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
    """Tell Pushpin to close every stream it holds on these holder channels."""
    from django_grip import publish
    from gripcontrol import HttpStreamFormat

    for channel in channels:
        publish(channel, HttpStreamFormat(close=True), blocking=True)


async def watch(hub) -> None:
    """Run for the process's hub: re-check the identities of its streams and
    of the Pushpin holds it answered, and close the streams of those that
    failed."""
    from events.grip import NEXT_TOKEN_SECONDS
    from events.hub import in_thread

    interval = settings.EVENTS_REVALIDATE_SECONDS
    while True:
        await asyncio.sleep(interval)
        held = [subscriber for subscribers in hub.by_holder.values() for subscriber in subscribers]
        # A hold not renewed for a day has ended (its next link expired).
        cutoff = hub.loop.time() - NEXT_TOKEN_SECONDS
        for found in [found for found, (_, seen) in hub.pushpin_holds.items() if seen < cutoff]:
            del hub.pushpin_holds[found]
        if not held and not hub.pushpin_holds:
            continue
        try:
            invalid = await in_thread(
                invalid_identities, {s.identity for s in held} | hub.pushpin_holds.keys(), time.time()
            )
        except Exception as exc:
            logger.warning("could not re-check the open streams' rights: %s", exc)
            continue
        for subscriber in held:
            if subscriber.identity in invalid:
                subscriber.close()
        closing = [hub.pushpin_holds.pop(found)[0] for found in invalid if found in hub.pushpin_holds]
        if closing:
            try:
                await in_thread(close_pushpin_streams, closing)
            except Exception as exc:
                logger.warning("could not tell Pushpin to close %d stream group(s): %s", len(closing), exc)
        if invalid:
            logger.info("closed the streams of %d ended right(s)", len(invalid))
