"""Issue 10 on the wire, against a real Daphne: a stream opens with its
position as an id-only message, and receives its channel's default events,
or exactly the ones it names in ?events= (the only way to the opt-in ones),
live and replayed alike."""

import httpx
import pytest

from conftest import bearer, make_user
from events.core.channels import (
    CATEGORY_AVAILABILITY_CHANGED,
    NEW_ORDER,
    ORDER_STATUS_UPDATE,
    PRINTER_STATUS_CHANGED,
)
from events.outbox.publisher import publish
from events.tests.rawstream import open_stream
from testsupport import SSEStream
from users.models import Role


@pytest.fixture
def server(daphne):
    return daphne(EVENTS_POLL_SECONDS="0.2", EVENTS_KEEPALIVE_SECONDS="1")


def listen(server, user, query: str = "", last_event_id: str | None = None) -> SSEStream:
    headers = bearer(user)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    stream = SSEStream(f"{server.url}/events/cashier{query}", headers=headers)
    assert stream.status_code == 200, getattr(stream, "body", b"")
    return stream


def publish_one_of_each() -> None:
    publish("cashier", CATEGORY_AVAILABILITY_CHANGED, {"n": 1})
    publish("cashier", NEW_ORDER, {"n": 2})
    publish("cashier", PRINTER_STATUS_CHANGED, {"n": 3})
    publish("cashier", ORDER_STATUS_UPDATE, {"n": 4})


def test_a_stream_opens_with_its_position_as_an_id_only_message(shared_daphne, transactional_db):
    user = make_user("ida", Role.OPERATOR)
    sock, received = open_stream(shared_daphne.port, "/events/cashier", bearer(user))
    with sock:
        body = received.partition(b"\r\n\r\n")[2]
        # One chunk: its size, then exactly "id: cashier:0" and a blank line.
        assert body.split(b"\r\n", 1)[1].startswith(b"id: cashier:0\n\n")
        assert b"event:" not in body and b"data:" not in body


@pytest.mark.parametrize(
    "query",
    [
        "?events=kitchen-fire",
        "?events=new-order,kitchen-fire",
        "?events=reprint-order",  # the printer channel's, not the cashier's
        "?events=",
        "?events=new-order,",
    ],
)
def test_an_event_name_outside_the_channels_catalogue_is_a_400_naming_events(shared_daphne, transactional_db, query):
    user = make_user("uma", Role.OPERATOR)
    response = httpx.get(f"{shared_daphne.url}/events/cashier{query}", headers=bearer(user), timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["message"] == "Validation error"
    assert [error["field"] for error in body["errors"]] == ["events"]


def test_the_events_check_comes_after_authentication_role_and_channel(shared_daphne, transactional_db):
    waiter = make_user("wes", Role.WAITER)
    operator = make_user("ola", Role.OPERATOR)
    assert httpx.get(f"{shared_daphne.url}/events/cashier?events=nope", timeout=10).status_code == 401
    assert (
        httpx.get(f"{shared_daphne.url}/events/cashier?events=nope", headers=bearer(waiter), timeout=10).status_code
        == 403
    )
    unknown_channel = httpx.get(f"{shared_daphne.url}/events/kitchen?events=nope", headers=bearer(operator), timeout=10)
    assert [error["field"] for error in unknown_channel.json()["errors"]] == ["channel"]


def test_without_events_a_stream_gets_its_channels_catalogue_less_the_opt_in_events(server, operator):
    with listen(server, operator) as stream:
        assert stream.next().is_position
        publish_one_of_each()
        received = stream.collect(2)
        assert [(m.event, m.json()) for m in received] == [(NEW_ORDER, {"n": 2}), (ORDER_STATUS_UPDATE, {"n": 4})]
        assert [m.id for m in received] == ["cashier:2", "cashier:4"]


def test_events_limits_a_stream_to_the_named_ones_and_is_the_way_to_the_opt_in_ones(server, operator):
    query = f"?events={CATEGORY_AVAILABILITY_CHANGED},{ORDER_STATUS_UPDATE}"
    with listen(server, operator, query) as chosen, listen(server, operator, f"?events={NEW_ORDER}") as only_new:
        assert chosen.next().is_position and only_new.next().is_position
        publish_one_of_each()
        assert [m.json() for m in chosen.collect(2)] == [{"n": 1}, {"n": 4}]
        assert [m.json() for m in only_new.collect(1)] == [{"n": 2}]
        publish("cashier", NEW_ORDER, {"n": 5})
        assert only_new.next().json() == {"n": 5}
        chosen.assert_quiet(2.5)


def test_a_replay_after_last_event_id_holds_only_the_selected_events(server, operator):
    publish_one_of_each()
    with listen(server, operator, f"?events={PRINTER_STATUS_CHANGED},{NEW_ORDER}", "cashier:1") as stream:
        opening = stream.next()
        assert (opening.is_position, opening.id) == (True, "cashier:1")
        assert [(m.id, m.event) for m in stream.collect(2)] == [
            ("cashier:2", NEW_ORDER),
            ("cashier:3", PRINTER_STATUS_CHANGED),
        ]
    with listen(server, operator, last_event_id="cashier:0") as default:
        assert default.next().is_position
        assert [m.id for m in default.collect(2)] == ["cashier:2", "cashier:4"]
