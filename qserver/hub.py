"""The websocket hub: one stream reader per site per process, a bounded queue and writer per client.

A client subscribes to topics (``site``, ``floor:1``, ``agency:so-tu-phap``, ``counter:12``,
``ticket:<id>``). It first gets a snapshot, or with ``since`` exactly the events it missed (a snapshot
when they are no longer retained). Each event is presented and encoded once, then put on the queue of
every client whose topics it touches; a client whose queue is full has stopped reading and is dropped,
so it never delays the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from config import Site

from .present import present_event, present_state
from .protocol import SUBPROTOCOLS, encode, topics_for_event
from .settings import Settings

__all__ = ["Hub", "Client", "parse_stream_id"]

logger = logging.getLogger(__name__)

def parse_stream_id(text: str) -> tuple[int, int]:
    """``"1732450000000-3"`` → (1732450000000, 3); raises ValueError for anything else."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


@dataclass(eq=False)
class Client:
    """One websocket subscriber as the hub sees it."""

    site: str
    topics: frozenset[str]
    subprotocol: str
    queue: asyncio.Queue
    device: str | None = None
    floor: int | None = None
    #: events up to this id were already sent (snapshot or replay); later ones only
    sent_up_to: tuple[int, int] = (0, 0)
    dropped: bool = False
    connected_at: float = field(default_factory=time.time)
    #: called once when the hub drops the client (the endpoint cancels its writer and closes)
    on_drop: Any = None

    def offer(self, item: Any) -> bool:
        """Queue a frame; False (and the client is dropped, once) when it stopped reading."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(item)
            return True
        except asyncio.QueueFull:
            self.dropped = True
            logger.warning("dropping a websocket client of %s (%s): it stopped reading", self.site,
                           self.device or ",".join(sorted(self.topics)))
            if self.on_drop is not None:
                self.on_drop()
            return False


class _Encoded:
    """One event encoded lazily once per subprotocol, shared by every client."""

    __slots__ = ("frame", "event_id", "_cache")

    def __init__(self, frame: dict[str, Any]):
        self.frame = frame
        self.event_id = parse_stream_id(frame["event_id"])
        self._cache: dict[str, bytes | str] = {}

    def as_(self, subprotocol: str) -> bytes | str:
        data = self._cache.get(subprotocol)
        if data is None:
            data = self._cache[subprotocol] = encode(self.frame, subprotocol)
        return data


class Hub:
    """Fans out each site's stream to the websocket clients of this process."""

    def __init__(self, redis: Redis, sites: dict[str, Site], engines: dict[str, Any], settings: Settings,
                 metrics: Any = None):
        self.redis, self.sites, self.engines, self.settings = redis, sites, engines, settings
        self.metrics = metrics
        self.clients: dict[str, set[Client]] = defaultdict(set)          # site → clients
        self._by_topic: dict[tuple[str, str], set[Client]] = defaultdict(set)
        self._tasks: list[asyncio.Task] = []
        self.last_seen: dict[str, str] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        for slug in self.sites:
            self._tasks.append(asyncio.create_task(self._read_forever(slug), name=f"hub-reader-{slug}"))
        self._tasks.append(asyncio.create_task(self._heartbeat_forever(), name="hub-heartbeat"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for clients in self.clients.values():
            for client in list(clients):
                client.dropped = True
                if client.on_drop is not None:
                    client.on_drop()

    # -- clients ----------------------------------------------------------------------------------
    def new_client(self, site: str, topics: frozenset[str], subprotocol: str, device: str | None = None) -> Client:
        floor = None
        for topic in topics:
            if topic.startswith("floor:"):
                floor = int(topic[6:])
        return Client(site, topics, subprotocol, asyncio.Queue(self.settings.client_queue_frames), device, floor)

    def register(self, client: Client) -> None:
        self.clients[client.site].add(client)
        for topic in client.topics:
            self._by_topic[(client.site, topic)].add(client)

    def unregister(self, client: Client) -> None:
        self.clients[client.site].discard(client)
        for topic in client.topics:
            subscribers = self._by_topic.get((client.site, topic))
            if subscribers is not None:
                subscribers.discard(client)
                if not subscribers:
                    del self._by_topic[(client.site, topic)]

    def client_count(self) -> int:
        return sum(len(c) for c in self.clients.values())

    async def first_frames(self, client: Client, since: str | None) -> list[dict[str, Any]]:
        """What a new client gets before live events: the missed events, or a snapshot.

        Call after :meth:`register`, so nothing published meanwhile is lost; the client's
        ``sent_up_to`` makes its writer skip live events these frames already cover.
        """
        site = self.sites[client.site]
        if since:
            replay = await self._replay(client, since)
            if replay is not None:
                return replay
        engine = self.engines[client.site]
        state = present_state(site, await engine.state(), client.floor)
        client.sent_up_to = parse_stream_id(state["event_id"])
        return [{"type": "snapshot", "event_id": state["event_id"], "state": state}]

    async def _replay(self, client: Client, since: str) -> list[dict[str, Any]] | None:
        """Events after ``since`` for the client's topics; None when they are no longer all retained."""
        try:
            since_id = parse_stream_id(since)
        except ValueError:
            return None
        key = self.engines[client.site].keys.events
        if not await self._retained_after(key, since_id):
            return None
        entries = await self.redis.xrange(key, min=f"({since}", count=self.settings.replay_max_events + 1)
        if len(entries) > self.settings.replay_max_events:
            return None
        site = self.sites[client.site]
        frames = []
        for entry_id, fields in entries:
            frame = present_event(site, entry_id.decode(), fields[b"e"])
            if topics_for_event(frame) & client.topics:
                frames.append(frame)
        client.sent_up_to = parse_stream_id(entries[-1][0].decode()) if entries else since_id
        return frames

    async def _retained_after(self, key: str, since_id: tuple[int, int]) -> bool:
        """True when every event after ``since_id`` is still in the stream, and the id is not from
        the future (a wiped or replaced Redis)."""
        try:
            info = await self.redis.xinfo_stream(key)
        except Exception:  # no stream yet
            return False
        last = info["last-generated-id"]
        if since_id > parse_stream_id(last.decode() if isinstance(last, bytes) else str(last)):
            return False
        added = info.get("entries-added")
        if added is not None and int(added) == int(info["length"]):
            return True  # Redis 7: nothing was ever trimmed
        first = info.get("first-entry")  # trimmed (or Redis 6.2): replay only from what is there
        return bool(first) and since_id >= parse_stream_id(first[0].decode())

    # -- fan-out ----------------------------------------------------------------------------------
    def publish(self, site: str, frame: dict[str, Any]) -> int:
        """Queue one presented event for every client of its topics; returns how many got it."""
        encoded = _Encoded(frame)
        targets: set[Client] = set()
        for topic in topics_for_event(frame):
            targets |= self._by_topic.get((site, topic), set())
        delivered = 0
        for client in targets:
            delivered += client.offer(encoded)
        return delivered

    async def _read_forever(self, slug: str) -> None:
        """XREAD the site's stream and publish each event; back off and go on after any failure."""
        site = self.sites[slug]
        key = self.engines[slug].keys.events
        last_id: str | None = None
        delay = 0.2
        while True:
            try:
                if last_id is None:
                    newest = await self.redis.xrevrange(key, count=1)
                    last_id = newest[0][0].decode() if newest else "0-0"
                # block well under the client's socket timeout (5 s), or the wait itself looks like a dead socket
                reply = await self.redis.xread({key: last_id}, block=2000, count=500)
                delay = 0.2
                for _stream, entries in reply or ():
                    for entry_id, fields in entries:
                        last_id = entry_id.decode()
                        try:
                            frame = present_event(site, last_id, fields[b"e"])
                        except (KeyError, ValueError, TypeError):
                            logger.exception("skipping a malformed event %s of %s", last_id, slug)
                            continue
                        self.publish(slug, frame)
                        if self.metrics is not None:
                            self.metrics.event(slug, frame)
                self.last_seen[slug] = last_id
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or restarting: keep trying, never die
                logger.warning("stream reader of %s: %s; retrying in %.1fs", slug, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _heartbeat_forever(self) -> None:
        frame = {"type": "heartbeat", "event_id": None}
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            frame["at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            data = {sp: encode(frame, sp) for sp in SUBPROTOCOLS}
            for clients in list(self.clients.values()):
                for client in list(clients):
                    client.offer(("raw", data[client.subprotocol]))


def frame_bytes(item: Any, client: Client) -> bytes | str | None:
    """What the writer sends for a queued item, or None to skip it (already covered by the snapshot)."""
    if isinstance(item, _Encoded):
        if item.event_id <= client.sent_up_to:
            return None
        return item.as_(client.subprotocol)
    if isinstance(item, tuple) and item[0] == "raw":
        return item[1]
    return encode(item, client.subprotocol)


def choose_subprotocol(offered: list[str]) -> str | None:
    """The first subprotocol of ours the client offered, JSON when it offered none."""
    if not offered:
        return None
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return ""
