"""Network printers for the tests: TCP listeners on 127.0.0.1 that record the
bytes of each connection (one connection = one ticket), answer ESC/POS
real-time status queries (DLE EOT n) once they have read everything sent
before the query, and can be switched off and on or die in the middle of a
ticket, as a printer whose plug is pulled does."""

from __future__ import annotations

import re
import socket
import struct
import threading

STATUS_QUERY = re.compile(rb"\x10\x04[\x01-\x04]")
ONLINE = b"\x12"  # DLE EOT 1 answer: fixed bits only, nothing wrong


class FakePrinter:
    def __init__(self):
        self.port = 0
        self.tickets: list[bytes] = []  # what each connection printed, status queries left out
        self.queries = 0  # status queries answered
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._die_after: int | None = None
        self._server: socket.socket | None = None
        self.switch_on()

    # --- power ----------------------------------------------------------------------

    @property
    def on(self) -> bool:
        return self._server is not None

    def switch_on(self) -> None:
        """Listen (again, on the same port): connections are accepted."""
        server = socket.create_server(("127.0.0.1", self.port))
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        self._server = server
        self._accepting = threading.Thread(target=self._accept, args=(server,), daemon=True)
        self._accepting.start()

    def switch_off(self) -> None:
        """Connections are refused and the ones open are reset."""
        server, self._server = self._server, None
        if server is not None:
            # Wakes the accept() at once and stops listening, so the port is
            # free for switch_on() as soon as this returns.
            try:
                server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            server.close()
            if self._accepting is not threading.current_thread():
                self._accepting.join(5)
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _reset(connection)

    def die_after(self, count: int) -> None:
        """The next ticket loses power after `count` of its bytes: they are
        printed, the connection is reset and the printer stays off until
        switch_on()."""
        self._die_after = count

    # --- what arrived ---------------------------------------------------------------

    def texts(self) -> list[str]:
        with self._lock:
            return [ticket.decode("cp437") for ticket in self.tickets]

    def close(self) -> None:
        self.switch_off()

    # --- the listener ---------------------------------------------------------------

    def _accept(self, server: socket.socket) -> None:
        while self._server is server:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._server is not server:  # switched off meanwhile
                _reset(connection)
                connection.close()
                return
            with self._lock:
                self._connections.add(connection)
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        printed = bytearray()
        unread = b""
        connection.settimeout(30)
        try:
            while chunk := connection.recv(65536):
                unread += chunk
                while match := STATUS_QUERY.search(unread):
                    printed += unread[: match.start()]
                    unread = unread[match.end() :]
                    if self._dies(printed, connection):
                        return
                    connection.sendall(ONLINE)
                    with self._lock:
                        self.queries += 1
                # A query may be split over two reads: keep its first bytes.
                keep = 2 if unread.endswith(b"\x10\x04") else 1 if unread.endswith(b"\x10") else 0
                printed += unread[: len(unread) - keep]
                unread = unread[len(unread) - keep :]
                if self._dies(printed, connection):
                    return
        except OSError:
            pass  # a connection reset by a killed agent (or by switch_off) ends the ticket too
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()
            self._record(bytes(printed))

    def _dies(self, printed: bytearray, connection: socket.socket) -> bool:
        limit = self._die_after
        if limit is None or len(printed) < limit:
            return False
        self._die_after = None
        del printed[limit:]
        self.switch_off()
        _reset(connection)
        return True

    def _record(self, printed: bytes) -> None:
        if printed:  # a status probe alone prints nothing
            with self._lock:
                self.tickets.append(printed)


def _reset(connection: socket.socket) -> None:
    """Close with a TCP reset, as a printer losing power mid-connection looks
    to the agent once it comes back (or as soon as the agent writes)."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
