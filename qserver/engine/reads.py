"""The read side of a site: what displays, the console, reports and the archive need from Redis.

Everything that reads a site's keys lives in the engine package; other parts call these methods and
get plain data (stored JSON decoded, times in ms). :class:`SiteEngine` adds the transitions.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import ClusterError, ResponseError, SlotNotCoveredError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config import Site

from ..clock import Clock
from ..exceptions import Unavailable, unknown_ticket
from ..protocol import parse_stream_id
from ..single_flight import SingleFlight
from . import hours
from .keys import SiteKeys
from .replication import atomic

__all__ = ["SiteReader", "guarded", "day_bounds_ms", "DEFAULT_SERVICE_S", "SKIPPED_EVENTS"]

#: Service time assumed for an agency until it has served a ticket today.
DEFAULT_SERVICE_S = 300
#: How long a process reuses the service times and counters behind a wait estimate.
WAIT_CACHE_S = 1.0
#: Events no report or audit needs (queue counts are derived data).
SKIPPED_EVENTS = frozenset({"queue"})
#: Events of ``at`` this much before a window's start still get read (clocks of processes differ a little).
CLOCK_SLACK_MS = 60_000

T = TypeVar("T")


#: What a Redis that is down, restarting or failing over answers: "try again later", never a bug. In a
#: cluster: CLUSTERDOWN, TRYAGAIN, "TTL exhausted" (ClusterError), a slot no primary serves yet.
UNAVAILABLE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError, ClusterError, TryAgainError,
                      SlotNotCoveredError)


async def guarded(call: Awaitable[T]) -> T:
    """Await a Redis call; a lost connection (or a cluster between primaries) becomes :class:`Unavailable` (503)."""
    try:
        return await call
    except UNAVAILABLE_ERRORS as exc:
        raise Unavailable() from exc


def day_bounds_ms(site: Site, day: dt.date) -> tuple[int, int]:
    """[start, end) of a local calendar day in ms since the epoch."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=site.tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=site.tz)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


class SiteReader:
    """Reads of one site's live state and history, for every part of a process to share."""

    def __init__(self, redis: Redis, site: Site, clock: Clock):
        self.redis, self.site, self.clock = redis, site, clock
        self.keys = SiteKeys(site.slug)
        self._slugs = [agency.slug for agency in site.agencies]
        self._wait_cache: tuple[float, dict[str, tuple[float, int]]] | None = None
        self._wait_lookups: SingleFlight[dict[str, tuple[float, int]]] = SingleFlight()

    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def today(self) -> str:
        return hours.service_day(self.site, self.clock.now()).isoformat()

    # -- tickets and waits ------------------------------------------------------------------------
    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        """The stored ticket with ``ahead`` and ``eta_s`` when it waits; NotFound otherwise."""
        raw = await guarded(self.redis.hget(self.keys.tickets, ticket_id))
        if raw is None:
            raise unknown_ticket(ticket_id)
        ticket = json.loads(raw)
        if ticket["status"] == "waiting":
            ahead = await guarded(self.redis.zrank(self.keys.queue(ticket["agency"]), ticket_id))
            ticket["ahead"] = ahead
            ticket["eta_s"] = await self.estimate_wait(ticket["agency"], ahead or 0)
        else:
            ticket["ahead"] = 0 if ticket["status"] == "called" else None
        return ticket

    async def estimate_wait(self, agency: str, ahead: int) -> int:
        """Seconds until a ticket with ``ahead`` people before it is called: the median of the agency's
        recent service times × (people ahead + 1) ÷ open counters serving it."""
        per_ticket_s, serving = (await self._wait_factors()).get(agency, (DEFAULT_SERVICE_S, 0))
        return int(round(per_ticket_s * (ahead + 1) / max(serving, 1)))

    async def _wait_factors(self) -> dict[str, tuple[float, int]]:
        """agency → (median service s, open counters serving it), read at most once a second: an
        estimate needs no fresher data, and a busy kiosk hall must not pay a round trip per ticket."""
        if self._wait_cache is not None and self._wait_cache[0] > time.monotonic():
            return self._wait_cache[1]
        return await self._wait_lookups.run(None, self._read_wait_factors)

    async def _read_wait_factors(self) -> dict[str, tuple[float, int]]:
        now = time.monotonic()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.service_times)
        pipe.hvals(self.keys.counters)
        recent, counters = await guarded(pipe.execute())
        serving: dict[str, int] = {}
        for raw in counters:
            counter = orjson.loads(raw)
            if counter.get("status") == "open":
                for slug in counter.get("agencies") or []:
                    serving[slug] = serving.get(slug, 0) + 1
        durations = {key.decode(): orjson.loads(value) for key, value in recent.items()}
        medians = {slug: statistics.median(ms) / 1000 for slug, ms in durations.items() if ms}
        factors = {slug: (medians.get(slug, DEFAULT_SERVICE_S), serving.get(slug, 0)) for slug in self._slugs}
        self._wait_cache = (now + WAIT_CACHE_S, factors)
        return factors

    async def waiting_tickets(self) -> dict[str, list[dict[str, Any]]]:
        """agency → its waiting tickets in the order call-next takes them (the queue's own order)."""
        pipe = self.redis.pipeline(transaction=False)
        for slug in self._slugs:
            pipe.zrange(self.keys.queue(slug), 0, -1)
        queues = dict(zip(self._slugs, await guarded(pipe.execute())))
        ids = [tid for members in queues.values() for tid in members]
        blobs = await guarded(self.redis.hmget(self.keys.tickets, ids)) if ids else []
        stored = {tid: json.loads(blob) for tid, blob in zip(ids, blobs) if blob}
        return {slug: [stored[tid] for tid in members if tid in stored] for slug, members in queues.items()}

    # -- the live state ---------------------------------------------------------------------------
    async def state(self) -> dict[str, Any]:
        """Counters, waiting per agency, recent calls and notices: what a display shows first."""
        k = self.keys
        # MULTI/EXEC: the state and the stream's last id are one snapshot, so a client that takes
        # live events after that id misses nothing and sees nothing twice.
        def snapshot(pipe) -> None:
            pipe.hgetall(k.counters)
            for slug in self._slugs:
                pipe.zcard(k.queue(slug))
            pipe.lrange(k.calls, 0, 49)
            pipe.hgetall(k.notices)
            pipe.xrevrange(k.events, count=1)

        results = await guarded(atomic(self.redis, k.counters, snapshot))  # on a cluster: the site's node
        counters_raw, counts = results[0], results[1:1 + len(self._slugs)]
        calls_raw, notices_raw, last = results[1 + len(self._slugs):]
        counters = {key.decode(): json.loads(value) for key, value in counters_raw.items()}
        current_ids = [c["current"] for c in counters.values() if c.get("current")]
        currents = {}
        if current_ids:
            blobs = await guarded(self.redis.hmget(k.tickets, current_ids))
            currents = {tid: json.loads(b) for tid, b in zip(current_ids, blobs) if b}
        now_ms = self.now_ms()
        notices = [n for n in (json.loads(v) for v in notices_raw.values()) if n.get("expires_at", 0) > now_ms]
        order = {c.id: i for i, c in enumerate(self.site.counters)}
        return {
            "site": self.site.slug,
            "day": self.today(),
            "event_id": last[0][0].decode() if last else "0-0",
            "counters": [(c, currents.get(c.get("current"))) for c in
                         sorted(counters.values(), key=lambda c: order.get(c["id"], len(order)))],
            "waiting": dict(zip(self._slugs, counts)),
            "calls": [json.loads(c) for c in calls_raw],
            "notices": sorted(notices, key=lambda n: n["created_at"], reverse=True),
        }

    async def day_stats(self, day: str | None = None) -> dict[str, int]:
        """The running totals of a service day (today by default): issued, called, served, no_show, rated,
        ``rating:<n>``, wait_ms and service_ms (sums), as the transitions counted them."""
        raw = await guarded(self.redis.hgetall(self.keys.day_stats(day or self.today())))
        return {key.decode(): int(value) for key, value in raw.items()}

    async def overview(self) -> dict[str, Any]:
        """What a city console needs of this site, in two round trips and without reading a ticket.

        ``{"day", "now_ms", "counters": {id: counter}, "waiting": {agency: n}, "oldest_issued_at"
        (ms of the longest-waiting ticket, or None), "oldest_by_agency": {agency: ms}, "stats" (as
        :meth:`day_stats`), "acks" (as :meth:`acks`), "calls" (the newest 50)}``. Issue times come from
        the ticket index's scores (``ZMSCORE``), so the cost grows with the number waiting, not with
        their JSON. Not one snapshot: each part is current, they may be a few ms apart.
        """
        k, day = self.keys, self.today()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(k.counters)
        for slug in self._slugs:
            pipe.zrange(k.queue(slug), 0, -1)
        pipe.hgetall(k.day_stats(day))
        pipe.hgetall(k.acks)
        pipe.lrange(k.calls, 0, 49)
        results = await guarded(pipe.execute())
        counters_raw, queues = results[0], results[1:1 + len(self._slugs)]
        stats_raw, acks_raw, calls_raw = results[1 + len(self._slugs):]
        ids = [tid for members in queues for tid in members]
        issued = await guarded(self.redis.zmscore(k.ticket_index, ids)) if ids else []
        at_of = {tid: int(ms) for tid, ms in zip(ids, issued) if ms is not None}
        oldest_by_agency = {}
        for slug, members in zip(self._slugs, queues):
            times = [at_of[tid] for tid in members if tid in at_of]
            if times:
                oldest_by_agency[slug] = min(times)
        acks = {}
        for device, blob in acks_raw.items():
            try:
                acks[device.decode()] = json.loads(blob)
            except ValueError:
                continue
        return {
            "day": day, "now_ms": self.now_ms(),
            "counters": {key.decode(): json.loads(value) for key, value in counters_raw.items()},
            "waiting": {slug: len(members) for slug, members in zip(self._slugs, queues)},
            "oldest_issued_at": min(oldest_by_agency.values(), default=None),
            "oldest_by_agency": oldest_by_agency,
            "stats": {key.decode(): int(value) for key, value in stats_raw.items()},
            "acks": acks, "calls": [json.loads(c) for c in calls_raw],
        }

    async def acks(self) -> dict[str, dict[str, Any]]:
        """device name → ``{"event_id", "at"}`` of its last acknowledgement."""
        acks = {}
        for device, blob in (await guarded(self.redis.hgetall(self.keys.acks))).items():
            try:
                acks[device.decode()] = json.loads(blob)
            except ValueError:
                continue
        return acks

    async def printers(self) -> dict[str, dict[str, Any]]:
        """kiosk name → its printer's last report (:meth:`SiteEngine.record_printer`)."""
        found = {}
        for kiosk, blob in (await guarded(self.redis.hgetall(self.keys.printers))).items():
            try:
                found[kiosk.decode()] = json.loads(blob)
            except ValueError:
                continue
        return found

    # -- the stream -------------------------------------------------------------------------------
    async def last_event_id(self) -> str:
        newest = await guarded(self.redis.xrevrange(self.keys.events, count=1))
        return newest[0][0].decode() if newest else "0-0"

    async def recent_events(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        """The newest ``count`` events, newest first (undecodable entries skipped)."""
        entries = await guarded(self.redis.xrevrange(self.keys.events, count=count))
        return [(event_id.decode(), event) for event_id, event in _decoded(entries)]

    async def events_after(self, since: str, limit: int) -> list[tuple[str, bytes]] | None:
        """The raw events after ``since`` (oldest first), or None when they are no longer all in the
        stream (trimmed, more than ``limit``, or an id from the future: a wiped or replaced Redis)."""
        since_id = parse_stream_id(since)
        try:
            info = await guarded(self.redis.xinfo_stream(self.keys.events))
        except ResponseError:  # no stream yet
            return None
        if since_id > parse_stream_id(_text(info["last-generated-id"])):
            return None
        added = info.get("entries-added")
        if added is None or int(added) != int(info["length"]):  # trimmed (or Redis 6.2): what is still there
            first = info.get("first-entry")
            if not first or since_id < parse_stream_id(_text(first[0])):
                return None
        entries = await guarded(self.redis.xrange(self.keys.events, min=f"({since}", count=limit + 1))
        if len(entries) > limit:
            return None
        return [(entry_id.decode(), fields[b"e"]) for entry_id, fields in entries]

    async def events_between(self, start_ms: int, end_ms: int, *,
                             chunk: int = 2000) -> list[tuple[str, dict[str, Any]]]:
        """Stream events whose ``at`` is in [start_ms, end_ms), oldest first, ``queue`` events left out.

        Reads the stream backwards from its newest entry and stops once it passes ``start_ms`` (events are
        appended in time order): a day's audit reads that day and the ones after it only. Stream ids are
        the Redis server's time, not the site clock, so ``at`` decides.
        """
        found: list[tuple[str, dict[str, Any]]] = []
        upper = "+"
        while True:
            batch = await guarded(self.redis.xrevrange(self.keys.events, max=upper, min="-", count=chunk))
            if not batch:
                break
            oldest_at = None
            for raw_id, event in _decoded(batch):
                at = event.get("at") or 0
                oldest_at = at
                if start_ms <= at < end_ms and event.get("type") not in SKIPPED_EVENTS:
                    found.append((raw_id.decode(), event))
            if len(batch) < chunk or (oldest_at is not None and oldest_at < start_ms - CLOCK_SLACK_MS):
                break
            upper = "(" + batch[-1][0].decode()
        found.reverse()
        return found

    # -- history in Redis -------------------------------------------------------------------------
    async def tickets_issued(self, first: dt.date, last: dt.date | None = None) -> list[dict[str, Any]]:
        """Tickets issued on ``first``..``last`` (local days) as Redis holds them, by issue time."""
        start, _ = day_bounds_ms(self.site, first)
        _, end = day_bounds_ms(self.site, last or first)
        ids = await guarded(self.redis.zrangebyscore(self.keys.ticket_index, start, f"({end}"))
        if not ids:
            return []
        blobs = await guarded(self.redis.hmget(self.keys.tickets, ids))
        return [json.loads(blob) for blob in blobs if blob]

    async def oldest_ticket_day(self) -> dt.date | None:
        """The local day of the oldest ticket Redis still holds."""
        oldest = await guarded(self.redis.zrange(self.keys.ticket_index, 0, 0, withscores=True))
        if not oldest:
            return None
        return dt.datetime.fromtimestamp(oldest[0][1] / 1000, tz=self.site.tz).date()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decoded(entries):
    """(id, event) of stream entries whose payload decodes."""
    for entry_id, fields in entries:
        try:
            yield entry_id, json.loads(fields[b"e"])
        except (KeyError, ValueError):
            continue
