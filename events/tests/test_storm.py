"""A reconnect storm in the suite: 300 clients, each with its own token, open
their streams at once, then all of them again with the Last-Event-ID they
were given (what EventSource does after a blip); through Pushpin and
straight to one Daphne. Every opening must be a 200 stream with its first
message: a 502 would leave a screen dark, as EventSource does not retry
after it. The figures of larger storms come from bench/storm.py."""

from __future__ import annotations

import asyncio
import re

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from conftest import make_user
from events.tests.rawstream import request_bytes
from events.tests.test_pushpin import behind_pushpin, pushpin  # noqa: F401  (fixtures)
from printeragent.sse import frames
from users.models import Role

pytestmark = pytest.mark.heavy

CLIENTS = 300


async def open_one(port: int, headers: dict[str, str], timeout: float) -> tuple[str, str, asyncio.StreamWriter]:
    """(the status or the failure, the first message's id, the connection)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    writer.write(request_bytes(port, "/events/cashier", headers))
    received = b""
    while True:
        head, _, body = received.partition(b"\r\n\r\n")
        if head and not head.startswith(b"HTTP/1.1 200"):
            return head.split(b" ", 2)[1].decode(), "", writer
        if found := frames(body):  # chunk-size lines read as unknown fields, ignored
            return "200", next((frame.id for frame in found if frame.id), ""), writer
        chunk = await asyncio.wait_for(reader.read(65536), timeout)
        if not chunk:
            return "closed", "", writer
        received += chunk


async def storm(port: int, tokens: list[str], last_ids: list[str] | None, timeout: float = 60.0):
    """Everyone at once; every stream is held until the last one has opened."""

    async def client(n: int):
        headers = {"Authorization": f"Bearer {tokens[n]}"}
        if last_ids is not None:
            headers["Last-Event-ID"] = last_ids[n]
        try:
            return await open_one(port, headers, timeout)
        except (TimeoutError, OSError) as exc:
            return type(exc).__name__, "", None

    results = await asyncio.gather(*(client(n) for n in range(len(tokens))))
    for _, _, writer in results:
        if writer is not None:
            writer.close()
    return [(outcome, last_id) for outcome, last_id, _ in results]


def assert_everyone_got_a_stream(results) -> None:
    outcomes = {}
    for outcome, _ in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert outcomes == {"200": CLIENTS}, outcomes
    assert all(re.fullmatch(r"cashier:\d+", last_id) for _, last_id in results)


@pytest.fixture
def tokens(transactional_db):
    cashiers = [make_user(f"storm{n}", Role.OPERATOR) for n in range(CLIENTS // 25)]
    return [str(AccessToken.for_user(cashiers[n % len(cashiers)])) for n in range(CLIENTS)]


def test_a_storm_straight_to_one_worker_gets_everyone_a_stream_twice(daphne, tokens):
    server = daphne()
    first = asyncio.run(storm(server.port, tokens, None))
    assert_everyone_got_a_stream(first)
    again = asyncio.run(storm(server.port, tokens, [last_id for _, last_id in first]))
    assert_everyone_got_a_stream(again)


def test_a_storm_through_pushpin_gets_everyone_a_stream_twice(
    behind_pushpin,  # noqa: F811  (the fixtures of test_pushpin.py)
    pushpin,  # noqa: F811
    tokens,
):
    behind_pushpin()
    first = asyncio.run(storm(pushpin.http_port, tokens, None))
    assert_everyone_got_a_stream(first)
    again = asyncio.run(storm(pushpin.http_port, tokens, [last_id for _, last_id in first]))
    assert_everyone_got_a_stream(again)
