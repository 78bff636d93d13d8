"""One load-generator process of bench/storm.py: its share of a reconnect
storm. Each client opens `GET PATH` with its own credential at its scheduled
moment (no gate, no retry: a storm), and the process records, per client,
how the opening ended (the HTTP status; or the connection refused, reset or
closed before an answer; or no answer in time) and when its first SSE
message arrived. Then it holds every stream it got until told to close.
While it waits for the event the parent announces, a stream that ends is
opened again as a browser's EventSource does (after 3 s, with its
Last-Event-ID), so that "heard" counts the screens the event reached.

    python bench/storm_client.py --port P --path /events/cashier --tokens FILE \
        --share 0/4 --clients 10000 --over 1.0 --start MONOTONIC

Commands, one JSON object a line on stdin (answered by one line on stdout):
{"op": "result"} (waits until every client of the share has an outcome or
the deadline passed) · {"op": "listen"} (the parent is about to publish an
event) · {"op": "heard", "timeout": s} (when each open stream got it) ·
{"op": "close"}. The process exits when stdin closes.
Times are time.monotonic(), which every process on the machine shares.

Why processes: one process may hold RLIMIT_NOFILE sockets at most, and ten
thousand openings in one second want more than one client core. The storm's
schedule is global (client i opens at start + i/N × over), and share k/P is
the clients i ≡ k (mod P), so P processes together make one even storm."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import raise_nofile  # noqa: E402
from printeragent.sse import Reader  # noqa: E402

HOST = "127.0.0.1"
monotonic = time.monotonic
# A browser's EventSource waits this long before it reconnects a stream that
# ended (our streams send no `retry:`; 3 s is Chromium's and Firefox's default).
RECONNECT_SECONDS = 3.0
# A stream's response ends with the last chunk of its chunked body, whether
# or not the connection closes (Pushpin keeps it open for the next request).
LAST_CHUNK = b"\r\n0\r\n\r\n"
TAIL = len(LAST_CHUNK) - 1


def response_head(head: bytearray) -> tuple[int, int] | None:
    """The status of a response whose head is complete in `head`, and where
    its body starts; None while the head is still coming."""
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    return int(bytes(head[: head.find(b"\r\n")]).split(None, 2)[1]), end + 4


def watch_body(protocol, opening, data: bytes) -> None:
    """A stream's body after its opening (an Opening's or a Reconnection's):
    an event is heard for `opening`; the end of the response closes the
    connection, as a browser does. The last chunk may straddle two reads,
    so the previous read's tail is kept."""
    if b"event: " in data:
        opening.hear()
    if LAST_CHUNK in protocol.tail + data:
        protocol.transport.close()
    protocol.tail = data[-TAIL:]


class Opening(asyncio.Protocol):
    """One client's stream: its outcome and its first message's arrival."""

    __slots__ = (
        "share",
        "request",
        "transport",
        "head",
        "status",
        "outcome",
        "first",
        "last_id",
        "done",
        "event_at",
        "reconnects",
        "client",
        "tail",
        "reader",
    )

    def __init__(self, share: Share, request: bytes, client: int):
        self.share = share
        self.request = request
        self.client = client  # its number in the whole storm
        self.tail = b""  # the end of what came last (watch_body)
        self.reader = Reader()  # the opening's body, up to its first frame
        self.transport = None
        self.head = bytearray()
        self.status = 0
        self.outcome = ""  # "200", "502", …, "refused", "reset", "closed", "timeout"
        self.first = 0.0
        self.last_id = ""
        self.done = False
        self.event_at = 0.0  # when the first event after the opening arrived
        self.reconnects = 0  # EventSource-like reconnections while waiting for the event

    def finish(self, outcome: str) -> None:
        if not self.done:
            self.done = True
            self.outcome = outcome
            self.share.finished()

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        self.transport = None
        if not self.done:
            self.finish("reset" if exc else "closed")
        elif self.first:
            self.share.stream_ended(self)

    def hear(self) -> None:
        if not self.event_at:
            self.event_at = monotonic()
            self.share.heard()

    def data_received(self, data: bytes) -> None:
        if self.done:
            # After the opening: note the first event (a keep-alive is a
            # comment, the opening an id-only message; chunk framing aside,
            # an event is the only thing with an `event:` line).
            watch_body(self, self, data)
            return
        self.head += data
        if not self.status:
            if (parsed := response_head(self.head)) is None:
                return
            self.status, body = parsed
            if self.status != 200:
                self.share.note_refusal(self.status, bytes(self.head[body : body + 120]))
                self.finish(str(self.status))
                self.transport.close()
                return
            del self.head[:body]
        # The first SSE frame, read with the project's one SSE reader
        # (printeragent/sse.py; httpx-sse's client would want a task and an
        # httpx response per stream, too dear at ten thousand). The body is
        # not de-chunked: a chunk-size line reads as an unknown field, which
        # the reader ignores, and the server writes each message in one chunk.
        found = self.reader.feed(bytes(self.head))
        self.head = bytearray()
        if found:
            self.first = monotonic()
            self.last_id = next((frame.id for frame in found if frame.id), "")
            self.reader = None
            self.finish("200")


class Reconnection(asyncio.Protocol):
    """What a browser's EventSource does when a stream it had ends: it opens
    it again, with the Last-Event-ID it was given, after its retry delay. The
    missed event comes in the replay. A non-200 answer ends it for good (as
    in a browser); a reconnection that ends is made again."""

    def __init__(self, opening: Opening):
        self.opening = opening
        self.head = bytearray()
        self.status = 0
        self.transport = None
        self.tail = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.status:
            watch_body(self, self.opening, data)
            return
        self.head += data
        if (parsed := response_head(self.head)) is None:
            return
        self.status, body = parsed
        if self.status != 200:
            self.opening.share.lost += 1
            self.transport.close()
            return
        watch_body(self, self.opening, bytes(self.head[body:]))

    def connection_lost(self, exc) -> None:
        if self.status == 200:
            self.opening.share.stream_ended(self.opening)


class Share:
    def __init__(self, clients: int):
        self.clients = clients
        self.outcomes = 0
        self.all_done = asyncio.Event()
        self.openings: list[Opening] = []
        self.scheduled: list[float] = []
        self.refusals: dict[str, str] = {}  # a refusal's status -> the start of one body
        self.events_heard = 0
        self.listening = 0  # streams open when the event was announced
        self.all_heard = asyncio.Event()
        # While waiting for the event, a stream that ends is reconnected as
        # EventSource does (`reconnect`): how many reconnections were answered
        # other than 200 (EventSource gives up), and the connections to close.
        self.waiting = False
        self.lost = 0
        self.reconnections: list[asyncio.Transport] = []
        self.reconnect: Callable[[Opening], None] | None = None

    def stream_ended(self, opening: Opening) -> None:
        if self.waiting and not opening.event_at and self.reconnect is not None:
            opening.reconnects += 1
            asyncio.get_running_loop().call_later(RECONNECT_SECONDS, self.reconnect, opening)

    def heard(self) -> None:
        self.events_heard += 1
        if self.events_heard >= self.listening:
            self.all_heard.set()

    def note_refusal(self, status: int, body: bytes) -> None:
        self.refusals.setdefault(str(status), body.decode("latin-1"))

    def finished(self) -> None:
        self.outcomes += 1
        if self.outcomes >= self.clients:
            self.all_done.set()


def request_for(path: str, port: int, token: str, last_id: str | None) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Accept: text/event-stream",
        "Cache-Control: no-cache",
        f"Authorization: Bearer {token}",
    ]
    if last_id:
        lines.append(f"Last-Event-ID: {last_id}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def storm(args, tokens: list[str], last_ids: dict[int, str], deadline: float) -> Share:
    loop = asyncio.get_running_loop()
    index, count = (int(n) for n in args.share.split("/"))
    mine = list(range(index, args.clients, count))
    share = Share(len(mine))

    async def open_one(client: int) -> None:
        opening = Opening(
            share, request_for(args.path, args.port, tokens[client % len(tokens)], last_ids.get(client)), client
        )
        share.openings.append(opening)
        try:
            # A connection the server's backlog dropped is retried by the
            # kernel (1, 3, 7 … s): bounded by the storm's deadline.
            await asyncio.wait_for(loop.create_connection(lambda: opening, HOST, args.port), deadline - monotonic())
        except TimeoutError:
            opening.finish("timeout")
        except ConnectionRefusedError:
            opening.finish("refused")
        except OSError as exc:
            opening.finish(f"connect error {exc.errno}")

    def reconnect(opening: Opening) -> None:
        if not share.waiting:
            return
        request = request_for(args.path, args.port, tokens[opening.client % len(tokens)], opening.last_id)

        async def connect() -> None:
            try:
                transport, _ = await asyncio.wait_for(
                    loop.create_connection(lambda: Reconnection(opening), HOST, args.port), 30
                )
            except (OSError, TimeoutError):
                share.stream_ended(opening)  # EventSource retries a failed connection
                return
            share.reconnections.append(transport)
            transport.write(request)

        asyncio.ensure_future(connect())

    share.reconnect = reconnect
    tasks = []
    for client in mine:
        at = args.start + client / args.clients * args.over
        delay = at - monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        share.scheduled.append(at)
        tasks.append(asyncio.ensure_future(open_one(client)))
    await asyncio.gather(*tasks)
    return share


def result(share: Share, deadline: float) -> dict:
    for opening in share.openings:
        if not opening.done:
            opening.outcome, opening.done = "timeout", True
    outcomes: dict[str, int] = {}
    for opening in share.openings:
        outcomes[opening.outcome] = outcomes.get(opening.outcome, 0) + 1
    return {
        "clients": share.clients,
        "outcomes": outcomes,
        # Per client that got its stream: scheduled moment, first message.
        "opened": [[at, o.first] for at, o in zip(share.scheduled, share.openings, strict=True) if o.first],
        "last_ids": {str(o.client): o.last_id for o in share.openings if o.last_id},
        "refusals": share.refusals,
        "cpu": sum(os.times()[:2]),
        "deadline_passed": monotonic() > deadline,
    }


async def serve(args) -> None:
    tokens = Path(args.tokens).read_text().split()
    last_ids = {int(k): v for k, v in json.loads(Path(args.last_ids).read_text()).items()} if args.last_ids else {}
    deadline = args.start + args.over + args.timeout
    share = await storm(args, tokens, last_ids, deadline)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(payload: dict) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while line := await reader.readline():
        op = json.loads(line)["op"]
        if op == "result":
            try:
                await asyncio.wait_for(share.all_done.wait(), max(0.0, deadline - monotonic()))
            except TimeoutError:
                pass
            answer(result(share, deadline))
        elif op == "listen":
            # The parent is about to publish one event: every open stream
            # should get it. Answered with when each got it.
            share.listening = sum(1 for o in share.openings if o.first and o.transport is not None)
            share.waiting = True
            if share.events_heard >= share.listening:
                share.all_heard.set()
            answer({"listening": share.listening})
        elif op == "heard":
            try:
                await asyncio.wait_for(share.all_heard.wait(), json.loads(line).get("timeout", 60.0))
            except TimeoutError:
                pass
            share.waiting = False
            answer(
                {
                    "heard": [o.event_at for o in share.openings if o.event_at],
                    "heard_after_reconnecting": sum(1 for o in share.openings if o.event_at and o.reconnects),
                    "ended": sum(1 for o in share.openings if o.reconnects),
                    "reconnections": sum(o.reconnects for o in share.openings),
                    "lost": share.lost,
                    "listening": share.listening,
                }
            )
        elif op == "close":
            share.waiting = False
            for opening in share.openings:
                if opening.transport is not None:
                    opening.transport.close()
            for transport in share.reconnections:
                transport.close()
            answer({"closed": True})
            return
        else:
            answer({"error": f"unknown op {op!r}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--tokens", required=True, help="a file of Bearer tokens, one per client (cycled)")
    parser.add_argument("--share", required=True, help="k/P: the clients i with i %% P == k")
    parser.add_argument("--clients", type=int, required=True, help="the storm's clients, all shares together")
    parser.add_argument("--over", type=float, default=1.0, help="seconds over which the clients open")
    parser.add_argument("--start", type=float, required=True, help="time.monotonic() of the first opening")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds after the storm for every outcome")
    parser.add_argument("--last-ids", default="", help='a JSON file {"client number": "Last-Event-ID"}')
    args = parser.parse_args()
    raise_nofile()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
