"""Phases 1 and 5 of `make bench`: fan-out latency to N subscribers of
/events/printer (a confirmation, against stock django-eventstream, the
Daphne floor and raw asyncio in rotating order), then the replay of 1,000
stored events to a client back with a Last-Event-ID.

Invariant: in every round each system is measured once, back to back with
the others, so a ratio compares two figures of the same machine state; a
failed trial is a NaN, counted and left out, never a number."""

from __future__ import annotations

import asyncio

from bench import procs
from bench.client import Fleet, HttpConn, replay_once
from bench.common import (
    SYSTEMS,
    TRIGGER_PATHS,
    Api,
    Profile,
    Server,
    World,
    clean,
    event_head,
    log,
)
from bench.report import BASES, StreamsTable, paired_ratio
from bench.stats import fmt, fmt_summary, percentile, summary


async def timed_fan_out(fleet: Fleet, server: Server, trigger) -> dict:
    """One fan-out, with the server's CPU time over it (request and delivery;
    /proc ticks are 10 ms, so only an average over trials means much)."""
    cpu = procs.cpu_seconds(server.pid)
    t = await fleet.fan_out(trigger)
    t["cpu_ms"] = (procs.cpu_seconds(server.pid) - cpu) * 1000
    return t


FANOUT_METRICS = ("after_response", "spread", "after_request", "response_ms")


async def phase_fanout_and_replay(world: World, profile: Profile, results: dict, deadline: float) -> None:
    servers = {
        "ours": Server(world, "ours", database_url=world.sqlite_url(world.sqlite_ours), db_path=world.sqlite_ours),
        "stock": Server(world, "stock", database_url=world.sqlite_url(world.sqlite_stock), db_path=world.sqlite_stock),
        "floor": Server(world, "floor"),
        "raw": Server(world, "raw"),
    }
    fleets: dict[str, Fleet] = {}
    conns: dict[str, HttpConn] = {}
    try:
        await asyncio.gather(*(server.start() for server in servers.values()))
        api = await Api(servers["ours"].port).login()
        conns["ours"] = api.conn
        for name, server in servers.items():
            fleets[name] = Fleet(server.port, server.stream_path, api.auth if name == "ours" else {})
            if name != "ours":
                conns[name] = HttpConn(server.port)

        async def trial_ours() -> dict:
            order = await api.conn.json("POST", "/v1/orders", body=api.order_body(False), headers=api.auth)
            await asyncio.sleep(0.02)  # the new-order event (cashier) is out of the way

            async def trigger():
                await api.conn.json(
                    "POST", f"/v1/orders/{order['id']}/confirm", body=api.confirm_body(), headers=api.auth
                )

            return await timed_fan_out(fleets["ours"], servers["ours"], trigger)

        # Calibrate: the baselines publish payloads of the size of our printer payload.
        await fleets["ours"].grow(1)
        await trial_ours()
        payload_size = fleets["ours"].subscribers[0].data_len
        results["payload_bytes"] = payload_size
        log(f"printer payload of a 3-line order: {payload_size} bytes; the baselines send the same size")

        def baseline_trial(name: str):
            async def trial() -> dict:
                async def trigger():
                    await conns[name].json("POST", f"{TRIGGER_PATHS[name]}?size={payload_size}")

                return await timed_fan_out(fleets[name], servers[name], trigger)

            return trial

        trials = {"ours": trial_ours, **{name: baseline_trial(name) for name in SYSTEMS if name != "ours"}}
        fanout = results.setdefault("fanout", {})
        for n in profile.fanout_ns:
            open_seconds = {}
            for name in SYSTEMS:
                open_seconds[name] = await fleets[name].grow(n)
            log(f"fan-out N={n}: streams open in " + ", ".join(f"{k} {v:.1f}s" for k, v in open_seconds.items()))
            await asyncio.sleep(1.0)
            block = {name: {**{m: [] for m in FANOUT_METRICS}, "cpu_ms": [], "failed": 0} for name in SYSTEMS}
            fanout[n] = {"trials": block, "open_seconds": open_seconds}
            for round_no in range(profile.fanout_trials[n]):
                shift = round_no % len(SYSTEMS)
                for name in SYSTEMS[shift:] + SYSTEMS[:shift]:  # rotate who goes first
                    try:
                        t = await trials[name]()
                    except (TimeoutError, RuntimeError) as exc:
                        block[name]["failed"] += 1
                        for metric in FANOUT_METRICS:
                            block[name][metric].append(float("nan"))
                        log(f"  {name} N={n} round {round_no}: {type(exc).__name__} {exc}")
                        continue
                    block[name]["after_response"].append((t["last"] - t["responded"]) * 1000)
                    block[name]["after_request"].append((t["last"] - t["sent"]) * 1000)
                    block[name]["spread"].append((t["last"] - t["first"]) * 1000)
                    block[name]["response_ms"].append((t["responded"] - t["sent"]) * 1000)
                    block[name]["cpu_ms"].append(t["cpu_ms"])
                    await asyncio.sleep(0.05)
            fanout[n]["live"] = {name: fleets[name].live() for name in SYSTEMS}
            log(
                f"fan-out N={n}: last receipt after the POST was sent, median ms: "
                + ", ".join(f"{k} {percentile(clean(v['after_request']), 50):.1f}" for k, v in block.items())
            )
        for fleet in fleets.values():
            fleet.close()

        # Replay: a client back with a Last-Event-ID `replay_events` behind.
        await asyncio.sleep(1.0)
        count = profile.replay_events
        head = {"ours": event_head(world.sqlite_ours, "printer"), "stock": event_head(world.sqlite_stock, "printer")}
        replay = results.setdefault("replay", {"ours": [], "stock": []})
        for round_no in range(profile.replay_trials):
            for name in ["ours", "stock"] if round_no % 2 == 0 else ["stock", "ours"]:
                headers = {"Last-Event-ID": f"printer:{head[name] - count}"}
                if name == "ours":
                    headers.update(api.auth)
                seconds = await replay_once(servers[name].port, servers[name].stream_path, headers, count)
                replay[name].append(seconds * 1000)
                await asyncio.sleep(0.1)
        log(
            f"replay of {count}: median ms ours {percentile(replay['ours'], 50):.1f}, "
            f"stock {percentile(replay['stock'], 50):.1f}"
        )
    finally:
        for fleet in fleets.values():
            fleet.close()
        for conn in conns.values():
            conn.close()
        for server in servers.values():
            server.stop()


def rows(tbl: StreamsTable, results: dict, profile: Profile) -> None:
    for n, block in results.get("fanout", {}).items():
        t = block["trials"]
        for metric, label in (
            ("after_response", "last receipt after the POST's response (ms)"),
            ("spread", "first → last receipt (ms)"),
            ("after_request", "last receipt after the POST was sent (ms)"),
            ("response_ms", "the POST's own response time (ms)"),
        ):
            tbl.add(
                f"1. fan-out to {n:,}: {label}",
                fmt_summary(summary(clean(t["ours"][metric]))),
                {
                    name: (
                        fmt_summary(summary(clean(t[name][metric]))),
                        paired_ratio(t["ours"][metric], t[name][metric]),
                    )
                    for name in BASES
                },
            )
        cpu = {name: (sum(v["cpu_ms"]) / len(v["cpu_ms"]) if v["cpu_ms"] else float("nan")) for name, v in t.items()}
        tbl.add(
            f"1. fan-out to {n:,}: server CPU per fan-out, the POST included (ms, mean)",
            fmt(cpu["ours"]),
            {name: (fmt(cpu[name]), f"{cpu['ours'] / cpu[name]:.1f}×" if cpu[name] > 0 else "n/a") for name in BASES},
        )
        failed = {k: v["failed"] for k, v in t.items() if v["failed"]}
        if failed:
            tbl.add(
                f"1. fan-out to {n:,}: failed trials",
                str(failed.get("ours", 0)),
                {name: (str(failed.get(name, 0)), "") for name in BASES},
            )


def replay_rows(tbl: StreamsTable, results: dict, profile: Profile) -> None:
    replay = results.get("replay")
    if replay and replay["ours"]:
        tbl.add(
            f"5. replay: reconnect with a Last-Event-ID {profile.replay_events:,} events behind, "
            "time until all arrived (ms)",
            fmt_summary(summary(replay["ours"])),
            {
                "stock": (fmt_summary(summary(replay["stock"])), paired_ratio(replay["ours"], replay["stock"])),
                "floor": ("no event log", ""),
                "raw": ("no event log", ""),
            },
        )
