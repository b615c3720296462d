"""A webhook receiver for the tests: a real HTTP server on a free port (a thread), which answers 500 to
its first ``fail_first`` requests (or to all, with ``fail_always``), records every request, and applies
each event id once, as docs/webhooks.md asks a gateway to."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support import free_port


class Receiver:
    def __init__(self, *, fail_first: int = 0, fail_always: bool = False):
        self.fail_first, self.fail_always = fail_first, fail_always
        self.requests: list[tuple[dict[str, str], bytes, int]] = []   # headers, body, the status answered
        self.applied: list[dict] = []                                  # bodies, each event id once
        self._seen: set[str] = set()
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    failing = receiver.fail_always or len(receiver.requests) < receiver.fail_first
                    status = 500 if failing else 200
                    receiver.requests.append((dict(self.headers), body, status))
                    if not failing:
                        event = json.loads(body)
                        if event["id"] not in receiver._seen:
                            receiver._seen.add(event["id"])
                            receiver.applied.append(event)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def types(self) -> list[str]:
        with self.lock:
            return [event["type"] for event in self.applied]

    def of(self, kind: str) -> list[dict]:
        with self.lock:
            return [event for event in self.applied if event["type"] == kind]
