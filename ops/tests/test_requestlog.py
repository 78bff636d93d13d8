"""Log lines: LOG_FORMAT=json makes each one a JSON object with the request
id; one access line per request, no secret in it, no traceback for an
expected refusal; the request id comes from the balancer when sane, goes
back in the response, and follows the request into threads and tasks."""

import asyncio
import json
import logging
import re
import time

import httpx
import pytest
from asgiref.sync import sync_to_async

from conftest import bearer
from ops.logformat import RequestIdFilter, request_id, text_formatter
from ops.requestlog import RequestLog, incoming_request_id, masked_query
from testsupport.sse import SSEStream


def log_lines(server, expected: int, timeout: float = 10.0) -> list[dict]:
    """The server's JSON log lines, once at least `expected` access lines
    are written (each after its response has ended)."""
    deadline = time.monotonic() + timeout
    while True:
        text = server.log_path.read_text()
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        if sum(1 for line in lines if line["logger"] == "access") >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_with_log_format_json_every_line_is_an_object_and_each_request_one_access_line(daphne, waiter):
    server = daphne(LOG_FORMAT="json")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answers = [
            client.get("/v1/categories", headers={"X-Request-ID": "lb-42"}),
            client.get("/v1/orders"),  # 401
            client.post("/v1/categories", json={"name": "Soups"}, headers=bearer(waiter)),  # 403
            client.post("/admin/login/", data={"username": "x"}),  # 403: no CSRF token
            client.get("/v1/nothing-here"),  # 404
            client.get("/v1/categories?token=SECRET-IN-QUERY", headers={"X-Request-ID": "bad id with spaces"}),
        ]
    assert [answer.status_code for answer in answers] == [200, 401, 403, 403, 404, 200]
    assert answers[0].headers["X-Request-ID"] == "lb-42"
    made = answers[5].headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made), "an insane request id is replaced"

    lines = log_lines(server, expected=6 + 1)  # and the server's own readiness poll
    for line in lines:
        assert {"timestamp", "level", "logger", "message", "request_id"} <= set(line), line
        assert "exc_info" not in line, line
    for answer in answers:
        rid = answer.headers["X-Request-ID"]
        mine = [line for line in lines if line["request_id"] == rid]
        assert [line["logger"] for line in mine] == ["access"], mine
        access = mine[0]
        assert access["status"] == answer.status_code
        assert access["method"] == answer.request.method
        assert access["path"] == answer.request.url.path + ("?token=*" if answer.request.url.query else "")
        assert access["client"] == "127.0.0.1"
        assert access["duration_ms"] >= 0
    assert next(line for line in lines if line["request_id"] == answers[2].headers["X-Request-ID"])["user"] == "walt"
    assert "SECRET-IN-QUERY" not in server.log_path.read_text()
    assert "Traceback" not in server.log_path.read_text()


def test_by_default_a_line_reads_timestamp_level_logger_and_message(daphne):
    server = daphne()
    rid = httpx.get(server.url + "/v1/categories", timeout=10).headers["X-Request-ID"]
    deadline = time.monotonic() + 10
    while rid not in server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    line = next(line for line in server.log_path.read_text().splitlines() if rid in line)
    assert re.fullmatch(
        rf'\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} INFO access \[{rid}\] "GET /v1/categories" 200 [\d.]+ms 127\.0\.0\.1 -',
        line,
    ), line


def test_a_stream_carries_its_request_id_and_is_one_access_line_once_it_ends(daphne, operator):
    """A stream is a request that lasts: its response starts with the
    X-Request-ID, its access line (and its count in /metrics) comes when it
    ends, with who held it."""
    server = daphne(LOG_FORMAT="json")
    with SSEStream(
        f"{server.url}/events/cashier?events=new-order", headers={**bearer(operator), "X-Request-ID": "stream-27"}
    ) as stream:
        assert stream.status_code == 200 and stream.headers["X-Request-ID"] == "stream-27"
        assert stream.next().is_position
        httpx.get(server.url + "/v1/categories", timeout=10)  # a line written while the stream is open
        lines = log_lines(server, expected=1 + 1)  # and the readiness poll
        assert not [line for line in lines if line["request_id"] == "stream-27"], "no line before the stream ends"

    deadline = time.monotonic() + 20
    while not (mine := [line for line in log_lines(server, 3) if line["request_id"] == "stream-27"]):
        assert time.monotonic() < deadline, "the stream's access line never came"
        time.sleep(0.2)
    assert len(mine) == 1 and mine[0]["logger"] == "access", mine
    access = mine[0]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/events/cashier?events=*", 200)
    assert (access["client"], access["user"], access["view"]) == ("127.0.0.1", "olga", "events")
    assert access["duration_ms"] > 0
    scraped = httpx.get(server.url + "/metrics", timeout=10).text
    assert re.search(r'ordering_http_request_duration_seconds_count\{status="200",view="events"\} 1\.0', scraped), (
        scraped
    )


def test_an_application_that_fails_or_is_cancelled_is_still_one_access_line(caplog):
    """Whatever way the application ends (an exception, or its task
    cancelled when the client goes), the access line is written in the
    request's context, and the request id is unset afterwards."""

    async def failing(scope, receive, send):
        raise RuntimeError("boom")

    async def streaming(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(3600)

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        pass

    def scope(rid: bytes) -> dict:
        return {"type": "http", "method": "GET", "path": "/events/printer", "headers": [(b"x-request-id", rid)]}

    async def run():
        with pytest.raises(RuntimeError):
            await RequestLog(failing)(scope(b"rid-failed"), receive, send)
        assert request_id.get() == "-"
        task = asyncio.get_running_loop().create_task(RequestLog(streaming)(scope(b"rid-cancelled"), receive, send))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        asyncio.run(run())
    lines = [(record.request_id, record.status) for record in caplog.records if record.name == "access"]
    assert lines == [("rid-failed", 500), ("rid-cancelled", 200)]


@pytest.mark.parametrize(
    ("header", "kept"),
    [("abc-123", True), ("a" * 128, True), ("a" * 129, False), ("x\ny", False), ("", False), ("<script>", False)],
)
def test_only_a_sane_request_id_is_taken(header, kept):
    made = incoming_request_id([(b"x-request-id", header.encode())])
    assert (made == header) is kept


def test_the_request_id_follows_the_request_into_its_threads_and_tasks(caplog):
    """What a stream does: log from the request's coroutine, from a task it
    starts and from a worker thread; every line carries the request id."""
    logger = logging.getLogger("events.test")

    async def app(scope, receive, send):
        logger.warning("in the coroutine")
        await asyncio.get_running_loop().create_task(_in_task())
        await sync_to_async(logger.warning)("in a thread")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _in_task():
        logger.warning("in a task")

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/events/cashier", "headers": [(b"x-request-id", b"rid-7")]}
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        asyncio.run(RequestLog(app)(scope, receive, send))

    ours = [record for record in caplog.records if record.name == "events.test"]
    assert [record.request_id for record in ours] == ["rid-7"] * 3
    assert (b"x-request-id", b"rid-7") in sent[0]["headers"]
    access = next(record for record in caplog.records if record.name == "access")
    assert access.request_id == "rid-7" and access.status == 200 and access.view == "events"
    assert "rid-7" in text_formatter().format(access)


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        (b"", ""),
        (b"token=abc.def", "?token=*"),
        (b"recover=signed&events=new-order", "?recover=*&events=*"),
        (b"%3Cscript%3E=1", "??=*"),
    ],
)
def test_the_access_line_names_query_parameters_never_their_values(query, shown):
    assert masked_query(query) == shown
