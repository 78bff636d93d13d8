"""The events contract for a client connected to Pushpin: Pushpin holds the
streams, the Daphne workers behind it only authorise, open, replay and
publish (events/transport/grip.py).

Each test starts its own Pushpin on free ports in a temporary directory and
stops it by PID; the fixture checks that none of its children outlive it."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import jwt
import pytest
from django_eventstream.models import Event as StoredEvent
from gripcontrol import parse_grip_uri

from conftest import bearer, make_user
from events.access import holders
from events.access.identity import BEARER, Identity
from events.core.channels import default_events
from events.outbox.publisher import publish
from testsupport import (
    BASE_DIR,
    PushpinServer,
    RedisServer,
    SSEStream,
    database_url,
    hold_port,
    hold_ports_in_a_row,
    pushpin_installed,
    redis_server_installed,
    require_service,
)
from users.models import Role


@pytest.fixture
def pushpin(tmp_path):
    require_service("pushpin", *pushpin_installed())
    server = PushpinServer(tmp_path / "pushpin", [])
    yield server
    server.stop()
    assert server.leftovers() == [], f"pushpin children outlived the test: {server.leftovers()}"


@pytest.fixture
def behind_pushpin(daphne, pushpin):
    """`behind_pushpin(workers=1, **env)`: Daphne workers configured for
    GRIP, and Pushpin in front of them (targets in order: it fails over)."""

    def start(workers: int = 1, **env: str):
        servers = [daphne(**pushpin.grip_env(), **env) for _ in range(workers)]
        pushpin.targets = [server.url.removeprefix("http://") for server in servers]
        pushpin.start()
        return servers

    return start


def test_nobody_can_take_pushpins_ports_between_its_making_and_its_start_and_it_binds_them(pushpin, closed_port):
    """Pushpin's ports are picked when it is made and bound when it starts
    (a test's workers start in between): they are held meanwhile
    (scripts/ports.py), and Pushpin binds every one of them."""
    import socket

    ports = [pushpin.http_port, pushpin.publish_port, pushpin.push_in_port, pushpin.push_in_sub_port]
    ports.append(pushpin.command_port)
    for port in ports:
        with socket.socket() as squatter, pytest.raises(OSError):
            squatter.bind(("127.0.0.1", port))
    pushpin.targets = [f"127.0.0.1:{closed_port}"]
    pushpin.start()  # it waits until the publish port answers too
    assert pushpin.running()
    assert pushpin._holds_a_stream()  # it answers on its public port


def listen(url: str, user, channel: str, last_event_id: str | None = None) -> SSEStream:
    headers = bearer(user)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    opened = SSEStream(f"{url}/events/{channel}", headers=headers)
    assert opened.status_code == 200, getattr(opened, "body", b"")
    return opened


def get(url: str, path: str, **headers) -> httpx.Response:
    return httpx.get(url + path, headers=headers, timeout=10)


class Api:
    def __init__(self, url: str, user):
        self.client = httpx.Client(base_url=url, headers=bearer(user), timeout=30)

    def order(self, food_id: str, *, notes: str = "", customer: str = "Ann") -> dict:
        item = {"foodId": food_id, "quantity": 2, **({"notes": notes} if notes else {})}
        response = self.client.post("/v1/orders", json={"table": "4", "customer": customer, "orderItems": [item]})
        assert response.status_code == 201, response.text
        return response.json()

    def confirm(self, order_id: int) -> dict:
        response = self.client.post(f"/v1/orders/{order_id}/confirm", json={"paymentMethod": "CARD"})
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def api():
    clients: list[Api] = []

    def make(url: str, user) -> Api:
        clients.append(Api(url, user))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


# --- refusals and headers -------------------------------------------------------------------


def test_refusals_through_pushpin_are_json_in_the_contract_order_not_held_streams(
    behind_pushpin, pushpin, operator, waiter
):
    behind_pushpin()
    anonymous = get(pushpin.url, "/events/cashier")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/json"
    assert anonymous.json() == {"message": "Authentication required"}
    assert get(pushpin.url, "/events/cashier", Authorization="Bearer nonsense").status_code == 401

    forbidden = get(pushpin.url, "/events/kitchen", **bearer(waiter))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/json"
    assert forbidden.json() == {"message": "Insufficient permissions"}

    unknown = get(pushpin.url, "/events/kitchen", **bearer(operator))
    assert unknown.status_code == 400
    assert unknown.headers["content-type"] == "application/json"
    assert [error["field"] for error in unknown.json()["errors"]] == ["channel"]


def test_a_stream_through_pushpin_has_the_contract_headers_and_opens_with_its_position(
    behind_pushpin, pushpin, operator
):
    behind_pushpin()
    with listen(pushpin.url, operator, "printer") as stream:
        assert stream.headers["content-type"] == "text/event-stream"
        assert stream.headers["cache-control"] == "no-cache"
        assert stream.headers["x-accel-buffering"] == "no"
        # Pushpin's connection manager owns the hop-by-hop Connection header:
        # it sends "Transfer-Encoding" for a chunked HTTP/1.1 response (which
        # stays open: HTTP/1.1 is persistent), never "close" and never the
        # origin's "keep-alive". docs/deploy.md: the proxy in front sets it.
        assert stream.headers["connection"] == "Transfer-Encoding"
        assert not any(name.lower().startswith("grip-") for name in stream.headers), "GRIP instructions leaked"
        opening = stream.next()
        assert (opening.is_position, opening.id) == (True, "printer:0")


# --- delivery -----------------------------------------------------------------------------


def test_an_order_confirmed_through_the_api_reaches_a_printer_stream_held_by_pushpin_exactly(
    behind_pushpin, pushpin, operator, menu, api
):
    (worker,) = behind_pushpin()
    cashier = api(pushpin.url, operator)
    order = cashier.order(menu["margherita"].id, notes="50% less salt")
    with listen(pushpin.url, operator, "printer") as held, listen(worker.url, operator, "printer") as direct:
        assert held.next().id == direct.next().id == "printer:0"
        confirmed = cashier.confirm(order["id"])
        printed, reference = held.next(), direct.next()
        # Byte for byte what a stream served by the worker itself carries.
        assert (printed.event, printed.id, printed.data) == (reference.event, reference.id, reference.data)
        assert (printed.event, printed.id) == ("confirmed-order", "printer:1")
        payload = printed.json()
        assert payload["id"] == order["id"]
        assert payload["ticketNumber"] == confirmed["ticketNumber"] == 1
        assert payload["status"] == "CONFIRMED"
        line = payload["orderItems"][0]
        assert line["notes"] == "50% less salt"
        assert line["food"] == {
            "id": menu["margherita"].id,
            "name": "Margherita",
            "printerId": menu["kitchen"].id,
            # clients-heads.md P2: the category with its station (none in this menu).
            "categoryId": menu["pizza"].id,
            "category": {"id": menu["pizza"].id, "name": "Pizza", "station": None},
        }
        assert json.loads(StoredEvent.objects.get(channel="printer", eid=1).data) == printed.data


def test_two_pushpin_instances_each_hold_streams_that_get_the_same_event_and_close_on_revocation(
    daphne, pushpin, tmp_path, operator, menu, api
):
    """A worker whose GRIP_URL names two Pushpin instances publishes every
    event, and every close, to both (scripts/cluster.py --pushpins 2)."""
    second = PushpinServer(tmp_path / "pushpin-2", [], sig_key=pushpin.sig_key)
    try:
        worker = daphne(GRIP_URL=f"{pushpin.grip_url},{second.grip_url}", GRIP_SIG_KEY=pushpin.sig_key)
        for instance in (pushpin, second):
            instance.targets = [worker.url.removeprefix("http://")]
            instance.start()
        colleague = make_user("carla", Role.OPERATOR)
        cashier = api(second.url, colleague)
        order, later = cashier.order(menu["margherita"].id), cashier.order(menu["margherita"].id)
        with (
            listen(pushpin.url, operator, "printer") as first,
            listen(second.url, operator, "printer") as other,
            listen(pushpin.url, colleague, "printer") as bystander,
        ):
            assert first.next().id == other.next().id == bystander.next().id == "printer:0"
            cashier.confirm(order["id"])
            one, two = first.next(), other.next()
            assert (one.event, one.id, one.data) == (two.event, two.id, two.data)
            assert (one.id, one.json()["id"]) == ("printer:1", order["id"])
            assert bystander.next().json()["id"] == order["id"]
            operator.is_active = False
            operator.save(update_fields=["is_active"])
            time.sleep(1.0)
            cashier.confirm(later["id"])
            # The colleague's stream, on the same Pushpin, stays open and hears it.
            assert bystander.next().json()["id"] == later["id"]
            assert_closed_without(first, later["id"])
            assert_closed_without(other, later["id"])
    finally:
        second.stop()
        assert second.leftovers() == [], f"pushpin children outlived the test: {second.leftovers()}"


def test_keep_alive_comments_come_while_a_stream_held_by_pushpin_is_idle(behind_pushpin, pushpin, operator):
    # Pushpin sends its keep-alive after each interval of silence, up to one
    # second early (jitter). Only keep-alives while idle, and at least one
    # (assert_quiet); how often they come is a rate, measured by
    # bench/cluster.py (each held stream's longest silence), not asserted here.
    behind_pushpin(EVENTS_KEEPALIVE_SECONDS="2")
    with listen(pushpin.url, operator, "display") as stream:
        assert stream.next().is_position
        stream.assert_quiet(10)


def test_a_client_reconnecting_through_pushpin_with_last_event_id_gets_what_it_missed_then_live_once(
    behind_pushpin, pushpin, operator, menu, api
):
    behind_pushpin(EVENTS_KEEPALIVE_SECONDS="1")
    cashier = api(pushpin.url, operator)
    food = menu["margherita"].id
    placed = [cashier.order(food, customer=f"guest {n}", notes=f"{n}0% spicy")["id"] for n in range(4)]
    with listen(pushpin.url, operator, "cashier", last_event_id="cashier:1") as stream:
        opening = stream.next()
        assert (opening.is_position, opening.id) == (True, "cashier:1")
        replayed = stream.collect(3)
        assert [m.id for m in replayed] == ["cashier:2", "cashier:3", "cashier:4"]
        assert [m.json()["id"] for m in replayed] == placed[1:]
        assert [m.json()["orderItems"][0]["notes"] for m in replayed] == ["10% spicy", "20% spicy", "30% spicy"]
        live = cashier.order(food, customer="live")["id"]
        following = stream.next()
        assert (following.id, following.json()["id"]) == ("cashier:5", live)
        stream.assert_quiet(2.5)


def test_an_id_older_than_the_log_gets_an_explicit_reset_through_pushpin(behind_pushpin, pushpin, operator, menu, api):
    behind_pushpin()
    cashier = api(pushpin.url, operator)
    for _ in range(3):
        cashier.order(menu["margherita"].id)
    StoredEvent.objects.filter(channel="cashier", eid__lte=2).delete()
    with listen(pushpin.url, operator, "cashier", last_event_id="cashier:1") as stream:
        reset = stream.next()
        assert (reset.event, reset.id) == ("stream-reset", "cashier:3")
        assert reset.json()["requestedLastEventId"] == "cashier:1"
        live = cashier.order(menu["margherita"].id)["id"]
        assert (stream.next().id, live) == ("cashier:4", live)


# --- reliability: Pushpin asks the worker for what it missed --------------------------------


def settle_first_recovery(worker, channel: str, holds: int = 1) -> None:
    """Pushpin 1.36 makes one recovery request about a second after it takes
    a new hold, whatever the link's timeout (seen in its logs every time);
    wait until the worker has answered one for each hold (its access log
    shows them), so that what a test sees next has the cause it names."""
    recovery = re.compile(rf'"GET /events/{channel}\?{holders.NEXT_PARAM}=[^"]*" 200')
    deadline = time.monotonic() + 15
    while len(recovery.findall(worker.log_path.read_text(errors="replace"))) < holds:
        if time.monotonic() > deadline:
            pytest.fail(f"Pushpin made no recovery request after taking the hold:\n{worker.log_tail()}")
        time.sleep(0.1)


def lose_a_publish(channel: str, payload: dict, event_type: str = "confirmed-order") -> None:
    """An event that is in the log but never reached Pushpin (this test
    process has no GRIP_URL): as if its worker died between commit and publish."""
    publish(channel, event_type, payload)


def test_an_event_whose_publish_was_lost_is_recovered_when_the_next_one_arrives(
    behind_pushpin, pushpin, operator, menu, api
):
    (worker,) = behind_pushpin(EVENTS_KEEPALIVE_SECONDS="1")
    cashier = api(pushpin.url, operator)
    order = cashier.order(menu["margherita"].id)
    with listen(pushpin.url, operator, "printer") as stream:
        assert stream.next().id == "printer:0"
        settle_first_recovery(worker, "printer")
        lose_a_publish("printer", {"lost": "50% of the time"})
        stream.assert_quiet(1.5)
        cashier.confirm(order["id"])
        # The publish of printer:2 names printer:1 as its predecessor, which
        # this connection never saw: Pushpin recovers it from the worker.
        recovered, confirmed = stream.collect(2, timeout=15)
        assert (recovered.event, recovered.id, recovered.json()) == (
            "confirmed-order",
            "printer:1",
            {"lost": "50% of the time"},
        )
        assert (confirmed.event, confirmed.id, confirmed.json()["id"]) == ("confirmed-order", "printer:2", order["id"])
        stream.assert_quiet(2.5)


def test_an_idle_stream_recovers_a_lost_last_event_on_its_own(behind_pushpin, pushpin, operator):
    (worker,) = behind_pushpin(GRIP_RECOVER_SECONDS="3")
    with listen(pushpin.url, operator, "display") as stream:
        assert stream.next().id == "display:0"
        settle_first_recovery(worker, "display")
        lose_a_publish("display", {"n": 1}, "order-status-update")
        # Nothing is published after it: only the idle stream's own recovery
        # request can bring it.
        recovered = stream.next(timeout=15)
        assert (recovered.id, recovered.json()) == ("display:1", {"n": 1})


def signed_by(key: str, *, seconds: int = 60) -> str:
    return jwt.encode({"iss": "pushpin", "exp": int(time.time()) + seconds}, key, algorithm="HS256")


def test_a_recovery_is_honoured_only_with_pushpins_signature_and_for_the_listener_its_holder_channel_names(
    behind_pushpin, pushpin, operator, waiter
):
    (worker,) = behind_pushpin()
    for n in range(3):
        lose_a_publish("printer", {"n": n})
    holder = Identity(BEARER, user_id=operator.pk, auth_hash=operator.get_session_auth_hash())
    link = f"/events/printer?{holders.NEXT_PARAM}=1"
    # Pushpin sends one Grip-Last per channel with a prev-id.
    last = [("Grip-Last", "events-printer; last-id=1"), ("Grip-Last", f"{holders.holder_channel(holder)}; last-id=0")]

    def recover(*headers: tuple[str, str], path: str = link) -> httpx.Response:
        return httpx.get(worker.url + path, headers=[*headers], timeout=10)

    # Without Pushpin's signature the holder channel is nothing.
    assert recover(*last).status_code == 401
    forged = signed_by("not-the-key-pushpin-signs-with-at-all")
    assert recover(("Grip-Sig", forged), *last).status_code == 401
    expired = signed_by(pushpin.sig_key, seconds=-5)
    assert recover(("Grip-Sig", expired), *last).status_code == 401
    sig = ("Grip-Sig", signed_by(pushpin.sig_key))
    # No holder channel, or one whose signature is not ours: no listener.
    assert recover(sig, last[0]).status_code == 401
    genuine = holders.holder_channel(holder)
    at = len(holders.HOLDER_PREFIX)
    tampered = genuine[:at] + ("A" if genuine[at] != "A" else "B") + genuine[at + 1 :]
    assert recover(sig, last[0], ("Grip-Last", f"{tampered}; last-id=0")).status_code == 401
    # The listener's role still decides.
    waiters = holders.holder_channel(Identity(BEARER, user_id=waiter.pk, auth_hash=waiter.get_session_auth_hash()))
    assert recover(sig, last[0], ("Grip-Last", f"{waiters}; last-id=0")).status_code == 403

    # Signed: the events after Grip-Last, no position message, and a new hold
    # on the same holder channel, with the same link.
    answer = recover(sig, *last)
    assert answer.status_code == 200
    assert answer.headers["grip-hold"] == "stream"
    types = ", ".join(f"events-printer.type.{name}" for name in sorted(default_events("printer")))
    assert answer.headers["grip-channel"] == (
        f"events-printer; prev-id=3; filter=build-id; filter=require-sub, "
        f"{holders.holder_channel(holder)}; prev-id=0, {types}"
    )
    assert answer.headers["grip-set-meta"] == 'id_format="printer:%(events-printer)s"'
    assert answer.headers["grip-keep-alive"] == ": keep-alive\\n\\n; format=cstring; timeout=15"
    selection = "%2C".join(sorted(default_events("printer")))
    link, timeout = answer.headers["grip-link"].split("; timeout=")
    assert link == f"</events/printer?{holders.NEXT_PARAM}=1&events={selection}>; rel=next"
    # GRIP_RECOVER_SECONDS (60) plus up to half as much again: Pushpin's
    # rounds of recoveries are spread over that many timers.
    assert 60 <= int(timeout) <= 90
    assert answer.text == (
        'event: confirmed-order\nid: printer:2\ndata: {"n": 1}\n\nevent: confirmed-order\nid: printer:3\ndata: {"n": 2}\n\n'
    )


def test_the_recovery_link_is_one_per_channel_and_selection_while_each_listener_has_its_own_holder_channel(
    behind_pushpin, pushpin, operator
):
    """Pushpin recovers a hundred streams at a time only when their links
    are equal; the listener travels in the holder channel instead."""
    (worker,) = behind_pushpin()
    manager = make_user("maria", Role.ADMIN)
    operators_token, managers_token = bearer(operator), bearer(manager)
    holds = []
    # Two streams opened with one credential, one with another.
    for credential in (operators_token, operators_token, managers_token):
        response = httpx.get(
            f"{worker.url}/events/cashier", headers={"Grip-Sig": signed_by(pushpin.sig_key), **credential}, timeout=10
        )
        assert response.status_code == 200
        holds.append(response.headers)
    links = {hold["grip-link"].split("; timeout=")[0] for hold in holds}
    assert len(links) == 1 and "holder" not in links.pop()
    holder_channels = [
        next(part.split(";")[0].strip() for part in hold["grip-channel"].split(",") if "holder." in part)
        for hold in holds
    ]
    assert holder_channels[0] == holder_channels[1] != holder_channels[2]
    for name, user, credential in zip(
        holder_channels, (operator, operator, manager), (operators_token, operators_token, managers_token), strict=True
    ):
        assert holders.identity_from_holder_channel(name).user_id == user.pk
        assert credential["Authorization"].split()[1] not in name


# --- ?events=: Pushpin filters by event type (require-sub) ---------------------------------


@pytest.fixture
def publishes_to(settings):
    """Make this test process publish to a Pushpin, as a worker does."""
    import django_grip

    def point(pushpin: PushpinServer) -> None:
        settings.GRIP_PROXIES = [parse_grip_uri(pushpin.grip_url)]
        django_grip._pubcontrol = None  # django_grip reads GRIP_PROXIES once

    yield point
    django_grip._pubcontrol = None


def test_streams_held_by_pushpin_get_only_their_event_types_once_in_order_even_after_a_lost_publish(
    behind_pushpin, pushpin, operator, publishes_to
):
    from events.outbox.storage import EventLogStorage

    (worker,) = behind_pushpin(EVENTS_KEEPALIVE_SECONDS="1")
    publishes_to(pushpin)
    chosen_url = f"{pushpin.url}/events/cashier?events=category-availability-changed,order-status-update"
    with listen(pushpin.url, operator, "cashier") as default, SSEStream(chosen_url, headers=bearer(operator)) as chosen:
        assert chosen.status_code == 200
        assert default.next().is_position and chosen.next().is_position
        settle_first_recovery(worker, "cashier", holds=2)
        publish("cashier", "category-availability-changed", {"n": 1})
        publish("cashier", "new-order", {"n": 2})
        publish("cashier", "printer-status-changed", {"n": 3})
        publish("cashier", "order-status-update", {"n": 4})
        assert [(m.id, m.json()) for m in default.collect(2, timeout=15)] == [
            ("cashier:2", {"n": 2}),
            ("cashier:4", {"n": 4}),
        ]
        assert [(m.id, m.json()) for m in chosen.collect(2, timeout=15)] == [
            ("cashier:1", {"n": 1}),
            ("cashier:4", {"n": 4}),
        ]
        # In the log but never published: the next publish names it as its
        # predecessor, and Pushpin recovers it, filtered, from a worker.
        EventLogStorage().append_event("cashier", "order-status-update", json.dumps({"n": 5}))
        publish("cashier", "new-order", {"n": 6})
        assert [m.json() for m in default.collect(2, timeout=15)] == [{"n": 5}, {"n": 6}]
        assert [m.json() for m in chosen.collect(1, timeout=15)] == [{"n": 5}]
        default.assert_quiet(2.5)
        chosen.assert_quiet(1.5)


# --- revocation: Pushpin closes the streams of a right that ended -------------------------


def assert_closed_without(stream: SSEStream, order_id: int) -> None:
    # The wait only keeps a broken server from hanging the test: the order of
    # events (the bystander heard the late event first) is what is shown.
    # Three workers of the suite on two busy cores took over 10 s once.
    assert stream.closed.wait(30), "Pushpin kept a stream whose right had ended"
    for message in stream.pending():
        assert not (message.data and message.json().get("id") == order_id), "a late event reached the stream"


@pytest.mark.parametrize("held_by", ["the first hold", "a hold a recovery restated"])
def test_deactivating_a_user_closes_their_stream_held_by_pushpin_and_only_theirs(
    behind_pushpin, pushpin, operator, menu, api, held_by
):
    """In the second case both listeners' holds are first renewed by
    Pushpin's recovery requests (one link for both; each names its listener
    by its holder channel) before one of them loses the right."""
    (worker,) = behind_pushpin()
    colleague = make_user("carla", Role.OPERATOR)
    cashier = api(pushpin.url, colleague)
    with listen(pushpin.url, operator, "cashier") as stream, listen(pushpin.url, colleague, "cashier") as other:
        assert stream.next().id == other.next().id == "cashier:0"
        if held_by == "a hold a recovery restated":
            settle_first_recovery(worker, "cashier", holds=2)
        operator.is_active = False
        operator.save(update_fields=["is_active"])
        time.sleep(1.0)
        late = cashier.order(menu["margherita"].id)["id"]
        assert_closed_without(stream, late)
        assert other.next().json()["id"] == late


def test_a_session_logout_closes_the_stream_pushpin_holds_for_that_session(
    behind_pushpin, pushpin, operator, menu, api
):
    from django.test import Client

    behind_pushpin()
    client = Client()
    client.force_login(operator)
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    lasting = Client()  # the same operator signed in on another device
    lasting.force_login(operator)
    other_cookie = {"Cookie": f"sessionid={lasting.cookies['sessionid'].value}"}
    cashier = api(pushpin.url, operator)
    with (
        SSEStream(f"{pushpin.url}/events/cashier", headers=cookie) as stream,
        SSEStream(f"{pushpin.url}/events/cashier", headers=other_cookie) as other,
    ):
        assert stream.next().id == other.next().id == "cashier:0"
        client.logout()
        time.sleep(1.0)
        late = cashier.order(menu["margherita"].id)["id"]  # the operator's token still works
        assert other.next().json()["id"] == late
        assert_closed_without(stream, late)
        assert not other.closed.is_set()


# --- several workers ------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path):
    require_service("redis-server", *redis_server_installed())
    server = RedisServer(tmp_path / "redis.log").start()
    yield server
    server.stop()


@pytest.mark.redis
def test_two_workers_behind_pushpin_publish_from_either_worker_and_survive_one_dying(
    behind_pushpin, pushpin, redis_server, operator, menu, api
):
    first, second = behind_pushpin(workers=2, REDIS_URL=redis_server.url)
    on_first, on_second = api(first.url, operator), api(second.url, operator)
    food = menu["margherita"].id
    with listen(pushpin.url, operator, "cashier") as held:
        assert held.next().id == "cashier:0"
        one = on_first.order(food, customer="on the first")["id"]
        two = on_second.order(food, customer="on the second")["id"]
        three = on_first.order(food, customer="on the first again")["id"]
        received = held.collect(3, timeout=15)
        assert [(m.id, m.json()["id"]) for m in received] == [
            ("cashier:1", one),
            ("cashier:2", two),
            ("cashier:3", three),
        ]

        # Pushpin holds the stream, not the worker: it outlives the worker
        # that opened it, and Pushpin sends new requests to the other one.
        first.kill()
        four = on_second.order(food, customer="after the crash")["id"]
        assert (held.next(timeout=15).id, four) == ("cashier:4", four)
        through_pushpin = api(pushpin.url, operator)
        five = through_pushpin.order(food, customer="through pushpin")["id"]
        assert held.next(timeout=15).json()["id"] == five
    with listen(pushpin.url, operator, "cashier", last_event_id="cashier:3") as again:
        assert again.next().is_position
        assert [m.id for m in again.collect(2)] == ["cashier:4", "cashier:5"]


# --- make run-cluster -----------------------------------------------------------------------


@pytest.fixture
def cluster_ports():
    """Ports for scripts/cluster.py (`port`, `publish_port`, and two in a row
    from `first_worker`), held (scripts/ports.py) until the test ends: its
    Pushpin and workers bind them beside the holds."""
    public, publish, *workers = hold_port(), hold_port(), *hold_ports_in_a_row(2)
    yield SimpleNamespace(port=public.port, publish_port=publish.port, first_worker=workers[0].port)
    for held in (public, publish, *workers):
        held.release()


def cluster_args(ports) -> list[str]:
    return [
        *("--workers", "2", "--port", str(ports.port), "--publish-port", str(ports.publish_port)),
        *("--first-worker-port", str(ports.first_worker), "--no-prepare"),
    ]


def run_cluster(tmp_path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(BASE_DIR / "scripts" / "cluster.py"), "--dir", str(tmp_path / "cluster"), *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def cluster_env(settings, **overrides: str) -> dict[str, str]:
    from django.db import connection

    env = os.environ.copy()
    for name in ("REDIS_URL", "GRIP_URL", "GRIP_SIG_KEY", "WORKERS", "PORT"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=database_url(connection.settings_dict),
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def test_run_cluster_refuses_several_workers_on_sqlite_without_redis(tmp_path, settings):
    env = cluster_env(settings, DATABASE_URL="sqlite:///" + str(tmp_path / "db.sqlite3"))
    process = run_cluster(tmp_path, env, "--workers", "2")
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "REDIS_URL" in output and "SQLite" in output
    assert not (tmp_path / "cluster" / "state.json").exists()


@pytest.mark.redis
@pytest.mark.heavy
def test_run_cluster_serves_api_and_streams_through_pushpin_and_stops_everything_on_sigterm(
    transactional_db, tmp_path, settings, redis_server, cluster_ports, operator, menu
):
    require_service("pushpin", *pushpin_installed())
    require_service("haproxy", shutil.which("haproxy") is not None, "haproxy is not installed")
    port, first_worker = cluster_ports.port, cluster_ports.first_worker
    env = cluster_env(settings, REDIS_URL=redis_server.url)
    process = run_cluster(tmp_path, env, *cluster_args(cluster_ports))
    state_path = tmp_path / "cluster" / "state.json"
    state = restarted = {"pushpin": {"pid": 0, "children": []}, "haproxy": {"pid": 0}, "workers": []}
    try:
        deadline = time.monotonic() + 60
        while not state_path.exists():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the cluster did not start within 60 s"
            time.sleep(0.2)
        state = json.loads(state_path.read_text())
        assert [w["port"] for w in state["workers"]] == [first_worker, first_worker + 1]
        routes = (tmp_path / "cluster" / "pushpin" / "routes").read_text().splitlines()
        assert routes[0].split() == ["*", f"127.0.0.1:{state['haproxy']['port']}"]  # the balancer, before the workers

        url = f"http://127.0.0.1:{port}"
        with listen(url, operator, "printer") as printer:
            assert printer.next().is_position
            cashier = Api(url, operator)
            order = cashier.order(menu["margherita"].id)
            cashier.confirm(order["id"])
            cashier.close()
            printed = printer.next(timeout=15)
            assert printed.json()["id"] == order["id"]

        # Pushpin crashes: the script stops what it left behind and starts it
        # again; a client that reconnects with its Last-Event-ID misses nothing.
        os.kill(state["pushpin"]["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            restarted = json.loads(state_path.read_text()) if state_path.exists() else state
            if restarted["pushpin"]["pid"] != state["pushpin"]["pid"]:
                break
            assert time.monotonic() < deadline, "pushpin was not restarted within 30 s"
            time.sleep(0.2)
        assert [pid for pid in state["pushpin"]["children"] if _running(pid)] == []
        with listen(url, operator, "printer", last_event_id="printer:0") as again:
            assert again.next().is_position
            replayed = again.next()
            assert (replayed.event, replayed.id, replayed.data) == (printed.event, printed.id, printed.data)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    pids = [
        restarted["haproxy"]["pid"],
        *(restarted["pushpin"]["pid"], *restarted["pushpin"]["children"]),
        *(state["pushpin"]["pid"], *state["pushpin"]["children"]),
        *(w["pid"] for w in restarted["workers"]),
    ]
    assert [pid for pid in pids if _running(pid)] == []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
