"""`python -m scripts.port_free HOST PORT`: exit at once with a clear
message when nothing could listen on HOST:PORT (another server has it, or
the address is not this machine's), before `make run` migrates and loads
anything. Exit status 0 when the port is free, 1 (and a message) otherwise."""

from __future__ import annotations

import errno
import socket
import sys


def port_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port, or None when it could.
    Binds the way Daphne does (SO_REUSEADDR), so a port left in TIME_WAIT by
    a server that just stopped counts as free."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"{host} is not an address of this machine ({error.strerror})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another server?): stop it or choose PORT=..."
            if error.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this machine: use HOST=0.0.0.0 or one of its addresses"
            if error.errno == errno.EACCES:
                return f"port {port} needs privileges: choose PORT above 1023"
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isascii() or not argv[1].isdecimal() or not 0 < int(argv[1]) < 65536:
        print("usage: python -m scripts.port_free HOST PORT (PORT 1-65535)", file=sys.stderr)
        return 2
    problem = port_problem(argv[0], int(argv[1]))
    if problem:
        print(f"Cannot serve: {problem}.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
