"""A fake ESC/POS network printer: a real TCP server on a free port that records every byte.

It answers each DLE EOT n with the status byte of its current state (``ok``, ``paper_low``,
``paper_out``, ``offline``, ``cover_open``, ``cutter_jam``), can stay ``silent``, and can run out of
paper once a job of ``runs_out_after`` bytes has come in. Used by the printing tests and by the kiosk's
page tests (a kiosk printing through the server or through the USB agent).
"""

from __future__ import annotations

import socketserver
import threading

from qserver.printing import PrinterSettings
from tests.support import TIMEOUT

__all__ = ["DLE_EOT", "STATES", "FakePrinter"]

DLE_EOT = b"\x10\x04"
#: DLE EOT 1 (printer), 2 (offline cause), 3 (error cause), 4 (paper) answers per state.
STATES = {
    "ok":         {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_low":  {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out":  {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
    "offline":    {1: 0x1A, 2: 0x12, 3: 0x12, 4: 0x12},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    "cutter_jam": {1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12},
}


class FakePrinter:
    def __init__(self) -> None:
        self.state = "ok"
        self.silent = False
        self.runs_out_after: int | None = None
        self.received = bytearray()
        self.queries: list[int] = []
        self.lock = threading.Lock()
        self.closed = threading.Condition(self.lock)
        self.connections_closed = 0
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                pending = bytearray()
                while data := self.request.recv(65536):
                    with fake.lock:
                        fake.received += data
                        pending += data
                        answers, pending = fake._answers(pending)
                    if answers:
                        self.request.sendall(answers)
                with fake.closed:
                    fake.connections_closed += 1
                    fake.closed.notify_all()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def _answers(self, pending: bytearray) -> tuple[bytes, bytearray]:
        """Answers to the complete queries in ``pending``, and what to keep for the next bytes."""
        answers = bytearray()
        while True:
            at = pending.find(DLE_EOT)
            if at < 0:
                return bytes(answers), bytearray(b"\x10" if pending.endswith(b"\x10") else b"")
            if at + 2 >= len(pending):
                return bytes(answers), pending[at:]
            n = pending[at + 2]
            self.queries.append(n)
            if self.runs_out_after is not None and len(self.job) >= self.runs_out_after:
                self.state = "paper_out"
            if not self.silent and n in STATES[self.state]:
                answers.append(STATES[self.state][n])
            del pending[:at + 3]

    def wait_closed(self, count: int = 1) -> None:
        """Wait until ``count`` connections have ended (every byte they sent is recorded)."""
        with self.closed:
            assert self.closed.wait_for(lambda: self.connections_closed >= count, TIMEOUT), "no connection ended"

    @property
    def job(self) -> bytes:
        """What was sent besides the status queries."""
        data = bytes(self.received)
        for n in (1, 2, 3, 4):
            data = data.replace(DLE_EOT + bytes([n]), b"")
        return data

    def settings(self, **overrides) -> PrinterSettings:
        return PrinterSettings(host="127.0.0.1", port=self.port, status_timeout_s=0.5, **overrides)

    def start(self) -> "FakePrinter":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
