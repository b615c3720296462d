"""Resuming without loss: the hub's reader starts before any client's first frames."""

from __future__ import annotations

import asyncio

import pytest

from qserver.engine import SiteKeys
from qserver.live.fanout_protocol import FanoutProtocol
from qserver.live.hub import Hub
from qserver.protocol import parse_stream_id
from qserver.settings import Settings
from tests.support import TIMEOUT, LiveApp
from tests.support.live import NOI_VU

EVENTS = SiteKeys("cantho").events
WRITE_PATHS = ["writer-task", pytest.param("fan-out", marks=pytest.mark.skipif(
    FanoutProtocol is None, reason="uvicorn without a recent websockets-sansio protocol"))]
QUIET = "so-y-te"


@pytest.fixture(params=WRITE_PATHS)
async def live(request, redis_server, flushed, tmp_path, clock):
    """The app on a real uvicorn, once per write path, with fast heartbeats and a short replay limit."""
    app = LiveApp(redis_server.url, tmp_path, clock, fanout=request.param == "fan-out", heartbeat_s=0.05,
                  replay_max_events=20)
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
