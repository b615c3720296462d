"""The loads bench/floor.py puts on a floor and on qserver alike: each function drives one server with the
same client and answers a dict of figures (rates in requests/s, latencies in ms, server CPU in µs).

- :func:`http_load`: N keep-alive clients, first issuing tickets, then each doing call-next followed by
  complete at its counter (client i at counter i mod 35; clients sharing a counter take turns).
- :func:`keepalive_check`: one client, sequential requests, on one keep-alive connection and then on a
  new connection per request.
- :func:`fanout_load`: N display sockets (bench/fanout.py's raw websocket clients) of which an audience
  waits for each call; from sending call-next until the last socket of the audience has the call.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

from fanout import open_displays
from support import HttpConnection, cpu_seconds, percentile

SITE = "/api/v1/sites/cantho"


@dataclass
class Target:
    """What differs between a floor and qserver for the same client: tokens, the fan-out's agency,
    counter and how to recognise a call in the bytes a display receives."""

    name: str
    server: object
    tokens: dict = field(default_factory=lambda: {"kiosk": "floor", "manager": "floor"})
    fanout_agency: str = "a00"
    fanout_counter: str = "1"
    label: str = ""
    redis_pid: int | None = None

    def side_cpu_s(self) -> tuple[float, float]:
        """CPU seconds so far of Redis and of this process (the load generator): the other CPU's work."""
        return (cpu_seconds(self.redis_pid) if self.redis_pid else 0.0), time.process_time()

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    def call_marker(self, issued: dict) -> bytes:
        if self.name == "qserver":
            return f'"number":"{issued["number"]}"'.encode()
        return f'"event_id": "{issued["id"]}-0"'.encode()  # floor_ws's called frame (json.dumps spacing)


def _stats(prefix: str, latencies: list[float], elapsed: float, cpu_s: float) -> dict:
    ms = [v * 1000 for v in latencies]
    return {f"{prefix} rate": len(ms) / elapsed, f"{prefix} p50": percentile(ms, 0.5),
            f"{prefix} p99": percentile(ms, 0.99), f"{prefix} cpu": cpu_s / max(1, len(ms)) * 1e6}


def _side(prefix: str, target: Target, before: tuple[float, float], requests: int) -> dict:
    """Redis's and the load generator's CPU per request (µs) since ``before``."""
    redis_s, client_s = (after - then for after, then in zip(target.side_cpu_s(), before))
    return {f"{prefix} redis cpu": redis_s / max(1, requests) * 1e6,
            f"{prefix} client cpu": client_s / max(1, requests) * 1e6}


async def _closed_loop(connections, seconds: float, step) -> tuple[float, dict]:
    """Run ``step(index, connection)`` in a loop on every connection until ``seconds`` passed."""
    statuses: dict[int, int] = {}
    begin = time.perf_counter()
    deadline = begin + seconds

    async def worker(index: int) -> None:
        while time.perf_counter() < deadline:
            for status in await step(index, connections[index]):
                statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(worker(i) for i in range(len(connections))))
    return time.perf_counter() - begin, statuses


async def http_load(target: Target, site, seconds: float, clients: int, warmup_s: float = 1.0) -> dict:
    """Issue for ``seconds``, then call-next + complete for ``seconds``, with ``clients`` connections
    ("call-next cpu" is the server's CPU per request of that phase, complete included).

    Tickets go to the agencies of the clients' counters in turn, so every counter's queue holds about
    what its clients call (a 204 would be a cheaper answer: they are counted and printed).
    """
    port, server = target.server.port, target.server
    counters = [site.counters[i % len(site.counters)] for i in range(clients)]
    slot_agency = [c.agencies[0] for c in counters]
    connections = [await HttpConnection.open(port) for _ in range(clients)]
    kiosk, manager = target.tokens["kiosk"], target.tokens["manager"]
    issue_ms: list[float] = []
    turn = [random.Random(i).randrange(clients) for i in range(clients)]

    async def issue(index: int, connection) -> list[int]:
        turn[index] = (turn[index] + 1) % clients
        started = time.perf_counter()
        status, _ = await connection.request("POST", f"{SITE}/tickets", kiosk, {"agency": slot_agency[turn[index]]})
        issue_ms.append(time.perf_counter() - started)
        return [status]

    await _closed_loop(connections, warmup_s, issue)  # pools filled, code warm: not counted
    issue_ms.clear()
    cpu, side = server.cpu_s(), target.side_cpu_s()
    elapsed, issue_statuses = await _closed_loop(connections, seconds, issue)
    figures = _stats("issue", issue_ms, elapsed, server.cpu_s() - cpu)
    figures.update(_side("issue", target, side, len(issue_ms)))
    # More tickets, untimed, so the call phase does not run out (a 204 is a cheaper answer): as many
    # again, and at least 2,500 a second of the phase. The floor's call-next never runs out.
    topped, wanted = 0, max(issue_statuses.get(201, 0), int(2500 * seconds) - issue_statuses.get(201, 0))
    if target.name != "qserver":
        wanted = 0

    async def top_up(index: int, connection) -> list[int]:
        nonlocal topped
        topped += 1
        return await issue(index, connection)

    while topped < wanted:
        await _closed_loop(connections, 1.0, top_up)

    call_ms: list[float] = []
    complete_ms: list[float] = []
    # Clients sharing a counter take turns (call-next, complete), so every answer is the full 200 one.
    turns = {c.id: asyncio.Lock() for c in counters}

    async def call_and_complete(index: int, connection) -> list[int]:
        path = f"{SITE}/counters/{counters[index].id}"
        async with turns[counters[index].id]:
            started = time.perf_counter()
            called, _ = await connection.request("POST", f"{path}/call-next", manager)
            middle = time.perf_counter()
            completed, _ = await connection.request("POST", f"{path}/complete", manager, {})
        call_ms.append(middle - started)
        complete_ms.append(time.perf_counter() - middle)
        return [called, completed]

    cpu, side = server.cpu_s(), target.side_cpu_s()
    elapsed, call_statuses = await _closed_loop(connections, seconds, call_and_complete)
    cpu_s = server.cpu_s() - cpu
    figures.update(_stats("call-next", call_ms, elapsed, cpu_s / 2))
    figures.update(_side("call-next", target, side, 2 * len(call_ms)))
    complete = _stats("complete", complete_ms, elapsed, 0.0)
    figures.update({k: complete[k] for k in ("complete p50", "complete p99")})
    figures["statuses"] = f"issue {issue_statuses} call-next+complete {call_statuses}"
    for connection in connections:
        connection.close()
    return figures


async def _one_request(port: int, token: str, body: dict) -> int:
    """A request on a connection of its own, closed after the answer."""
    connection = await HttpConnection.open(port)
    try:
        status, _ = await connection.request("POST", f"{SITE}/tickets", token, body)
    finally:
        connection.close()
        await connection.writer.wait_closed()
    return status


async def keepalive_check(target: Target, site, seconds: float) -> dict:
    """One client issuing tickets one after the other: on one keep-alive connection, then a new
    connection per request. Keep-alive slower than reconnecting means a stall (Nagle / delayed ACK)."""
    port, kiosk = target.server.port, target.tokens["kiosk"]
    agencies = [a.slug for a in site.agencies]
    figures: dict = {}
    connection = await HttpConnection.open(port)
    for mode in ("keep-alive", "new-connection"):
        latencies: list[float] = []
        begin = time.perf_counter()
        n = 0
        while time.perf_counter() - begin < seconds:
            body = {"agency": agencies[n % len(agencies)]}
            started = time.perf_counter()
            if mode == "keep-alive":
                status, _ = await connection.request("POST", f"{SITE}/tickets", kiosk, body)
            else:
                status = await _one_request(port, kiosk, body)
            latencies.append(time.perf_counter() - started)
            assert status == 201, (mode, status)
            n += 1
        figures.update(_stats(mode, latencies, time.perf_counter() - begin, 0.0))
        figures.pop(f"{mode} cpu")
    connection.close()
    return figures


async def fanout_load(target: Target, where: list[tuple[str, str]], audience: list[int], calls: int) -> dict:
    """Open the sockets of ``where``; ``calls`` times, call-next and wait until every socket of
    ``audience`` (indices into ``where``) has the call."""
    server = target.server
    baseline_kib = server.rss_kib()
    connecting = time.perf_counter()
    displays = await open_displays(server.port, len(where), where=where)
    connected_s = time.perf_counter() - connecting - 1.0
    await asyncio.sleep(1.0)
    per_socket_kib = (server.rss_kib() - baseline_kib) / len(where)
    waiting = [displays[i] for i in audience]
    http = await HttpConnection.open(server.port)
    issued = []
    for _ in range(calls):
        status, body = await http.request("POST", f"{SITE}/tickets", target.tokens["kiosk"],
                                          {"agency": target.fanout_agency})
        assert status == 201, (status, body[:200])
        issued.append(json.loads(body))
    await asyncio.sleep(1.0)
    loop = asyncio.get_running_loop()
    every, each, missed, cpu_s = [], [], 0, 0.0
    for ticket in issued:
        await asyncio.sleep(0.2)
        everyone = loop.create_future()
        remaining = len(waiting)

        def seen() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0 and not everyone.done():
                everyone.set_result(None)

        marker = target.call_marker(ticket)
        for display in waiting:
            display.expect(marker, seen)
        cpu = server.cpu_s()
        started = time.perf_counter()
        status, _ = await http.request("POST", f"{SITE}/counters/{target.fanout_counter}/call-next",
                                       target.tokens["manager"])
        assert status == 200, status
        try:
            await asyncio.wait_for(everyone, 10)
        except asyncio.TimeoutError:
            pass
        cpu_s += server.cpu_s() - cpu
        seen_s = [d.seen_at - started for d in waiting if d.seen_at is not None]
        missed += len(waiting) - len(seen_s)
        each.extend(v * 1000 for v in seen_s)
        every.append(max(seen_s) * 1000 if seen_s else 10_000.0)
    http.close()
    for display in displays:
        display.transport.close()
    await asyncio.sleep(1.0)
    return {"every p50": percentile(every, 0.5), "every p99": percentile(every, 0.99),
            "socket p50": percentile(each, 0.5), "socket p99": percentile(each, 0.99),
            "memory KiB/socket": per_socket_kib, "cpu ms/call": cpu_s / calls * 1000,
            "missed": missed, "connected s": connected_s, "audience": len(waiting)}
