"""The live view of open streams (events/presence/presence.py, events/admin.py): one
snapshot row per process, read across processes, expired when a process
stops writing; and its admin pages.

The end-to-end tests run two real Daphne processes with a short
EVENTS_PRESENCE_SECONDS; every wait is bounded and nothing is asserted
about how long anything took."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import bearer, make_user
from events.access.identity import API_KEY, BEARER, Identity
from events.models import StreamSnapshot
from events.presence import presence
from events.tests.test_pushpin import behind_pushpin, pushpin  # noqa: F401  (fixtures)
from events.transport.hub import Subscriber
from testsupport import SSEStream
from users.apikeys import create_key
from users.models import ApiKeyKind, Role

INTERVAL = 0.5
# Bounds every wait; generous for two busy cores.
DEADLINE_SECONDS = 60


@pytest.fixture
def fast_presence(settings):
    settings.EVENTS_PRESENCE_SECONDS = INTERVAL


@pytest.fixture
def manager(db):
    return make_user("maria", Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _subscriber(channel: str, identity: Identity, address: str) -> Subscriber:
    return Subscriber(channel, 10, 0.0, identity, None, address)


# --- snapshots ------------------------------------------------------------------------


def test_a_snapshot_lists_each_open_stream_with_its_holder_address_and_channel(settings):
    user = _subscriber("cashier", Identity(BEARER, user_id="u1"), "10.0.0.5")
    device = _subscriber("printer", Identity(API_KEY, key_id="k1"), "10.0.0.9")
    gone = _subscriber("printer", Identity(API_KEY, key_id="k2"), "10.0.0.10")
    gone.close()
    streams = presence.snapshot({"cashier": {user}, "printer": {device, gone}, "display": set()}, {})
    assert [group[:5] for group in streams] == [
        ["cashier", "user", "u1", "10.0.0.5", False],
        ["printer", "key", "k1", "10.0.0.9", False],
    ]


def test_streams_of_one_listener_from_one_address_share_an_entry_that_keeps_each_opening_time(settings):
    agent = Identity(API_KEY, key_id="k1")
    first, second = _subscriber("printer", agent, "10.0.0.9"), _subscriber("printer", agent, "10.0.0.9")
    elsewhere = _subscriber("printer", agent, "10.0.0.7")
    first.opened_at, second.opened_at, elsewhere.opened_at = 1030.4, 1000.9, 1010.0
    groups = presence.snapshot({"printer": {first, second, elsewhere}}, {})
    assert groups == [
        ["printer", "key", "k1", "10.0.0.9", False, [1000, 1030]],
        ["printer", "key", "k1", "10.0.0.7", False, [1010]],
    ]
    streams = [stream for group in groups for stream in presence.expand(group)]
    assert [(s["address"], s["openedAt"].isoformat()) for s in streams] == [
        ("10.0.0.9", "1970-01-01T00:16:40+00:00"),
        ("10.0.0.9", "1970-01-01T00:17:10+00:00"),
        ("10.0.0.7", "1970-01-01T00:16:50+00:00"),
    ]


def test_a_hold_is_listed_while_recoveries_reconfirm_it_and_dropped_after_two_of_the_longest_recovery_periods(
    settings,
):
    settings.GRIP_RECOVER_SECONDS = 10  # a hold recovers after 10 to 15 s of silence
    held: dict = {}
    agent = Identity(API_KEY, key_id="k1")
    presence.note_hold(held, "printer", agent, "10.0.0.9", now=1000.0)
    presence.note_hold(held, "printer", agent, None, now=1015.0)  # a recovery, without the client's address
    [group] = presence.snapshot({}, held, now=1030.0)
    # Opened at the first hold, not at the recovery.
    assert group == ["printer", "key", "k1", "10.0.0.9", True, [1000]]
    assert presence.snapshot({}, held, now=1044.0) != []
    assert presence.snapshot({}, held, now=1046.0) == []
    assert held == {}


def test_each_process_keeps_one_row_that_every_write_replaces(db):
    presence.write("host:1", [["printer", "key", "k", None, False, [1000]]])
    presence.write("host:1", [])
    presence.write("host:2", [])
    assert sorted(StreamSnapshot.objects.values_list("process", "streams")) == [("host:1", []), ("host:2", [])]


def test_a_process_silent_for_three_intervals_is_ignored_then_trimmed(db, fast_presence):
    key, _ = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    presence.write("host:dead", [["printer", "key", key.pk, "10.0.0.9", False, [1000]]])
    presence.write("host:live", [["printer", "key", key.pk, "10.0.0.8", False, [1000]]])
    StreamSnapshot.objects.filter(process="host:dead").update(
        heartbeat=timezone.now() - timedelta(seconds=3 * INTERVAL + 1)
    )
    live = presence.live_streams()
    assert [(s.label, s.address, s.process) for s in live["printer"]] == [("Kitchen agent", "10.0.0.8", "host:live")]
    presence.write("host:live", [], trim=True)
    assert list(StreamSnapshot.objects.values_list("process", flat=True)) == ["host:live"]


def test_a_held_stream_reported_by_two_processes_is_listed_once(db, operator):
    held = ["cashier", "user", operator.pk, "10.0.0.5", True, [1000]]
    presence.write("host:1", [held])
    presence.write("host:2", [held])
    [stream] = presence.live_streams()["cashier"]
    assert (stream.label, stream.held) == ("olga", True)


def test_a_row_written_by_an_earlier_version_one_dict_per_stream_is_still_read(db, operator):
    """During a rolling upgrade a process of the previous version still
    writes its streams one dict each; the view lists them with the rest."""
    old = {"channel": "cashier", "kind": "user", "id": operator.pk, "address": "10.0.0.5", "held": False}
    presence.write("host:old", [dict(old, openedAt="2026-11-30T04:00:00+00:00"), dict(old, openedAt=None)])
    presence.write("host:new", [["cashier", "user", operator.pk, "10.0.0.6", False, [1000]]])
    streams = presence.live_streams()["cashier"]
    assert sorted((s.process, s.address, s.opened_at.isoformat() if s.opened_at else "") for s in streams) == [
        ("host:new", "10.0.0.6", "1970-01-01T00:16:40+00:00"),
        ("host:old", "10.0.0.5", ""),
        ("host:old", "10.0.0.5", "2026-11-30T04:00:00+00:00"),
    ]


# --- admin pages ------------------------------------------------------------------------


def test_the_live_page_is_linked_from_the_admin_index_for_admins(manager_client):
    index = manager_client.get("/admin/")
    assert index.status_code == 200
    assert "/admin/events/streamsnapshot/" in index.content.decode()
    page = manager_client.get("/admin/events/streamsnapshot/")
    assert page.status_code == 200
    assert "Nobody is listening on /events/printer right now." in page.content.decode()


def test_an_anonymous_visitor_is_sent_to_the_admin_login_instead_of_the_live_page(client, db):
    response = client.get("/admin/events/streamsnapshot/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_who_are_not_admins_cannot_open_the_live_page(client, db):
    cashier = make_user("carl", Role.OPERATOR, is_staff=True)
    client.force_login(cashier)
    assert client.get("/admin/events/streamsnapshot/").status_code == 403
    assert "/admin/events/streamsnapshot/" not in client.get("/admin/").content.decode()


def test_the_live_page_has_nothing_to_add_change_or_delete(manager_client):
    presence.write("host:1", [])
    assert manager_client.get("/admin/events/streamsnapshot/add/").status_code == 404
    assert manager_client.post("/admin/events/streamsnapshot/host:1/delete/", {"post": "yes"}).status_code == 404
    assert manager_client.get("/admin/events/streamsnapshot/host:1/change/").status_code == 404
    assert StreamSnapshot.objects.filter(process="host:1").exists()


# --- across real processes --------------------------------------------------------------


def _sections(html: str) -> dict[str, str]:
    """The live page's part for each channel."""
    parts = re.split(r'<h2 id="channel-(\w+)">', html)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _rows(section: str) -> list[tuple[str, str, str]]:
    """(label, address, process) of each stream listed in a section."""
    return re.findall(
        r'<td class="label">(.*?)</td>.*?<td class="address">(.*?)</td>.*?<td class="process">(.*?)</td>',
        section,
        re.DOTALL,
    )


def _wait_for_page(client, condition, what: str) -> dict[str, str]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        response = client.get("/admin/events/streamsnapshot/")
        assert response.status_code == 200
        sections = _sections(response.content.decode())
        if condition(sections):
            return sections
        time.sleep(0.2)
    raise AssertionError(f"the live page never showed {what}: {sections}")


def test_the_live_page_lists_streams_of_two_processes_until_they_close_or_their_process_dies(
    daphne, fast_presence, manager_client, operator, menu
):
    env = {"EVENTS_PRESENCE_SECONDS": str(INTERVAL)}
    first, second = daphne(**env), daphne(**env)
    _, agent_raw = create_key(name="Kitchen printer agent", kind=ApiKeyKind.PRINTER_AGENT)
    cashier = SSEStream(f"{first.url}/events/cashier", headers=bearer(operator))
    agent = SSEStream(f"{second.url}/events/printer", headers={"X-API-KEY": agent_raw})
    try:
        assert (cashier.status_code, agent.status_code) == (200, 200)
        sections = _wait_for_page(
            manager_client,
            lambda s: _rows(s["cashier"]) and _rows(s["printer"]),
            "both streams",
        )
        [(user_label, user_address, user_process)] = _rows(sections["cashier"])
        [(key_label, key_address, key_process)] = _rows(sections["printer"])
        assert (user_label, user_address) == ("olga", "127.0.0.1")
        assert (key_label, key_address) == ("Kitchen printer agent", "127.0.0.1")
        assert user_process.endswith(f":{first.process.pid}")
        assert key_process.endswith(f":{second.process.pid}")
        assert _rows(sections["display"]) == []

        # The printers' pages show who listens on the printer channel.
        printer_list = manager_client.get("/admin/orders/printer/").content.decode()
        assert [row[0] for row in _rows(printer_list)] == ["Kitchen printer agent"]
        printer_page = manager_client.get(f"/admin/orders/printer/{menu['kitchen'].pk}/change/").content.decode()
        assert [row[0] for row in _rows(printer_page)] == ["Kitchen printer agent"]

        cashier.close()
        _wait_for_page(manager_client, lambda s: not _rows(s["cashier"]) and _rows(s["printer"]), "the user gone")

        second.kill()  # SIGKILL: its row is left behind, its heartbeat stops
        _wait_for_page(manager_client, lambda s: not _rows(s["printer"]), "the dead process's stream gone")
    finally:
        cashier.close()
        agent.close()
    assert "Nobody is listening on /events/printer right now." in (
        manager_client.get(f"/admin/orders/printer/{menu['kitchen'].pk}/change/").content.decode()
    )


def test_a_stream_held_by_pushpin_is_listed_from_the_workers_answers_and_expires_after_it_closes(
    behind_pushpin,  # noqa: F811  (the fixtures of test_pushpin.py)
    pushpin,  # noqa: F811
    fast_presence,
    manager_client,
):
    recover = 1  # Pushpin asks for the next link after a second of silence
    (worker,) = behind_pushpin(EVENTS_PRESENCE_SECONDS=str(INTERVAL), GRIP_RECOVER_SECONDS=str(recover))
    _, agent_raw = create_key(name="Bar printer agent", kind=ApiKeyKind.PRINTER_AGENT)
    held = SSEStream(f"{pushpin.url}/events/printer", headers={"X-API-KEY": agent_raw})
    try:
        assert held.status_code == 200
        sections = _wait_for_page(manager_client, lambda s: _rows(s["printer"]), "the held stream")
        [(label, _, process)] = _rows(sections["printer"])
        assert label == "Bar printer agent"
        assert process.endswith(f":{worker.process.pid}")
        assert "held by Pushpin" in sections["printer"]
    finally:
        held.close()
    # No worker sees the client leave: the entry lasts until recoveries stop
    # re-confirming it (2 × GRIP_RECOVER_SECONDS), then goes.
    _wait_for_page(manager_client, lambda s: not _rows(s["printer"]), "the held stream gone")
