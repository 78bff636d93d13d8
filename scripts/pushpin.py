"""Run a private Pushpin: its config, routes, run and log directories in one
folder, free or chosen ports, started and stopped by PID.

Used by scripts/cluster.py (`make run-cluster`) and, through
testsupport.PushpinServer, by the tests. Standard library only: the cluster
runs on the runtime requirements.

Pushpin's runner (`pushpin`) starts condure (client connections), zurl
(outgoing HTTP), pushpin-proxy and pushpin-handler, each in its own process
group, so stopping it by process group is not enough: the children's PIDs
are recorded after start and any that outlive the runner are killed one by
one.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from scripts.ports import HeldPort, hold_port_in

SERVICES = ("condure", "zurl", "pushpin-proxy", "pushpin-handler")
MESSAGE_RATE = 20000  # deliveries per second, all streams together (handler's message_rate)
MESSAGE_HWM = 200000  # deliveries waiting for their turn (message_hwm)
# Requests the proxy forwards at once (max_open_requests; the config explains).
MAX_OPEN_REQUESTS = 32
BINARIES = ("pushpin", "condure", "zurl", "pushpin-proxy", "pushpin-handler")


def missing_binaries() -> list[str]:
    """Pushpin's programs that are not installed (Debian: `apt-get install pushpin`,
    which brings condure and zurl)."""
    return [name for name in BINARIES if shutil.which(name) is None]


_PROBE_OPENED = b"[stream opened]\n"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy


def _answers(host: str, port: int) -> bool:
    """Whether an HTTP request gets any response at all: a port that accepts
    connections is not enough, condure listens before the proxy behind it is
    ready and drops what it cannot pass on."""
    try:
        with _DIRECT.open(f"http://{host}:{port}/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # 404, 405, 502 from Pushpin itself: it is answering
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return False


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(child) for child in (task / "children").read_text().split())
    except OSError:
        pass
    return found


class _ProbeTarget:
    """A loopback HTTP server answering every GET with BODY, in a thread, for
    as long as Pushpin starts (its readiness check, Pushpin._forwards)."""

    BODY = b"pushpin forwards\n"

    def __enter__(self) -> _ProbeTarget:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Thread

        body = self.BODY

        class Answer(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        # Port 0: the system cannot give it a port held for Pushpin.
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self.port = self.server.server_address[1]
        Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class Pushpin:
    """One Pushpin instance in `directory`, proxying to `targets` ("host:port",
    tried in order: Pushpin fails over, it does not balance)."""

    def __init__(
        self,
        directory: Path,
        targets: list[str],
        *,
        sig_key: str | None = None,
        host: str = "127.0.0.1",
        http_port: int | None = None,
        publish_port: int | None = None,
        max_connections: int = 20000,
        max_open_requests: int = MAX_OPEN_REQUESTS,
        debug: bool = False,
        forwarded_for: str = "",
        publish_host: str = "127.0.0.1",
    ):
        self.directory = Path(directory)
        self.targets = list(targets)
        self.sig_key = sig_key or secrets.token_urlsafe(32)
        self.host = host
        # Ports not given are held (scripts/ports.py) for as long as this
        # object lives: nobody else can take them before Pushpin binds them,
        # nor while it is stopped between a crash and its restart.
        self.held_ports: list[HeldPort] = []
        self.http_port = http_port or hold_port_in(self.held_ports)
        self.publish_port = publish_port or hold_port_in(self.held_ports)
        self.push_in_port, self.push_in_sub_port, self.command_port = (hold_port_in(self.held_ports) for _ in range(3))
        self.max_connections = max_connections
        self.max_open_requests = max_open_requests
        self.debug = debug
        # Pushpin's x_forwarded_for: "truncate:0,append" for a Pushpin that
        # clients reach directly (what they send is dropped, their address
        # appended); "append" behind a balancer whose header is believed.
        self.forwarded_for = forwarded_for
        # Where the publish endpoint listens: a private address when workers
        # on other machines publish to this Pushpin too.
        self.publish_host = publish_host
        self.process: subprocess.Popen | None = None
        self.child_pids: set[int] = set()
        self.probe_path = f"/.pushpin-ready-{secrets.token_hex(8)}/"
        self.probe_target_port = 0

    # --- addresses ------------------------------------------------------------------

    @property
    def url_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    @property
    def url(self) -> str:
        return f"http://{self.url_host}:{self.http_port}"

    @property
    def grip_url(self) -> str:
        """What the workers need as GRIP_URL: Pushpin's HTTP publish endpoint."""
        host = "127.0.0.1" if self.publish_host in ("0.0.0.0", "") else self.publish_host
        return f"http://{host}:{self.publish_port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "pushpin.conf"

    @property
    def log_dir(self) -> Path:
        return self.directory / "log"

    # --- configuration ----------------------------------------------------------------

    def write_config(self) -> Path:
        # Pushpin's IPC sockets live here; a Unix socket path has a limit of
        # about 100 bytes, which a deep test or project directory exceeds.
        run_dir = self.run_dir = Path(tempfile.mkdtemp(prefix="pushpin-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.directory / "routes").write_text(
            f"* {' '.join(self.targets)}\n"
            f"# For the readiness check of scripts/pushpin.py: Pushpin's own test target,\n"
            f"# and a target reached through zurl, Pushpin's HTTP client, that answers\n"
            f"# only while Pushpin starts\n"
            f"*,path_beg={self.probe_path}zurl/ 127.0.0.1:{self.probe_target_port}\n"
            f"*,path_beg={self.probe_path} test\n"
        )
        self.config_path.write_text(
            f"""# Written by scripts/pushpin.py: edit the generator, not this file.
[global]
include={{libdir}}/internal.conf
rundir={run_dir}
ipc_prefix=pushpin-{self.http_port}-
port_offset=0
stats_connection_ttl=120

[runner]
services={",".join(SERVICES)}
http_port={self.host}:{self.http_port}
logdir={self.log_dir}
log_level=2
client_buffer_size=8192
client_maxconn={self.max_connections}
condure_bin=condure
zurl_bin=zurl

[proxy]
# Requests Pushpin forwards at once (openings, recoveries, API calls). The
# clients' requests past it wait in condure; the handler's own next-link
# (recovery) requests past it are refused, and the handler retries each after
# 1, 2, 4, 8 and 16 s, then ends the stream (docs/deploy.md, "Costs to know").
# Its queue towards zurl holds 100 and refuses (502) past that, and its
# handler refuses holds (500) when they come faster than it takes them: a
# reconnect storm of a few hundred openings did both without this line.
max_open_requests={self.max_open_requests}
routesfile=routes
debug={"true" if self.debug else "false"}
auto_cross_origin=false
accept_x_forwarded_protocol=false
set_x_forwarded_protocol=proto-only
x_forwarded_for={self.forwarded_for}
x_forwarded_for_trusted={self.forwarded_for}
orig_headers_need_mark=
accept_pushpin_route=false
log_from=false
log_user_agent=false
sig_iss=pushpin
sig_key={self.sig_key}
upstream_key=
updates_check=off
organization_name=
# zurl, Pushpin's HTTP client, runs in this instance's run directory (the
# packaged defaults expect a system-wide one in /var/run/zurl).
zurl_out_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in
zurl_out_stream_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in-stream
zurl_in_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-out

[handler]
push_in_spec=tcp://127.0.0.1:{self.push_in_port}
push_in_sub_specs=tcp://127.0.0.1:{self.push_in_sub_port}
push_in_sub_connect=false
push_in_http_addr={self.publish_host}
push_in_http_port={self.publish_port}
push_in_http_max_headers_size=10000
push_in_http_max_body_size=1000000
stats_spec=ipc://{{rundir}}/{{ipc_prefix}}stats
command_spec=tcp://127.0.0.1:{self.command_port}
# Every delivery of a published event to one held stream counts as one
# message: at the packaged 2500 a second, one event to 10,000 streams took
# 4 s to reach the last. Keep-alives are per-stream timers, not counted.
# The high-water mark holds ten such events for 20,000 streams; beyond it
# a delivery is dropped and that stream recovers from the log.
message_rate={MESSAGE_RATE}
message_hwm={MESSAGE_HWM}
message_wait=5000
id_cache_ttl=60
connection_subscription_max=20
subscription_linger=60
stats_subscription_ttl=60
stats_report_interval=10
stats_format=tnetstring
"""
        )
        return self.config_path

    # --- life cycle -------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> Pushpin:
        with _ProbeTarget() as target:
            self.probe_target_port = target.port
            return self._run(timeout)

    def _run(self, timeout: float) -> Pushpin:
        self.write_config()
        with open(self.log_dir / "runner.log", "ab") as log:
            self.process = subprocess.Popen(
                ["pushpin", "--config", str(self.config_path)],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.child_pids |= _children(self.process.pid)
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"pushpin exited with {self.process.returncode}:\n{self.log_tail()}")
            if _answers("127.0.0.1", self.publish_port):
                self.child_pids |= _children(self.process.pid)
                if len(self.child_pids) >= len(SERVICES) and self._holds_a_stream() and self._forwards():
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pushpin did not answer on {self.http_port} within {timeout}s:\n{self.log_tail()}")

    def _holds_a_stream(self) -> bool:
        """Both ports answering is not enough: right after start the proxy's
        link to the handler ("Accept service unavailable") or the handler's
        link to condure (the client gets no response) may not be up yet. Hold
        a stream on Pushpin's own test target, behind an unguessable path."""
        try:
            with _DIRECT.open(f"{self.url}{self.probe_path}stream", timeout=2) as response:
                return response.read(len(_PROBE_OPENED)) == _PROBE_OPENED
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return False

    def _forwards(self) -> bool:
        """And a request forwarded to a target comes back: the proxy's link
        to zurl takes a moment after start, and a request sent before it is
        up is answered by the target but its response never reaches the
        client (seen: a POST answered 201 by the worker in 41 ms, then an
        error after 30 s). The target is a _ProbeTarget."""
        try:
            with _DIRECT.open(f"{self.url}{self.probe_path}zurl/", timeout=2) as response:
                return response.status == 200 and response.read() == _ProbeTarget.BODY
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the runner (it stops its children); then SIGTERM, and after
        a grace period SIGKILL, by PID, each child still running (the runner
        itself may have been killed and left them behind)."""
        if self.process is not None:
            self.child_pids |= _children(self.process.pid)
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            for pid in self.leftovers():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            while self.leftovers() and time.monotonic() < deadline:
                time.sleep(0.05)

        if getattr(self, "run_dir", None) is not None and not self.leftovers():
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def leftovers(self) -> list[int]:
        """Children of this instance still running (checked by PID and program
        name, so a reused PID is not mistaken for one)."""
        return sorted(pid for pid in self.child_pids if _alive(pid) and Path(_command_name(pid)).name in SERVICES)

    def log_tail(self, lines: int = 20) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            if text:
                parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)
