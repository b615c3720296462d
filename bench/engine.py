"""Engine benchmark: issue and call-next, direct on the engine and over HTTP with 50 concurrent clients,
and redis-benchmark's EVALSHA rate on the same machine as the ceiling.

    python bench/engine.py [--seconds 10] [--clients 50]

Starts its own redis-server (no persistence, so the figures are the engine's, not the disk's) and its
own `qserver run` process. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import shutil
import subprocess
import time

from support import HttpConnection, RedisProcess, ServerProcess, summary

import config
from qserver.clock import SystemClock
from qserver.engine import SiteEngine
from redis.asyncio import Redis

SITE = "/api/v1/sites/cantho"


async def direct(redis_url: str, seconds: float, clients: int) -> None:
    site = config.load_sites()["cantho"]
    redis = Redis.from_url(redis_url)
    engine = SiteEngine(redis, site, SystemClock(), secret=b"bench", always_open=True)
    await engine.seed_counters()
    agencies = [a.slug for a in site.agencies]
    counters = [c.id for c in site.counters]

    async def run(operation) -> tuple[list[float], float]:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            rng = random.Random(index)
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                await operation(rng, index)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        return latencies, time.perf_counter() - started

    latencies, elapsed = await run(lambda rng, i: engine.issue(rng.choice(agencies)))
    print(summary(f"engine issue ({clients} tasks)", latencies, elapsed))
    latencies, elapsed = await run(lambda rng, i: engine.call_next(counters[i % len(counters)]))
    print(summary(f"engine call-next ({clients} tasks)", latencies, elapsed))
    await redis.aclose()


async def prefill(redis_url: str, tickets: int) -> None:
    """Queue ``tickets`` tickets straight through the engine, so call-next always finds one."""
    site = config.load_sites()["cantho"]
    redis = Redis.from_url(redis_url)
    engine = SiteEngine(redis, site, SystemClock(), secret=b"bench", always_open=True)
    agencies = [a.slug for a in site.agencies]

    async def worker(index: int) -> None:
        rng = random.Random(index)
        for _ in range(tickets // 50):
            await engine.issue(rng.choice(agencies))

    await asyncio.gather(*(worker(i) for i in range(50)))
    await redis.aclose()


async def over_http(port: int, tokens: dict, seconds: float, clients: int, site, rate: float | None = None,
                    operations=("issue", "call-next")) -> None:
    """Closed loop (each client sends its next request when the answer arrives) or, with ``rate``,
    open loop: requests start on a fixed schedule of ``rate`` per second spread over the clients."""
    agencies = [a.slug for a in site.agencies]
    counters = [c.id for c in site.counters]
    connections = [await HttpConnection.open(port) for _ in range(clients)]
    label = f"{clients} clients" + (f", {rate:,.0f} req/s offered" if rate else ", saturated")

    async def run(make_request) -> tuple[list[float], float, dict]:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        begin = time.perf_counter()
        deadline = begin + seconds
        interval = clients / rate if rate else 0.0

        async def worker(index: int) -> None:
            rng = random.Random(index)
            connection = connections[index]
            next_start = begin + index * interval / clients
            while time.perf_counter() < deadline:
                if interval:
                    await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
                    next_start += interval
                method, path, token, body = make_request(rng, index)
                started = time.perf_counter()
                status, _ = await connection.request(method, path, token, body)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(worker(i) for i in range(clients)))
        return latencies, time.perf_counter() - begin, statuses

    if "issue" in operations:
        latencies, elapsed, statuses = await run(
            lambda rng, i: ("POST", f"{SITE}/tickets", tokens["kiosk"], {"agency": rng.choice(agencies)}))
        print(summary(f"HTTP issue ({label})", latencies, elapsed), statuses)
    if "call-next" in operations:
        latencies, elapsed, statuses = await run(
            lambda rng, i: ("POST", f"{SITE}/counters/{counters[i % len(counters)]}/call-next", tokens["manager"], None))
        print(summary(f"HTTP call-next ({label})", latencies, elapsed), statuses)
    for connection in connections:
        connection.close()


def redis_benchmark_ceiling(port: int) -> None:
    binary = shutil.which("redis-benchmark")
    if not binary:
        print("redis-benchmark not found (apt-get install redis-tools): no EVALSHA ceiling")
        return
    import redis

    client = redis.Redis(port=port)
    trivial = client.script_load("return 1")
    typical = client.script_load(
        "local n = redis.call('INCR', KEYS[1]) "
        "redis.call('HSET', KEYS[2], n, ARGV[1]) "
        "redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000, '*', 'e', ARGV[1]) return n")
    for name, sha, args in (("EVALSHA 'return 1'", trivial, ["0"]),
                            ("EVALSHA INCR+HSET+XADD", typical,
                             ["3", "b:{s}:n", "b:{s}:h", "b:{s}:x", '{"ticket":"A001","status":"called"}'])):
        out = subprocess.run([binary, "-p", str(port), "-n", "200000", "-c", "50", "-q", "EVALSHA", sha, *args],
                             capture_output=True, text=True, timeout=120).stdout
        rate = out.strip().splitlines()[-1] if out.strip() else "?"
        print(f"redis-benchmark {name:<24} {rate.rsplit(': ', 1)[-1].strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    print(f"qserver engine benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}, {args.seconds:.0f} s per measurement")
    redis_process = RedisProcess()
    try:
        asyncio.run(direct(redis_process.url, args.seconds, args.clients))
        redis_process.client.flushall()
        site = config.load_sites()["cantho"]
        asyncio.run(prefill(redis_process.url, 60_000))
        server = ServerProcess(redis_process.url)
        try:
            tokens = {"kiosk": redis_process.token("kiosk"), "manager": redis_process.token("manager")}
            asyncio.run(over_http(server.port, tokens, args.seconds, args.clients, site))
            for rate in (500, 1000):
                asyncio.run(over_http(server.port, tokens, args.seconds, args.clients, site, rate=rate))
        finally:
            server.stop()
        redis_benchmark_ceiling(redis_process.port)
    finally:
        redis_process.stop()


if __name__ == "__main__":
    main()
