"""What no client can do to the events endpoint: break it with a malformed
Last-Event-ID, grow the server with streams it opens and closes, or hold
more than EVENTS_MAX_STREAMS_PER_USER streams. Against a real Daphne."""

import asyncio

import httpx
import pytest

from conftest import bearer, make_user
from events.tests.rawstream import open_stream, settled_rss_kib, status_of
from testsupport import SSEStream
from users.models import Role

BAD_LAST_EVENT_IDS = [
    "cashier:²",  # a digit to str.isdigit(), not to int()
    "²",
    "5" * 5000,
    "cashier:" + "9" * 19,
    "garbage",
    "cashier:-1",
    "cashier: 1 2",
    "display:1",  # another channel's id
    ":",
    "",
]


def reset_of(stream: SSEStream):
    message = stream.next()
    assert message.event == "stream-reset", message
    return message


@pytest.mark.parametrize("raw", BAD_LAST_EVENT_IDS)
def test_a_malformed_last_event_id_header_is_a_stream_reset(shared_daphne, transactional_db, raw):
    user = make_user("hedwig", Role.OPERATOR)
    headers = {**bearer(user), "Last-Event-ID": raw.encode()}
    with SSEStream(shared_daphne.url + "/events/cashier", headers=headers) as stream:
        assert stream.status_code == 200
        if raw == "":
            # An empty header is no Last-Event-ID at all: a plain opening.
            assert stream.next().is_position
            return
        reset = reset_of(stream)
        body = reset.json()
        assert body["requestedLastEventId"] == raw.encode().decode("latin-1")[:64]


@pytest.mark.parametrize("query", ["cashier:%C2%B2", "%C2%B2", "9" * 5000, "cashier%3Agarbage", "%00"])
def test_a_malformed_last_event_id_in_the_query_is_a_stream_reset(shared_daphne, transactional_db, query):
    user = make_user("quentin", Role.OPERATOR)
    with SSEStream(f"{shared_daphne.url}/events/cashier?lastEventId={query}", headers=bearer(user)) as stream:
        assert stream.status_code == 200
        reset_of(stream)


@pytest.mark.heavy
def test_bad_inputs_then_fifteen_hundred_streams_leave_the_server_serving_at_a_flat_size(daphne, operator):
    server = daphne()
    pid = server.process.pid
    headers = bearer(operator)

    def open_and_close(extra: dict | None = None, path: str = "/events/cashier") -> bytes:
        sock, received = open_stream(server.port, path, {**headers, **(extra or {})})
        sock.close()
        return received

    for raw in BAD_LAST_EVENT_IDS:
        assert b"stream-reset" in open_and_close({"Last-Event-ID": raw.encode()}) or raw == ""
    assert b"stream-reset" in open_and_close(path="/events/cashier?lastEventId=cashier:%C2%B2")
    assert b"stream-reset" in open_and_close(path="/events/cashier?lastEventId=" + "7" * 5000)

    def fifteen_hundred() -> None:
        for n in range(1500):
            received = open_and_close({"Last-Event-ID": "cashier:²"} if n % 3 == 0 else None)
            assert status_of(received) == 200, received[:300]

    # A first round warms up (imports, caches, the hub) and takes the
    # allocator to the high-water mark of this rhythm of openings and
    # hang-ups; a server that leaks per connection (a broken cleanup loop:
    # about 12 KB each) grows again in the second.
    fifteen_hundred()
    before = settled_rss_kib(pid, tolerance_kib=256, rounds=20)
    fifteen_hundred()
    after = settled_rss_kib(pid, tolerance_kib=256, rounds=20)
    print(f"\nserver RSS {before} KiB -> {after} KiB after another 1,500 streams")
    assert abs(after - before) < 15 * 1024
    # And it still serves everyone.
    with SSEStream(server.url + "/events/printer", headers=headers) as stream:
        assert stream.next().is_position


def test_a_user_holds_at_most_the_configured_number_of_streams_then_gets_a_json_429(daphne, operator):
    server = daphne(EVENTS_MAX_STREAMS_PER_USER="3")
    other = make_user("otto", Role.ADMIN)
    held = [
        open_stream(server.port, f"/events/{channel}", bearer(operator))
        for channel in ("cashier", "printer", "display")
    ]
    try:
        assert [status_of(received) for _, received in held] == [200, 200, 200]
        refused = httpx.get(server.url + "/events/cashier", headers=bearer(operator), timeout=10)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/json"
        assert set(refused.json()) == {"message"}
        # Another user is not affected.
        with SSEStream(server.url + "/events/cashier", headers=bearer(other)) as stream:
            assert stream.status_code == 200
        # Closing one stream frees its place (once the server has seen it go).
        held.pop()[0].close()
        for _ in range(100):
            sock, received = open_stream(server.port, "/events/cashier", bearer(operator))
            if status_of(received) == 200:
                held.append((sock, received))
                break
            sock.close()
            asyncio.run(asyncio.sleep(0.05))
        else:
            pytest.fail("the closed stream's place was never freed")
    finally:
        for sock, _ in held:
            sock.close()


def test_an_error_inside_a_started_stream_ends_the_response_instead_of_escaping(transactional_db, operator):
    """A real failure after the stream started (the event log's table is gone
    while a Last-Event-ID is replayed), served in-process: the error is
    logged and the response ends with a last empty body."""
    from django.db import connection
    from django_eventstream.models import Event as StoredEvent

    from events.outbox.publisher import publish
    from events.transport.hub import stop_hub
    from events.transport.stream import events_app

    table = StoredEvent._meta.db_table
    publish("cashier", "new-order", {"n": 1})  # the client, at cashier:0, has one event to replay
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        await asyncio.sleep(3600)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/events/cashier",
        "query_string": b"lastEventId=cashier:0",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", bearer(operator)["Authorization"].encode())],
    }

    async def serve():
        try:
            await events_app(scope, receive, send)
        finally:
            await stop_hub()

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        asyncio.run(serve())
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    # The headers went out, then reading the log for the replay failed:
    # nothing but the end follows.
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
