"""The re-check of events/access/revocation.py as a batch against the real
database: what it reads for thousands of streams, and that reading only
the newest blacklist entries misses no logout."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from conftest import make_user
from events.access.identity import BEARER, Identity
from events.access.revocation import invalid_identities as recheck_in_a_thread
from users.models import Role
from users.tokens import token_revoke

pytestmark = pytest.mark.django_db

# The function as the re-check's worker thread runs it, on this test's connection.
invalid_identities = recheck_in_a_thread.__wrapped__


def bearer_identity(user, token) -> Identity:
    return Identity(
        BEARER,
        user_id=user.pk,
        credential=f"Bearer {token}",
        expires_at=float(token["exp"]),
        auth_hash=user.get_session_auth_hash(),
        token_id=str(token["jti"]),
    )


def test_a_logout_after_the_last_recheck_is_found_by_reading_only_the_newest_entries(operator):
    token = AccessToken.for_user(operator)
    found = bearer_identity(operator, token)
    since = timezone.now()
    token_revoke(token=token, user=operator)
    assert invalid_identities({found}, time.time(), {found}, since) == {found}


def test_a_token_first_seen_by_a_recheck_is_looked_up_on_the_whole_blacklist(operator):
    token = AccessToken.for_user(operator)
    token_revoke(token=token, user=operator)
    found = bearer_identity(operator, token)
    # Revoked long before the window the incremental read covers.
    later = timezone.now() + timedelta(minutes=10)
    assert invalid_identities({found}, time.time(), set(), later) == {found}


def test_valid_tokens_stay_valid_either_way(operator):
    token = AccessToken.for_user(operator)
    found = bearer_identity(operator, token)
    assert invalid_identities({found}, time.time()) == set()
    assert invalid_identities({found}, time.time(), {found}, timezone.now()) == set()


def test_a_thousand_streams_of_many_users_cost_a_handful_of_queries(operator):
    users = [make_user(f"cashier{n}", Role.OPERATOR) for n in range(20)]
    identities = set()
    for n in range(1000):
        user = users[n % len(users)]
        identities.add(bearer_identity(user, AccessToken.for_user(user)))
    with CaptureQueriesContext(connection) as first:
        assert invalid_identities(identities, time.time()) == set()
    with CaptureQueriesContext(connection) as later:
        assert invalid_identities(identities, time.time(), identities, timezone.now()) == set()
    assert len(first) <= 3 and len(later) <= 3, (len(first), len(later))
    # The later pass does not send a thousand token ids to the database.
    assert all(len(query["sql"]) < 2000 for query in later.captured_queries)
