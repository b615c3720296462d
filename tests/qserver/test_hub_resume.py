"""Resuming without loss: the hub's reader starts before any client's first frames, heartbeats carry
``up_to`` (the last event id fanned out for the site) so a quiet display's ``since`` stays fresh, every
heartbeat comes after every event of the client's topics up to its ``up_to`` (both write paths), and a
replay skips a malformed event as the live fan-out does."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from qserver.engine import SiteKeys
from qserver.live.fanout_protocol import FanoutProtocol
from qserver.live.hub import Hub
from qserver.present import present_event
from qserver.protocol import parse_stream_id, topics_for_event
from qserver.protocol.client import Link
from qserver.settings import Settings
from tests.support import TIMEOUT, LiveApp
from tests.support.live import NOI_VU, SITE, TU_PHAP, recv, url

EVENTS = SiteKeys("cantho").events
WRITE_PATHS = ["writer-task", pytest.param("fan-out", marks=pytest.mark.skipif(
    FanoutProtocol is None, reason="uvicorn without a recent websockets-sansio protocol"))]
QUIET = "so-y-te"


@pytest.fixture(params=WRITE_PATHS)
async def live(request, redis_server, flushed, tmp_path, clock):
    """The app on a real uvicorn, once per write path, with fast heartbeats and a short replay limit."""
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=request.param == "fan-out", heartbeat_s=0.05,
                  replay_max_events=20, limit_issue_per_kiosk="")  # tickets back to back from one kiosk
    await app.start()
    yield app
    await app.stop()


async def _ids(redis) -> list[str]:
    return [entry_id.decode() for entry_id, _fields in await redis.xrange(EVENTS)]


async def test_events_between_first_frames_and_the_readers_start_are_published(redis, engine, site, tmp_path):
    """A client whose first frames were read before the hub's reader started (a server started while
    Redis was away) still gets every event after its snapshot, those before the reader's start too."""
    hub = Hub(redis, {"cantho": site}, {"cantho": engine}, Settings(data_dir=tmp_path))
    client = hub.new_client("cantho", frozenset({"floor:0"}), "qs.v1.json")
    hub.register(client)
    (snapshot,) = await hub.first_frames(client, None)
    assert snapshot.frame["type"] == "snapshot"
    await engine.issue(NOI_VU, actor="kiosk")            # after the client's first frames, before the reader
    await hub.start()
    try:
        await engine.issue(NOI_VU, actor="kiosk")
        expected = [i for i in await _ids(redis) if parse_stream_id(i) > snapshot.event_id]
        got = []
        while len(got) < len(expected):
            item = await asyncio.wait_for(client.queue.get(), TIMEOUT)
            if item.event_id is not None:
                got.append(item.frame["event_id"])
        assert got == expected
    finally:
        await hub.stop()


async def _frames_until_pong(ws) -> list[dict]:
    await ws.send(json.dumps({"type": "ping"}))
    frames = []
    while True:
        frame = await recv(ws)
        if frame["type"] == "pong":
            return frames
        frames.append(frame)


async def _heartbeat_up_to(ws, last: str) -> str:
    """The ``up_to`` of the first heartbeat that says the hub has fanned out ``last``."""
    async def wait() -> str:
        while True:
            frame = await recv(ws)
            if frame["type"] == "heartbeat" and frame.get("up_to") == last:
                return frame["up_to"]

    return await asyncio.wait_for(wait(), TIMEOUT)


async def test_a_quiet_display_resumes_with_a_replay_not_a_snapshot(live, api):
    """A display whose topics see no event while many others happen takes ``up_to`` from the heartbeats;
    cut and resumed with it, it gets the one event it missed, not a snapshot."""
    redis = live.app.state.redis
    async with connect(url(live, f"agency:{QUIET}")) as ws:
        assert (await recv(ws))["type"] == "snapshot"
        for _ in range(15):                                   # 30 events, more than the replay limit of 20
            await api.issue(NOI_VU)
        since = await _heartbeat_up_to(ws, (await _ids(redis))[-1])
    ticket = await api.issue(QUIET)
    async with connect(url(live, f"agency:{QUIET}", since=since)) as ws:
        first = await recv(ws)
    assert first["type"] == "issued" and first["ticket"]["id"] == ticket["id"]


async def test_every_heartbeat_follows_the_events_it_covers(live, api):
    """Clients connecting while events flow and heartbeats fly: before each heartbeat a client has had
    every event of its topics up to the heartbeat's ``up_to`` (after its first frames), once."""
    redis, stop = live.app.state.redis, asyncio.Event()

    async def traffic() -> None:
        turn = 0
        while not stop.is_set():
            turn += 1
            await api.issue(NOI_VU if turn % 2 else TU_PHAP)
            await api.http.post(f"{SITE}/counters/{'12' if turn % 3 else '33'}/call-next",
                                headers={"Authorization": f"Bearer {api.manager}"})

    sockets = []
    worker = asyncio.create_task(traffic())
    try:
        topics = ["floor:0", "floor:1", f"agency:{TU_PHAP}", "counter:12"]
        for n in range(12):
            sockets.append((topics[n % 4], await connect(url(live, topics[n % 4])).__aenter__()))
            await asyncio.sleep(0.03)
        stop.set()
        await worker
        last = (await _ids(redis))[-1]
        site = live.app.state.sites["cantho"]
        stream = [(i.decode(), topics_for_event(present_event(site, i.decode(), f[b"e"])))
                  for i, f in await redis.xrange(EVENTS)]
        beats = 0
        for topic, ws in sockets:
            frames = await _frames_until_pong(ws)
            for _ in range(int(TIMEOUT / 0.05)):
                if any(f["type"] == "heartbeat" and f.get("up_to") == last for f in frames):
                    break
                frames += await _frames_until_pong(ws)
            first = frames[0]
            start = parse_stream_id(first["event_id"])
            seen: list[str] = []
            for frame in frames[1:]:
                if frame["type"] == "heartbeat" and frame.get("up_to"):
                    beats += 1
                    up_to = parse_stream_id(frame["up_to"])
                    owed = [i for i, t in stream if topic in t and start < parse_stream_id(i) <= up_to]
                    assert [i for i in seen if parse_stream_id(i) <= up_to] == owed, f"{topic} before {frame['up_to']}"
                elif frame["type"] != "heartbeat":
                    seen.append(frame["event_id"])
        assert beats > len(sockets)
    finally:
        stop.set()
        await asyncio.gather(worker, return_exceptions=True)
        for _, ws in sockets:
            await ws.close()


async def test_the_link_resumes_from_the_heartbeats(live, api):
    """A device's Link keeps the heartbeats' ``up_to`` as its ``since``: cut after many events of other
    topics, it resumes with a replay of what it missed."""
    redis = live.app.state.redis
    frames: list[dict] = []
    link = Link(live.base_url, site="cantho", topics=[f"agency:{QUIET}"], device="quiet-pad",
                backoff=lambda: iter(lambda: 0.0, None), open_timeout_s=TIMEOUT)

    async def on_frame(frame):
        frames.append(frame)

    runner = asyncio.create_task(link.run(on_frame))
    try:
        await asyncio.wait_for(link.connected.wait(), TIMEOUT)
        for _ in range(15):
            await api.issue(NOI_VU)
        last = (await _ids(redis))[-1]
        for _ in range(int(TIMEOUT * 100)):
            if link.last_event_id == last:
                break
            await asyncio.sleep(0.01)
        assert link.last_event_id == last
        runner.cancel()                                       # the device is off while a ticket is issued
        await asyncio.gather(runner, return_exceptions=True)
        ticket = await api.issue(QUIET)
        runner = asyncio.create_task(link.run(on_frame))
        for _ in range(int(TIMEOUT * 100)):
            if any(f.get("type") == "issued" for f in frames):
                break
            await asyncio.sleep(0.01)
        kinds = [f["type"] for f in frames if f["type"] != "heartbeat"]
        assert kinds[0] == "snapshot" and "snapshot" not in kinds[1:], kinds
        assert [f["ticket"]["id"] for f in frames if f["type"] == "issued"] == [ticket["id"]]
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_malformed_event_is_skipped_in_a_replay_as_it_is_live(live, api):
    """An event that cannot be presented is skipped by a replay as by the live fan-out: the resume gets
    the events around it instead of a close (1011) it would get again on every retry."""
    redis = live.app.state.redis
    async with connect(url(live, "floor:0")) as ws:
        since = (await recv(ws))["event_id"]
    first = await api.issue(NOI_VU)
    await redis.xadd(EVENTS, {"e": b"{not json"})
    second = await api.issue(NOI_VU)
    async with connect(url(live, "floor:0", since=since)) as ws:
        frames = [await recv(ws) for _ in range(4)]
    assert [f["type"] for f in frames] == ["issued", "queue", "issued", "queue"]
    assert [frames[0]["ticket"]["id"], frames[2]["ticket"]["id"]] == [first["id"], second["id"]]
