"""Child processes of the benchmark (Daphne servers, the raw broadcaster,
manage.py commands) and what /proc tells about them.

Every child is started in its own session, registered here, and stopped by
its PID: by the phase that started it, and again by `stop_all()` in the
runner's `finally` (and at exit), whatever happened in between."""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NOFILE_WANTED = 65536

_children: dict[int, subprocess.Popen] = {}


def raise_nofile() -> int:
    """Raise this process's open-file limit as far as it may go (the hard
    limit, or NOFILE_WANTED when running as root), so 5,000 sockets fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want_hard in (max(hard, NOFILE_WANTED), hard):
        want_soft = min(NOFILE_WANTED, want_hard) if want_hard != resource.RLIM_INFINITY else NOFILE_WANTED
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want_soft), want_hard))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _child_setup() -> None:  # runs in the child between fork and exec
    raise_nofile()


def start(
    cmd: list[str], *, env: dict[str, str], log_path: Path, cwd: Path = BASE_DIR, piped: bool = False
) -> subprocess.Popen:
    """A child in its own session with the raised open-file limit; its
    output appended to log_path (piped: stdin and stdout are pipes to this
    process, stderr goes to the log)."""
    log = open(log_path, "ab")
    try:
        process = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
            stdout=subprocess.PIPE if piped else log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup,
        )
    finally:
        log.close()
    _children[process.pid] = process
    return process


def stop(process: subprocess.Popen | None, timeout: float = 5.0) -> None:
    """SIGTERM by PID, then SIGKILL if it is still there after `timeout`."""
    if process is None:
        return
    try:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    finally:
        _children.pop(process.pid, None)


def stop_all() -> None:
    for process in list(_children.values()):
        stop(process, timeout=3.0)


atexit.register(stop_all)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """SIGTERM ends a benchmark like Ctrl-C: through its finally blocks."""
    signal.signal(signal.SIGTERM, _interrupt)


async def ask(process: subprocess.Popen, command: dict, timeout: float) -> dict:
    """One command to a piped load-generator process (bench/holder.py,
    bench/storm_client.py): a JSON line out, its JSON line answer back."""

    def exchange() -> dict:
        process.stdin.write((json.dumps(command) + "\n").encode())
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"load generator {process.pid} exited ({process.poll()})")
        return json.loads(line)

    return await asyncio.wait_for(asyncio.to_thread(exchange), timeout)


def run(cmd: list[str], *, env: dict[str, str], timeout: float = 120.0, log_path: Path | None = None) -> str:
    """A short command (manage.py …) with a bound on its time; its output."""
    result = subprocess.run(
        cmd, cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    if log_path is not None:
        with open(log_path, "a") as log:
            log.write(f"$ {' '.join(cmd)}\n{output}\n")
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {result.returncode}:\n{output[-3000:]}")
    return result.stdout


# --- /proc -------------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (KiB) and Threads from /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                out["rss_kb"] = int(line.split()[1])
            elif line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
    return out


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def open_files_to(pid: int, path: str) -> int:
    """How many of the process's descriptors are open on `path` (one per
    SQLite connection: each connection opens the database file itself)."""
    target = os.path.realpath(path)
    count = 0
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(f"{fd_dir}/{fd}") == target:
                count += 1
        except OSError:
            pass
    return count


def tcp_connections_to_port(pid: int, port: int) -> int:
    """The process's established TCP connections whose remote port is `port`
    (PostgreSQL's 5432): socket inodes from /proc/<pid>/fd matched against
    /proc/net/tcp{,6}."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                    if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                        count += 1
        except FileNotFoundError:
            pass
    return count


def git_state() -> str:
    """The commit measured, and whether the work tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split("\n")
        changed = [line[3:] for line in dirty if line.strip()]
        return f"{head}" + (f" with uncommitted changes to {', '.join(changed)}" if changed else " (clean)")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as info:
            kb = int(next(info).split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    load = ""
    try:
        load = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "cpu": cpu,
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
        "loadavg_at_start": load,
    }


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
