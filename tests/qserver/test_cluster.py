"""Redis Cluster: 3 masters with a replica each, started by the tests, serving the 104 centers of Cần Thơ.
Every site's keys share its ``{site}`` hash tag (each script stays on one shard), the sites spread over every
shard, transitions, replay and live displays work on each of them, and a master fail-over to its replica
leaves service back and displays caught up."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import ClusterCrossSlotError, MaxConnectionsError

import config
from qserver.auth import Auth, new_token
from qserver.clock import FakeClock
from qserver.connection import REDIS_CONNECTIONS, BoundedRedisCluster, connect_redis
from qserver.engine import SiteEngine, SiteKeys
from qserver.engine.cluster_streams import ClusterStreamReader
from qserver.exceptions import Unavailable
from tests.support import MORNING, TIMEOUT, ServerProcess, wait_until
from tests.support.failover import Desk, Display, check_nothing_lost, stream_id
from tests.support.redis_topology import Cluster, free_ports

pytestmark = pytest.mark.topology

CITY = Path(__file__).resolve().parents[2] / "config" / "cities" / "cantho"
SITES = config.load_sites(str(CITY))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def servers():
    """The `qserver run` processes a test starts, stopped at its end whatever happened."""
    started: list[ServerProcess] = []
    yield started
    for process in started:
        process.close()


def city_server(cluster: Cluster, directory: Path, servers: list, **env: str) -> ServerProcess:
    directory.mkdir(parents=True, exist_ok=True)
    process = ServerProcess(cluster.url(), directory, extra_env={
        "QSERVER_CONFIG": str(CITY), "QSERVER_SECRET": "cluster-test", "QSERVER_REDIS_WAIT_REPLICAS": "1", 
        # load from a few kiosk tokens: the per-kiosk limit (60 a minute, a real kiosk's) is off
        "QSERVER_LIMIT_ISSUE_PER_KIOSK": "", **env})
    servers.append(process)
    process.start()
    return process


def errors_in_log(server: ServerProcess) -> str:
    """The server log's errors and the end of each traceback (its last frames and the exception), for a failed
    assertion to name the cause."""
    lines = server.log.read_text(errors="replace").splitlines()
    found: list[str] = []
    n = 0
    while n < len(lines) and len(found) < 5:
        if " ERROR " in lines[n]:
            found.append(lines[n])
        elif lines[n].startswith("Traceback"):
            end = n + 1
            while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
                end += 1  # frames are indented; the exception's own line is not
            found.append("\n".join([lines[n], "  [...]", *lines[max(n + 1, end - 12):end + 1]]))
            n = end
        n += 1
    return "\n".join(found)


def grant(cluster: Cluster, role: str, site: str = "*", counters=()) -> str:
    """A token written through the cluster (token keys are global: no site tag)."""
    token, key, value = new_token(role, site, tuple(counters), role)
    client = cluster.client()
    try:
        client.set(key, value)
    finally:
        client.close()
    return token


def site_keys(site: config.Site) -> list[str]:
    """Every key the engine gives a site's scripts, and the site's other keys."""
    engine = SiteEngine(connect_redis("redis+cluster://127.0.0.1:1"), site, FakeClock(MORNING), secret=b"x")
    keys = SiteKeys(site.slug)
    day = engine.today()
    return [*engine._fixed_keys(day), keys.notices, keys.acks, keys.idempotency(day), keys.persons(day)]


def owners(cluster: Cluster) -> dict[str, int]:
    """site slug → port of the primary serving its slot now."""
    node = next(n for n in cluster.nodes if n.running)
    with node.client() as client:
        ranges = client.execute_command("CLUSTER", "SLOTS")
        pipe = client.pipeline(transaction=False)
        for slug in SITES:
            pipe.execute_command("CLUSTER", "KEYSLOT", SiteKeys(slug).events)
        slots = dict(zip(SITES, pipe.execute()))
    return {slug: next(int(owner[1]) for start, end, owner, *_ in ranges if start <= slot <= end)
            for slug, slot in slots.items()}


def one_site_per_shard(cluster: Cluster) -> dict[int, str]:
    by_port: dict[int, str] = {}
    for slug, port in sorted(owners(cluster).items()):
        by_port.setdefault(port, slug)
    return by_port


def test_every_key_a_site_script_gets_is_in_the_sites_slot_and_sites_cover_every_shard(cluster):
    """CLUSTER KEYSLOT of every key of every one of the 104 sites equals that of its stream; sites land on all 3
    primaries (none with fewer than 15)."""
    node = cluster.nodes[0]
    with node.client() as client:
        for slug, site in SITES.items():
            keys = site_keys(site)
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.execute_command("CLUSTER", "KEYSLOT", key)
            slots = pipe.execute()
            assert len(set(slots)) == 1, f"{slug}: keys in several slots: {dict(zip(keys, slots))}"
    per_primary = defaultdict(int)
    for port in owners(cluster).values():
        per_primary[port] += 1
    assert len(per_primary) == 3 and min(per_primary.values()) >= 15, dict(per_primary)


def test_the_cluster_refuses_one_xread_over_sites_of_different_slots(cluster):
    """The premise of the cluster reader: XREAD naming two sites' streams (same node) is a CROSSSLOT error."""
    by_port = defaultdict(list)
    for slug, port in owners(cluster).items():
        by_port[port].append(slug)
    port, slugs = next(iter(by_port.items()))
    first, second = SiteKeys(slugs[0]).events, SiteKeys(slugs[1]).events
    with cluster.by_port(port).client() as client:
        with pytest.raises(ClusterCrossSlotError, match="don't hash to the same slot"):  # the CROSSSLOT reply
            client.execute_command("XREAD", "COUNT", 1, "STREAMS", first, second, "0-0", "0-0")


async def test_the_cluster_reader_wakes_on_notifications_and_sweeps_after_resubscribing(cluster):
    """The cluster reader delivers appends at sites on every shard at once (keyevent notifications, no sweep
    needed), appends made while its pub/sub connections were killed (caught up by the sweep that follows the
    re-subscription), and a long burst at one site past ``count``: each event once, in order."""
    client = connect_redis(cluster.url())
    slugs = sorted(SITES)
    reader = ClusterStreamReader(client, slugs, sweep_s=60)  # no periodic sweep within the test
    got: dict[str, list[str]] = defaultdict(list)

    async def read_until(expected: dict[str, list[str]]) -> None:
        deadline = time.monotonic() + TIMEOUT
        while any(got[slug][-len(ids):] != ids for slug, ids in expected.items()):
            assert time.monotonic() < deadline, "events not delivered"
            for slug, batch in await reader.read(block_ms=500, count=10):
                got[slug] += [event_id for event_id, _ in batch]

    async def append(sites, n=1) -> dict[str, list[str]]:
        return {slug: [(await client.xadd(SiteKeys(slug).events, {"e": b"{}"})).decode() for _ in range(n)]
                for slug in sites}

    try:
        await reader.start()
        deadline = time.monotonic() + TIMEOUT
        while len(reader.listening) < 3:  # one listener per primary, subscribed
            assert time.monotonic() < deadline, "listeners not subscribed"
            await reader.read(block_ms=100)
        while True:  # until the sweeps the subscriptions asked for are done
            sweeps = reader.sweeps
            if not await reader.read(block_ms=200) and reader.sweeps == sweeps:
                break
        shards = one_site_per_shard(cluster)
        started = time.monotonic()
        woken = await append(list(shards.values()) + slugs[:10])
        await read_until(woken)
        assert time.monotonic() - started < 1.0 and reader.sweeps == sweeps, "not woken by notifications"
        for node in cluster.primaries():
            with node.client() as raw:
                raw.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        missed_meanwhile = await append(slugs[10:40])
        await read_until(missed_meanwhile)
        assert reader.sweeps > sweeps
        burst = await append([slugs[50]], n=35)
        await read_until(burst)
        for slug, ids in got.items():
            assert len(ids) == len(set(ids)) and ids == sorted(ids, key=stream_id), slug
    finally:
        await reader.aclose()
        await client.aclose()


async def test_users_are_added_and_log_in_on_a_cluster(cluster):
    """Auth.add_user writes the user and the index (two slots) without a cross-slot MULTI; login works."""
    client = connect_redis(cluster.url())
    try:
        auth = Auth(client, cache_s=0)
        await auth.add_user("lan", "secret-pw", "manager", "cantho")
        token, grant_ = await auth.login("lan", "secret-pw")
        assert (await auth.grant(token)).role == "manager" and grant_.site == "cantho"
        assert "lan" in await auth.users()
    finally:
        await client.aclose()


async def test_the_cli_creates_tokens_and_users_on_a_cluster(cluster, tmp_path):
    """`qserver token create` and `qserver user add` with a redis+cluster:// URL write grants the cluster serves."""
    env = {**os.environ, "QSERVER_REDIS_URL": cluster.url(), "QSERVER_DATA_DIR": str(tmp_path / "var")}

    def qserver(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "qserver", *args], env=env, capture_output=True, text=True,
                              timeout=3 * TIMEOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    token = qserver("token", "create", "--role", "manager", "--site", "*", "--name", "city")
    qserver("user", "add", "mai", "--role", "manager", "--site", "cantho", "--password", "another-pw")
    client = connect_redis(cluster.url())
    try:
        auth = Auth(client, cache_s=0)
        assert (await auth.grant(token)).site == "*"
        assert (await auth.login("mai", "another-pw"))[1].site == "cantho"
    finally:
        await client.aclose()


async def test_104_sites_calls_replay_and_live_displays_on_every_shard(cluster, tmp_path, servers):
    """One `qserver run` with the 104 centers on the cluster (WAIT for 1 replica): a call at every site reaches
    that site's display with nothing missed; a display reconnecting with `since` gets exactly the missed events
    on each shard; a notice (MULTI + WAIT) is posted on each shard; every write was confirmed by a replica; the
    process keeps a few connections per node."""
    server = city_server(cluster, tmp_path / "city", servers)
    manager = grant(cluster, "manager")  # of every site: issues and calls everywhere
    displays = {slug: Display(server.ws_url, slug).start() for slug in SITES}
    try:
        for display in displays.values():
            await display.wait_for(lambda d: d.snapshots, what="the first snapshot")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as http:
            called = {}
            for slug, site in SITES.items():
                counter = site.counters[0]
                kiosk_desk = Desk(slug, manager, manager)
                ticket = await kiosk_desk.issue(http, counter.agencies[0], "kiosk")
                call = await kiosk_desk.call_next(http, counter.id)
                assert kiosk_desk.unexpected == [] and call["id"] == ticket["id"], slug
                called[slug] = ticket["id"]
            for slug, ticket_id in called.items():
                await displays[slug].wait_for(
                    lambda d: any(f["type"] == "called" and f["ticket"]["id"] == ticket_id for f in d.frames.values()),
                    what=f"the call at {slug}")
            shards = one_site_per_shard(cluster)
            assert len(shards) == 3
            for slug in shards.values():
                answer = await http.post(f"/api/v1/sites/{slug}/notices", json={"text": "Mất điện tầng 1, xin chờ."},
                                         headers={"Authorization": f"Bearer {manager}"})
                assert answer.status_code == 201, answer.text
                await displays[slug].wait_for(lambda d: any(f["type"] == "notice" for f in d.frames.values()),
                                              what=f"the notice at {slug}")
        stored = cluster.client()
        try:
            for slug, display in displays.items():
                stream = [i.decode() for i, _ in stored.xrange(SiteKeys(slug).events)]
                assert display.missed(stream, display.snapshots[0]) == [], slug
                assert len(display.events) == len(set(display.events)), f"{slug}: an event twice"
            for slug in shards.values():
                since = displays[slug].snapshots[0]
                late = Display(server.ws_url, slug, since=since).start()
                stream = [i.decode() for i, _ in stored.xrange(SiteKeys(slug).events)]
                expected = [i for i in stream if stream_id(i) > stream_id(since)]
                await late.wait_for(lambda d: len(d.events) >= len(expected), what=f"the replay at {slug}")
                assert late.snapshots == [] and late.events == expected and len(expected) >= 5, slug
                await late.stop()
        finally:
            stored.close()
        metrics = server.call("GET", "/metrics").text
        assert "qserver_replication_unconfirmed_total{" not in metrics
        per_node = connections_of(cluster, server)
        print(f"\n[cluster] connections of the process per primary, 104 sites: {per_node}")
        assert len(per_node) == 3 and max(per_node.values()) <= REDIS_CONNECTIONS + 1, per_node
    finally:
        for display in displays.values():
            await display.stop()


async def test_a_burst_waits_for_the_bounded_connections_instead_of_failing(cluster):
    """300 concurrent state reads over the 104 sites through a client bounded to 3 in flight: every one
    answers, and no node gets more than those 3 request connections (redis-py's own bound would refuse them)."""
    name = "bounded-burst-test"
    startup = [ClusterNode("127.0.0.1", n.port) for n in cluster.nodes[:3]]
    bounded = BoundedRedisCluster(startup_nodes=startup, in_flight=3, client_name=name)
    plain = RedisCluster(startup_nodes=startup, max_connections=3)
    try:
        engines = [SiteEngine(bounded, site, FakeClock(MORNING), secret=b"x") for site in SITES.values()]
        states = await asyncio.gather(*(engines[i % len(engines)].state() for i in range(300)))
        assert [s["site"] for s in states] == [engines[i % len(engines)].site.slug for i in range(300)]
        for node in cluster.primaries():
            with node.client() as client:
                mine = [c for c in client.client_list() if c["name"] == name]
            # 3 in flight, plus the start-up node's own connection that read the topology (CLUSTER SLOTS)
            assert 1 <= len(mine) <= 3 + 1, (node.port, len(mine))
        refused = await asyncio.gather(*(SiteEngine(plain, SITES[slug], FakeClock(MORNING), secret=b"x").state()
                                         for slug in list(SITES) * 3), return_exceptions=True)
        assert any(isinstance(r, Unavailable) and isinstance(r.__cause__, MaxConnectionsError) for r in refused)
    finally:
        await bounded.aclose()
        await plain.aclose()


def connections_of(cluster: Cluster, server: ServerProcess) -> dict[int, int]:
    """Connections each primary has from the server process (by the client name it gives itself)."""
    suffix = f"-{server.process.pid}"
    counts = {}
    for node in cluster.primaries():
        with node.client() as client:
            counts[node.port] = sum(1 for c in client.client_list() if c["name"].endswith(suffix)
                                    and c["name"].startswith("qserver-"))
    return counts


async def test_a_master_fail_over_brings_service_back_and_displays_catch_up(tmp_path, servers, capsys):
    """kill -9 of the primary serving a site under load: its replica takes over, the site's kiosk and officer
    are answered again without restarting qserver, no acknowledged ticket is lost, and the site's display
    (live) and a display reconnecting with `since` miss no surviving event."""
    cluster = Cluster(tmp_path / "cluster")
    try:
        cluster.start()
        server = city_server(cluster, tmp_path / "city", servers)
        manager = grant(cluster, "manager")  # of every site: issues and calls everywhere
        placement = owners(cluster)
        victim = cluster.primaries()[0]
        slug = sorted(s for s, port in placement.items() if port == victim.port)[0]
        other = sorted(s for s, port in placement.items() if port != victim.port)[0]
        site = SITES[slug]
        counters = [c.id for c in site.counters if site.counters[0].agencies[0] in c.agencies]
        agency = site.counters[0].agencies[0]
        desk = Desk(slug, manager, manager)
        bystander = Desk(other, manager, manager)
        live = Display(server.ws_url, slug).start()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as http:
            try:
                await live.wait_for(lambda d: d.snapshots, what="the first snapshot")
                first = live.snapshots[0]
                workers = [asyncio.create_task(desk.kiosk_loop(http, [agency], "kiosk", 0.03)),
                           asyncio.create_task(bystander.kiosk_loop(http, [SITES[other].counters[0].agencies[0]],
                                                                     "kiosk", 0.1))]
                workers += [asyncio.create_task(desk.officer_loop(http, c, 0.05)) for c in counters]
                await wait_for(lambda: len(desk.issued) >= 20 and len(desk.calls) >= 5, "load before the kill")
                desk.mark_kill()
                bystander.mark_kill()
                victim.kill()
                issued_at_kill = len(desk.issued)
                await wait_for(lambda: desk.recovered_at is not None, "a write answered after the kill", 6 * TIMEOUT)
                recovered_s = desk.recovered_at - desk.kill_at
                assert owners(cluster)[slug] != victim.port, "the replica did not take over"
                # Back (as systemd would restart it) as a replica of the promoted node: until then every
                # write there waits QSERVER_REDIS_WAIT_TIMEOUT_MS for a replica it does not have.
                victim.start()
                await wait_for(cluster.healthy, "the old primary to rejoin", 4 * TIMEOUT)
                await wait_for(lambda: len(desk.issued) >= issued_at_kill + 20, "load after the fail-over")
                desk.stopping = bystander.stopping = True
                await asyncio.gather(*workers)
                await desk.drain(http, counters)
                assert desk.unexpected == [] and bystander.unexpected == [], errors_in_log(server)
                stored = cluster.client()
                try:
                    keys = SiteKeys(slug)
                    tickets = {k.decode(): json.loads(v) for k, v in stored.hgetall(keys.tickets).items()}
                    events = [(i.decode(), json.loads(f[b"e"])) for i, f in stored.xrange(keys.events)]
                finally:
                    stored.close()
                check_nothing_lost(desk, tickets, events)
                stream = [i for i, _ in events]
                await live.wait_for(lambda d: d.has(stream[-1]), what="the last event on the live display")
                assert live.missed(stream, first) == []
                late = Display(server.ws_url, slug, since=first).start()
                await late.wait_for(lambda d: d.has(stream[-1]), what="the replay on the late display")
                assert late.snapshots == [] and late.events == [i for i in stream if stream_id(i) > stream_id(first)]
                await late.stop()
                after_kill = [i for i in stream if stream_id(i)[0] >= desk.kill_wall_ms]  # written after the kill
                display_s = live.arrived[after_kill[0]] - desk.kill_at
            finally:
                desk.stopping = bystander.stopping = True
                await live.stop()
        with capsys.disabled():
            print(f"\n[cluster] primary {victim.port} killed: {slug} answered again after {recovered_s:.2f} s, its "
                  f"display's first new event after {display_s:.2f} s; {len(desk.issued)} tickets, "
                  f"{len(desk.calls)} calls, {desk.retries} retries at {slug}; {other} on another shard: "
                  f"{len(bystander.issued)} tickets, {bystander.retries} retries")
        assert recovered_s < 6 * TIMEOUT
    finally:
        cluster.stop()


def test_an_unreachable_cluster_stops_qserver_run_with_one_clear_line(tmp_path, redis_server):
    """No node listening: exit 2 after the start wait, naming every node; a plain server given as a cluster
    node: exit 2 at once, saying cluster mode is off."""
    ports = free_ports(3)
    for url, expected in [
        (f"redis+cluster://127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}",
         f"no cluster node answers: 127.0.0.1:{ports[0]} (connection refused), 127.0.0.1:{ports[1]} "
         "(connection refused)"),
        (f"redis+cluster://127.0.0.1:{redis_server.port}",
         f"127.0.0.1:{redis_server.port} is not a Redis Cluster node (cluster mode is off)"),
    ]:
        env = {**os.environ, "QSERVER_REDIS_URL": url, "QSERVER_DATA_DIR": str(tmp_path / "var"),
               "QSERVER_REDIS_START_WAIT_S": "1"}
        done = subprocess.run([sys.executable, "-m", "qserver", "run", "--port", str(ports[2])], env=env,
                              capture_output=True, text=True, timeout=3 * TIMEOUT)
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert done.returncode == 2 and len(errors) == 1, done.stderr[-2000:]
        assert expected in errors[0], errors[0]


async def wait_for(predicate, what: str, timeout: float = TIMEOUT) -> None:
    """Until ``predicate()`` holds, letting the workers run (they change what it looks at)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_the_cluster_reader_follows_a_manual_fail_over(cluster):
    """CLUSTER FAILOVER on a replica (the old master lives on, demoted): the reader notices within seconds,
    listens on the promoted node, and delivers that shard's next appends without waiting for its sweep."""
    client = connect_redis(cluster.url())
    reader = ClusterStreamReader(client, sorted(SITES), sweep_s=60)
    try:
        await reader.start()
        deadline = time.monotonic() + TIMEOUT
        while len(reader.listening) < 3:
            assert time.monotonic() < deadline, "listeners not subscribed"
            await reader.read(block_ms=100)
        slug = sorted(s for s, port in owners(cluster).items() if port == cluster.primaries()[0].port)[0]
        old = cluster.by_port(owners(cluster)[slug])
        new = cluster.replica_of(old)
        with new.client() as raw:
            assert raw.execute_command("CLUSTER", "FAILOVER") == b"OK"
        wait_until(lambda: owners(cluster)[slug] == new.port and cluster.healthy(), what="the manual fail-over")
        await client.xadd(SiteKeys(slug).events, {"e": b"{}"})  # the client follows MOVED to the new primary
        appended = (await client.xrevrange(SiteKeys(slug).events, count=1))[0][0].decode()
        started, got = time.monotonic(), []
        while appended not in got:
            assert time.monotonic() - started < TIMEOUT, "the append after the fail-over was not delivered"
            got += [i for s, batch in await reader.read(block_ms=500) if s == slug for i, _ in batch]
        assert time.monotonic() - started < 10, "waited for a sweep, not for the role check"
        primaries = {f"127.0.0.1:{node.port}" for node in cluster.primaries()}
        assert f"127.0.0.1:{new.port}" in primaries and f"127.0.0.1:{old.port}" not in primaries
        while reader.listening != primaries:  # the listeners follow: the promoted node's, not the demoted one's
            assert time.monotonic() - started < TIMEOUT, f"listening on {reader.listening}, not {primaries}"
            await reader.read(block_ms=200)
    finally:
        await reader.aclose()
        await client.aclose()
