"""Reading the event streams of many sites at once: the source of every process's fan-out.

One blocking ``XREAD`` names every site's stream with the last id seen of each, so a process holds one
Redis connection for reading whatever the number of sites (104 in a city, thousands in a country),
and requests never wait behind readers. On a Redis Cluster, where one XREAD cannot span slots, the
same contract is kept by :class:`~.cluster_streams.ClusterStreamReader` (one listener per node).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from .cluster_streams import ClusterStreamReader
from .keys import SiteKeys
from .reads import guarded

__all__ = ["StreamReader", "Batch", "read_streams"]

#: (site slug, [(event id, raw event payload), ...]) in stream order.
Batch = tuple[str, list[tuple[str, bytes]]]


class StreamReader:
    """New events of a set of sites, in order per site, from where each site's stream stood at start."""

    def __init__(self, redis: Redis | RedisCluster, sites: Iterable[str]):
        self.redis = redis
        sites = list(sites)
        self._site_of = {SiteKeys(slug).events: slug for slug in sites}
        #: stream key → id of the last event read (``None`` until :meth:`start`)
        self._last: dict[str, str] | None = None
        #: on a cluster, the reader that does the work
        self.cluster = ClusterStreamReader(redis, sites) if isinstance(redis, RedisCluster) else None

    async def start(self) -> None:
        """Remember where every stream stands now: only later events are read."""
        if self.cluster is not None:
            return await self.cluster.start()
        pipe = self.redis.pipeline(transaction=False)
        for key in self._site_of:
            pipe.xrevrange(key, count=1)
        newest = await guarded(pipe.execute())
        self._last = {key: (entries[0][0].decode() if entries else "0-0")
                      for key, entries in zip(self._site_of, newest)}

    async def read(self, *, block_ms: int = 2000, count: int = 500) -> list[Batch]:
        """The events appended since the last read, waiting up to ``block_ms`` for the first one.

        Keep ``block_ms`` well under the client's socket timeout, or the wait itself looks like a dead socket.
        """
        if self.cluster is not None:
            return await self.cluster.read(block_ms=block_ms, count=count)
        if self._last is None:
            await self.start()
        reply: Any = await guarded(self.redis.xread(self._last, block=block_ms, count=count))
        batches: list[Batch] = []
        for stream, entries in reply or ():
            key = stream.decode() if isinstance(stream, bytes) else stream
            batch = [(entry_id.decode(), fields.get(b"e", b"")) for entry_id, fields in entries]
            if batch:
                self._last[key] = batch[-1][0]
                batches.append((self._site_of[key], batch))
        return batches

    async def aclose(self) -> None:
        """Stop the cluster reader's listeners (nothing to do on one server: the XREAD is a request)."""
        if self.cluster is not None:
            await self.cluster.aclose()

async def read_streams(redis: Redis, positions: dict[str, str], *, block_ms: int = 1000,
                       count: int = 100) -> list[Batch]:
    """Events after ``positions`` (site → last id handled) of those sites' streams, in one ``XREAD``
    waiting up to ``block_ms`` for the first: the webhook worker's reader, which resumes from a stored
    cursor instead of from now."""
    if not positions:
        return []
    names = {SiteKeys(slug).events: slug for slug in positions}
    reply: Any = await guarded(redis.xread({key: positions[slug] for key, slug in names.items()},
                                           block=block_ms, count=count))
    batches: list[Batch] = []
    for stream, entries in reply or ():
        key = stream.decode() if isinstance(stream, bytes) else stream
        batch = [(entry_id.decode(), fields.get(b"e", b"")) for entry_id, fields in entries]
        if batch:
            batches.append((names[key], batch))
    return batches
