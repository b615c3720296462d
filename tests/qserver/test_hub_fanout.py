"""The hub's fast path: frames written straight to the socket by
``qserver.live.fanout_protocol.FanoutProtocol`` (what ``qserver run`` uses), shared snapshots, stuck
clients. The behaviour tests of test_hub run on both write paths (its ``live`` fixture)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from qserver.live.frames import ws_frame
from qserver.present import present_event
from qserver.protocol import parse_stream_id, topics_for_event
from qserver.live.fanout_protocol import FanoutProtocol
from qserver.engine import SiteKeys
from tests.support import TIMEOUT, LiveApp
from tests.support.live import NOI_VU, SITE, TU_PHAP, Api, recv, recv_type, url

EVENTS = SiteKeys("cantho").events

pytestmark = pytest.mark.skipif(FanoutProtocol is None, reason="uvicorn without a recent websockets-sansio protocol")

@pytest.fixture
async def live(redis_server, flushed, tmp_path, clock):
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=True)
    await app.start()
    yield app
    await app.stop()


def hub_clients(app) -> list:
    return [client for clients in app.app.state.hub.clients.values() for client in clients]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_ws_frame_is_what_websockets_would_send(size):
    """A frame built once by the hub is byte for byte what websockets writes for a server frame."""
    payload = bytes(i % 251 for i in range(size))
    for opcode, binary in ((Opcode.TEXT, False), (Opcode.BINARY, True)):
        assert ws_frame(payload, binary) == Frame(opcode, payload).serialize(mask=False, extensions=[])


async def test_clients_are_written_directly(live, api):
    """Under FanoutProtocol (deflate off, as `qserver run` serves) the hub writes frames itself, also for a
    client that offers per-message deflate as browsers do; the events arrive in order."""
    async with connect(url(live, "floor:0"), compression="deflate") as ws:
        await recv(ws)
        assert ws.protocol.extensions == []
        [client] = hub_clients(live)
        assert client.write is not None and client.queue is None and client.direct
        await api.issue(NOI_VU)
        await api.act("12", "call-next")
        kinds = [(await recv(ws))["type"] for _ in range(4)]
    assert kinds == ["issued", "queue", "called", "queue"]


async def test_a_hall_display_holds_no_task_once_connected(live, api):
    """On the fast path the endpoint hands each socket to its protocol: twenty displays leave no task
    behind, still get every event, and are forgotten by the hub when they leave."""
    def server_tasks() -> int:  # the ASGI app's task of each websocket (the clients here have tasks too)
        return sum("run_asgi" in task.get_coro().__qualname__ for task in asyncio.all_tasks())

    sockets = [await connect(url(live, "floor:0")).__aenter__() for _ in range(20)]
    for ws in sockets:
        assert (await recv(ws))["type"] == "snapshot"
    await asyncio.sleep(0.05)
    assert server_tasks() == 0, f"{server_tasks()} tasks for 20 sockets"
    assert len(hub_clients(live)) == 20
    await api.issue(NOI_VU)
    assert [(await recv_type(ws, "issued"))["ticket"]["number"] for ws in sockets] == ["E001"] * 20
    for ws in sockets:
        await ws.close()
    for _ in range(int(TIMEOUT * 100)):
        if not hub_clients(live):
            break
        await asyncio.sleep(0.01)
    assert hub_clients(live) == []


async def test_frames_sent_at_once_are_handled_in_order(live, api):
    """A pad's frames sent back to back (right after connecting, before its first frame arrived) are
    answered in the order sent: two commands, then the ping."""
    token = live.token("officer", counters=("12",))
    async with connect(url(live, "counter:12") + f"&token={token}") as ws:
        for key in ("a", "b"):
            await ws.send(json.dumps({"type": "command", "counter": "12", "action": "call-next", "key": key}))
        await ws.send(json.dumps({"type": "ping"}))
        answers = []
        while len(answers) < 3:
            frame = await recv(ws)
            if frame["type"] in ("result", "pong"):
                answers.append((frame["type"], frame.get("key")))
    assert answers == [("result", "a"), ("result", "b"), ("pong", None)]


async def test_a_client_with_per_message_deflate_gets_the_writer_task(redis_server, flushed, tmp_path, clock):
    """When the server accepts per-message deflate, frames differ per client: that client goes through
    the writer task, and still gets the same maps as a client of the fast path."""
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=True, deflate=True)
    await app.start()
    api_ = Api(app)
    try:
        async with connect(url(app, "site"), compression="deflate") as deflated, \
                connect(url(app, "site"), compression=None) as plain:
            await recv(deflated), await recv(plain)
            by_writing = {client.write is not None: client for client in hub_clients(app)}
            assert set(by_writing) == {True, False} and by_writing[False].queue is not None
            await api_.issue(NOI_VU)
            assert await recv_type(deflated, "issued") == await recv_type(plain, "issued")
    finally:
        await api_.http.aclose()
        await app.stop()


async def _frames_until_pong(ws) -> list[dict]:
    frames = []
    while True:
        frame = await recv(ws)
        if frame["type"] == "pong":
            return frames
        if frame["type"] != "heartbeat":
            frames.append(frame)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "writer-task"])
async def test_clients_connecting_while_events_flow_get_each_event_once(redis_server, flushed, tmp_path, clock, fast):
    """Sixty clients connect (sharing snapshots) while tickets are issued and called: after its snapshot
    each gets every later event of its topics exactly once, in stream order."""
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=fast)
    await app.start()
    api_ = Api(app)
    hub, redis, site = app.app.state.hub, app.app.state.redis, app.app.state.sites["cantho"]
    stop = asyncio.Event()

    async def traffic() -> None:
        turn = 0
        while not stop.is_set():
            turn += 1
            await api_.issue(NOI_VU if turn % 2 else TU_PHAP)
            await api_.http.post(f"{SITE}/counters/{'12' if turn % 3 else '33'}/call-next",
                                 headers={"Authorization": f"Bearer {api_.manager}"})

    sockets = []
    try:
        worker = asyncio.create_task(traffic())
        topics = ["site", "floor:0", "floor:1"]
        for _ in range(6):
            opened = await asyncio.gather(*(connect(url(app, topics[i % 3])).__aenter__() for i in range(10)))
            sockets += [(topics[i % 3], ws) for i, ws in enumerate(opened)]
            await asyncio.sleep(0.02)
        stop.set()
        await worker
        last = parse_stream_id((await redis.xrevrange(EVENTS, count=1))[0][0].decode())
        for _ in range(int(TIMEOUT * 100)):
            if hub.published_up_to.get("cantho", (0, 0)) >= last:
                break
            await asyncio.sleep(0.01)
        stream = [(entry_id.decode(), topics_for_event(present_event(site, entry_id.decode(), fields[b"e"])))
                  for entry_id, fields in await redis.xrange(EVENTS)]
        for topic, ws in sockets:
            await ws.send(json.dumps({"type": "ping"}))  # the pong comes after every event fanned out
            frames = await _frames_until_pong(ws)
            snapshot, events = frames[0], frames[1:]
            assert snapshot["type"] == "snapshot"
            ids = [f["event_id"] for f in events]
            expected = [entry_id for entry_id, event_topics in stream
                        if parse_stream_id(entry_id) > parse_stream_id(snapshot["event_id"]) and topic in event_topics]
            assert ids == expected, f"{topic}: lost, duplicated or reordered events"
    finally:
        stop.set()
        for _, ws in sockets:
            await ws.close()
        await api_.http.aclose()
        await app.stop()


async def test_a_burst_of_connections_shares_snapshots(live, api):
    """Two hundred displays of one floor connecting at once cost a few state reads, not two hundred."""
    engine = live.app.state.engines["cantho"]
    reads = 0
    state = engine.state

    async def counted():
        nonlocal reads
        reads += 1
        return await state()

    engine.state = counted
    await api.issue(NOI_VU)
    opened = await asyncio.gather(*(connect(url(live, "floor:0")).__aenter__() for _ in range(200)))
    try:
        snapshots = [await recv(ws) for ws in opened]
        assert {s["type"] for s in snapshots} == {"snapshot"}
        assert len({s["event_id"] for s in snapshots}) == 1
        assert reads <= 10, reads
    finally:
        await asyncio.gather(*(ws.close() for ws in opened))


async def test_two_processes_on_one_redis(redis_server, flushed, tmp_path, clock, live, api):
    """A call made through one qserver process reaches a fast-path client of another on the same Redis."""
    other = LiveApp(redis_server.url, tmp_path / "b", clock, fanout=True)
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
