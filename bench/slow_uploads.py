"""Slow uploads against one worker: the descriptors they hold, and whether
the API still answers meanwhile.

    python bench/slow_uploads.py            # N = 2,000: about 4 minutes
    python bench/slow_uploads.py --quick    # N = 200: a smoke run, as long

The attack: N unauthenticated `POST /v1/orders` announcing a body of
1,000,000 bytes (so Twisted keeps it in a temporary file: a socket and a
file each), sending its headers and then one byte every BYTE_EVERY seconds; when the
server closes on it, it comes back RETURN_AFTER seconds later. Two
scenarios: all N from the one address 127.0.0.1, and N spread over N / 20
loopback addresses (127.0.1.x, 20 each: within the default per-address cap,
so only the deadlines act). Each is made on `python -m config.serve` (ours)
and on plain `daphne` (no body limits: how the worker ran before), each on a
fresh server with the default settings, one after the other.

Printed per run: the descriptors open in the worker (/proc/PID/fd) before,
at their peak, on average (a sample a second) and at the end of the attack
(`hold`, 45 s), what the
uploads were answered over that time (408, 429, closed without an answer),
how many are open at the end, and the median time of 20 `GET
/v1/categories` one at a time before the attack, and the median of three
such medians from 5 s into it. Nothing asserts."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import procs  # noqa: E402
from bench.common import World, answers, hold_port, log  # noqa: E402

ANNOUNCED = 1_000_000
BYTE_EVERY = 10.0
RETURN_AFTER = 5.0
PER_ADDRESS = 20


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Upload:
    """One slow uploader: it comes back RETURN_AFTER seconds after the
    server closes on it, until the attack stops; counts what it was
    answered."""

    def __init__(self, source: str):
        self.source = source
        self.answers: dict[int | None, int] = {}
        self.open = False
        self.failed = 0

    async def run(self, port: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            status = await self.once(port, stop)
            if stop.is_set():
                return
            self.answers[status] = self.answers.get(status, 0) + 1
            await asyncio.sleep(RETURN_AFTER)

    async def once(self, port: int, stop: asyncio.Event) -> int | None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port, local_addr=(self.source, 0)), 20
            )
        except (OSError, TimeoutError):
            self.failed += 1
            return None
        writer.write(
            (
                f"POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {ANNOUNCED}\r\n\r\n{{"
            ).encode()
        )
        self.open = True
        reading = asyncio.ensure_future(reader.read(65536))
        try:
            while not stop.is_set():
                done, _ = await asyncio.wait({reading}, timeout=BYTE_EVERY)
                if done:
                    head = reading.result()
                    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
                writer.write(b" ")
            return None
        except OSError:
            return None
        finally:
            self.open = False
            reading.cancel()
            writer.close()


async def api_median_ms(port: int, count: int = 20) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /v1/categories HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        await reader.read()
        writer.close()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def answered_by(uploads: list[Upload]) -> dict[str, int]:
    total: dict[str, int] = {}
    for upload in uploads:
        for status, count in upload.answers.items():
            key = str(status) if status is not None else "closed"
            total[key] = total.get(key, 0) + count
    return dict(sorted(total.items()))


async def attack(world: World, kind: str, sources: list[str], hold: float) -> dict:
    held = hold_port()  # bound beside the hold by the server started on it (scripts/ports.py)
    port = held.port
    app = "config.asgi:application"
    cmd = [procs.PYTHON, "-m", "config.serve" if kind == "ours" else "daphne", "-b", "127.0.0.1", "-p", str(port), app]
    process = procs.start(
        cmd, env=world.env(world.sqlite_url(world.tmp / "db.sqlite3")), log_path=world.tmp / f"{kind}.log"
    )
    try:
        if not await answers(process, port, "/v1/categories", (200,), 40, pause=0.2):
            raise RuntimeError(f"{kind} did not start")
        await api_median_ms(port, 5)  # warm-up
        result = {"before_fd": descriptors(process.pid), "api_before_ms": await api_median_ms(port)}
        stop = asyncio.Event()
        uploads = [Upload(source) for source in sources]
        gate = asyncio.Semaphore(200)

        async def start(upload: Upload) -> None:
            async with gate:
                task = asyncio.ensure_future(upload.run(port, stop))
                await asyncio.sleep(0.002)
            await task

        started = time.monotonic()
        tasks = [asyncio.ensure_future(start(upload)) for upload in uploads]
        peak, api_during = 0, []
        samples = []
        while time.monotonic() - started < hold:
            await asyncio.sleep(1)
            count = descriptors(process.pid)
            peak = max(peak, count)
            samples.append((round(time.monotonic() - started), count))
            if len(api_during) < 3 and time.monotonic() - started > 5:
                api_during.append(await api_median_ms(port))
        result.update(
            peak_fd=peak,
            end_fd=descriptors(process.pid),
            mean_fd=statistics.mean(count for _, count in samples),
            samples=samples,
            api_during_ms=statistics.median(api_during) if api_during else None,
            answered=answered_by(uploads),
            still_open=sum(1 for u in uploads if u.open),
            connect_failed=sum(u.failed for u in uploads),
        )
        stop.set()
        await asyncio.wait(tasks, timeout=BYTE_EVERY + 5)
        return result
    finally:
        procs.stop(process)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    n, hold = (200, 45.0) if args.quick else (2000, 45.0)
    procs.raise_nofile()
    world = World(keep=args.keep)
    try:
        world.prepare_database(world.sqlite_url(world.tmp / "db.sqlite3"))
        scenarios = {
            "one address": ["127.0.0.1"] * n,
            f"{n // PER_ADDRESS} addresses": [f"127.0.1.{1 + i // PER_ADDRESS}" for i in range(n)],
        }
        results = {}
        for scenario, sources in scenarios.items():
            for kind in ("ours", "daphne"):
                log(f"{kind}: {n} slow uploads from {scenario}, for {hold:.0f} s")
                results[scenario, kind] = asyncio.run(attack(world, kind, sources, hold))
                log(f"{kind}: {results[scenario, kind]}")
        print()
        print(
            f"{n} slow uploads (1,000,000 bytes announced, a byte every {BYTE_EVERY:.0f} s, back {RETURN_AFTER:.0f} s"
        )
        print(
            f"after a close), for {hold:.0f} s; ours = python -m config.serve, daphne = plain daphne; default settings"
        )
        print(
            "| from | server | fds before | fds peak | fds mean | fds at the end | answered | open at the end "
            "| API median before / during |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for (scenario, kind), r in results.items():
            answered = ", ".join(f"{status}: {count}" for status, count in r["answered"].items()) or "none"
            print(
                f"| {scenario} | {kind} | {r['before_fd']} | {r['peak_fd']} | {r['mean_fd']:.0f} | {r['end_fd']} "
                f"| {answered} | {r['still_open']} | {r['api_before_ms']:.1f} / {r['api_during_ms']:.1f} ms |"
            )
        summary = []
        for scenario in scenarios:
            ours, stock = results[scenario, "ours"], results[scenario, "daphne"]
            summary.append(
                f"{scenario}: peak fds ours {ours['peak_fd']} vs daphne {stock['peak_fd']}, "
                f"mean {ours['mean_fd']:.0f} vs {stock['mean_fd']:.0f}"
            )
        print("summary: " + "; ".join(summary))
        return 0
    finally:
        procs.stop_all()
        world.cleanup()


if __name__ == "__main__":
    sys.exit(main())
