"""Fan-out benchmark: N hall-display sockets on one qserver process; how long from call-next until every
socket has the call, and the server's memory per socket.

    python bench/fanout.py [--sockets 1000 5000] [--calls 30] [--pin auto|yes|no] [--deflate]

The display sockets are minimal raw websocket clients (asyncio protocols that only look for the called
number in the bytes they receive), so the load generator's own parsing does not inflate the figures.
They live in this process, with the caller, so send and receive times come from one clock.

On a machine of 2+ CPUs the server runs alone on the first CPU and this process and Redis on the others
(``--pin no`` to let the scheduler mix them): the clients would be on other machines in a building, and on
one small machine their CPU time would otherwise be counted as the server's latency. The first line says
how it ran, with the load average (other work on the machine shows up in the latencies). "server CPU" is
the CPU time the server process used per call (HTTP call-next included), from /proc: less noisy than
latencies on a busy machine. ``--deflate`` offers per-message deflate as browsers do (and inflates what
comes back); the line then says on how many sockets the server accepted it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import struct
import time
import zlib

from support import HttpConnection, RedisProcess, ServerProcess, percentile, pin_process

import config


class Display(asyncio.Protocol):
    """A websocket subscriber that records when the awaited marker first arrives.

    Without per-message deflate it only looks for the marker in the raw bytes (server frames are not
    masked, so a JSON frame's text is there as is) and walks the frame headers for pings. With
    ``deflate`` it offers the extension the way browsers do and, when the server accepts it, parses
    frames and inflates them, as a browser must. Either way it answers pings with a pong, as a browser
    does (uvicorn closes a socket whose pong does not come within ``ws_ping_timeout``).
    """

    def __init__(self, request: bytes, ready: asyncio.Future, deflate: bool):
        self.request, self.ready, self.deflate = request, ready, deflate
        self.upgraded = False
        self.compressed = False
        self.buffer = b""
        self.marker: bytes | None = None
        self.seen_at: float | None = None
        self.on_seen = None
        self._skip = 0             # payload bytes of the current frame still to come
        self._partial = b""        # an incomplete frame header (or ping) at the end of the last data
        self.pongs = 0

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.upgraded:
            self.buffer += data
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            self.upgraded = True
            if not head.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(head[:80].decode(errors="replace")))
                return
            self.compressed = b"permessage-deflate" in head.lower()
            if self.compressed:
                self.inflater = zlib.decompressobj(-15)
            self.buffer = b""
            data = rest
            if not data:
                return
        if not self.ready.done():
            self.ready.set_result(None)  # the first frame (the snapshot) is coming in
        if self.compressed:
            self._frames(data)
            return
        if self.marker is not None and self.seen_at is None:
            if self.marker in self.buffer + data:
                self._seen()
        self.buffer = data[-64:]
        self._answer_pings(data)

    def _answer_pings(self, data: bytes) -> None:
        """Walk the frame headers of the raw stream (unmasked server frames) and answer each ping."""
        if self._partial:
            data, self._partial = self._partial + data, b""
        pos, end = self._skip, len(data)
        while pos + 2 <= end:
            first, size = data[pos], data[pos + 1] & 0x7F
            offset = 2
            if size == 126:
                if pos + 4 > end:
                    break
                size, offset = int.from_bytes(data[pos + 2:pos + 4], "big"), 4
            elif size == 127:
                if pos + 10 > end:
                    break
                size, offset = int.from_bytes(data[pos + 2:pos + 10], "big"), 10
            if first & 0x0F == 0x9:
                if pos + offset + size > end:
                    break  # keep the whole ping for the next data
                self._pong(data[pos + offset:pos + offset + size])
            pos += offset + size
        if pos >= end:
            self._skip = pos - end
        else:
            self._skip, self._partial = 0, data[pos:]

    def _pong(self, payload: bytes) -> None:
        """A client frame must be masked: a zero mask leaves the payload as it is."""
        self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
        self.pongs += 1

    def _frames(self, data: bytes) -> None:
        """Parse whole frames, inflate the compressed ones, look for the marker in each message."""
        buffer = self.buffer + data
        while len(buffer) >= 2:
            first, size = buffer[0], buffer[1] & 0x7F
            offset = 2
            if size == 126:
                if len(buffer) < 4:
                    break
                size, offset = struct.unpack("!H", buffer[2:4])[0], 4
            elif size == 127:
                if len(buffer) < 10:
                    break
                size, offset = struct.unpack("!Q", buffer[2:10])[0], 10
            if len(buffer) < offset + size:
                break
            payload, buffer = buffer[offset:offset + size], buffer[offset + size:]
            if first & 0x0F == 0x9:
                self._pong(payload)
                continue
            if first & 0x40:  # RSV1: compressed message
                payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
            if self.marker is not None and self.seen_at is None and self.marker in payload:
                self._seen()
        self.buffer = buffer

    def _seen(self) -> None:
        self.seen_at = time.perf_counter()
        if self.on_seen is not None:
            self.on_seen()

    def expect(self, marker: bytes, on_seen) -> None:
        self.marker, self.seen_at, self.on_seen = marker, None, on_seen
        if not self.compressed:
            self.buffer = b""


async def open_displays(port: int, count: int, deflate: bool = False,
                        where: list[tuple[str, str]] | None = None) -> list[Display]:
    """``count`` sockets, all on floor 0 of Cần Thơ, or socket ``i`` on ``where[i]`` = (site, topic);
    returned in that order."""
    loop = asyncio.get_running_loop()
    displays: list[Display | None] = [None] * count
    extension = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if deflate else ""

    async def one(index: int) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        site, topic = where[index] if where else ("cantho", "floor:0")
        request = (f"GET /ws?site={site}&topics={topic}&device=bench-{index} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: qs.v1.json\r\n{extension}\r\n").encode()
        ready = loop.create_future()
        _, display = await loop.create_connection(lambda: Display(request, ready, deflate), "127.0.0.1", port)
        await asyncio.wait_for(ready, 60)
        displays[index] = display

    for start in range(0, count, 200):
        await asyncio.gather(*(one(i) for i in range(start, min(count, start + 200))))
    await asyncio.sleep(1.0)  # let the last snapshots arrive in full
    return displays


async def measure(server: ServerProcess, redis: RedisProcess, sockets: int, calls: int, deflate: bool) -> None:
    baseline_kib = server.rss_kib()
    connecting = time.perf_counter()
    displays = await open_displays(server.port, sockets, deflate)
    connected_s = time.perf_counter() - connecting - 1.0  # until each socket's snapshot began to arrive
    await asyncio.sleep(1.0)
    per_socket_kib = (server.rss_kib() - baseline_kib) / sockets
    compressed = sum(d.compressed for d in displays)
    kiosk, manager = redis.token("kiosk"), redis.token("manager")
    http = await HttpConnection.open(server.port)
    for _ in range(calls):
        await http.request("POST", "/api/v1/sites/cantho/tickets", kiosk, {"agency": "so-noi-vu"})
    every_socket: list[float] = []
    each_socket: list[float] = []
    missing = 0
    cpu_s = 0.0
    loop = asyncio.get_running_loop()
    for _ in range(calls):
        await asyncio.sleep(0.2)
        counter = "12"
        # The number is known only from the answer; expect the marker of the next number instead.
        status, body = await http.request("GET", "/api/v1/sites/cantho/state?floor=0", manager)
        waiting_next = _next_number(body)
        everyone = loop.create_future()
        remaining = len(displays)

        def seen() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0 and not everyone.done():
                everyone.set_result(None)

        for display in displays:
            display.expect(f'"number":"{waiting_next}"'.encode(), seen)
        cpu_before = server.cpu_s()
        started = time.perf_counter()
        status, _ = await http.request("POST", f"/api/v1/sites/cantho/counters/{counter}/call-next", manager)
        assert status == 200, status
        try:
            await asyncio.wait_for(everyone, 10)
        except asyncio.TimeoutError:
            pass
        cpu_s += server.cpu_s() - cpu_before
        seen_s = [d.seen_at - started for d in displays if d.seen_at is not None]
        missing += sum(d.seen_at is None for d in displays)
        each_socket.extend(seen_s)
        every_socket.append(max(seen_s))
    ms = [v * 1000 for v in each_socket]
    all_ms = [v * 1000 for v in every_socket]
    print(f"{sockets:>5} sockets  {calls} calls  per socket: p50 {percentile(ms, 0.5):6.1f} ms  "
          f"p99 {percentile(ms, 0.99):6.1f} ms  max {max(ms):6.1f} ms   until every socket: "
          f"p50 {percentile(all_ms, 0.5):6.1f} ms  p99 {percentile(all_ms, 0.99):6.1f} ms  "
          f"max {max(all_ms):6.1f} ms   memory {per_socket_kib:5.1f} KiB/socket  "
          f"server CPU {cpu_s / calls * 1000:5.1f} ms/call  missed {missing}  connected in {connected_s:4.1f} s"
          + (f"  deflate on {compressed} sockets" if deflate else ""))
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
    parser.add_argument("--deflate", action="store_true",
                        help="offer per-message deflate like browsers do (and inflate what comes back)")
    parser.add_argument("--pin", choices=("auto", "yes", "no"), default="auto",
                        help="server alone on one CPU, this process and Redis on the others (auto: with 2+ CPUs)")
    args = parser.parse_args()
    config.load_sites()
    cpus = sorted(os.sched_getaffinity(0))
    pin = args.pin == "yes" or (args.pin == "auto" and len(cpus) >= 2)
    print(f"qserver fan-out benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, hall displays on floor 0, "
          f"{len(cpus)} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}, "
          + (f"server pinned to CPU {cpus[0]}, clients and Redis to CPU {','.join(map(str, cpus[1:]))}"
             if pin else "not pinned"))
    for sockets in args.sockets:
        redis = RedisProcess()
        server = ServerProcess(redis.url)
        if pin:
            server.pin({cpus[0]})
            pin_process(redis.process.pid, set(cpus[1:]))
            pin_process(os.getpid(), set(cpus[1:]))
        try:
            asyncio.run(measure(server, redis, sockets, args.calls, args.deflate))
        finally:
            server.stop()
            redis.stop()
            if pin:
                pin_process(os.getpid(), set(cpus))


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    main()
