"""A tiny TCP proxy in front of PostgreSQL that counts the client's protocol messages, to count round trips.

psycopg2 speaks the simple query protocol: every statement, BEGIN and COMMIT is one ``Q`` message answered by
one ``ReadyForQuery``, so the number of ``Q`` messages is the number of round trips.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import Counter


class CountingProxy:
    """Listens on 127.0.0.1:<port>, forwards to ``upstream``; ``counts`` holds client message types seen."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.counts: Counter[str] = Counter()
        self.queries: list[tuple[int, str]] = []  # (connection number, query text)
        self._connections = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self._server.close()

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.counts["Q"], len(self.queries)

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._connections += 1
            args = (client, server, self._connections)
            threading.Thread(target=self._client_to_server, args=args, daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def connections_sending(self, *needles: str) -> set[int]:
        """Connections that ever sent a query containing one of ``needles``."""
        with self._lock:
            return {c for c, q in self.queries if any(n in q for n in needles)}

    def _client_to_server(self, src: socket.socket, dst: socket.socket, number: int) -> None:
        buf, started = b"", False
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                buf += data
                while True:
                    if not started:  # startup / SSL request: length-prefixed, no type byte
                        if len(buf) < 4 or len(buf) < struct.unpack("!I", buf[:4])[0]:
                            break
                        n = struct.unpack("!I", buf[:4])[0]
                        code = struct.unpack("!I", buf[4:8])[0]
                        buf, started = buf[n:], code not in (80877103, 80877104)  # SSL / GSS requests
                        continue
                    if len(buf) < 5 or len(buf) < 1 + struct.unpack("!I", buf[1:5])[0]:
                        break
                    kind, n = chr(buf[0]), struct.unpack("!I", buf[1:5])[0]
                    with self._lock:
                        self.counts[kind] += 1
                        if kind == "Q":
                            self.queries.append((number, buf[5 : 1 + n].rstrip(b"\0").decode(errors="replace")))
                    buf = buf[1 + n :]
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
