"""The one port helper of the tests, benches and cluster script
(scripts/ports.py): a port picked for a program that binds it later is held
until then, against every other process on the machine (test workers run side
by side), and the program still binds it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from testsupport import BASE_DIR, hold_port, hold_ports_in_a_row

# Picks ports the ways any program does: bind(0), with and without
# SO_REUSEADDR, and outgoing connections; prints them.
OTHER_PROGRAM = r"""
import json, socket
seen = []
for n in range(4000):
    sock = socket.socket()
    if n % 2:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    seen.append(sock.getsockname()[1])
    sock.close()
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1000)
for _ in range(500):
    client = socket.create_connection(server.getsockname())
    seen.append(client.getsockname()[1])
    client.close()
print(json.dumps(seen))
"""

# Holds ports with the helper, prints them, and keeps them until its input
# closes (so that two of these hold theirs at the same time).
HOLDER = r"""
import json, sys
from scripts.ports import hold_port, hold_ports_in_a_row
held = [hold_port() for _ in range(200)]
for _ in range(50):
    held += hold_ports_in_a_row(2)
print(json.dumps([h.port for h in held]), flush=True)
sys.stdin.read()
"""


def test_no_other_process_gets_a_held_port_by_binding_port_0_or_connecting_out():
    held = [hold_port() for _ in range(100)]
    ours = {h.port for h in held}
    output = subprocess.run(
        [sys.executable, "-c", OTHER_PROGRAM], capture_output=True, text=True, check=True, timeout=60
    )
    theirs = json.loads(output.stdout)
    assert len(theirs) == 4500
    assert ours.isdisjoint(theirs)
    for h in held:
        h.release()


def test_two_processes_holding_ports_at_the_same_time_never_share_one():
    holders = [
        subprocess.Popen(
            [sys.executable, "-c", HOLDER], cwd=BASE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        first, second = (json.loads(holder.stdout.readline()) for holder in holders)
    finally:
        for holder in holders:
            holder.communicate(timeout=30)
    assert len(set(first)) == len(first) == 300
    assert len(set(second)) == len(second) == 300
    assert set(first).isdisjoint(second)


def test_ports_held_in_a_row_are_consecutive():
    run = hold_ports_in_a_row(3)
    assert [h.port for h in run] == [run[0].port + n for n in range(3)]
    for h in run:
        h.release()


def test_a_held_port_refuses_connections_and_squatters_but_its_program_binds_it(tmp_path):
    held = hold_port()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", held.port), timeout=5)
    with socket.socket() as squatter, pytest.raises(OSError):
        squatter.bind(("127.0.0.1", held.port))  # binding it by number without SO_REUSEADDR

    (tmp_path / "index.html").write_text("the program it was held for")
    program = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(held.port), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(400):
            try:
                response = httpx.get(f"http://127.0.0.1:{held.port}/index.html", timeout=1)
                break
            except httpx.TransportError:
                assert program.poll() is None, "the program could not bind the held port"
                time.sleep(0.05)
        else:
            pytest.fail("the program did not answer on the held port")
        assert response.text == "the program it was held for"
        # Now that it listens, nobody else binds the port, SO_REUSEADDR or not.
        with socket.socket() as squatter, pytest.raises(OSError):
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", held.port))
    finally:
        program.kill()
        program.wait(timeout=10)
        held.release()
