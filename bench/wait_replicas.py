"""What QSERVER_REDIS_WAIT_REPLICAS=1 costs a call-next: the engine's call-next against a master with one
replica, without WAIT and with ``WAIT 1 <timeout>`` in the same round trip, one officer at a time and
20 at once.

    python bench/wait_replicas.py [--calls 2000]

Starts its own master and replica (append-only, fsync every second, as a production pair) on loopback:
the replica's acknowledgement then costs a loopback round trip and the replica's apply time; across a
real network add one network round trip per write.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time

from support import find_redis_server, free_port, summary

import config
import redis
from qserver.clock import SystemClock
from qserver.engine import SiteEngine
from qserver.engine.replication import Replication
from redis.asyncio import Redis


def start(port: int, directory: str, *extra: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [find_redis_server(os.environ.get("QSERVER_REDIS_SERVER")), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", directory, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(500):
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            time.sleep(0.02)
    return process


async def measure(url: str, replicas: int, calls: int, officers: int) -> None:
    site = config.load_sites()["cantho"]
    client = Redis.from_url(url)
    engine = SiteEngine(client, site, SystemClock(), secret=b"bench", always_open=True,
                        replication=Replication(client, replicas, 500))
    await client.flushdb()
    await engine.seed_counters()
    counters = [c for c in site.counters if c.agencies]
    for i in range(calls):
        await engine.issue(counters[i % len(counters)].agencies[0])
    latencies: list[float] = []
    per_officer = calls // officers

    async def officer(index: int) -> None:
        counter = counters[index % len(counters)].id
        for _ in range(per_officer):
            started = time.perf_counter()
            await engine.call_next(counter)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(officer(i) for i in range(officers)))
    print(summary(f"call-next, WAIT {replicas} ({officers} officers)", latencies, time.perf_counter() - started))
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="qserver-bench-wait-")
    master_port, replica_port = free_port(), free_port()
    os.makedirs(f"{folder}/m"), os.makedirs(f"{folder}/r")
    master = start(master_port, f"{folder}/m")
    replica = start(replica_port, f"{folder}/r", "--replicaof", "127.0.0.1", str(master_port))
    try:
        while redis.Redis(port=replica_port).info("replication").get("master_link_status") != "up":
            time.sleep(0.05)
        url = f"redis://127.0.0.1:{master_port}/0"
        for officers in (1, 20):
            for replicas in (0, 1):
                asyncio.run(measure(url, replicas, args.calls, officers))
    finally:
        for process in (replica, master):
            process.terminate()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
