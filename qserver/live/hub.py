"""The websocket hub: one stream reader per process for all its sites, fanning out to every client of it.

A client subscribes to topics (``site``, ``floor:1``, ``agency:so-tu-phap``, ``counter:12``,
``ticket:<id>``). It first gets a snapshot, or with ``since`` exactly the events it missed (a snapshot
when they are no longer retained). Each event is presented and encoded once and reaches every client
whose topics it touches; a client that stopped reading is dropped, so it never delays the others.

How the fan-out stays cheap (see docs/fanout-notes.md for the measurements):

- Server frames are not masked, so an event's websocket frame is the same bytes for every client of a
  subprotocol. Clients with the same site, topics and subprotocol form a group (all hall displays of a
  floor are one group); the events of one stream read (a call-next is 2-3 events: completed, called,
  queue) are framed once per group and handed to each client's socket in one write: one syscall per
  client per call, no task switch, no per-client encoding.
- That needs the socket: the endpoint gets it from :class:`qserver.live.fanout_protocol.FanoutProtocol` (uvicorn's
  websockets protocol plus ``write_frames``). Under another server, or when the client negotiated an
  extension (per-message deflate makes every client's bytes different), the client gets a bounded
  queue and a writer task instead.
- Bounded either way: a socket that stops draining pauses writing; frames then wait in a backlog of
  ``client_queue_frames`` and the client is dropped when it overflows.
- Snapshots are shared: one per (site, floor), reused by every client that registers before the next
  event is fanned out (and within ``SNAPSHOT_MAX_AGE_S``), so a thousand displays reconnecting after a
  restart cost Redis a few state reads, not a thousand, and the server one encoded copy.

What keeps a client from missing an event (the chaos test, tests/qserver/test_chaos.py, checks it):

- The reader's start position is taken before any client's first frames are read (:meth:`Hub.first_frames`
  starts the reader when it has not started yet), so every event after a client's first frames is read
  and published to it, even when the server started while Redis was away.
- Heartbeats carry ``up_to``: the last event id fanned out for the site. Every client was offered, in
  order and before the heartbeat, every event of its topics up to it, so a quiet display (its topics see
  no event for an hour) resumes with a fresh ``since`` and gets a short replay instead of a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any, Callable

import orjson
from redis.asyncio import Redis

from config import Site

from ..engine import SiteEngine, StreamReader
from ..present import present_event, present_state
from ..protocol import SUBPROTOCOLS, parse_stream_id, topics_for_event
from ..settings import Settings
from .clients import Client, Group, Snapshot
from .frames import ZERO_ID, Encoded

__all__ = ["Hub", "choose_subprotocol"]

logger = logging.getLogger(__name__)

#: A shared snapshot is reused this long at most (state that moves without events: notices expire, the day).
SNAPSHOT_MAX_AGE_S = 0.5
#: The stream reader retries at most this long after a failure (one XREAD per process: cheap to retry).
READER_BACKOFF_MAX_S = 1.0
#: Heartbeats written in one go (~1 ms of socket writes), and the pause between two such slices: a
#: call fanned out meanwhile waits one slice at most, not the whole heartbeat (~50 ms at 10,000 sockets).
HEARTBEAT_SLICE = 256
HEARTBEAT_PAUSE_S = 0.005
#: How long stopping the hub waits for its reader and heartbeat tasks.
STOP_TIMEOUT_S = 2.0

class Hub:
    """Fans out each site's stream to the websocket clients of this process."""

    def __init__(self, redis: Redis, sites: dict[str, Site], engines: dict[str, SiteEngine], settings: Settings,
                 metrics: Any = None):
        self.sites, self.engines, self.settings = sites, engines, settings
        self.metrics = metrics
        self.reader = StreamReader(redis, sites)
        self.clients: dict[str, set[Client]] = defaultdict(set)          # site → clients
        self._groups: dict[tuple, Group] = {}                           # (site, topics, subprotocol) → group
        self._by_topic: dict[tuple[str, str], set[Group]] = defaultdict(set)
        self._tasks: list[asyncio.Task] = []
        #: site → id of the last event fanned out
        self.published_up_to: dict[str, tuple[int, int]] = {}
        self._snapshots: dict[tuple[str, int | None], Snapshot] = {}
        self._making: dict[tuple[str, int | None], asyncio.Future] = {}
        self._reader_started = False
        self._reader_starting = asyncio.Lock()
        self._stopping = False

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        self._tasks.append(asyncio.create_task(self._read_forever(), name="hub-reader"))
        self._tasks.append(asyncio.create_task(self._heartbeat_forever(), name="hub-heartbeat"))

    async def stop(self) -> None:
        self._stopping = True  # the reader's loop ends even where a Redis call turned its cancel into an error
        for task in self._tasks:
            task.cancel()
        # Bounded: a task stuck in a Redis call that ignores cancellation (seen right after a Redis
        # restart) must not hold up the server's shutdown.
        _done, stuck = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_S)
        for task in stuck:
            logger.warning("hub task %s did not stop within %.0f s; leaving it", task.get_name(), STOP_TIMEOUT_S)
        self._tasks.clear()
        for clients in self.clients.values():
            for client in list(clients):
                client.dropped, client.direct = True, False
                if client.on_drop is not None:
                    client.on_drop()

    # -- clients ----------------------------------------------------------------------------------
    def new_client(self, site: str, topics: frozenset[str], subprotocol: str, device: str | None = None,
                   write: Callable[[bytes], bool] | None = None) -> Client:
        # Only a client of exactly one floor gets that floor's part of the state (a hall display);
        # any other mix of topics gets the whole site's state.
        (only,) = topics if len(topics) == 1 else (None,)
        floor = int(only[6:]) if only and only.startswith("floor:") else None
        return Client(site, topics, subprotocol, limit=self.settings.client_queue_frames, device=device,
                      floor=floor, write=write)

    def register(self, client: Client) -> None:
        client.registered_after = self.published_up_to.get(client.site, ZERO_ID)
        self.clients[client.site].add(client)
        key = (client.site, client.topics, client.subprotocol)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(client.topics, client.subprotocol)
            for topic in client.topics:
                self._by_topic[(client.site, topic)].add(group)
        group.clients.add(client)

    def unregister(self, client: Client) -> None:
        self.clients[client.site].discard(client)
        key = (client.site, client.topics, client.subprotocol)
        group = self._groups.get(key)
        if group is None or client not in group.clients:
            return
        group.clients.discard(client)
        if not group.clients:
            del self._groups[key]
            for topic in group.topics:
                groups = self._by_topic.get((client.site, topic))
                if groups is not None:
                    groups.discard(group)
                    if not groups:
                        del self._by_topic[(client.site, topic)]

    def client_count(self) -> int:
        return sum(len(c) for c in self.clients.values())

    async def first_frames(self, client: Client, since: str | None) -> list[Encoded]:
        """What a new client gets before live events: the missed events, or a snapshot.

        Call after :meth:`register`, so nothing published meanwhile is lost; the client's
        ``sent_up_to`` makes the hub skip live events these frames already cover.
        """
        await self._start_reader()
        if since:
            replay = await self._replay(client, since)
            if replay is not None:
                return replay
        snapshot = await self._snapshot(client)
        client.sent_up_to = snapshot.event_id
        return [snapshot]

    async def _start_reader(self) -> None:
        """Fix where the reader starts, once, before any first frames are read: the events between a
        client's first frames and the reader's start would otherwise never reach that client (a server
        started while Redis was away: its reader retries with a growing delay, clients come first)."""
        if self._reader_started:
            return
        async with self._reader_starting:
            if not self._reader_started:
                await self.reader.start()
                self._reader_started = True

    async def _snapshot(self, client: Client) -> Encoded:
        """A snapshot that covers every event fanned out before the client registered (so the live
        events after it, from the client's backlog, leave no gap): the shared one when it does and
        is young, else the one being read (or a new one), which is then shared in turn."""
        key = (client.site, client.floor)
        cached = self._snapshots.get(key)
        if (cached is not None and cached.item.event_id >= client.registered_after
                and time.monotonic() - cached.read_at <= SNAPSHOT_MAX_AGE_S):
            return cached.item
        for _ in range(2):
            making = self._making.get(key)
            if making is None:
                making = self._making[key] = asyncio.ensure_future(self._make_snapshot(*key))
                making.add_done_callback(lambda _f, key=key: self._making.pop(key, None))
            made = await asyncio.shield(making)
            if made.item.event_id >= client.registered_after:
                return made.item
        # events keep coming: one of its own, read after it registered
        return (await self._make_snapshot(*key)).item

    async def _make_snapshot(self, slug: str, floor: int | None) -> Snapshot:
        read_at = time.monotonic()
        state = present_state(self.sites[slug], await self.engines[slug].state(), floor)
        made = Snapshot(Encoded({"type": "snapshot", "event_id": state["event_id"], "state": state}), read_at)
        current = self._snapshots.get((slug, floor))
        if current is None or current.read_at <= read_at:
            self._snapshots[(slug, floor)] = made
        return made

    async def _replay(self, client: Client, since: str) -> list[Encoded] | None:
        """Events after ``since`` for the client's topics; None when they are no longer all retained."""
        try:
            since_id = parse_stream_id(since)
        except ValueError:
            return None
        entries = await self.engines[client.site].events_after(since, self.settings.replay_max_events)
        if entries is None:
            logger.info("a client of %s (%s) resumed since %s: its events are not all kept (trimmed, over %d, "
                        "or another Redis); it gets a snapshot", client.site,
                        client.device or ",".join(sorted(client.topics)), since, self.settings.replay_max_events)
            return None
        site = self.sites[client.site]
        frames = []
        for entry_id, payload in entries:
            try:
                frame = present_event(site, entry_id, payload)
            except (KeyError, ValueError, TypeError):  # skipped as the live fan-out skips it
                logger.warning("skipping a malformed event %s of %s in a replay", entry_id, client.site)
                continue
            if topics_for_event(frame) & client.topics:
                frames.append(Encoded(frame))
        client.sent_up_to = parse_stream_id(entries[-1][0]) if entries else since_id
        return frames

    # -- fan-out ----------------------------------------------------------------------------------
    def publish(self, site: str, frames: list[dict[str, Any]] | dict[str, Any]) -> int:
        """Fan out presented events (one stream read, in order); returns how many clients got any.

        Each group's share of the events is framed once; a client writing directly gets it in one
        write, the others (not live yet, paused, or without a socket to write to) frame by frame.
        """
        items = [Encoded(frames)] if isinstance(frames, dict) else [Encoded(f) for f in frames]
        if not items:
            return 0
        by_group: dict[Group, list[Encoded]] = {}
        by_topic = self._by_topic
        for item in items:
            for topic in topics_for_event(item.frame):
                for group in by_topic.get((site, topic), ()):
                    share = by_group.get(group)
                    if share is None:
                        by_group[group] = [item]
                    elif share[-1] is not item:
                        share.append(item)
        if items[-1].event_id is not None:
            self.published_up_to[site] = items[-1].event_id
        delivered = 0
        for group, share in by_group.items():
            first_id, data = share[0].event_id, None
            for client in tuple(group.clients):
                if client.direct and (first_id is None or first_id > client.sent_up_to):
                    if data is None:
                        data = b"".join([item.framed(group.subprotocol) for item in share])
                    client.write(data)
                else:
                    client.offer_all(share)
                delivered += 1
        return delivered

    async def _read_forever(self) -> None:
        """Read every site's new events and publish each site's share; back off and go on after any failure."""
        delay = 0.2
        while not self._stopping:
            try:
                await self._start_reader()
                batches = await self.reader.read(block_ms=2000, count=500)
                delay = 0.2
                for slug, entries in batches:
                    self._publish_entries(slug, entries)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or restarting: keep trying, never die
                if self._stopping:
                    return
                logger.warning("stream reader: %s; retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                # capped at 1 s: after a Redis restart or fail-over, displays get the calls within a second
                delay = min(delay * 2, READER_BACKOFF_MAX_S)

    def _publish_entries(self, slug: str, entries: list[tuple[str, bytes]]) -> None:
        if not self.clients.get(slug):
            self._count_unwatched(slug, entries)
            return
        site = self.sites[slug]
        frames = []
        for entry_id, payload in entries:
            try:
                frames.append(present_event(site, entry_id, payload))
            except (KeyError, ValueError, TypeError):
                logger.exception("skipping a malformed event %s of %s", entry_id, slug)
        self.publish(slug, frames)
        if self.metrics is not None:
            for frame in frames:
                self.metrics.event(slug, frame)

    def _count_unwatched(self, slug: str, entries: list[tuple[str, bytes]]) -> None:
        """Events of a site no client of this process watches: counted for the metrics, not presented
        (presenting is most of the hub's cost per event, and a city process serves many such sites)."""
        if entries:
            self.published_up_to[slug] = parse_stream_id(entries[-1][0])
        if self.metrics is None:
            return
        for entry_id, payload in entries:
            try:
                raw = orjson.loads(payload)
            except ValueError:
                logger.warning("skipping a malformed event %s of %s", entry_id, slug)
                continue
            if isinstance(raw, dict):
                self.metrics.event(slug, raw)

    async def _heartbeat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            everyone = list(self._beats())
            for start in range(0, len(everyone), HEARTBEAT_SLICE):
                if start:  # a slice at a time: a call fanned out meanwhile waits one slice at most
                    await asyncio.sleep(HEARTBEAT_PAUSE_S)
                for client, beat in everyone[start:start + HEARTBEAT_SLICE]:
                    client.offer(beat)

    def heartbeat(self) -> None:
        """Offer every client its heartbeat at once (the loop above offers them a slice at a time)."""
        for client, beat in self._beats():
            client.offer(beat)

    def _beats(self):
        """(client, heartbeat) for every client; a heartbeat carries ``up_to``, the last event id fanned
        out for the client's site.

        Offered like an event, after every event published before it, so a client that reads it was
        offered every event of its topics up to that id: it may resume with ``since=up_to``. (First
        frames may cover more: a client keeps the later of its last event id and ``up_to``.)
        """
        at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        for slug, clients in list(self.clients.items()):
            beat = {"type": "heartbeat", "event_id": None, "at": at}
            published = self.published_up_to.get(slug)
            if published is not None:
                beat["up_to"] = "%d-%d" % published
            encoded = Encoded(beat)
            for client in list(clients):
                yield client, encoded


def choose_subprotocol(offered: list[str]) -> str | None:
    """The first subprotocol of ours the client offered, JSON when it offered none."""
    if not offered:
        return None
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return ""
