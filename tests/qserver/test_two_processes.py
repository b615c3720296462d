"""Two `qserver run` processes on one Redis: a hall display on process B gets the calls made through
process A; B is killed with SIGKILL, the display reconnects to A with `since` and misses nothing."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import redis as sync_redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import config
from qserver.engine import SiteKeys
from qserver.present import present_event
from qserver.protocol import topics_for_event
from tests.support import TIMEOUT, ServerProcess

pytestmark = pytest.mark.slow
SITE, NOI_VU, COUNTER = "cantho", "so-noi-vu", "12"      # Sở Nội vụ waits on the ground floor
TOPIC = "floor:0"


class Display:
    """A hall display's websocket: every frame it receives, in order, until the socket closes."""

    def __init__(self):
        self.frames: list[dict] = []
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()

    async def run(self, url: str) -> None:
        try:
            async with connect(url, subprotocols=["qs.v1.json"], open_timeout=TIMEOUT) as ws:
                async for message in ws:
                    self.frames.append(json.loads(message))
                    self._changed.set()
        except (ConnectionClosed, OSError):
            pass
        finally:
            self.closed.set()
            self._changed.set()

    async def until(self, predicate, what: str):
        deadline = time.monotonic() + TIMEOUT
        while not (found := predicate(self.frames)):
            if self.closed.is_set():
                raise AssertionError(f"the display's socket closed waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise AssertionError(f"timed out waiting for {what}; frames: {self.frames[-5:]}") from None
        return found

    def events(self) -> list[dict]:
        return [f for f in self.frames if f.get("event_id") and f["type"] not in ("snapshot", "heartbeat")]

    def called(self, number: str):
        return lambda frames: any(f["type"] == "called" and f["ticket"]["number"] == number for f in frames)


def stream_events_for(redis_url: str, after: str, topic: str) -> list[str]:
    """Ids of the site's stream entries after ``after`` that a subscriber of ``topic`` must get."""
    site = config.load_sites()[SITE]
    client = sync_redis.Redis.from_url(redis_url)
    try:
        entries = client.xrange(SiteKeys(SITE).events, min=f"({after}", max="+")
    finally:
        client.close()
    ids = []
    for entry_id, fields in entries:
        frame = present_event(site, entry_id.decode(), fields[b"e"])
        if topic in topics_for_event(frame):
            ids.append(entry_id.decode())
    return ids


async def test_a_display_survives_the_death_of_its_process(redis_server, flushed, tmp_path):
    """Calls through A reach a display on B; after kill -9 of B it resumes on A with `since`, no gap, no repeat."""
    a, b = ServerProcess(redis_server.url, tmp_path), ServerProcess(redis_server.url, tmp_path)
    a.start()
    b.start()
    kiosk, officer = a.token("kiosk"), a.token("officer", [COUNTER])
    http = httpx.AsyncClient(base_url=a.base_url, timeout=TIMEOUT)

    async def call_one() -> str:
        issued = await http.post(f"/api/v1/sites/{SITE}/tickets", json={"agency": NOI_VU},
                                 headers={"Authorization": f"Bearer {kiosk}"})
        assert issued.status_code == 201, issued.text
        called = await http.post(f"/api/v1/sites/{SITE}/counters/{COUNTER}/call-next",
                                 headers={"Authorization": f"Bearer {officer}"}, json={})
        assert called.status_code == 200, called.text
        return called.json()["number"]

    try:
        on_b = Display()
        reading = asyncio.create_task(on_b.run(f"{b.ws_url}?site={SITE}&topics={TOPIC}&device=floor-0-tv"))
        snapshot = await on_b.until(lambda fs: next((f for f in fs if f["type"] == "snapshot"), None), "the snapshot")
        before = [await call_one() for _ in range(3)]
        for number in before:
            await on_b.until(on_b.called(number), f"call {number} on B")

        b.kill()                                              # SIGKILL: no close frame, no goodbye
        await asyncio.wait_for(on_b.closed.wait(), TIMEOUT)
        await reading
        last = on_b.events()[-1]["event_id"]
        while_down = [await call_one() for _ in range(2)]    # the display is reconnecting meanwhile

        on_a = Display()
        resumed = asyncio.create_task(on_a.run(f"{a.ws_url}?site={SITE}&topics={TOPIC}&device=floor-0-tv&since={last}"))
        for number in while_down:
            await on_a.until(on_a.called(number), f"missed call {number} replayed on A")
        after = [await call_one() for _ in range(2)]
        for number in after:
            await on_a.until(on_a.called(number), f"live call {number} on A")

        assert not any(f["type"] == "snapshot" for f in on_a.frames)   # a replay, not a fresh snapshot
        got = [f["event_id"] for f in on_b.events() + on_a.events()]
        assert got == stream_events_for(redis_server.url, snapshot["event_id"], TOPIC)
        assert len(got) == len(set(got))
        numbers = [f["ticket"]["number"] for f in on_b.events() + on_a.events() if f["type"] == "called"]
        assert numbers == before + while_down + after
        resumed.cancel()
        await asyncio.gather(resumed, return_exceptions=True)
    finally:
        await http.aclose()
        a.close()
        b.close()
