"""The websocket hub on a real uvicorn with real websocket clients, on both of its write paths: the
endpoint's writer task (any ASGI server) and the hub writing frames itself (``qserver run``)."""

from __future__ import annotations

import asyncio
import json
import socket

import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from qserver.engine import SiteKeys
from qserver.live.fanout_protocol import FanoutProtocol
from tests.support import TIMEOUT, LiveApp
from tests.support.live import NOI_VU, SITE, TU_PHAP, Api, recv, recv_type, url

EVENTS = SiteKeys("cantho").events
WRITE_PATHS = ["writer-task", pytest.param("fan-out", marks=pytest.mark.skipif(
    FanoutProtocol is None, reason="uvicorn without a recent websockets-sansio protocol"))]


@pytest.fixture(params=WRITE_PATHS)
async def live(request, redis_server, flushed, tmp_path, clock):
    """The app on a real uvicorn, once per write path."""
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=request.param == "fan-out")
    await app.start()
    yield app
    await app.stop()


async def test_snapshot_first_for_the_floor(live, api):
    """A floor client first gets a snapshot with only that floor's counters, calls and waiting counts."""
    await api.issue(TU_PHAP)
    await api.act("33", "call-next")
    await api.issue(NOI_VU)
    async with connect(url(live, "floor:1"), subprotocols=["qs.v1.json"]) as ws:
        assert ws.subprotocol == "qs.v1.json"
        snapshot = await recv(ws)
    state = snapshot["state"]
    assert snapshot["type"] == "snapshot" and snapshot["event_id"] == state["event_id"]
    assert {c["floor"] for c in state["counters"]} == {1}
    assert set(state["waiting"]) == {a.slug for a in live.app.state.sites["cantho"].agencies if a.floor == 1}
    assert [c["number"] for c in state["calls"]] == ["V001"]
    serving = {c["id"]: c["current"] for c in state["counters"]}
    assert serving["33"]["number"] == "V001"


async def test_events_nobody_watches_still_move_the_snapshot_watermark(live, api, monkeypatch):
    """Events of a site no client watches are not presented, yet a client arriving next gets a snapshot
    that covers them (not the shared one read before them), and the metrics still count them."""
    monkeypatch.setattr("qserver.live.hub.SNAPSHOT_MAX_AGE_S", 3600.0)  # the old snapshot stays young
    hub = live.app.state.hub
    async with connect(url(live, "floor:0")) as ws:
        before = await recv(ws)
    for _ in range(int(TIMEOUT * 100)):
        if not hub.clients.get("cantho"):
            break
        await asyncio.sleep(0.01)
    seen = hub.published_up_to.get("cantho", (0, 0))
    ticket = await api.issue(NOI_VU)
    for _ in range(int(TIMEOUT * 100)):
        if hub.published_up_to.get("cantho", (0, 0)) > seen:
            break
        await asyncio.sleep(0.01)
    assert not hub.clients.get("cantho"), "the issue must be read while nobody watches"
    async with connect(url(live, "floor:0")) as ws:
        after = await recv(ws)
    assert before["state"]["waiting"][NOI_VU] == 0
    assert after["type"] == "snapshot" and after["event_id"] > before["event_id"]
    assert after["state"]["waiting"][NOI_VU] == 1, f"{ticket['number']} is missing from the snapshot"
    metrics = await api.http.get("/metrics")
    assert 'qserver_events_total{site="cantho",type="issued"} 1.0' in metrics.text


async def test_several_floors_get_the_whole_state(live, api):
    """A client of two floors gets both floors' counters in its snapshot, not one of them."""
    async with connect(url(live, "floor:0,floor:1")) as ws:
        snapshot = await recv(ws)
    assert {c["floor"] for c in snapshot["state"]["counters"]} == {0, 1}


async def test_calls_reach_their_floor_only(live, api):
    """A call of a floor-1 agency reaches the floor-1 client and never the ground-floor client."""
    async with connect(url(live, "floor:0")) as ground, connect(url(live, "floor:1")) as first:
        await recv(ground), await recv(first)
        await api.issue(TU_PHAP)
        await api.act("33", "call-next")
        called = await recv_type(first, "called")
        assert called["ticket"]["number"] == "V001" and called["counter"] == "33" and called["recall"] is False
        await api.issue(NOI_VU)
        await api.act("12", "call-next")
        ground_call = await recv_type(ground, "called")
        assert ground_call["ticket"]["number"] == "E001"  # the floor-1 call was never delivered before it


async def test_cross_floor_call_goes_to_both_floors(live, api):
    """A floor-0 counter serving a floor-1 agency: the call reaches both floors."""
    manager = {"Authorization": f"Bearer {api.manager}"}
    await api.http.put(f"{SITE}/counters/12/agencies", json={"agencies": [TU_PHAP]}, headers=manager)
    async with connect(url(live, "floor:0")) as ground, connect(url(live, "floor:1")) as first:
        await recv(ground), await recv(first)
        await api.issue(TU_PHAP)
        await api.act("12", "call-next")
        for ws in (ground, first):
            called = await recv_type(ws, "called")
            assert called["floor"] == 1 and called["counter_floor"] == 0


async def test_since_replays_exactly_what_was_missed(live, api):
    """Reconnecting with since gets every missed event of its topics once, in order, then live ones."""
    async with connect(url(live, "floor:0")) as ws:
        snapshot = await recv(ws)
    last = snapshot["event_id"]
    for _ in range(3):
        await api.issue(NOI_VU)
    await api.act("12", "call-next")
    await api.issue(TU_PHAP)  # floor 1: not for this client
    async with connect(url(live, "floor:0", since=last)) as ws:
        frames = [await recv(ws) for _ in range(8)]
        await api.act("12", "call-next")
        live_frames = [await recv(ws) for _ in range(3)]
    kinds = [f["type"] for f in frames]
    assert kinds == ["issued", "queue", "issued", "queue", "issued", "queue", "called", "queue"]
    ids = [f["event_id"] for f in frames + live_frames]
    assert len(set(ids)) == len(ids) and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    assert [f["type"] for f in live_frames] == ["completed", "called", "queue"]


async def test_since_not_retained_gets_a_snapshot(live, api):
    """A since whose following events were trimmed away, or from another Redis, gets a snapshot."""
    for _ in range(3):
        await api.issue(NOI_VU)
    redis = live.app.state.redis
    first_id = (await redis.xrange(EVENTS, count=1))[0][0].decode()
    await redis.xtrim(EVENTS, maxlen=2, approximate=False)
    async with connect(url(live, "site", since=first_id)) as ws:
        assert (await recv(ws))["type"] == "snapshot"
    async with connect(url(live, "site", since="99999999999999-0")) as ws:
        assert (await recv(ws))["type"] == "snapshot"


async def test_agency_subscribers_get_queue_counts(live, api):
    """A client of one agency's topic gets its issued tickets and the new waiting count."""
    async with connect(url(live, f"agency:{TU_PHAP}")) as ws:
        await recv(ws)
        await api.issue(NOI_VU)
        await api.issue(TU_PHAP)
        issued = await recv(ws)
        queue = await recv(ws)
    assert issued["type"] == "issued" and issued["ticket"]["agency"] == TU_PHAP
    assert queue["type"] == "queue" and queue["waiting"] == {TU_PHAP: 1}


async def test_json_and_msgpack_carry_the_same_maps(live, api):
    """The same event decodes to the same map over both subprotocols."""
    async with connect(url(live, "site"), subprotocols=["qs.v1.json"]) as as_json, \
            connect(url(live, "site"), subprotocols=["qs.v1.msgpack"]) as as_msgpack:
        assert as_msgpack.subprotocol == "qs.v1.msgpack"
        await recv(as_json), await recv(as_msgpack, "msgpack")
        await api.issue(NOI_VU)
        one = await recv_type(as_json, "issued")
        other = await recv_type(as_msgpack, "issued", "msgpack")
    assert one == other


async def test_garbage_closes_1003_and_others_go_on(live, api):
    """An undecodable frame closes that socket with 1003; other clients keep receiving."""
    async with connect(url(live, "site"), subprotocols=["qs.v1.msgpack"]) as bad, connect(url(live, "site")) as good:
        await recv(bad, "msgpack"), await recv(good)
        await bad.send(b"\xc1\xff not msgpack")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(bad.recv(), TIMEOUT)
        assert closed.value.rcvd.code == 1003
        await api.issue(NOI_VU)
        assert (await recv_type(good, "issued"))["ticket"]["number"] == "E001"


async def test_bad_subscriptions_are_refused(live):
    """Unknown site, topic, floor or since close the socket with a 44xx code and a reason."""
    for query, code in ((f"{live.ws_url}?site=hanoi&topics=site", 4404), (url(live, "floor:9"), 4400),
                        (url(live, "bogus"), 4400), (url(live, "site", since="yesterday"), 4400),
                        (url(live, "site", token="nope"), 4401)):
        async with connect(query) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert closed.value.rcvd.code == code, query


async def test_a_token_unreadable_for_a_moment_is_not_a_bad_token(live, monkeypatch):
    """Redis (or a cluster between primaries) failing while a pad's token is read closes with 1011, which the
    device link retries at its usual pace, not the 4401 of a wrong token; once Redis answers, the pad is in."""
    from redis.exceptions import SlotNotCoveredError

    async def failing_get(key):
        raise SlotNotCoveredError('Slot "5461" is not covered by the cluster.')

    token = live.token("officer", ["12"])
    monkeypatch.setattr(live.app.state.auth.redis, "get", failing_get)
    async with connect(url(live, "counter:12", token=token)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert closed.value.rcvd.code == 1011 and closed.value.rcvd.reason == "redis unreachable"
    monkeypatch.undo()
    async with connect(url(live, "counter:12", token=token)) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["type"] == "snapshot"


async def test_pad_commands_with_idempotency(live, api):
    """A command frame runs the action; the same key twice calls one ticket; refusals come back as results."""
    token = live.token("officer", ["12"])
    await api.issue(NOI_VU)
    await api.issue(NOI_VU)
    async with connect(url(live, "counter:12", token=token), subprotocols=["qs.v1.msgpack"]) as ws:
        await recv(ws, "msgpack")
        for _ in range(2):
            await ws.send(msgpack.packb({"type": "command", "counter": "12", "action": "call-next", "key": "p1"}))
        results = []
        while len(results) < 2:
            frame = await recv(ws, "msgpack")
            if frame["type"] == "result":
                results.append(frame)
        assert [r["ok"] for r in results] == [True, True]
        assert results[0]["ticket"]["number"] == results[1]["ticket"]["number"] == "E001"
        await ws.send(msgpack.packb({"type": "command", "counter": "13", "action": "call-next", "key": "p2"}))
        refused = await recv_type(ws, "result", "msgpack")
        assert refused["ok"] is False and refused["status"] == 403
    state = (await api.http.get(f"{SITE}/state")).json()
    assert state["waiting"][NOI_VU] == 1


async def test_acks_are_recorded_per_device(live, api):
    """An ack frame records the device's last acknowledged event."""
    async with connect(url(live, "floor:0", device="floor-0-tv")) as ws:
        await recv(ws)
        await api.issue(NOI_VU)
        await api.act("12", "call-next")
        called = await recv_type(ws, "called")
        await ws.send(json.dumps({"type": "ack", "event_id": called["event_id"]}))
        for _ in range(200):
            raw = await live.app.state.redis.hget(SiteKeys("cantho").acks, "floor-0-tv")
            if raw:
                break
            await asyncio.sleep(0.01)
    assert json.loads(raw)["event_id"] == called["event_id"]


@pytest.mark.parametrize("path", WRITE_PATHS)
async def test_heartbeats_reach_every_client_slice_by_slice(redis_server, flushed, tmp_path, clock, monkeypatch,
                                                             path):
    """Heartbeats are written a slice of clients at a time (here 4): all ten clients still get one."""
    monkeypatch.setattr("qserver.live.hub.HEARTBEAT_SLICE", 4)
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=path == "fan-out", heartbeat_s=0.2)
    await app.start()
    try:
        sockets = [await connect(url(app, "floor:0")).__aenter__() for _ in range(10)]
        for ws in sockets:
            assert (await recv(ws))["type"] == "snapshot"
        beats = await asyncio.gather(*(recv_type(ws, "heartbeat") for ws in sockets))
        assert all(beat["event_id"] is None and beat["at"] for beat in beats)
        for ws in sockets:
            await ws.close()
    finally:
        await app.stop()


@pytest.mark.parametrize("path", WRITE_PATHS)
async def test_a_client_that_stops_reading_is_dropped_without_delaying_others(redis_server, flushed, tmp_path, clock,
                                                                              path):
    """A stuck client is dropped once its bounded queue (or, on the fast path, its socket and backlog)
    fills; a reading client gets every event promptly; on the fast path the stuck socket is then cut."""
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=path == "fan-out", client_queue_frames=200)
    await app.start()
    api = Api(app)
    try:
        # A raw websocket that completes the handshake, then never reads again (a small window).
        loop = asyncio.get_running_loop()
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.setblocking(False)
        await loop.sock_connect(stuck, ("127.0.0.1", app.port))
        await loop.sock_sendall(stuck, f"GET /ws?site=cantho&topics=site HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n"
                                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
        assert await asyncio.wait_for(loop.sock_recv(stuck, 12), TIMEOUT) == b"HTTP/1.1 101"
        async with connect(url(app, "site")) as good:
            await recv(good)
            hub = app.app.state.hub
            assert hub.client_count() == 2
            started = loop.time()
            # 2,000 notices of 4 KiB (8 MiB, more than the socket buffers and the stuck client's queue),
            # in bursts of 50 that the reading client takes in before the next one comes.
            text = "Thông báo: " + "ư" * 2000
            redis = app.app.state.redis
            received = 0
            for burst in range(40):
                pipe = redis.pipeline(transaction=False)
                for i in range(50):
                    event = {"type": "notice", "at": 1795482000000, "actor": "manager:lan",
                             "notice": {"id": f"n{burst}-{i}", "text": text, "created_at": 1795482000000,
                                        "expires_at": 1795482600000}}
                    pipe.xadd(EVENTS, {"e": json.dumps(event, ensure_ascii=False)})
                await pipe.execute()
                while received < (burst + 1) * 50:
                    frame = await recv(good)
                    received += frame["type"] == "notice"
            elapsed = loop.time() - started
            for _ in range(500):
                if hub.client_count() == 1:
                    break
                await asyncio.sleep(0.01)
            assert hub.client_count() == 1, "the stuck client was not dropped"
            assert elapsed < TIMEOUT
        if path == "fan-out":  # a 1008 close frame, or cut when even that cannot go out (after 2 s)
            await asyncio.wait_for(_until_closed(stuck), TIMEOUT)
        stuck.close()
    finally:
        await api.http.aclose()
        await app.stop()


async def test_two_processes_on_one_redis(redis_server, flushed, tmp_path, clock, live, api):
    """A call made through one qserver process reaches a client of another on the same Redis."""
    other = LiveApp(redis_server.url, tmp_path / "b", clock)
    await other.start()
    try:
        async with connect(url(other, "floor:0")) as ws:
            await recv(ws)
            await api.issue(NOI_VU)
            await api.act("12", "call-next")
            called = await recv_type(ws, "called")
        assert called["ticket"]["number"] == "E001"
    finally:
        await other.stop()


async def _until_closed(sock: socket.socket) -> None:
    """Read a socket until the peer resets it, closes it, or sends its close frame 1008."""
    loop = asyncio.get_running_loop()
    tail = b""
    try:
        while data := await loop.sock_recv(sock, 1 << 20):
            tail = (tail + data)[-64:]
            if b"\x03\xf0client stopped reading" in tail:
                return
    except ConnectionResetError:
        pass
