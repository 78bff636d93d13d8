"""`make bench-cluster`: the cluster of `make run-cluster` (Pushpin → HAProxy →
Daphne workers, PostgreSQL, a private Redis), measured in one bounded run.

    python bench/cluster.py            # about 10 minutes on the 2-core machine
    python bench/cluster.py --quick    # a smoke run: small N, fewer rounds
    python bench/cluster.py --held-only --steps 10000 --keep   # part 2 and 3 only, logs kept

1. Create-and-confirm throughput through Pushpin with 1 worker and with 2
   workers behind HAProxy, in alternating windows on one cluster of two (the
   second worker is put in HAProxy's `maint` state for the 1-worker windows),
   and the CPU of every process over each window: each worker, HAProxy,
   Pushpin's five processes, the PostgreSQL backends of the bench database,
   Redis and the load generator. The ratio is taken per round.
2. Idle streams held by Pushpin at 5,000, 10,000, 15,000 and 20,000
   (keep-alive every 2 s): every stream's longest silence over each step's
   95 s (p50/p99/max), the RSS of Pushpin's processes and of each worker,
   everyone's CPU and HAProxy's counters. The streams are spread over as
   many Pushpin instances as the largest step needs under the descriptor
   limit (one per 19,000 streams: 2 for 20,000 where the hard limit is
   20,000), and the workers run with `GRIP_RECOVER_SECONDS` 300, the setting
   docs/deploy.md gives a site of this size; `--recover-seconds 60` measures
   the default, at which the streams of the first steps make their recovery
   requests while the last ones open and saturated Pushpins close some of
   them (docs/performance.md, "20,000 streams over two Pushpin instances").
   A step opens its streams with at most 24 in flight on each Pushpin
   (`--openings-in-flight`), below its proxy's limit of 32: openings that
   queue in front of a full proxy starve the older streams' recovery
   requests, and Pushpin ends those streams (a reconnect storm, measured by
   bench/storm.py).
3. Fan-out to the 10,000 Pushpin-held streams: a confirmation through the
   API, from the POST being sent to the last receipt.

The streams are held by load-generator processes (bench/holder.py, a few
thousand streams each) because one process may hold at most RLIMIT_NOFILE
sockets: this script and its children raise the soft limit to the hard one
(resource.setrlimit, bench/procs.py raise_nofile; 20,000 on the benchmark
machine, where the hard limit cannot be raised). Pushpin's connection manager
(condure) is one process under the same limit.

Invariants: everything binds 127.0.0.1 on free ports; the cluster is
scripts/cluster.py itself, started as `make run-cluster` starts it and
stopped by its PID (it stops Pushpin, HAProxy and the workers by theirs);
every wait is bounded and the run has a budget; the PostgreSQL database
`bench_<pid>` is dropped at the end. Nothing asserts: it prints a table and
writes bench/results/cluster.{md,json}."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import procs, pushpin_logs  # noqa: E402
from bench.client import Fleet  # noqa: E402
from bench.common import Api, HeldPort, World, hold_ports_in_a_row, log, run_on_postgres  # noqa: E402
from bench.report import paired_ratio, table  # noqa: E402
from bench.stats import fmt, fmt_summary, percentile, summary  # noqa: E402
from bench.throughput import run_window  # noqa: E402
from scripts.haproxy import HAProxy  # noqa: E402
from scripts.pushpin import MAX_OPEN_REQUESTS  # noqa: E402
from testsupport import RedisServer, redis_server_installed  # noqa: E402

# Every process of every Pushpin instance (five each).
PUSHPIN = "Pushpin"


# Descriptors a Pushpin instance keeps for itself (condure's own, zurl's, the
# handler's): the rest of the per-process limit is for streams.
PUSHPIN_RESERVED_FDS = 1000


def pushpins_for(streams: int) -> int:
    """How many Pushpin instances hold `streams` under this machine's hard
    descriptor limit (condure, one process, keeps one per stream)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard <= PUSHPIN_RESERVED_FDS:
        return 1
    return max(1, math.ceil(streams / (hard - PUSHPIN_RESERVED_FDS)))


@dataclass
class ClusterProfile:
    pushpins: int = 0  # 0: as many as the largest held step needs (pushpins_for)
    # The workers' GRIP_RECOVER_SECONDS (the module's docstring says why 300).
    recover_seconds: int = 300
    rounds: int = 4
    window: float = 4.0
    clients: int = 8
    subscribers: int = 100
    held_steps: tuple[int, ...] = (5000, 10000, 15000, 20000)
    keepalive: float = 2.0
    window_intervals: float = 3.0
    fanout_at: int = 10000
    fanout_trials: int = 7
    per_holder: int = 5000
    # Openings in flight on each Pushpin instance while a step grows, below
    # its proxy's max_open_requests. The proxy serves the clients' requests
    # before its handler's recovery requests and refuses these when it is
    # full, and Pushpin ends a stream whose recovery was refused five times
    # (over about 31 s): openings queued in front of a full proxy end older
    # streams. That is a reconnect storm, bench/storm.py's subject; a step
    # measures streams held, opened as fast as the cluster answers them.
    openings_in_flight: int = MAX_OPEN_REQUESTS * 3 // 4
    budget: float = 1000.0
    throughput: bool = True
    # Each step is watched this long, so that it includes Pushpin's
    # recovery requests (after 60 to 90 s of silence, GRIP_RECOVER_SECONDS
    # plus up to half again, events/transport/grip.py): a few intervals would miss them.
    hold_seconds: float = 95.0


QUICK = ClusterProfile(
    rounds=2,
    window=2.0,
    subscribers=20,
    held_steps=(300, 600),
    window_intervals=2.0,
    fanout_at=600,
    fanout_trials=3,
    per_holder=250,
    budget=240.0,
    hold_seconds=0.0,
    recover_seconds=60,
)


MACHINE = "the machine, every process"

# --- the processes and what /proc says about them -----------------------------------------


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def postgres_backends(database: str) -> list[int]:
    """PIDs of the PostgreSQL backends serving `database` (their command line
    reads "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE"); none when
    the server runs where this process cannot see it."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isascii() and entry.isdigit():
            words = _read(f"/proc/{entry}/cmdline").replace("\0", " ").split()
            if words[:1] == ["postgres:"] and database in words[1:4]:
                found.append(int(entry))
    return found


class Processes:
    """The cluster's processes by role, read from scripts/cluster.py's
    state.json, plus the PostgreSQL backends of the bench database."""

    def __init__(self, state: dict, database: str, redis_pid: int | None, holders: list[int]):
        self.groups: dict[str, list[int]] = {}
        for worker in state["workers"]:
            self.groups[f"worker :{worker['port']}"] = [worker["pid"]]
        self.groups["HAProxy"] = [state["haproxy"]["pid"]]
        self.groups[PUSHPIN] = [pid for p in state["pushpins"] for pid in (p["pid"], *p["children"])]
        if redis_pid:
            self.groups["Redis"] = [redis_pid]
        self.database = database
        self.holders = holders

    def cpu(self) -> dict[str, float]:
        out = {}
        for name, pids in self.groups.items():
            out[name] = sum(_cpu(pid) for pid in pids)
        out["PostgreSQL backends"] = sum(_cpu(pid) for pid in postgres_backends(self.database))
        out["load generator"] = sum(os.times()[:2]) + sum(_cpu(pid) for pid in self.holders)
        out[MACHINE] = machine_busy_seconds()
        return out

    def rss_mb(self) -> dict[str, float]:
        out = {}
        for name, pids in self.groups.items():
            out[name] = sum(_rss_kb(pid) for pid in pids) / 1024
        return out

    def pushpin_rss_mb(self) -> dict[str, float]:
        return _by_name(self.groups[PUSHPIN], lambda pid: _rss_kb(pid) / 1024)


def _by_name(pids: list[int], reading) -> dict[str, float]:
    """A reading per program name, summed over the Pushpin instances."""
    out: dict[str, float] = {}
    for pid in pids:
        out[_name(pid)] = out.get(_name(pid), 0) + reading(pid)
    return out


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy (all cores, every process,
    other sessions' too), from the first line of /proc/stat."""
    fields = [int(v) for v in _read("/proc/stat").split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        return procs.cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return 0.0  # gone between listing and reading


def _rss_kb(pid: int) -> int:
    try:
        return procs.proc_status(pid).get("rss_kb", 0)
    except OSError:
        return 0


def _descriptors(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def _name(pid: int) -> str:
    return Path(_read(f"/proc/{pid}/cmdline").split("\0")[0] or "?").name


def cpu_delta(before: dict[str, float], after: dict[str, float], seconds: float, count: int) -> dict[str, dict]:
    return {
        name: {
            "cores": (after[name] - before[name]) / seconds if seconds else math.nan,
            "ms_per_request": (after[name] - before[name]) * 1000 / count if count else math.nan,
        }
        for name in after
    }


# --- the cluster ---------------------------------------------------------------------------


class Cluster:
    """scripts/cluster.py with two workers, as a child of this process."""

    def __init__(self, world: World, env: dict[str, str], pushpins: int = 1):
        self.world = world
        self.env = env
        self.pushpins = pushpins
        # Held (scripts/ports.py) while this object lives: the cluster's
        # programs bind them beside the holds, also after a restart.
        self.held_ports: list[HeldPort] = []
        self.port = self._hold_in_a_row(pushpins)
        self.directory = world.tmp / "cluster"
        self.process = None
        self.state: dict = {}

    def _hold_in_a_row(self, count: int) -> int:
        run = hold_ports_in_a_row(count)
        self.held_ports += run
        return run[0].port

    async def start(self, timeout: float = 90.0) -> Cluster:
        first = self._hold_in_a_row(2)
        cmd = [procs.PYTHON, "scripts/cluster.py", "--workers", "2", "--port", str(self.port)]
        publish = self._hold_in_a_row(self.pushpins)
        cmd += ["--first-worker-port", str(first), "--publish-port", str(publish), "--pushpins", str(self.pushpins)]
        cmd += ["--dir", str(self.directory), "--no-prepare"]
        self.process = procs.start(cmd, env=self.env, log_path=self.world.tmp / "cluster.log")
        state_path = self.directory / "state.json"
        deadline = time.monotonic() + timeout
        while not state_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the cluster did not start:\n" + _read(str(self.world.tmp / "cluster.log"))[-3000:])
            await asyncio.sleep(0.2)
        self.state = json.loads(state_path.read_text())
        workers = [f"127.0.0.1:{w['port']}" for w in self.state["workers"]]
        haproxy = self.state["haproxy"]
        self.balancer = HAProxy(
            self.directory / "haproxy", workers, port=haproxy["port"], stats_port=haproxy["stats_port"]
        )
        return self

    @property
    def ports(self) -> list[int]:
        """Each Pushpin instance's client port."""
        return [int(p["url"].rsplit(":", 1)[1]) for p in self.state["pushpins"]]

    def recoveries(self) -> int:
        """Pushpin's recovery requests the workers have served so far (their
        access logs: `GET /events/<channel>?recover=*…`)."""
        total = 0
        for worker in self.state["workers"]:
            text = _read(str(self.directory / f"worker-{worker['port']}.log"))
            total += text.count("?recover=")
        return total

    @property
    def workers(self) -> list[str]:
        return self.balancer.workers

    def stop(self) -> None:
        # SIGTERM lets the script stop Pushpin, HAProxy and the workers by PID.
        procs.stop(self.process, timeout=40.0)


class Holders:
    """Load-generator processes holding the streams (bench/holder.py)."""

    def __init__(self, world: World, ports: list[int], path: str, headers: dict[str, str], count: int, in_flight: int):
        """`count` processes, spread over `ports` (one per Pushpin instance),
        together at most `in_flight` openings at a time on each instance."""
        per_instance = math.ceil(count / len(ports))
        self.concurrency = max(1, in_flight // per_instance)
        self.in_flight = self.concurrency * per_instance  # what it comes to on each instance
        args = [procs.PYTHON, "bench/holder.py", "--path", path]
        for name, value in headers.items():
            args += ["--header", f"{name}: {value}"]
        self.processes = [
            procs.start(
                [*args, "--port", str(ports[n % len(ports)])],
                env=world.env(""),
                log_path=world.tmp / f"holder-{n}.log",
                piped=True,
            )
            for n in range(count)
        ]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    async def all(self, command: dict | list[dict], timeout: float) -> list[dict]:
        commands = command if isinstance(command, list) else [command] * len(self.processes)
        return await asyncio.gather(*(procs.ask(p, c, timeout) for p, c in zip(self.processes, commands, strict=True)))

    async def grow(self, total: int, timeout: float) -> list[dict]:
        share, extra = divmod(total, len(self.processes))
        commands = [
            {"op": "grow", "total": share + (n < extra), "concurrency": self.concurrency, "timeout": timeout}
            for n in range(len(self.processes))
        ]
        return await self.all(commands, timeout + 10)

    def stop(self) -> None:
        for process in self.processes:
            try:
                process.stdin.close()
            except OSError:
                pass
            procs.stop(process)


# --- 1. throughput with one and two workers -------------------------------------------------


async def measure_throughput(cluster: Cluster, processes: Processes, api: Api, profile: ClusterProfile) -> dict:
    body = json.dumps(api.order_body(True)).encode()

    async def create_and_confirm(conn) -> None:
        status, content = await conn.request("POST", "/v1/orders", body=body, headers=api.auth)
        if status != 201:
            raise RuntimeError(f"{status}: {content[:200]!r}")

    fleet = Fleet(cluster.port, "/events/printer", api.auth)
    out: dict = {"one": [], "two": [], "clients": profile.clients}
    try:
        await fleet.grow(profile.subscribers)
        out["subscribers"] = fleet.live()
        second = cluster.workers[1]
        await run_window(cluster.port, profile.clients, 1.5, create_and_confirm)  # warm-up, both workers
        delivered_before = sum(sub.targets for sub in fleet.subscribers)
        created = 0
        for round_no in range(profile.rounds):
            order = ("one", "two") if round_no % 2 == 0 else ("two", "one")
            for mode in order:
                cluster.balancer.set_state(second, "maint" if mode == "one" else "ready")
                await asyncio.sleep(0.3)
                before, started = processes.cpu(), time.monotonic()
                window = await run_window(cluster.port, profile.clients, profile.window, create_and_confirm)
                elapsed = time.monotonic() - started
                window["cpu"] = cpu_delta(before, processes.cpu(), elapsed, window["count"])
                stats = cluster.balancer.stats() or {}
                window["worker_requests"] = {w: int(stats.get(w, {}).get("stot", 0) or 0) for w in cluster.workers}
                window["pg_backends"] = len(postgres_backends(processes.database))
                out[mode].append(window)
                created += window["count"]
                log(
                    f"throughput round {round_no + 1}, {mode} worker(s): {window['rate']:.1f}/s, errors {window['errors']}"
                )
        cluster.balancer.set_state(second, "ready")
        await asyncio.sleep(1.0)
        out["events_delivered"] = sum(sub.targets for sub in fleet.subscribers) - delivered_before
        out["events_expected"] = created * fleet.live()
    finally:
        cluster.balancer.set_state(cluster.workers[1], "ready")
        fleet.close()
    return out


# --- 2. and 3. idle streams held by Pushpin, fan-out ------------------------------------------


async def fan_out(holders: Holders, api: Api, processes: Processes) -> dict:
    order = await api.conn.json("POST", "/v1/orders", body=api.order_body(False), headers=api.auth)
    await asyncio.sleep(0.2)
    armed = await holders.all({"op": "arm"}, 10)
    before = processes.cpu()
    sent = time.monotonic()
    await api.conn.json("POST", f"/v1/orders/{order['id']}/confirm", body=api.confirm_body(), headers=api.auth)
    responded = time.monotonic()
    receipts = await holders.all({"op": "wait", "timeout": 60}, 70)
    done = time.monotonic()
    errors = [r["error"] for r in receipts if "error" in r]
    if errors:
        raise RuntimeError("; ".join(errors))
    ids = {r["event_id"] for r in receipts if r["received"]}
    if len(ids) > 1 or any(r["mismatched"] for r in receipts):
        raise RuntimeError(f"holders saw different events: {ids}")
    return {
        "streams": sum(a["expected"] for a in armed),
        "received": sum(r["received"] for r in receipts),
        "after_request_ms": (max(r["last"] for r in receipts) - sent) * 1000,
        "after_response_ms": (max(r["last"] for r in receipts) - responded) * 1000,
        "spread_ms": (max(r["last"] for r in receipts) - min(r["first"] for r in receipts)) * 1000,
        "response_ms": (responded - sent) * 1000,
        "cpu": cpu_delta(before, processes.cpu(), done - sent, 1),
    }


def _balancer_counters(cluster: Cluster) -> dict[str, dict[str, str]]:
    """HAProxy's counters per worker so far: requests, the most queued at
    once, 5xx answers, failed connections and responses."""
    keys = ("stot", "smax", "qmax", "hrsp_5xx", "econ", "eresp", "wretr", "wredis")
    return {w: {k: row.get(k, "") for k in keys} for w, row in (cluster.balancer.stats() or {}).items()}


async def measure_held(
    world: World, cluster: Cluster, api: Api, profile: ClusterProfile, redis_pid: int | None, deadline: float
) -> dict:
    interval = profile.keepalive
    limit = interval + 1.0
    window = max(profile.window_intervals * interval, profile.hold_seconds)
    count = math.ceil(max(profile.held_steps) / profile.per_holder)
    count += -count % len(cluster.ports)  # as many on each Pushpin instance
    holders = Holders(world, cluster.ports, "/events/printer", api.auth, count, profile.openings_in_flight)
    processes = Processes(cluster.state, world.pg_name, redis_pid, holders.pids)
    out: dict = {"interval": interval, "limit": limit, "holders": count, "steps": [], "fanout": []}
    out["openings_in_flight"] = holders.in_flight
    try:
        before_rss = processes.rss_mb()
        out["rss_at_0"] = before_rss
        out["pushpin_rss_at_0"] = processes.pushpin_rss_mb()
        for target in profile.held_steps:
            left = deadline - time.monotonic() - window - 10
            if left < 20:
                out["stopped"] = f"out of time before {target:,}"
                break
            started, opening_cpu = time.monotonic(), processes.cpu()
            new = target - (out["steps"][-1]["streams"] if out["steps"] else 0)
            answers = await holders.grow(target, timeout=min(left, 30 + new / 25))
            open_seconds = time.monotonic() - started
            opening = cpu_delta(opening_cpu, processes.cpu(), open_seconds, new)
            live = sum(a.get("live", 0) for a in answers)
            errors = [a["error"] for a in answers if "error" in a]
            step: dict = {"streams": target, "new": new, "live": live, "open_seconds": open_seconds, "opening": opening}
            step["refused_so_far"] = sum(a.get("refused", 0) for a in answers)
            if errors or live < target:
                errors = errors or [f"{live:,} of {target:,} open after three tries each"]
                step["error"] = errors[0] + (f" (and {len(errors) - 1} more holders)" if len(errors) > 1 else "")
                step["ok"] = False
                out["steps"].append(step)
                log(f"held {target:,}: {live:,} open, then {step['error']}")
                break
            await asyncio.sleep(1.5)  # Pushpin's first recovery request for the newest streams
            await holders.all({"op": "reset_gaps"}, 10)
            cpu_before, t0, recoveries = processes.cpu(), time.monotonic(), cluster.recoveries()
            await asyncio.sleep(window)
            recoveries = cluster.recoveries() - recoveries
            gaps = [g for a in await holders.all({"op": "gaps"}, 30) for g in a["gaps"]]
            elapsed = time.monotonic() - t0
            rss = processes.rss_mb()
            step.update(
                {
                    "live": len(gaps),
                    "gap_p50": percentile(gaps, 50),
                    "gap_p99": percentile(gaps, 99),
                    "gap_max": max(gaps) if gaps else math.nan,
                    "rss_mb": rss,
                    "pushpin_rss_mb": processes.pushpin_rss_mb(),
                    "cpu": cpu_delta(cpu_before, processes.cpu(), elapsed, 1),
                    "pg_backends": len(postgres_backends(processes.database)),
                    "recoveries_per_second": recoveries / elapsed,
                    "descriptors": _by_name(processes.groups[PUSHPIN], _descriptors),
                    "haproxy": _balancer_counters(cluster),
                }
            )
            # Streams the server ended while the step was watched: Pushpin ends a
            # stream whose recovery requests it refused five times, which the
            # mass opening of a step can cause (docs/deploy.md, "Costs to
            # know"); a browser reconnects, and the next step's grow reopens
            # them. The ramp goes on while at most 1 % ended and the
            # keep-alives were on time.
            step["ended"] = target - step["live"]
            step["ok"] = step["ended"] <= target // 100 and step["gap_p99"] <= limit
            out["steps"].append(step)
            log(
                f"held {target:,} through Pushpin: live {step['live']:,} ({step['ended']:,} ended), "
                f"gap p50 {step['gap_p50']:.2f} "
                f"p99 {step['gap_p99']:.2f} max {step['gap_max']:.2f} s, Pushpin RSS "
                f"{rss[PUSHPIN]:.0f} MB, opened in {open_seconds:.0f} s"
            )
            if target == profile.fanout_at:
                for trial in range(profile.fanout_trials):
                    try:
                        result = await fan_out(holders, api, processes)
                    except (RuntimeError, TimeoutError) as exc:
                        out["fanout"].append({"error": f"{type(exc).__name__}: {exc}"})
                        log(f"fan-out trial {trial + 1}: {exc}")
                        continue
                    out["fanout"].append(result)
                    log(
                        f"fan-out to {result['streams']:,}: last receipt {result['after_request_ms']:.0f} ms after "
                        f"the POST was sent ({result['received']:,} received)"
                    )
                    await asyncio.sleep(0.5)
            if not step["ok"]:
                break
    finally:
        await asyncio.gather(*(procs.ask(p, {"op": "close"}, 20) for p in holders.processes), return_exceptions=True)
        holders.stop()
    # Whether Pushpin refused recovery requests during the ramp (a stream is
    # ended after five refusals): read from its handlers' logs.
    out["pushpin_recoveries"] = pushpin_logs.count_all(cluster.directory)
    log(pushpin_logs.summary_line(out["pushpin_recoveries"]))
    return out


# --- the table ---------------------------------------------------------------------------


def _median(values) -> float:
    values = [v for v in values if v == v]
    return percentile(values, 50) if values else math.nan


def render(results: dict) -> str:
    rows: list[tuple[str, ...]] = []
    tp = results.get("throughput")
    if tp and tp["one"] and tp["two"]:
        one, two = tp["one"], tp["two"]
        rows.append(
            (
                f"create-and-confirm per second through Pushpin and HAProxy ({tp['clients']} clients, "
                f"{tp.get('subscribers', 0)} Pushpin-held subscribers)",
                fmt_summary(summary([w["rate"] for w in one])),
                fmt_summary(summary([w["rate"] for w in two])),
                paired_ratio([w["rate"] for w in two], [w["rate"] for w in one]),
            )
        )
        rows.append(
            (
                "request latency p50 / p90 (ms)",
                f"{fmt(_median(w['lat_p50_ms'] for w in one))} / {fmt(_median(w['lat_p90_ms'] for w in one))}",
                f"{fmt(_median(w['lat_p50_ms'] for w in two))} / {fmt(_median(w['lat_p90_ms'] for w in two))}",
                "",
            )
        )
        for name in one[0]["cpu"]:
            if name == MACHINE:
                continue
            rows.append(
                (
                    f"CPU: {name}, ms per order; cores",
                    f"{fmt(_median(w['cpu'][name]['ms_per_request'] for w in one))}; "
                    f"{fmt(_median(w['cpu'][name]['cores'] for w in one), 2)}",
                    f"{fmt(_median(w['cpu'][name]['ms_per_request'] for w in two))}; "
                    f"{fmt(_median(w['cpu'][name]['cores'] for w in two), 2)}",
                    "",
                )
            )
        total = {
            mode: _median(sum(c["cores"] for k, c in w["cpu"].items() if k != MACHINE) for w in tp[mode])
            for mode in ("one", "two")
        }
        rows.append(("CPU: the cluster and the load generator, cores", fmt(total["one"], 2), fmt(total["two"], 2), ""))
        rows.append(
            (
                "CPU: the machine, every process (other sessions' too), cores",
                fmt(_median(w["cpu"][MACHINE]["cores"] for w in one), 2),
                fmt(_median(w["cpu"][MACHINE]["cores"] for w in two), 2),
                "",
            )
        )
        rows.append(
            (
                "PostgreSQL backends of the bench database at the end of a window (most)",
                str(max(w.get("pg_backends", 0) for w in one)),
                str(max(w.get("pg_backends", 0) for w in two)),
                "",
            )
        )
        rows.append(
            (
                "errors; events delivered / expected",
                str(sum(w["errors"] for w in one)),
                str(sum(w["errors"] for w in two)),
                f"{tp['events_delivered']:,} / {tp['events_expected']:,}",
            )
        )
    parts = []
    if rows:
        parts.append(table(("measure", "1 worker: median [p10–p90]", "2 workers", "2 ÷ 1 (per round)"), rows))

    held = results.get("held")
    if held and held["steps"]:
        rows = []
        base = held.get("rss_at_0", {})
        for step in held["steps"]:
            if "error" in step:
                rows.append((f"{step['streams']:,}", f"{step['live']:,} open, then: {step['error']}", "", "", "", ""))
                continue
            rss = step["rss_mb"]
            workers = ", ".join(f"{rss[k]:.0f}" for k in rss if k.startswith("worker"))
            per_stream = (rss[PUSHPIN] - base.get(PUSHPIN, 0)) * 1024 / step["streams"]
            condure = next((v for k, v in step["pushpin_rss_mb"].items() if k == "condure"), math.nan)
            cpu = step["cpu"]
            rows.append(
                (
                    f"{step['streams']:,}{'' if step['ok'] else ' (not held)'}"
                    + (f"; {step['ended']:,} ended by the server" if step.get("ended") else ""),
                    f"{step['gap_p50']:.2f} / {step['gap_p99']:.2f} / {step['gap_max']:.2f}",
                    f"{rss[PUSHPIN]:.0f} (condure {condure:.0f}); {per_stream:.1f} KB per stream; "
                    f"condure descriptors {step['descriptors'].get('condure', 0):,}",
                    workers,
                    f"Pushpin {cpu[PUSHPIN]['cores']:.2f}, workers "
                    f"{sum(v['cores'] for k, v in cpu.items() if k.startswith('worker')):.2f}, "
                    f"PostgreSQL {cpu['PostgreSQL backends']['cores']:.2f}, load generator "
                    f"{cpu['load generator']['cores']:.2f}; machine {cpu[MACHINE]['cores']:.2f}; "
                    f"{step['recoveries_per_second']:.0f} recovery requests/s",
                    f"{step['new']:,} in {step['open_seconds']:.0f} s ({step['new'] / step['open_seconds']:.0f}/s), "
                    f"{step['refused_so_far']:,} openings refused or dropped and retried so far; "
                    f"CPU per open (ms): workers {sum(v['ms_per_request'] for k, v in step['opening'].items() if k.startswith('worker')):.2f}, "
                    f"Pushpin {step['opening'][PUSHPIN]['ms_per_request']:.2f}, "
                    f"PostgreSQL {step['opening']['PostgreSQL backends']['ms_per_request']:.2f}",
                )
            )
        parts.append(
            table(
                (
                    f"idle streams held by Pushpin (keep-alive every {held['interval']:g} s)",
                    "gap p50 / p99 / max (s)",
                    "Pushpin RSS (MB)",
                    "worker RSS (MB)",
                    "CPU in use while idle (cores)",
                    f"streams opened for the step (at most {held.get('openings_in_flight', '?')} at a time "
                    "on each Pushpin)",
                ),
                rows,
            )
        )
        if "pushpin_recoveries" in held:
            parts.append(pushpin_logs.summary_line(held["pushpin_recoveries"]) + ", over the whole ramp.")
        fan = [f for f in held["fanout"] if "error" not in f]
        if fan:
            failed = len(held["fanout"]) - len(fan)
            rows = [
                (
                    f"fan-out to {fan[0]['streams']:,} Pushpin-held streams: last receipt after the POST was sent (ms)",
                    fmt_summary(summary([f["after_request_ms"] for f in fan])),
                ),
                (
                    "   last receipt after the POST's response (ms)",
                    fmt_summary(summary([f["after_response_ms"] for f in fan])),
                ),
                ("   first → last receipt (ms)", fmt_summary(summary([f["spread_ms"] for f in fan]))),
                ("   the POST's response time (ms)", fmt_summary(summary([f["response_ms"] for f in fan]))),
                (
                    "   CPU per fan-out (ms): Pushpin; workers; load generator",
                    f"{fmt(_median(f['cpu'][PUSHPIN]['ms_per_request'] for f in fan))}; "
                    f"{fmt(_median(sum(v['ms_per_request'] for k, v in f['cpu'].items() if k.startswith('worker')) for f in fan))}; "
                    f"{fmt(_median(f['cpu']['load generator']['ms_per_request'] for f in fan))}",
                ),
                ("   trials; failed", f"{len(fan)}; {failed}"),
            ]
            parts.append(table(("measure", "median [p10–p90]"), rows))
    return "\n\n".join(parts)


# --- main ---------------------------------------------------------------------------------


async def main_async(world: World, profile: ClusterProfile, results: dict) -> None:
    deadline = time.monotonic() + profile.budget
    redis = None
    if redis_server_installed()[0]:
        redis = RedisServer(world.tmp / "redis.log").start()
    else:
        results["notes"].append("redis-server not installed: workers joined by the database poll only")
    cluster = None
    try:
        env = world.env(
            world.pg_url,
            EVENTS_KEEPALIVE_SECONDS=str(profile.keepalive),
            GRIP_RECOVER_SECONDS=str(profile.recover_seconds),
            **({"REDIS_URL": redis.url} if redis else {}),
        )
        pushpins = profile.pushpins or pushpins_for(max(profile.held_steps))
        results["notes"].append(
            f"{pushpins} Pushpin instance(s) (hard descriptor limit "
            f"{resource.getrlimit(resource.RLIMIT_NOFILE)[1]}); GRIP_RECOVER_SECONDS {profile.recover_seconds}"
        )
        cluster = await Cluster(world, env, pushpins).start()
        log(f"cluster up: Pushpin {cluster.ports}, HAProxy :{cluster.balancer.port}, workers {cluster.workers}")
        api = await Api(cluster.port).login()
        processes = Processes(cluster.state, world.pg_name, redis.process.pid if redis else None, [])
        if profile.throughput:
            results["throughput"] = await measure_throughput(cluster, processes, api, profile)
            api.conn.close()
            api = await Api(cluster.port).login()
        results["held"] = await measure_held(
            world, cluster, api, profile, redis.process.pid if redis else None, deadline
        )
        api.conn.close()
    finally:
        if cluster is not None:
            cluster.stop()
        if redis is not None:
            redis.stop()


def main() -> int:
    procs.interrupt_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small N, fewer rounds")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, generated configs)")
    parser.add_argument("--held-only", action="store_true", help="skip the throughput windows (part 1)")
    parser.add_argument("--steps", help="the held streams' steps, comma-separated (default 5000,10000,15000,20000)")
    parser.add_argument("--keepalive", type=float, help="the keep-alive interval in seconds (default 2)")
    parser.add_argument("--fanout-at", type=int, help="the step at which the fan-out is measured (default 10000)")
    parser.add_argument("--fanout-trials", type=int, help="fan-out trials (default 7)")
    parser.add_argument("--hold-seconds", type=float, help="how long each step is held and watched")
    parser.add_argument(
        "--pushpins",
        type=int,
        default=0,
        help="Pushpin instances, each holding an equal share of the streams (default: as the largest step needs)",
    )
    parser.add_argument(
        "--recover-seconds", type=int, help="the workers' GRIP_RECOVER_SECONDS (default 300; 60 in --quick)"
    )
    parser.add_argument(
        "--openings-in-flight",
        type=int,
        help=f"openings at a time on each Pushpin while a step grows (default {ClusterProfile.openings_in_flight})",
    )
    args = parser.parse_args()
    profile = QUICK if args.quick else ClusterProfile()
    if args.steps:
        profile.held_steps = tuple(int(n) for n in args.steps.split(","))
    if args.keepalive:
        profile.keepalive = args.keepalive
    if args.fanout_at:
        profile.fanout_at = args.fanout_at
    profile.throughput = not args.held_only
    if args.fanout_trials:
        profile.fanout_trials = args.fanout_trials
    if args.hold_seconds:
        profile.hold_seconds = args.hold_seconds
    profile.pushpins = max(0, args.pushpins)
    if args.recover_seconds:
        profile.recover_seconds = args.recover_seconds
    if args.openings_in_flight:
        profile.openings_in_flight = args.openings_in_flight
    return run_on_postgres("cluster", args.keep, lambda world, results: main_async(world, profile, results), render)


if __name__ == "__main__":
    sys.exit(main())
