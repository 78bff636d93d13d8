"""API keys: issuing, checking, revoking, the last-use bookkeeping, the
createapikey command and the admin pages."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from users.apikeys import (
    LAST_USED_RESOLUTION,
    ApiKeyError,
    authenticate_key,
    create_key,
    device_for,
    live_device_ids,
    revoke_key,
)
from users.models import ApiKey, ApiKeyKind, Role
from users.services import user_create

pytestmark = pytest.mark.django_db


def test_a_new_key_is_returned_once_and_only_its_hash_is_stored():
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)

    prefix, _, secret = raw.partition(".")
    assert key.prefix == prefix and len(secret) == 43
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored.__dict__)
    assert authenticate_key(raw) == key


def test_two_keys_never_share_a_prefix_or_a_secret():
    raws = [create_key(name=f"Screen {n}", kind=ApiKeyKind.DISPLAY)[1] for n in range(5)]
    assert len({raw.partition(".")[0] for raw in raws}) == 5
    assert len(set(raws)) == 5


def test_a_wrong_secret_with_a_real_prefix_is_refused():
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    wrong = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert authenticate_key(wrong) is None


def test_a_key_from_another_row_does_not_open_this_one():
    _, first = create_key(name="One", kind=ApiKeyKind.PRINTER_AGENT)
    second, other = create_key(name="Two", kind=ApiKeyKind.PRINTER_AGENT)
    spliced = f"{second.prefix}.{first.partition('.')[2]}"
    assert authenticate_key(spliced) is None
    assert authenticate_key(other) == second


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "no-dot-at-all",
        "0123456789ab.",
        "0123456789ab.short",
        "0123456789AB." + "a" * 43,  # the prefix is lower-case hex
        "0123456789ab." + "a" * 44,
        "0123456789ab." + "²" * 43,  # non-ASCII digits are not URL-safe base64
        "0123456789ab." + "a" * 42 + "=",
        None,
    ],
)
def test_a_malformed_key_is_refused_without_error(raw):
    create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    assert authenticate_key(raw) is None


def test_a_revoked_key_is_refused_and_revoking_again_keeps_the_first_time():
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    revoke_key(key=key)
    first = key.revoked_at
    assert first is not None
    assert authenticate_key(raw) is None
    revoke_key(key=key)
    assert ApiKey.objects.get(pk=key.pk).revoked_at == first


def test_live_device_ids_keeps_only_devices_whose_key_exists_and_is_not_revoked():
    alive, alive_raw = create_key(name="Alive", kind=ApiKeyKind.DISPLAY)
    revoked, revoked_raw = create_key(name="Revoked", kind=ApiKeyKind.DISPLAY)
    alive_id, revoked_id = device_for(alive_raw).pk, device_for(revoked_raw).pk
    revoke_key(key=revoked)
    assert alive_id == f"apikey:{alive.pk}"
    # A user's id, a bare key id and an unknown device are not live devices.
    asked = [alive_id, revoked_id, "apikey:no-such-key", alive.pk, "some-user-id"]
    assert live_device_ids(asked) == {alive_id}
    assert live_device_ids([]) == set()


@pytest.mark.parametrize(("name", "kind"), [("Screen", "cashier"), ("   ", ApiKeyKind.DISPLAY)])
def test_a_key_needs_a_known_kind_and_a_name(name, kind):
    with pytest.raises(ApiKeyError):
        create_key(name=name, kind=kind)
    assert not ApiKey.objects.exists()


def test_last_use_is_written_on_first_use_then_at_most_once_a_minute(django_assert_num_queries):
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)

    authenticate_key(raw, address="10.0.0.7")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None and key.last_used_from == "10.0.0.7"

    # Within the minute: one read, no write, even from another address.
    with django_assert_num_queries(1):
        assert authenticate_key(raw, address="10.0.0.8") == key
    key.refresh_from_db()
    assert (key.last_used_at, key.last_used_from) == (first, "10.0.0.7")

    # A minute later the next use is written again.
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - LAST_USED_RESOLUTION - timedelta(seconds=1))
    authenticate_key(raw, address="10.0.0.8")
    key.refresh_from_db()
    assert key.last_used_at > first and key.last_used_from == "10.0.0.8"


def test_a_refused_key_writes_no_last_use():
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    revoke_key(key=key)
    authenticate_key(raw, address="10.0.0.7")
    key.refresh_from_db()
    assert key.last_used_at is None


# --- manage.py createapikey --------------------------------------------------------------


def test_createapikey_prints_a_working_key_once():
    out, err = StringIO(), StringIO()
    call_command("createapikey", "Kitchen agent", "--kind", "printer-agent", stdout=out, stderr=err)

    raw = out.getvalue().strip()
    key = authenticate_key(raw)
    assert key is not None and (key.name, key.kind) == ("Kitchen agent", "printer-agent")
    assert raw not in err.getvalue() and key.prefix in err.getvalue()


def test_createapikey_refuses_an_unknown_kind_with_a_clear_message():
    with pytest.raises(CommandError, match="Unknown kind 'cashier'"):
        call_command("createapikey", "Screen", "--kind", "cashier", stdout=StringIO(), stderr=StringIO())
    assert not ApiKey.objects.exists()


# --- the admin ---------------------------------------------------------------------------


@pytest.fixture
def admin_browser() -> Client:
    user_create(username="manager", role=Role.ADMIN, password=PASSWORD)
    client = Client()
    assert client.login(username="manager", password=PASSWORD)
    return client


def test_adding_a_key_in_the_admin_shows_its_secret_once(admin_browser):
    response = admin_browser.post(
        "/admin/users/apikey/add/", {"name": "Board by the door", "kind": "display"}, follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    # A screen's key comes as the address to open on the screen.
    address = r'<code class="screen-address">http://testserver/display/\?key=([0-9a-f]{12}\.[A-Za-z0-9_-]{43})</code>'
    raw = re.search(address, page).group(1)
    key = authenticate_key(raw)
    assert key is not None and (key.name, key.kind) == ("Board by the door", "display")

    again = admin_browser.get(f"/admin/users/apikey/{key.pk}/change/").content.decode()
    listing = admin_browser.get("/admin/users/apikey/").content.decode()
    for later in (again, listing):
        assert raw.partition(".")[2] not in later
        assert key.prefix in later


def test_a_printer_agents_key_is_shown_as_the_key_and_a_kitchen_screens_as_its_address(admin_browser):
    agent = admin_browser.post("/admin/users/apikey/add/", {"name": "Agent", "kind": "printer-agent"}, follow=True)
    kitchen = admin_browser.post("/admin/users/apikey/add/", {"name": "Grill", "kind": "kitchen"}, follow=True)

    assert re.search(r"<code>[0-9a-f]{12}\.[A-Za-z0-9_-]{43}</code>", agent.content.decode())
    raw = re.search(r"http://testserver/kitchen/\?key=([^<]+)</code>", kitchen.content.decode()).group(1)
    assert authenticate_key(raw).kind == ApiKeyKind.KITCHEN


def test_the_admin_list_shows_prefix_kind_created_last_use_and_address(admin_browser):
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    authenticate_key(raw, address="192.0.2.44")

    listing = admin_browser.get("/admin/users/apikey/").content.decode()

    for column in ("column-prefix", "column-kind", "column-created_at", "column-last_used_at", "column-last_used_from"):
        assert column in listing
    assert key.prefix in listing and "192.0.2.44" in listing and "Printer agent" in listing


def test_the_admin_revoke_action_refuses_the_key_from_then_on(admin_browser):
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    other, other_raw = create_key(name="Bar agent", kind=ApiKeyKind.PRINTER_AGENT)

    response = admin_browser.post(
        "/admin/users/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )

    assert response.status_code == 200
    assert authenticate_key(raw) is None
    assert authenticate_key(other_raw) == other


def test_editing_a_key_in_the_admin_renames_it_and_changes_nothing_else(admin_browser):
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    response = admin_browser.post(f"/admin/users/apikey/{key.pk}/change/", {"name": "Grill agent", "kind": "display"})
    assert response.status_code == 302
    stored = ApiKey.objects.get(pk=key.pk)
    assert (stored.name, stored.kind, stored.secret_hash) == ("Grill agent", "printer-agent", key.secret_hash)
    assert authenticate_key(raw) == stored
    assert timezone.now() - stored.created_at < timedelta(hours=1)
