"""The floor: a minimal Server-Sent Events broadcaster on bare asyncio
streams, no framework, no database, no authentication.

    python bench/raw_broadcaster.py --port 8123 [--keepalive 15]

GET /sub            a stream: `stream-open`, then every published event
POST /publish?size= one ~size-byte `confirmed-order` event to every stream,
                    written to each socket before the response is sent
GET /health         200

Keep-alives follow the project's policy (events/transport/hub.py `Hub._ticker`): ticks
every min(1 s, interval / 4) on a fixed rhythm, a stream due once silent for
the interval minus one tick; the gaps then compare implementations.

It speaks HTTP/1.1 with chunked bodies, like Daphne does for the real
endpoint, so the client parses the same framing from both. Binds 127.0.0.1
only; stops on SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
from urllib.parse import parse_qs, urlsplit

STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"connection: keep-alive\r\nx-accel-buffering: no\r\ntransfer-encoding: chunked\r\n\r\n"
)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


KEEPALIVE_CHUNK = chunk(b": keep-alive\n\n")


def payload_of_size(seq: int, size: int) -> str:
    base = json.dumps({"id": seq, "pad": ""})
    return json.dumps({"id": seq, "pad": "x" * max(0, size - len(base))})


class Broadcaster:
    def __init__(self, keepalive: float):
        self.streams: dict[asyncio.StreamWriter, float] = {}  # writer -> last write (loop time)
        self.keepalive = keepalive
        self.seq = 0

    def publish(self, size: int) -> int:
        self.seq += 1
        data = chunk(
            f"event: confirmed-order\nid: raw:{self.seq}\ndata: {payload_of_size(self.seq, size)}\n\n".encode()
        )
        now = asyncio.get_running_loop().time()
        for writer in self.streams:
            writer.write(data)
            self.streams[writer] = now
        return self.seq

    async def ticker(self) -> None:
        loop = asyncio.get_running_loop()
        tick = min(1.0, self.keepalive / 4)
        due_after = self.keepalive - tick
        next_tick = loop.time() + tick
        while True:
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            now = loop.time()
            next_tick = max(next_tick + tick, now)
            for writer, last in self.streams.items():
                if now - last >= due_after:
                    writer.write(KEEPALIVE_CHUNK)
                    self.streams[writer] = now

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                method, target, _ = request_line.decode("latin-1").split(" ", 2)
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                url = urlsplit(target)
                if method == "GET" and url.path == "/sub":
                    await self.stream(reader, writer)
                    return
                if method == "POST" and url.path == "/publish":
                    size = int(parse_qs(url.query).get("size", ["1024"])[0])
                    body = json.dumps({"id": self.publish(size)}).encode()
                else:
                    body = b'{"ok": true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(body), body)
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.streams.pop(writer, None)
            writer.close()

    async def stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(STREAM_HEAD + chunk(b"event: stream-open\ndata:\n\n"))
        self.streams[writer] = asyncio.get_running_loop().time()
        await reader.read()  # until the client goes away


async def main(port: int, keepalive: float) -> None:
    broadcaster = Broadcaster(keepalive)
    server = await asyncio.start_server(broadcaster.handle, "127.0.0.1", port, backlog=2048)
    ticker = asyncio.create_task(broadcaster.ticker())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    ticker.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keepalive", type=float, default=15.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(args.port, args.keepalive))
