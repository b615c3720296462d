"""The hall under attack: call-next → every hall display, quiet and while a login flood and 2,000 idle
connections run.

    python bench/hardening.py [--sockets 200] [--calls 30] [--idle 2000] [--flooders 8]

Three runs on fresh servers: quiet; hostile with the default limits (the flood meets 429s after 20
attempts a minute from its address); hostile with the login limits off (every attempt costs a scrypt,
on the password worker thread). Each prints the time from call-next until every display socket has the
call (p50/p99/max), the login answers the flood got, and the server's CPU per call.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import time

from fanout import _next_number, open_displays
from support import HttpConnection, RedisProcess, ServerProcess, percentile

LIMITS_OFF = {"QSERVER_LIMIT_LOGIN_PER_ADDRESS": "", "QSERVER_LIMIT_LOGIN_FAILURES": ""}


async def flood(port: int, stop: asyncio.Event, answers: dict[int, int]) -> None:
    """Wrong-password logins back to back on one keep-alive connection."""
    http = await HttpConnection.open(port)
    try:
        while not stop.is_set():
            status, _ = await http.request("POST", "/api/v1/login", "none", {"username": "lan", "password": "sai"})
            answers[status] = answers.get(status, 0) + 1
    finally:
        http.close()


async def run(server: ServerProcess, redis: RedisProcess, args, hostile: bool) -> str:
    displays = await open_displays(server.port, args.sockets)
    idle = []
    if hostile:
        for _ in range(args.idle):
            idle.append(socket.create_connection(("127.0.0.1", server.port)))
    kiosk, manager = redis.token("kiosk"), redis.token("manager")
    http = await HttpConnection.open(server.port)
    for _ in range(args.calls):
        await http.request("POST", "/api/v1/sites/cantho/tickets", kiosk, {"agency": "so-noi-vu"})
    stop, answers = asyncio.Event(), {}
    flooders = [asyncio.create_task(flood(server.port, stop, answers)) for _ in range(args.flooders if hostile else 0)]
    await asyncio.sleep(0.5)
    loop = asyncio.get_running_loop()
    every: list[float] = []
    cpu = 0.0
    for _ in range(args.calls):
        await asyncio.sleep(0.1)
        _, body = await http.request("GET", "/api/v1/sites/cantho/state?floor=0", manager)
        marker = f'"number":"{_next_number(body)}"'.encode()
        everyone, remaining = loop.create_future(), [len(displays)]

        def seen() -> None:
            remaining[0] -= 1
            if remaining[0] == 0 and not everyone.done():
                everyone.set_result(None)

        for display in displays:
            display.expect(marker, seen)
        cpu_before = server.cpu_s()
        started = time.perf_counter()
        status, _ = await http.request("POST", "/api/v1/sites/cantho/counters/12/call-next", manager)
        assert status == 200, status
        await asyncio.wait_for(everyone, 30)
        every.append(max(d.seen_at for d in displays) - started)
        cpu += server.cpu_s() - cpu_before
    stop.set()
    await asyncio.gather(*flooders)
    http.close()
    for display in displays:
        display.transport.close()
    for sock in idle:
        sock.close()
    ms = [v * 1000 for v in every]
    logins = ", ".join(f"{n} × {status}" for status, n in sorted(answers.items())) or "none"
    return (f"until every socket: p50 {percentile(ms, 0.5):6.1f} ms  p99 {percentile(ms, 0.99):6.1f} ms  "
            f"max {max(ms):6.1f} ms   server CPU {cpu / args.calls * 1000:5.1f} ms/call   flood answers: {logins}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=200, help="hall display sockets on floor 0")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--idle", type=int, default=2000, help="idle TCP connections during the hostile runs")
    parser.add_argument("--flooders", type=int, default=8, help="clients posting wrong passwords back to back")
    args = parser.parse_args()
    print(f"qserver under attack — {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; {args.sockets} floor-0 sockets, {args.calls} calls")
    runs = (("quiet", False, {}), (f"login flood ×{args.flooders} + {args.idle} idle, default limits", True, {}),
            (f"login flood ×{args.flooders} + {args.idle} idle, login limits off", True, LIMITS_OFF))
    for name, hostile, env in runs:
        redis = RedisProcess()
        server = ServerProcess(redis.url, extra_env=env)
        try:
            print(f"{name:<52} {asyncio.run(run(server, redis, args, hostile))}")
        finally:
            server.stop()
            redis.stop()


if __name__ == "__main__":
    main()
