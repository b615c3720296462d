"""City benchmark: the 104 centers of Cần Thơ on N `qserver run` processes sharing one Redis, 10,000
display sockets spread like a city, calls at the city's peak rate and in a burst, then one process
killed: how long until its sockets are back on the others and have every call made meanwhile.

    python bench/city.py [--sockets 10000] [--processes 2] [--rate 2] [--seconds 60] [--burst 100]
                         [--pin auto|yes|no]

Sockets (``--sockets``, dealt round-robin over the processes, as a proxy with least_conn would):
10 % on the city center's floors (``floor:0``/``floor:1`` of ``cantho``: its big halls), 51.5 % in the
103 commune halls (``floor:0`` of each), the rest counter-top displays (``counter:<id>`` of every counter
of every site). They are raw websocket clients (bench/fanout.py's kind: they look for the called number
in each message, answer uvicorn's pings, and note the last event id they got, to resume with ``since``).

Calls: each site calls with its first counter the tickets of that counter's first field, issued
beforehand (so the next number is known). Peak: ``--rate`` calls a second for ``--seconds``, at sites
drawn by their daily volume (the center 900 a day, a commune 200), one call at a time per site; the
city's real peak is about 1.3 a second (21,500 tickets a day over 7-8 hours, ×1.6 at the morning
peak). Burst: ``--burst`` sites call at the same moment. "Until every socket" is from sending the
call-next until the last socket of that site that shows it (its floor, its counter) has it.
Server CPU per call is the processes' CPU time over the peak phase ÷ its calls (heartbeats included);
memory per socket the growth of each process's RSS while the sockets connected ÷ its sockets.

Recovery: the last process is killed with SIGKILL; its sockets reconnect to the others (what the
proxy does), after a first delay like the displays' (0.35-0.5 s, then ×1.8 while refused), with
``since`` = the last event id they got; meanwhile every site makes one call. It prints how long until
every socket of the killed process is connected again, and until each has every call made meanwhile
(missed: sockets still lacking one after 60 s; snapshots: reconnections answered with a snapshot instead
of a replay). On 2 CPUs the servers share CPU 0 and this process and Redis CPU 1 (``--pin no``: mixed).
A real city: 4 processes on 2 machines (docs/deploy-city.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import random
import re
import signal
import struct
import time

from support import HttpConnection, RedisProcess, ServerProcess, percentile, pin_process, redis_connections

import config

CITY = str(config.CITIES_DIR / "cantho")
CENTER = "cantho"
#: Seconds without calls, to measure what the idle sockets cost the servers.
IDLE_S = 15.0
#: Keep-alive HTTP connections per process: a burst's calls each have one, like pads and officers' PCs.
POOL = 64
EVENT_ID = re.compile(rb'"event_id":"(\d+)-(\d+)","(?:at|state)":')


class Socket(asyncio.Protocol):
    """One display: a site and one topic; pending markers (called numbers) it must see; the last event id."""

    def __init__(self, bench: "Bench", site: str, topic: str, device: str):
        self.bench, self.site, self.topic, self.device = bench, site, topic, device
        self.server = 0                     # index of the process it was dealt to
        self.index = 0                      # its place in the benchmark (spreads reconnections)
        self.port = 0
        self.transport = None
        self.upgraded = False
        self.connected = asyncio.get_running_loop().create_future()
        self.buffer = b""
        self.last_id: tuple[int, int] | None = None
        self.pending: dict[bytes, "Call"] = {}
        self.attempt = 0
        self.reconnected_at: float | None = None
        self.first_after_reconnect = False
        self.snapshots_after_reconnect = 0

    def request(self) -> bytes:
        since = f"&since={self.last_id[0]}-{self.last_id[1]}" if self.last_id else ""
        key = base64.b64encode(os.urandom(16)).decode()
        return (f"GET /ws?site={self.site}&topics={self.topic}&device={self.device}{since} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: qs.v1.json\r\n\r\n"
                ).encode()

    async def connect(self, port: int) -> None:
        self.port, self.upgraded, self.buffer = port, False, b""
        await asyncio.get_running_loop().create_connection(lambda: self, "127.0.0.1", port)

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request())

    def data_received(self, data: bytes) -> None:
        if not self.upgraded:
            head, sep, rest = (self.buffer + data).partition(b"\r\n\r\n")
            if not sep:
                self.buffer = head
                return
            self.upgraded, self.buffer, data = True, b"", rest
            if not head.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(head[:120].decode(errors="replace"))
            if self.attempt and self.reconnected_at is None:
                self.reconnected_at = time.perf_counter()
                self.first_after_reconnect = True
            if not data:
                return
        if not self.connected.done():
            self.connected.set_result(None)
        buffer, at = self.buffer + data, 0
        while len(buffer) - at >= 2:                 # whole frames only (uvicorn's pings need a pong)
            first, size, offset = buffer[at], buffer[at + 1] & 0x7F, 2
            if size == 126:
                if len(buffer) - at < 4:
                    break
                size, offset = struct.unpack_from("!H", buffer, at + 2)[0], 4
            elif size == 127:
                if len(buffer) - at < 10:
                    break
                size, offset = struct.unpack_from("!Q", buffer, at + 2)[0], 10
            if len(buffer) - at < offset + size:
                break
            payload = buffer[at + offset:at + offset + size]
            at += offset + size
            opcode = first & 0x0F
            if opcode == 0x9:
                mask = os.urandom(4)
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask
                                     + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            elif opcode in (0x0, 0x1):
                self.message(payload)
        self.buffer = buffer[at:]

    def message(self, payload: bytes) -> None:
        if self.first_after_reconnect:   # a replay (events after `since`), or a snapshot when it could not be
            self.first_after_reconnect = False
            self.snapshots_after_reconnect += payload.startswith(b'{"type":"snapshot"')
        for match in EVENT_ID.finditer(payload):
            found = (int(match.group(1)), int(match.group(2)))
            if self.last_id is None or found > self.last_id:
                self.last_id = found
        if self.pending:
            now = time.perf_counter()
            for marker in [m for m in self.pending if m in payload]:
                self.pending.pop(marker).seen(self, now)

    def connection_lost(self, exc) -> None:
        self.transport = None
        if self.bench.reconnect_ports and not self.bench.stopping:
            self.bench.spawn(self.reconnect())

    async def reconnect(self) -> None:
        """Like qs.js: 0.35-0.5 s, then ×1.8 (capped at 15 s) while refused."""
        while not self.bench.stopping:
            self.attempt += 1
            await asyncio.sleep(min(15.0, 0.5 * 1.8 ** (self.attempt - 1)) * (0.7 + 0.3 * random.random()))
            try:
                self.connected = asyncio.get_running_loop().create_future()
                ports = self.bench.reconnect_ports
                await self.connect(ports[self.index % len(ports)])
                return
            except OSError:
                continue


class Call:
    """One call-next and the sockets that must show it."""

    def __init__(self, site: str, number: str, sockets: list[Socket]):
        self.site, self.number = site, number
        self.marker = f'"number":"{number}"'.encode()
        self.remaining = len(sockets)
        self.sent_at = 0.0
        self.seen_s: list[float] = []
        self.done = asyncio.get_running_loop().create_future()
        for socket in sockets:
            socket.pending[self.marker] = self
        if not sockets:
            self.done.set_result(None)

    def seen(self, socket: Socket, at: float) -> None:
        self.seen_s.append(at - self.sent_at)
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)


class Bench:
    def __init__(self, args, redis: RedisProcess, servers: list[ServerProcess]):
        self.args, self.redis, self.servers = args, redis, servers
        self.sites = config.load_sites(CITY)
        self.sockets: list[Socket] = []
        self.by_topic: dict[tuple[str, str], list[Socket]] = {}
        self.tickets: dict[str, list[str]] = {}            # site → numbers waiting for its first counter
        self.locks = {slug: asyncio.Lock() for slug in self.sites}
        self.token = redis.token("manager", site="*")
        self.reconnect_ports: list[int] = []
        self.killed_at: float | None = None
        self.stopping = False
        self._tasks: set[asyncio.Task] = set()
        self.pools: list[asyncio.Queue] = []

    def spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- set-up -----------------------------------------------------------------------------------
    def mix(self) -> list[tuple[str, str, str]]:
        total = self.args.sockets
        center = self.sites[CENTER]
        communes = [s for slug, s in self.sites.items() if slug != CENTER]
        counters = [(s.slug, c.id) for s in self.sites.values() for c in s.counters]
        plan = []
        floors = int(total * 0.10)
        for i in range(floors):
            floor = center.floors[i % len(center.floors)].number
            plan.append((CENTER, f"floor:{floor}", f"floor-{floor}-tv-{i}"))
        halls = int(total * 0.515)
        for i in range(halls):
            plan.append((communes[i % len(communes)].slug, "floor:0", f"floor-0-tv-{i}"))
        for i in range(total - floors - halls):
            slug, counter = counters[i % len(counters)]
            plan.append((slug, f"counter:{counter}", f"counter-{counter}-display-{i}"))
        return plan

    async def open_sockets(self) -> float:
        plan = self.mix()
        started = time.perf_counter()
        for start in range(0, len(plan), 200):
            batch = []
            for index in range(start, min(len(plan), start + 200)):
                site, topic, device = plan[index]
                socket = Socket(self, site, topic, device)
                socket.server, socket.index = index % len(self.servers), index // len(self.servers)
                self.sockets.append(socket)
                self.by_topic.setdefault((site, topic), []).append(socket)
                batch.append(socket)
            await asyncio.gather(*(s.connect(self.servers[s.server].port) for s in batch))
            await asyncio.wait_for(asyncio.gather(*(s.connected for s in batch)), 60)
        return time.perf_counter() - started

    async def request(self, method: str, path: str, body=None, server: int | None = None,
                      sending=None) -> tuple[int, bytes]:
        """One request on a free keep-alive connection of a process (random when not given);
        ``sending()`` runs once the connection is ours, just before the request goes out."""
        server = random.randrange(len(self.pools)) if server is None else server
        connection = await self.pools[server].get()
        try:
            if sending is not None:
                sending()
            return await connection.request(method, path, self.token, body)
        finally:
            self.pools[server].put_nowait(connection)

    async def open_pools(self, alive: list[int] | None = None) -> None:
        self.pools = []
        for index, server in enumerate(self.servers):
            queue: asyncio.Queue = asyncio.Queue()
            if alive is None or index in alive:
                for _ in range(POOL):
                    queue.put_nowait(await HttpConnection.open(server.port))
            self.pools.append(queue)

    async def issue_tickets(self, per_site: dict[str, int]) -> None:
        async def site_tickets(slug: str, count: int) -> None:
            site = self.sites[slug]
            agency = site.agency_by_slug[site.counters[0].agencies[0]]
            numbers = self.tickets.setdefault(slug, [])
            for _ in range(count):
                status, body = await self.request("POST", f"/api/v1/sites/{slug}/tickets", {"agency": agency.slug})
                assert status == 201, body
                numbers.append(re.search(rb'"number":"([^"]+)"', body).group(1).decode())

        await asyncio.gather(*(site_tickets(slug, n) for slug, n in per_site.items()))

    # -- calls ------------------------------------------------------------------------------------
    def receivers(self, slug: str) -> list[Socket]:
        site = self.sites[slug]
        counter = site.counters[0]
        agency = site.agency_by_slug[counter.agencies[0]]
        topics = {f"floor:{agency.floor}", f"floor:{counter.floor}", f"counter:{counter.id}"}
        return [s for topic in topics for s in self.by_topic.get((slug, topic), ())]

    async def call(self, slug: str, server: int | None = None, wait_s: float = 10.0) -> Call:
        async with self.locks[slug]:
            call = Call(slug, self.tickets[slug].pop(0), self.receivers(slug))

            def sending() -> None:
                call.sent_at = time.perf_counter()

            status, body = await self.request("POST", f"/api/v1/sites/{slug}/counters/{self.sites[slug].counters[0].id}"
                                              "/call-next", {}, server, sending)
            assert status == 200 and call.marker in body, (status, body[:200])
            try:
                await asyncio.wait_for(asyncio.shield(call.done), wait_s)
            except asyncio.TimeoutError:
                pass
            return call

    def weights(self) -> list[float]:
        return [900.0 if slug == CENTER else 200.0 for slug in self.sites]

    async def peak(self) -> list[Call]:
        slugs, weights = list(self.sites), self.weights()
        calls: list[asyncio.Task] = []
        deadline = time.perf_counter() + self.args.seconds
        while time.perf_counter() < deadline:
            await asyncio.sleep(random.expovariate(self.args.rate))
            calls.append(asyncio.create_task(self.call(random.choices(slugs, weights)[0])))
        return list(await asyncio.gather(*calls))

    async def burst(self) -> list[Call]:
        chosen = random.sample(list(self.sites), min(self.args.burst, len(self.sites)))
        return list(await asyncio.gather(*(self.call(slug) for slug in chosen)))

    async def kill_and_recover(self) -> dict:
        victim = len(self.servers) - 1
        moved = [s for s in self.sockets if s.server == victim]
        self.reconnect_ports = [server.port for server in self.servers[:victim]]
        await self.open_pools(alive=list(range(victim)))
        for socket in self.sockets:          # calls of the earlier phases that timed out: counted there already
            socket.pending.clear()
        self.killed_at = time.perf_counter()
        self.servers[victim].process.send_signal(signal.SIGKILL)
        calls = [asyncio.create_task(self.call(slug, server=i % victim, wait_s=60.0))
                 for i, slug in enumerate(self.sites)]
        deadline = self.killed_at + 60.0
        while time.perf_counter() < deadline:
            if all(s.reconnected_at for s in moved) and all(not s.pending for s in moved):
                break
            await asyncio.sleep(0.05)
        caught_up = time.perf_counter() - self.killed_at
        made = await asyncio.gather(*calls)
        back = max((s.reconnected_at or float("inf")) for s in moved) - self.killed_at
        attempts: dict[int, int] = {}
        for socket in moved:
            attempts[socket.attempt] = attempts.get(socket.attempt, 0) + 1
        return {"moved": len(moved), "back_s": back, "caught_up_s": caught_up, "calls": made,
                "attempts": dict(sorted(attempts.items())),
                "missed": sum(1 for s in moved if s.pending or not s.reconnected_at),
                "snapshots": sum(s.snapshots_after_reconnect for s in moved)}


def line(name: str, calls: list[Call], extra: str = "", started: float | None = None) -> str:
    every = [max(c.seen_s) * 1000 for c in calls if c.seen_s and not c.remaining]
    each = [v * 1000 for c in calls for v in c.seen_s]
    missed = sum(c.remaining for c in calls)
    if not every:
        return f"{name:<6} {len(calls)} calls: no call reached all its sockets (missed {missed})"
    text = (f"{name:<6} {len(calls):>4} calls{extra}: until every socket of the site p50 {percentile(every, 0.5):6.1f} ms  "
            f"p99 {percentile(every, 0.99):6.1f} ms  max {max(every):6.1f} ms;  per socket p50 "
            f"{percentile(each, 0.5):5.1f} ms  p99 {percentile(each, 0.99):6.1f} ms;  missed {missed}")
    if started is not None:
        slow = sorted((c for c in calls if c.seen_s), key=lambda c: -max(c.seen_s))[:3]
        text += "\n        slowest: " + ", ".join(
            f"{c.site} {max(c.seen_s) * 1000:.0f} ms ({len(c.seen_s):,} sockets, at +{c.sent_at - started:.1f} s)"
            for c in slow)
    return text


async def run(args, redis: RedisProcess, servers: list[ServerProcess]) -> None:
    bench = Bench(args, redis, servers)
    await bench.open_pools()
    calls_per_site = int(args.rate * args.seconds * 900 / sum(bench.weights())) + 20
    per_commune = int(args.rate * args.seconds * 200 / sum(bench.weights())) * 3 + 10
    await bench.issue_tickets({slug: (calls_per_site if slug == CENTER else per_commune) for slug in bench.sites})
    baseline = [s.rss_kib() for s in servers]
    connect_s = await bench.open_sockets()
    await asyncio.sleep(2.0)
    per_socket = [(s.rss_kib() - b) / max(1, sum(1 for x in bench.sockets if x.server == i))
                  for i, (s, b) in enumerate(zip(servers, baseline))]
    print(f"connected {len(bench.sockets):,} sockets in {connect_s:.1f} s; memory per socket: "
          + ", ".join(f"process {i + 1} {kib:.1f} KiB" for i, kib in enumerate(per_socket)))
    idle_started, idle_cpu = time.perf_counter(), sum(s.cpu_s() for s in servers)
    await asyncio.sleep(IDLE_S)     # no calls: what heartbeats and pings of the sockets cost
    idle_per_s = (sum(s.cpu_s() for s in servers) - idle_cpu) / (time.perf_counter() - idle_started)
    cpu_before = sum(s.cpu_s() for s in servers)
    peak_started = time.perf_counter()
    peak = await bench.peak()
    peak_cpu = sum(s.cpu_s() for s in servers) - cpu_before
    cpu_per_call = peak_cpu / max(1, len(peak)) * 1000
    net_per_call = (peak_cpu - idle_per_s * (time.perf_counter() - peak_started)) / max(1, len(peak)) * 1000
    print(line("peak", peak, f" at {args.rate:g}/s over {args.seconds:g} s", peak_started).replace(
        "\n", f";  server CPU {cpu_per_call:.1f} ms/call ({net_per_call:.1f} without the idle "
               f"{idle_per_s * 1000:.0f} ms/s of heartbeats and pings)\n", 1))
    connections = [redis_connections(s.process.pid, redis.port) for s in servers]
    total = len(redis.client.client_list())
    print("Redis connections: " + ", ".join(f"process {i + 1} {n}" for i, n in enumerate(connections))
          + f" (CLIENT LIST: {total}, this benchmark's own included)")
    burst = await bench.burst()
    print(line("burst", burst, f" at {len(burst)} sites at once"))
    recovery = await bench.kill_and_recover()
    others = "process 1" if len(servers) == 2 else f"processes 1-{len(servers) - 1}"
    print(f"kill   process {len(servers)} (SIGKILL, {recovery['moved']:,} sockets): all back on {others} in "
          f"{recovery['back_s']:.1f} s, caught up with the {len(recovery['calls'])} calls made meanwhile in "
          f"{recovery['caught_up_s']:.1f} s; missed {recovery['missed']}, snapshots instead of replay "
          f"{recovery['snapshots']}")
    print("        connection attempts until back (attempts: sockets): "
          + ", ".join(f"{k}: {v:,}" for k, v in recovery["attempts"].items()))
    print(line("during", recovery["calls"], " made while it recovered (their sockets reconnecting)"))
    every = [max(c.seen_s) * 1000 for c in peak if c.seen_s and not c.remaining]
    met = (every and percentile(every, 0.99) <= 100 and max(per_socket) <= 40 and recovery["caught_up_s"] <= 10
           and recovery["missed"] == 0)
    print("targets (p99 ≤ 100 ms, ≤ 40 KiB/socket, recovery ≤ 10 s, nothing missed): "
          + ("met" if met else "NOT met"))
    bench.stopping = True
    for socket in bench.sockets:
        if socket.transport is not None:
            socket.transport.close()
    await asyncio.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rate", type=float, default=2.0, help="calls a second in the peak phase")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the peak phase")
    parser.add_argument("--burst", type=int, default=100, help="sites calling at the same moment")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pin", choices=("auto", "yes", "no"), default="auto",
                        help="servers on the first CPU, this process and Redis on the others (auto: with 2+ CPUs)")
    args = parser.parse_args()
    random.seed(args.seed)
    cpus = sorted(os.sched_getaffinity(0))
    pin = args.pin == "yes" or (args.pin == "auto" and len(cpus) >= 2)
    print(f"qserver city benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, 104 sites on {args.processes} processes, "
          f"{args.sockets:,} sockets, {len(cpus)} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}, "
          + (f"servers pinned to CPU {cpus[0]}, clients and Redis to CPU {','.join(map(str, cpus[1:]))}"
             if pin else "not pinned"))
    redis = RedisProcess()
    servers = []
    try:
        env = {"QSERVER_CONFIG": CITY, "QSERVER_SECRET": "bench-city"}
        servers = [ServerProcess(redis.url, env) for _ in range(args.processes)]
        if pin:
            for server in servers:
                server.pin({cpus[0]})
            pin_process(redis.process.pid, set(cpus[1:]))
            pin_process(os.getpid(), set(cpus[1:]))
        asyncio.run(run(args, redis, servers))
    finally:
        for server in servers:
            server.stop()
        redis.stop()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    main()
