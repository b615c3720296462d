"""Working through a Redis fail-over: kiosks and officers over HTTP (idempotency keys, retried on 503 and
lost connections with the same key, as the real devices do), displays that reconnect with ``since``, and
the checks of what survived."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import httpx
import websockets

from tests.support import TIMEOUT


def stream_id(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class Display:
    """A display's websocket on one site: records every event frame, reconnects with ``since`` when dropped."""

    def __init__(self, ws_url: str, site: str, topics: str = "site", since: str | None = None):
        self.ws_url, self.site, self.topics = ws_url, site, topics
        self.last_id = since
        self.events: list[str] = []            # event ids, in arrival order
        self.frames: dict[str, dict] = {}       # event id → frame
        self.snapshots: list[str] = []          # event ids of the snapshots received
        self.connections = 0
        self.arrived: dict[str, float] = {}     # event id → time.monotonic() of arrival
        self._changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> "Display":
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            query = f"?site={self.site}&topics={self.topics}" + (f"&since={self.last_id}" if self.last_id else "")
            try:
                async with websockets.connect(self.ws_url + query, open_timeout=TIMEOUT) as ws:
                    self.connections += 1
                    async for raw in ws:
                        self._take(json.loads(raw))
            except asyncio.CancelledError:
                raise
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError):
                await asyncio.sleep(0.1)  # the display's own reconnect pace

    def _take(self, frame: dict) -> None:
        event_id = frame.get("event_id")
        if frame["type"] == "snapshot":
            self.snapshots.append(event_id)
        elif event_id:
            self.events.append(event_id)
            self.frames[event_id] = frame
            self.arrived[event_id] = time.monotonic()
        else:
            return
        self.last_id = event_id
        self._changed.set()

    def has(self, event_id: str) -> bool:
        """The event reached the display, as an event or inside a snapshot taken at or after it."""
        target = stream_id(event_id)
        return event_id in self.frames or any(stream_id(s) >= target for s in self.snapshots)

    async def wait_for(self, predicate, timeout: float = TIMEOUT, what: str = "frames") -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"display of {self.site}: timed out waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def missed(self, stream_ids: list[str], after: str) -> list[str]:
        """Ids of the stream after ``after`` that the display never got (nor in a later snapshot)."""
        start = stream_id(after)
        return [i for i in stream_ids if stream_id(i) > start and not self.has(i)]


class Desk:
    """Kiosks issuing and officers calling on one site through HTTP, every request with its own idempotency
    key and retried (same key) on 503 or a lost connection until answered."""

    def __init__(self, site: str, kiosk: str, officer: str, *, give_up_s: float = 6 * TIMEOUT):
        self.site, self.kiosk, self.officer = site, kiosk, officer
        self.give_up_s = give_up_s
        self.issued: dict[str, dict] = {}          # ticket id → the 201 answer
        self.answers: list[dict] = []              # every 201 answer, in order (a number given twice shows)
        self.calls: list[tuple[str, str]] = []     # (counter, ticket id) of every 200 call-next answer
        self.unexpected: list[str] = []
        self.retries = 0
        self.kill_at: float | None = None
        self.kill_wall_ms = 0                       # the kill in stream-id time (ms since the epoch)
        self.recovered_at: float | None = None      # first write answered that was sent after kill_at
        self.stopping = False
        self._seq = Counter()

    def mark_kill(self) -> None:
        """Now is when Redis is killed (requests sent from now on measure the recovery)."""
        self.kill_at, self.kill_wall_ms = time.monotonic(), int(time.time() * 1000)

    def key(self, who: str) -> str:
        self._seq[who] += 1
        return f"{who}-{self._seq[who]}"

    async def request(self, http: httpx.AsyncClient, path: str, token: str, body: dict) -> httpx.Response:
        deadline = time.monotonic() + self.give_up_s
        sent = time.monotonic()
        while True:
            try:
                answer = await http.post(f"/api/v1/sites/{self.site}{path}", json=body,
                                         headers={"Authorization": f"Bearer {token}"})
                if answer.status_code != 503:
                    if self.kill_at is not None and self.recovered_at is None and sent >= self.kill_at:
                        self.recovered_at = time.monotonic()
                    return answer
            except httpx.TransportError:
                pass
            self.retries += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {path} within {self.give_up_s:.0f} s")
            await asyncio.sleep(0.05)  # a device's retry pace
            sent = time.monotonic()

    async def issue(self, http: httpx.AsyncClient, agency: str, who: str) -> dict:
        answer = await self.request(http, "/tickets", self.kiosk, {"agency": agency, "key": self.key(who)})
        if answer.status_code != 201:
            self.unexpected.append(f"issue: {answer.status_code} {answer.text[:200]}")
            return {}
        ticket = answer.json()
        self.issued[ticket["id"]] = ticket
        self.answers.append(ticket)
        return ticket

    async def call_next(self, http: httpx.AsyncClient, counter: str) -> dict | None:
        answer = await self.request(http, f"/counters/{counter}/call-next", self.officer,
                                    {"key": self.key(f"counter-{counter}")})
        if answer.status_code == 204:
            return None
        if answer.status_code != 200:
            self.unexpected.append(f"call-next {counter}: {answer.status_code} {answer.text[:200]}")
            return None
        ticket = answer.json()
        self.calls.append((counter, ticket["id"]))
        return ticket

    async def kiosk_loop(self, http: httpx.AsyncClient, agencies: list[str], who: str, pace_s: float) -> None:
        i = 0
        while not self.stopping:
            await self.issue(http, agencies[i % len(agencies)], who)
            i += 1
            await asyncio.sleep(pace_s)

    async def officer_loop(self, http: httpx.AsyncClient, counter: str, pace_s: float) -> None:
        while not self.stopping:
            await self.call_next(http, counter)
            await asyncio.sleep(pace_s)

    async def drain(self, http: httpx.AsyncClient, counters: list[str]) -> None:
        """Call until nobody waits at any counter, then complete every counter's last ticket."""
        for counter in counters:
            while await self.call_next(http, counter) is not None:
                pass
        for counter in counters:
            answer = await self.request(http, f"/counters/{counter}/complete", self.officer,
                                        {"key": self.key(f"counter-{counter}")})
            if answer.status_code not in (200, 409):  # 409: nothing current
                self.unexpected.append(f"complete {counter}: {answer.status_code} {answer.text[:200]}")


def survivors(client, site: str) -> tuple[dict[str, dict], list[tuple[str, dict]]]:
    """(ticket id → stored ticket, [(event id, event)] of the whole stream) as Redis holds them now."""
    from qserver.engine.keys import SiteKeys

    keys = SiteKeys(site)
    tickets = {k.decode(): json.loads(v) for k, v in client.hgetall(keys.tickets).items()}
    events = [(i.decode(), json.loads(f[b"e"])) for i, f in client.xrange(keys.events)]
    return tickets, events


def check_nothing_lost(desk: Desk, tickets: dict[str, dict], events: list[tuple[str, Any]]) -> None:
    """Every acknowledged ticket is stored and done; none was called twice; no number was given twice."""
    lost = [tid for tid in desk.issued if tid not in tickets]
    assert lost == [], f"acknowledged tickets lost: {lost}"
    unfinished = {tid: tickets[tid]["status"] for tid in desk.issued if tickets[tid]["status"] != "done"}
    assert unfinished == {}, f"acknowledged tickets not done after the drain: {unfinished}"
    called = Counter(tid for _, tid in desk.calls)
    assert [tid for tid, n in called.items() if n > 1] == [], "a ticket was answered to two call-nexts"
    in_stream = Counter(e["ticket"]["id"] for _, e in events if e.get("type") == "called" and not e.get("recall"))
    assert [tid for tid, n in in_stream.items() if n > 1] == [], "a ticket was called twice"
    # Idempotent retries give the first answer again under the same key; distinct keys never share a number.
    numbers = Counter((t["agency"], t["number"]) for t in desk.answers)
    assert [n for n, count in numbers.items() if count > 1] == [], "a number was given to two requests"
