"""Network printers for the end-to-end test: TCP listeners on 127.0.0.1 that
record the bytes of each connection (one connection = one ticket)."""

from __future__ import annotations

import socket
import threading


class FakePrinter:
    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.tickets: list[bytes] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        chunks = []
        connection.settimeout(30)
        with connection:
            try:
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
            except OSError:
                pass  # a connection reset by a killed agent ends the ticket too
        data = b"".join(chunks)
        if data:  # the agent's status probe connects and sends nothing
            with self._lock:
                self.tickets.append(data)

    def texts(self) -> list[str]:
        with self._lock:
            return [ticket.decode("cp437") for ticket in self.tickets]

    def close(self) -> None:
        self._stopping.set()
        self.server.close()
        self._thread.join(timeout=5)
