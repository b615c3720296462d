"""Redis Sentinel: a master, a replica and three sentinels started by the test; `qserver run` follows the
master through a fail-over by itself, and with QSERVER_REDIS_WAIT_REPLICAS=1 no acknowledged write is
lost when the master is killed with SIGKILL under load."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest
import redis as sync_redis

from qserver.auth import new_token
from tests.support import TIMEOUT, ServerProcess
from tests.support.failover import Desk, Display, check_nothing_lost, stream_id, survivors
from tests.support.redis_topology import SentinelGroup, free_ports

pytestmark = pytest.mark.topology

SITE = "cantho"
AGENCIES = ["so-noi-vu", "so-tu-phap"]
COUNTERS = ["12", "13", "33"]


@pytest.fixture
def group(tmp_path):
    group = SentinelGroup(tmp_path / "redis")
    try:
        group.start()
        yield group
    finally:
        group.stop()


@pytest.fixture
def servers():
    """The `qserver run` processes a test starts, stopped at its end whatever happened."""
    started: list[ServerProcess] = []
    yield started
    for process in started:
        process.close()


def master(group: SentinelGroup) -> sync_redis.Redis:
    host, port = group.master_address()
    return sync_redis.Redis(host=host, port=port, socket_timeout=TIMEOUT)


def grant(group: SentinelGroup, role: str, counters=()) -> str:
    """A token written to the master and confirmed by its replica (so it survives the fail-over)."""
    token, key, value = new_token(role, SITE, tuple(counters), role)
    with master(group) as client:
        client.set(key, value)
        assert client.wait(1, int(TIMEOUT * 1000)) == 1
    return token


def qserver(group: SentinelGroup, tmp_path, servers: list, name: str, **env: str) -> ServerProcess:
    (tmp_path / name).mkdir()
    process = ServerProcess(group.url(), tmp_path / name, extra_env={
        "QSERVER_SECRET": "sentinel-test", "QSERVER_REDIS_WAIT_REPLICAS": "1", 
        # load from a few kiosk tokens: the per-kiosk limit (60 a minute, a real kiosk's) is off
        "QSERVER_LIMIT_ISSUE_PER_KIOSK": "", **env})
    servers.append(process)
    process.start()
    return process


def test_unknown_master_name_stops_qserver_run_with_one_clear_line(group, tmp_path):
    """A master name the sentinels do not monitor: `qserver run` exits 2 at once, naming it and the known ones."""
    import subprocess
    import sys

    env = {**os.environ, "QSERVER_REDIS_URL": group.url("no-such-master"), "QSERVER_DATA_DIR": str(tmp_path / "var")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "qserver", "run", "--port", str(free_ports(1)[0])], env=env,
                          capture_output=True, text=True, timeout=3 * TIMEOUT)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr[-2000:]
    assert "monitor no master named 'no-such-master' (they monitor: qmaster)" in errors[0]
    assert time.monotonic() - started < TIMEOUT  # no waiting: the sentinels answered


def test_unreachable_sentinels_stop_qserver_run_after_the_start_wait(tmp_path):
    """No sentinel listening: `qserver run` exits 2 after QSERVER_REDIS_START_WAIT_S, listing each address."""
    import subprocess
    import sys

    ports = free_ports(3)
    url = "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in ports[:2]) + "/qmaster"
    env = {**os.environ, "QSERVER_REDIS_URL": url, "QSERVER_DATA_DIR": str(tmp_path / "var"),
           "QSERVER_REDIS_START_WAIT_S": "1"}
    done = subprocess.run([sys.executable, "-m", "qserver", "run", "--port", str(ports[2])], env=env,
                          capture_output=True, text=True, timeout=3 * TIMEOUT)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr[-2000:]
    assert all(f"127.0.0.1:{p} (connection refused)" in errors[0] for p in ports[:2]), errors[0]


def test_a_write_the_replica_does_not_confirm_is_answered_and_counted(group, tmp_path, servers):
    """With the replica gone, an issue waits QSERVER_REDIS_WAIT_TIMEOUT_MS, is answered 201 all the same,
    and qserver_replication_unconfirmed_total counts it; with the replica there, nothing is counted."""
    server = qserver(group, tmp_path, servers, "a", QSERVER_REDIS_WAIT_TIMEOUT_MS="300")
    kiosk = grant(group, "kiosk")
    confirmed = server.call("POST", f"/api/v1/sites/{SITE}/tickets", kiosk, {"agency": AGENCIES[0]})
    assert confirmed.status_code == 201
    assert _unconfirmed(server) == 0
    group.replica.kill()
    started = time.monotonic()
    answer = server.call("POST", f"/api/v1/sites/{SITE}/tickets", kiosk, {"agency": AGENCIES[0]})
    took = time.monotonic() - started
    assert answer.status_code == 201 and answer.json()["number"] == "E002"
    assert 0.3 <= took < 0.3 + TIMEOUT / 2, took
    metrics = server.call("GET", "/metrics").text
    assert 'qserver_replication_unconfirmed_total{operation="issue",site="cantho"} 1.0' in metrics


async def test_master_killed_under_load_loses_no_acknowledged_ticket(group, tmp_path, servers, capsys):
    """SIGKILL of the master while kiosks issue and officers call through two processes: the sentinels promote
    the replica, service comes back without restarting qserver, every 201 ticket survives and ends served, no
    ticket is called twice, no number given twice, and displays (one live, one reconnecting with since) miss
    no event that survived."""
    kiosk, officer = grant(group, "kiosk"), grant(group, "officer", COUNTERS)
    front, back = qserver(group, tmp_path, servers, "front"), qserver(group, tmp_path, servers, "back")
    desk = Desk(SITE, kiosk, officer)
    live = Display(back.ws_url, SITE).start()
    async with httpx.AsyncClient(base_url=front.base_url, timeout=TIMEOUT) as at_front, \
            httpx.AsyncClient(base_url=back.base_url, timeout=TIMEOUT) as at_back:
        try:
            await live.wait_for(lambda d: d.snapshots, what="the first snapshot")
            first = live.snapshots[0]
            workers = [asyncio.create_task(desk.kiosk_loop(at_front, AGENCIES, f"kiosk{i}", 0.03)) for i in range(2)]
            workers += [asyncio.create_task(desk.officer_loop(at_back, c, 0.05)) for c in COUNTERS]
            issued_at_kill, recovered_s = await kill_the_master_under_load(group, desk)
            # The old master comes back (as systemd would restart it) and the sentinels make it a replica of
            # the new one: until then every write waits QSERVER_REDIS_WAIT_TIMEOUT_MS for a replica.
            group.master.start()
            await wait_for(lambda: _replicas(group) >= 1, "the old master to rejoin as a replica", 3 * TIMEOUT)
            await wait_for(lambda: len(desk.issued) >= issued_at_kill + 20, "load after the fail-over")
            desk.stopping = True
            await asyncio.gather(*workers)
            await desk.drain(at_back, COUNTERS)
            assert desk.unexpected == []
            with master(group) as client:
                tickets, events = survivors(client, SITE)
            check_nothing_lost(desk, tickets, events)
            stream = [event_id for event_id, _ in events]
            await live.wait_for(lambda d: d.has(stream[-1]), what="the last event on the live display")
            assert live.missed(stream, first) == []
            assert len(live.events) == len(set(live.events)), "the live display got an event twice"
            late = Display(front.ws_url, SITE, since=first).start()  # a display that was away all along
            await late.wait_for(lambda d: d.has(stream[-1]), what="the replay on the late display")
            assert late.snapshots == [] and late.events == [i for i in stream if _after(i, first)]
            await late.stop()
            after_kill = [i for i in stream if stream_id(i)[0] >= desk.kill_wall_ms]  # written after the kill
            display_s = live.arrived[after_kill[0]] - desk.kill_at
            unconfirmed = _unconfirmed(front) + _unconfirmed(back)
        finally:
            desk.stopping = True
            await live.stop()
    with capsys.disabled():
        print(f"\n[sentinel] master killed: first write answered after {recovered_s:.2f} s, the live display's "
              f"first new event after {display_s:.2f} s; {len(desk.issued)} tickets issued, {len(desk.calls)} "
              f"calls, {desk.retries} retried requests, {unconfirmed:.0f} writes answered unconfirmed "
              "(no replica until the old master rejoined)")
    assert recovered_s < 6 * TIMEOUT


async def test_master_killed_without_wait_serves_again_on_the_new_master(group, tmp_path, servers, capsys):
    """Without WAIT (QSERVER_REDIS_WAIT_REPLICAS=0) transitions go on the process's held connection (the
    pipe): SIGKILL of the master under load breaks it with calls in flight; they are run again, the pipe
    is made again on the promoted replica, and every request is answered as it should be (201, 200 or
    204, never a 500). Acknowledged writes may be lost here (asynchronous replication): not checked."""
    kiosk, officer = grant(group, "kiosk"), grant(group, "officer", COUNTERS)
    server = qserver(group, tmp_path, servers, "alone", QSERVER_REDIS_WAIT_REPLICAS="0")
    desk = Desk(SITE, kiosk, officer)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as http:
        workers = [asyncio.create_task(desk.kiosk_loop(http, AGENCIES, f"kiosk{i}", 0.01)) for i in range(4)]
        workers += [asyncio.create_task(desk.officer_loop(http, c, 0.02)) for c in COUNTERS]
        try:
            issued_at_kill, recovered_s = await kill_the_master_under_load(group, desk)
            await wait_for(lambda: len(desk.issued) >= issued_at_kill + 30, "load after the fail-over")
        finally:
            desk.stopping = True
            await asyncio.gather(*workers, return_exceptions=True)
    assert desk.unexpected == []
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]
    with capsys.disabled():
        print(f"\n[sentinel, no WAIT] master killed: first write answered after {recovered_s:.2f} s; "
              f"{len(desk.issued)} tickets, {len(desk.calls)} calls, {desk.retries} retried requests")
    assert recovered_s < 6 * TIMEOUT


async def kill_the_master_under_load(group: SentinelGroup, desk: Desk) -> tuple[int, float]:
    """Once the desk's load runs, SIGKILL the master; wait for a write answered after it and check the
    sentinels promoted the replica. (tickets issued at the kill, seconds until that write's answer)"""
    await wait_for(lambda: len(desk.issued) >= 30 and len(desk.calls) >= 10, "load before the kill")
    old_port = group.master_address()[1]
    desk.mark_kill()
    group.master.kill()
    issued_at_kill = len(desk.issued)
    await wait_for(lambda: desk.recovered_at is not None, "a write answered after the kill", 6 * TIMEOUT)
    assert group.master_address()[1] != old_port, "the sentinels did not promote the replica"
    return issued_at_kill, desk.recovered_at - desk.kill_at


def _after(event_id: str, since: str) -> bool:
    return stream_id(event_id) > stream_id(since)


def _replicas(group: SentinelGroup) -> int:
    with master(group) as client:
        info = client.info("replication")
    return sum(1 for key, value in info.items()
               if key.startswith("slave") and isinstance(value, dict) and value.get("state") == "online")


def _unconfirmed(server: ServerProcess) -> float:
    total = 0.0
    for line in server.call("GET", "/metrics").text.splitlines():
        if line.startswith("qserver_replication_unconfirmed_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def wait_for(predicate, what: str, timeout: float = TIMEOUT) -> None:
    """Until ``predicate()`` holds, letting the workers run (they change what it looks at)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
