"""Ports for the programs that the tests, the benches and the cluster script
start (Daphne workers, Pushpin, HAProxy, Redis): held from the moment they
are picked until the program they are for has bound them. Standard library
only: the cluster script runs on the runtime requirements.

A port picked by binding port 0 and closing the socket is free only at that
instant: until its program binds it, the system may give it to anybody else
(another pick in this process, a test worker beside it, an outgoing
connection), and the program then finds it taken.

Invariants (Linux):

- A held port is bound, in this process, by a socket that does not listen,
  until `release()` or until the HeldPort is garbage-collected. Meanwhile no
  process gets it from the system: neither by binding port 0 nor for an
  outgoing connection; binding it by number without SO_REUSEADDR fails.
- The program it is held for binds it all the same: the held socket has
  SO_REUSEADDR, set after it was bound, and Linux lets a socket with
  SO_REUSEADDR bind beside bound sockets that have it too and do not listen.
  Daphne (Twisted), HAProxy, Pushpin (condure, zmq), redis-server and
  Python's http.server all set it. Once the program listens, nobody else can
  bind the port, with SO_REUSEADDR or without.
- Nothing listens on a held port until its program does: a connection to it
  is refused, as to a closed port (a killed worker's port stays held, and
  refuses connections, until its holder lets go).
- Two holds never share a port, in one process or in several: a port is
  first bound without SO_REUSEADDR, which fails while anybody holds it.
"""

from __future__ import annotations

import socket
import threading

LOOPBACK = "127.0.0.1"


class HeldPort:
    """A port kept from everybody but the program it is for."""

    def __init__(self, sock: socket.socket):
        self._socket: socket.socket | None = sock
        self.port: int = sock.getsockname()[1]
        self._lock = threading.Lock()

    def release(self) -> None:
        """Let go of the port (its program has bound it, or is gone for good)."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    @property
    def held(self) -> bool:
        return self._socket is not None

    def __del__(self) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<HeldPort {self.port}{'' if self.held else ' released'}>"


def _bind(port: int, host: str) -> socket.socket:
    """Bound without SO_REUSEADDR (so the bind fails if anybody holds or uses
    the port), then marked reusable for the program that will bind it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    except OSError:
        sock.close()
        raise
    return sock


def hold_port(host: str = LOOPBACK) -> HeldPort:
    """A port of the system's choice, held until released."""
    return HeldPort(_bind(0, host))


def hold_port_in(holds: list[HeldPort], host: str = LOOPBACK) -> int:
    """hold_port(), kept in `holds` (the list of ports an object holds for as
    long as it lives); returns its number."""
    held = hold_port(host)
    holds.append(held)
    return held.port


def hold_ports_in_a_row(count: int, host: str = LOOPBACK, attempts: int = 100) -> list[HeldPort]:
    """`count` consecutive ports, every one held (scripts/cluster.py puts its
    workers on consecutive ports from --first-worker-port)."""
    for _ in range(attempts):
        first = hold_port(host)
        if first.port + count > 65535:
            first.release()
            continue
        run = [first]
        try:
            for offset in range(1, count):
                run.append(HeldPort(_bind(first.port + offset, host)))
        except OSError:
            for held in run:
                held.release()
            continue
        return run
    raise RuntimeError(f"no run of {count} free ports in {attempts} attempts")
