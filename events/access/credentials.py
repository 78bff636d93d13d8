"""The credential check of a stream opening, remembered per process, so that
a reconnect storm costs no query per opening.

After a network blip every screen, printer agent and cashier reconnects at
once with the credential it had a second ago. Checking each one again (the
user row, the token blacklist, the key row) is a query and a thread hop per
opening; this cache answers from the Principal the last full check built.

Invariants:

- An entry is served only while the re-check of events/access/revocation.py keeps
  confirming it: every EVENTS_REVALIDATE_SECONDS that batch re-checks the
  identities of the cache along with those of the open streams, drops every
  entry it finds invalid and closes the streams opened with it, including
  those opened from the cache while the batch ran. An entry no batch
  confirmed for `max_age` (the re-check is failing: the database is down)
  is not served; the opening runs the full check.
- So a stream opened after a right ended lives at most one re-check interval
  plus one re-check's duration: the guarantee of events/access/revocation.py, which
  holds for streams opened before the right ended as well.
- An entry is never served past its credential's own expiry (a token's
  `exp`, a stream token's, a GRIP holder channel's), checked at every hit.
- A device key's entry is not served once its `last_used_at` is older than
  users.apikeys.LAST_USED_RESOLUTION: the full check then records the use,
  so the admin's "last used" stays as exact as without the cache.
- Entries unused for EVENTS_CREDENTIAL_CACHE_SECONDS are dropped, and at most
  EVENTS_CREDENTIAL_CACHE_SIZE are kept (least recently used first out).
- Keys are SHA-256 digests of the credential: the cache keeps no secret.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from events.access.identity import Identity


@dataclass
class _Entry:
    principal: object  # events.access.authentication.Principal
    confirmed: float  # time.monotonic() of the last check that found it valid
    used: float


def cache_key(kind: str, *parts: str) -> tuple[str, str]:
    return kind, hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class CredentialCache:
    def __init__(self, *, max_entries: int, idle_seconds: float, max_age: float, clock=time.monotonic):
        self.max_entries = max_entries
        self.idle_seconds = idle_seconds
        self.max_age = max_age
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_settings(cls) -> CredentialCache:
        interval = settings.EVENTS_REVALIDATE_SECONDS
        return cls(
            max_entries=settings.EVENTS_CREDENTIAL_CACHE_SIZE,
            idle_seconds=settings.EVENTS_CREDENTIAL_CACHE_SECONDS,
            # Revocation does not wait for this (a re-check drops what it
            # finds invalid at once): it only stops serving from memory while
            # the re-checks fail. Generous, so that a re-check delayed by a
            # storm does not empty the cache in the middle of it.
            max_age=max(10.0, 4 * interval),
        )

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, str] | None):
        """The Principal remembered for this credential, or None."""
        if key is None or self.max_entries <= 0:
            return None
        entry = self._entries.get(key)
        now = self.clock()
        if entry is None or now - entry.confirmed > self.max_age or not _still_good(entry.principal):
            self.misses += 1
            return None
        entry.used = now
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.principal

    def put(self, key: tuple[str, str] | None, principal) -> None:
        """Remember a Principal that a full check has just built."""
        if key is None or self.max_entries <= 0:
            return
        now = self.clock()
        self._entries[key] = _Entry(principal, now, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def identities(self) -> set[Identity]:
        """What the next re-check must cover; idle entries are dropped first."""
        cutoff = self.clock() - self.idle_seconds
        for key in [key for key, entry in self._entries.items() if entry.used < cutoff]:
            del self._entries[key]
        return {entry.principal.identity for entry in self._entries.values()}

    def confirm(self, checked: Iterable[Identity], invalid: set[Identity], started: float) -> None:
        """A re-check that read the database from `started` on found
        `invalid` among `checked`: drop those, and count the others as
        valid since `started` (an entry put after that keeps its own time)."""
        checked = set(checked)
        for key, entry in list(self._entries.items()):
            identity = entry.principal.identity
            if identity in invalid:
                del self._entries[key]
            elif identity in checked and entry.confirmed < started:
                entry.confirmed = started


def _still_good(principal) -> bool:
    identity: Identity = principal.identity
    if identity.expires_at is not None and identity.expires_at <= time.time():
        return False
    if identity.key_id is not None:
        from django.utils import timezone

        from users.apikeys import LAST_USED_RESOLUTION

        used = getattr(principal.subject, "last_used_at", None)
        return used is not None and used > timezone.now() - LAST_USED_RESOLUTION
    return True
