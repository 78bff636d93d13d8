"""The credential cache of stream openings (events/access/credentials.py): what it
serves, for how long, and what a re-check does to it. The re-check itself,
against a real Daphne, is in test_revocation.py."""

import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from events.access.authentication import credential_key
from events.access.credentials import CredentialCache
from events.access.identity import API_KEY, BEARER, Identity
from users.apikeys import LAST_USED_RESOLUTION


@dataclass(frozen=True)
class Holder:
    identity: Identity
    subject: object = None


@dataclass
class Key:
    last_used_at: object


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def cache(clock, **overrides) -> CredentialCache:
    options = {"max_entries": 100, "idle_seconds": 300.0, "max_age": 2.0, "clock": clock} | overrides
    return CredentialCache(**options)


def bearer_holder(user_id="u1", **fields) -> Holder:
    return Holder(Identity(BEARER, user_id=user_id, credential=f"Bearer {user_id}", **fields))


def test_a_credential_checked_once_is_served_from_the_cache():
    remembered = cache(Clock())
    holder = bearer_holder()
    remembered.put(("bearer", "k"), holder)
    assert remembered.get(("bearer", "k")) is holder
    assert remembered.get(("bearer", "other")) is None
    assert (remembered.hits, remembered.misses) == (1, 1)


def test_a_request_without_a_credential_is_never_served_from_the_cache():
    remembered = cache(Clock())
    remembered.put(None, bearer_holder())
    assert len(remembered) == 0
    assert remembered.get(None) is None


def test_an_entry_no_recheck_has_confirmed_lately_is_not_served():
    clock = Clock()
    remembered = cache(clock)
    remembered.put(("bearer", "k"), bearer_holder())
    clock.now += 2.5  # the re-check is failing: the database is down
    assert remembered.get(("bearer", "k")) is None


def test_a_recheck_keeps_an_entry_fresh_from_the_moment_it_started():
    clock = Clock()
    remembered = cache(clock)
    holder = bearer_holder()
    remembered.put(("bearer", "k"), holder)
    clock.now += 1.5
    started = clock.now
    remembered.confirm({holder.identity}, set(), started)
    clock.now += 1.9
    assert remembered.get(("bearer", "k")) is holder
    clock.now += 0.2
    assert remembered.get(("bearer", "k")) is None


def test_a_recheck_that_finds_an_identity_invalid_forgets_it():
    remembered = cache(Clock())
    gone, kept = bearer_holder("u1"), bearer_holder("u2")
    remembered.put(("bearer", "a"), gone)
    remembered.put(("bearer", "b"), kept)
    assert remembered.identities() == {gone.identity, kept.identity}
    remembered.confirm({gone.identity, kept.identity}, {gone.identity}, time.monotonic())
    assert remembered.get(("bearer", "a")) is None
    assert remembered.get(("bearer", "b")) is kept


def test_an_entry_put_while_a_recheck_ran_keeps_its_own_time():
    clock = Clock()
    remembered = cache(clock)
    holder = bearer_holder()
    started = clock.now
    clock.now += 1.0
    remembered.put(("bearer", "k"), holder)  # checked in full after the re-check started
    remembered.confirm({holder.identity}, set(), started)
    clock.now += 1.9
    assert remembered.get(("bearer", "k")) is holder


def test_an_expired_credential_is_not_served_even_when_confirmed():
    remembered = cache(Clock())
    remembered.put(("bearer", "k"), bearer_holder(expires_at=time.time() - 1))
    assert remembered.get(("bearer", "k")) is None


def test_entries_unused_for_the_idle_time_are_dropped_before_a_recheck():
    clock = Clock()
    remembered = cache(clock, idle_seconds=60.0)
    old, recent = bearer_holder("u1"), bearer_holder("u2")
    remembered.put(("bearer", "old"), old)
    clock.now += 50
    remembered.put(("bearer", "recent"), recent)
    clock.now += 20
    assert remembered.identities() == {recent.identity}
    assert len(remembered) == 1


def test_the_least_recently_used_entry_goes_first_when_the_cache_is_full():
    remembered = cache(Clock(), max_entries=2)
    first, second, third = bearer_holder("u1"), bearer_holder("u2"), bearer_holder("u3")
    remembered.put(("bearer", "1"), first)
    remembered.put(("bearer", "2"), second)
    assert remembered.get(("bearer", "1")) is first  # now the most recent
    remembered.put(("bearer", "3"), third)
    assert remembered.get(("bearer", "2")) is None
    assert remembered.get(("bearer", "1")) is first
    assert remembered.get(("bearer", "3")) is third


def test_a_cache_of_size_zero_remembers_nothing():
    remembered = cache(Clock(), max_entries=0)
    remembered.put(("bearer", "k"), bearer_holder())
    assert remembered.get(("bearer", "k")) is None


@pytest.mark.parametrize(
    ("last_used", "served"),
    [(timedelta(seconds=5), True), (LAST_USED_RESOLUTION + timedelta(seconds=5), False), (None, False)],
)
def test_a_device_key_is_checked_in_full_again_once_its_last_use_is_stale(last_used, served):
    remembered = cache(Clock())
    key = Key(timezone.now() - last_used if last_used is not None else None)
    holder = Holder(Identity(API_KEY, key_id="k1"), subject=key)
    remembered.put(("api-key", "k"), holder)
    assert (remembered.get(("api-key", "k")) is holder) is served


def test_each_credential_has_its_own_key_and_a_session_has_none():
    keys = {
        credential_key({"authorization": "Bearer a"}, {}),
        credential_key({"authorization": "Bearer b"}, {}),
        credential_key({"x-api-key": "Bearer a"}, {}),
        credential_key({}, {"token": ["Bearer a"]}),
        credential_key({"grip-last": "events-cashier; last-id=3, holder.a; last-id=0"}, {"recover": ["1"]}, True),
        credential_key({"grip-last": "holder.b; last-id=0, events-cashier; last-id=3"}, {"recover": ["1"]}, True),
    }
    assert None not in keys and len(keys) == 6
    assert credential_key({"cookie": "sessionid=x"}, {}) is None
    # Not signed by Pushpin: a recovery request's Grip-Last is no credential.
    assert credential_key({"grip-last": "holder.a; last-id=0"}, {"recover": ["1"]}) is None


def test_the_cache_keeps_digests_not_credentials():
    kind, digest = credential_key({"authorization": "Bearer secret-token"}, {})
    assert kind == "bearer" and "secret" not in digest and len(digest) == 64
