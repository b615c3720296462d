"""Fan-out benchmark: N hall-display sockets on one qserver process; how long from call-next until every
socket has the call, and the server's memory per socket.

    python bench/fanout.py [--sockets 1000 5000] [--calls 30]

The display sockets are minimal raw websocket clients (asyncio protocols that only look for the called
number in the bytes they receive), so the load generator's own parsing does not inflate the figures.
They live in this process, with the caller, so send and receive times come from one clock.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import time

from support import HttpConnection, RedisProcess, ServerProcess, percentile

import config


class Display(asyncio.Protocol):
    """A websocket subscriber that records when the awaited marker first arrives."""

    def __init__(self, request: bytes, ready: asyncio.Future):
        self.request, self.ready = request, ready
        self.upgraded = False
        self.buffer = b""
        self.marker: bytes | None = None
        self.seen_at: float | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.upgraded:
            self.buffer += data
            if b"\r\n\r\n" in self.buffer:
                self.upgraded = True
                if not self.buffer.startswith(b"HTTP/1.1 101"):
                    self.ready.set_exception(RuntimeError(self.buffer[:80].decode(errors="replace")))
                    return
                self.buffer = self.buffer[-64:]
                if b'"snapshot"' in data or not self.ready.done():
                    self.ready.set_result(None) if not self.ready.done() else None
            return
        if self.marker is not None and self.seen_at is None:
            window = self.buffer + data
            if self.marker in window:
                self.seen_at = time.perf_counter()
        self.buffer = data[-64:]

    def expect(self, marker: bytes) -> None:
        self.marker, self.seen_at, self.buffer = marker, None, b""


async def open_displays(port: int, count: int) -> list[Display]:
    loop = asyncio.get_running_loop()
    displays: list[Display] = []

    async def one(index: int) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /ws?site=cantho&topics=floor:0&device=bench-{index} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: qs.v1.json\r\n\r\n").encode()
        ready = loop.create_future()
        _, display = await loop.create_connection(lambda: Display(request, ready), "127.0.0.1", port)
        await asyncio.wait_for(ready, 60)
        displays.append(display)

    for start in range(0, count, 200):
        await asyncio.gather(*(one(i) for i in range(start, min(count, start + 200))))
    await asyncio.sleep(1.0)  # let every snapshot arrive
    return displays


async def measure(server: ServerProcess, redis: RedisProcess, sockets: int, calls: int) -> None:
    baseline_kib = server.rss_kib()
    displays = await open_displays(server.port, sockets)
    await asyncio.sleep(1.0)
    per_socket_kib = (server.rss_kib() - baseline_kib) / sockets
    kiosk, manager = redis.token("kiosk"), redis.token("manager")
    http = await HttpConnection.open(server.port)
    for _ in range(calls):
        await http.request("POST", "/api/v1/sites/cantho/tickets", kiosk, {"agency": "so-noi-vu"})
    every_socket: list[float] = []
    each_socket: list[float] = []
    missing = 0
    for _ in range(calls):
        await asyncio.sleep(0.2)
        counter = "12"
        # The number is known only from the answer; expect the marker of the next number instead.
        status, body = await http.request("GET", "/api/v1/sites/cantho/state?floor=0", manager)
        waiting_next = _next_number(body)
        for display in displays:
            display.expect(f'"number":"{waiting_next}"'.encode())
        started = time.perf_counter()
        status, _ = await http.request("POST", f"/api/v1/sites/cantho/counters/{counter}/call-next", manager)
        assert status == 200, status
        deadline = started + 10
        while time.perf_counter() < deadline and any(d.seen_at is None for d in displays):
            await asyncio.sleep(0.001)
        seen = [d.seen_at - started for d in displays if d.seen_at is not None]
        missing += sum(d.seen_at is None for d in displays)
        each_socket.extend(seen)
        every_socket.append(max(seen))
    ms = [v * 1000 for v in each_socket]
    all_ms = [v * 1000 for v in every_socket]
    print(f"{sockets:>5} sockets  {calls} calls  per socket: p50 {percentile(ms, 0.5):6.1f} ms  "
          f"p99 {percentile(ms, 0.99):6.1f} ms  max {max(ms):6.1f} ms   until every socket: "
          f"p50 {percentile(all_ms, 0.5):6.1f} ms  p99 {percentile(all_ms, 0.99):6.1f} ms  "
          f"max {max(all_ms):6.1f} ms   memory {per_socket_kib:5.1f} KiB/socket  missed {missing}")
    http.close()
    for display in displays:
        display.transport.close()
    await asyncio.sleep(1.0)


def _next_number(state_body: bytes) -> str:
    """The number call-next will call at counter 12 (Nội vụ): the lowest waiting E number."""
    import json

    state = json.loads(state_body)
    served = [c["current"]["number"] for c in state["counters"] if c["id"] == "12" and c["current"]]
    last = int(served[0][1:]) if served else 0
    return f"E{last + 1:03d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    config.load_sites()
    print(f"qserver fan-out benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, hall displays on floor 0")
    for sockets in args.sockets:
        redis = RedisProcess()
        server = ServerProcess(redis.url)
        try:
            asyncio.run(measure(server, redis, sockets, args.calls))
        finally:
            server.stop()
            redis.stop()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    main()
