"""A local webhook receiver for tests: a threaded HTTP server on a free port that records every POST.

``fail_first`` makes it answer 503 to the first attempt of every message whose id's last hex digit is in the set,
so retries happen; ``always_fail`` answers 500 to everything (for the dead-letter path).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from geogrid.notify.signing import verify


@dataclass
class Received:
    event_id: str
    kind: str
    body: bytes
    signature: str | None


@dataclass
class Receiver:
    secret: str
    fail_first: set[str] = field(default_factory=set)
    always_fail: bool = False
    received: list[Received] = field(default_factory=list)
    refused: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event_id = self.headers.get("X-Geogrid-Event-Id", "")
                with receiver.lock:
                    first = event_id not in receiver.refused and event_id[-1:] in receiver.fail_first
                    if receiver.always_fail or first:
                        receiver.refused[event_id] += 1
                        code = 500 if receiver.always_fail else 503
                    else:
                        receiver.received.append(
                            Received(event_id, self.headers.get("X-Geogrid-Event", ""), body,
                                     self.headers.get("X-Geogrid-Signature"))
                        )  # fmt: skip
                        code = 204
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def check_all(self) -> dict[str, list[Received]]:
        """Every delivery is validly signed and its body's id matches its header; grouped by event id."""
        by_id: dict[str, list[Received]] = {}
        for item in self.snapshot():
            assert verify(self.secret, item.body, item.signature), f"bad signature on {item.event_id}"
            message = json.loads(item.body)
            assert message["id"] == item.event_id and message["type"] == item.kind
            by_id.setdefault(item.event_id, []).append(item)
        for copies in by_id.values():
            assert len({c.body for c in copies}) == 1, "a re-delivery must carry the same bytes"
        return by_id
