"""A city on one process and one Redis: 104 centers (config/cities/cantho) and 1,000 generated ones. The
process starts in seconds, answers /healthz, delivers a call at any site to that site's display, reads
every site's stream with ONE blocking XREAD, and keeps its Redis connections under a fixed bound."""

from __future__ import annotations

import asyncio
import importlib.util
import random
import shutil
import time
from pathlib import Path

import httpx
import pytest
import redis as sync_redis

import config
from qserver.connection import REDIS_CONNECTIONS
from tests.support import TIMEOUT, ServerProcess, make_token
from tests.support.failover import Desk, Display

pytestmark = pytest.mark.topology

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "config" / "cities" / "cantho"


def thousand_sites(folder: Path) -> Path:
    """1,000 commune centers made like tools/make_city.py makes the city's, with the city's template."""
    spec = importlib.util.spec_from_file_location("make_city", ROOT / "tools" / "make_city.py")
    make_city = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_city)
    shutil.copytree(CITY / "_templates", folder / "_templates")
    for i in range(1000):
        kind = "phường" if i % 3 == 0 else "xã"
        slug, text = make_city.commune_file(f"{kind} Thử Nghiệm {i + 1}", "Tỉnh Thử", f"Khu {i // 50 + 1}")
        (folder / f"{slug}.toml").write_text(text, encoding="utf-8")
    return folder


def connections(redis_url: str, server: ServerProcess) -> list[dict]:
    """The server process's connections to Redis, by the client name each gives itself (qserver-<host>-<pid>)."""
    with sync_redis.Redis.from_url(redis_url) as client:
        return [c for c in client.client_list() if c["name"].startswith("qserver-")
                and c["name"].endswith(f"-{server.process.pid}")]


def stream_reads(redis_url: str, seconds: float) -> list[list[str]]:
    """The XREAD commands Redis executes within ``seconds`` (MONITOR), each as its arguments."""
    seen = []
    with sync_redis.Redis.from_url(redis_url, socket_timeout=seconds) as client:
        with client.monitor() as monitor:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    command = monitor.next_command()["command"]
                except sync_redis.TimeoutError:
                    break
                if command.upper().startswith("XREAD "):
                    seen.append(command.split(" "))
    return seen


@pytest.mark.parametrize("sites", ["city", "thousand"])
async def test_many_sites_on_one_process(sites, redis_server, flushed, tmp_path, capsys):
    """With the 104 centers, then 1,000: /healthz ok within seconds; a call at 30 random sites reaches each
    one's display; one blocking XREAD names every site's stream; the process's connections stay few."""
    folder = CITY if sites == "city" else thousand_sites(tmp_path / "sites")
    loaded = config.load_sites(str(folder))
    assert len(loaded) == (104 if sites == "city" else 1001)  # + the built-in Cần Thơ center
    server = ServerProcess(redis_server.url, tmp_path, extra_env={"QSERVER_CONFIG": str(folder)})
    try:
        started = time.monotonic()
        server.start()  # until /healthz answers 200
        startup_s = time.monotonic() - started
        manager = make_token(redis_server.url, "manager", "*")
        chosen = random.Random(11).sample(sorted(loaded), 30)
        displays = {slug: Display(server.ws_url, slug).start() for slug in chosen}
        for display in displays.values():
            await display.wait_for(lambda d: d.snapshots, what="the first snapshot")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as http:
            for slug in chosen:
                counter = loaded[slug].counters[0]
                desk = Desk(slug, manager, manager)
                ticket = await desk.issue(http, counter.agencies[0], "kiosk")
                assert (await desk.call_next(http, counter.id))["id"] == ticket["id"] and desk.unexpected == []
                await displays[slug].wait_for(
                    lambda d: any(f["type"] == "called" and f["ticket"]["id"] == ticket["id"]
                                  for f in d.frames.values()), what=f"the call at {slug}")
        reads = await asyncio.to_thread(stream_reads, redis_server.url, 4.5)  # the reader blocks 2 s per XREAD
        mine = connections(redis_server.url, server)
        blocked = [c for c in mine if c["cmd"] == "xread" and "b" in c["flags"]]
        for display in displays.values():
            await display.stop()
    finally:
        server.close()
    assert reads, "no XREAD seen in 4.5 s"
    for args in reads:  # XREAD COUNT 500 BLOCK 2000 STREAMS <every stream> <every last id>
        assert "BLOCK" in (a.upper() for a in args)
        streams = args[[a.upper() for a in args].index("STREAMS") + 1:]
        assert len(streams) == 2 * len(loaded), len(streams)
        assert set(streams[:len(loaded)]) == {f"qs:{{{slug}}}:events" for slug in loaded}
    assert len(blocked) <= 1  # the one reader (it may be between two reads at that instant)
    assert 1 <= len(mine) < REDIS_CONNECTIONS, [c["cmd"] for c in mine]
    with capsys.disabled():
        print(f"\n[scale] {len(loaded)} sites: /healthz after {startup_s:.2f} s; {len(reads)} XREAD in 4.5 s, each "
              f"naming all {len(loaded)} streams; {len(mine)} Redis connections of the process "
              f"(bound {REDIS_CONNECTIONS})")
    assert startup_s < TIMEOUT
