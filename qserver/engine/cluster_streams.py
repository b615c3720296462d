"""Reading many sites' streams on a Redis Cluster, where one XREAD cannot name streams of different slots.

A cluster refuses ``XREAD`` over keys of different hash slots (CROSSSLOT), and every site has its own
slot, so the single blocking ``XREAD`` of :mod:`.streams` is impossible. Instead, per primary node that
holds sites of this process:

- one pub/sub connection subscribed to ``__keyevent@0__:xadd`` — keyspace notifications are node-local
  in a cluster, which is exactly "one reader per node"; each message names the stream a script appended
  to (qserver turns on ``notify-keyspace-events`` flags ``E`` and ``t`` on each node where CONFIG is
  allowed, keeping the flags already set);
- a non-blocking ``XREAD`` of just the woken sites from their last ids, one pipeline per node;
- a catch-up sweep of every site after each (re)subscription (a notification sent while nobody listened
  is lost: pub/sub is at-most-once), after a node failed, and every ``sweep_s`` as a safety net.

Events come out in stream order per site from the last id read, so none is read twice or skipped.
Topology changes follow the cluster client's slot map: a sweep groups the sites by the node that serves
them now, and listeners follow those nodes (a promoted replica gets one, a demoted or dead master loses
its own). Connections: one pub/sub connection per node, borrowed from the node's bounded pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import ResponseError

from .keys import SiteKeys

__all__ = ["ClusterStreamReader", "CHANNEL", "SWEEP_S"]

logger = logging.getLogger(__name__)

#: The keyevent channel of stream appends (a cluster has only database 0).
CHANNEL = "__keyevent@0__:xadd"
#: Every site is read at least this often, notification or not (the safety net).
SWEEP_S = 5.0
#: How long a listener waits for a message per poll; it checks its node is still a primary as often.
POLL_S = 1.0
#: After a node failed: first retry delay, doubling up to the cap.
RETRY_S, RETRY_CAP_S = 0.1, 2.0

Batch = tuple[str, list[tuple[str, bytes]]]


class ClusterStreamReader:
    """New events of a set of sites on a cluster, in order per site, from where each stream stood at start."""

    def __init__(self, cluster: RedisCluster, sites: Iterable[str], *, sweep_s: float = SWEEP_S):
        self.cluster = cluster
        self.sweep_s = sweep_s
        self._site_of = {SiteKeys(slug).events: slug for slug in sites}
        self._last: dict[str, str] | None = None
        self._woken: set[str] = set()
        self._wake = asyncio.Event()
        self._next_sweep = 0.0
        self._retry_s = RETRY_S
        self._listeners: dict[str, asyncio.Task] = {}
        #: nodes whose notify-keyspace-events qserver could not set (logged once each)
        self._unset: set[str] = set()
        #: nodes whose listener is subscribed now (its subscription confirmed)
        self.listening: set[str] = set()
        self.sweeps = 0

    # -- the StreamReader contract ---------------------------------------------------------------
    async def start(self) -> None:
        """Remember where every stream stands now: only later events are read."""
        await self.cluster.initialize()
        groups = self._by_node(self._site_of)
        replies = await asyncio.gather(*(self._on_node(keys, lambda pipe, key: pipe.xrevrange(key, count=1))
                                         for keys in groups.values()))
        last = {}
        for keys, newest in zip(groups.values(), replies):
            for key, entries in zip(keys, newest):
                last[key] = entries[0][0].decode() if entries else "0-0"
        self._last = last
        self._listen_to(groups)

    async def read(self, *, block_ms: int = 2000, count: int = 500) -> list[Batch]:
        """The events appended since the last read: the woken sites, or all of them when a sweep is due;
        waits up to ``block_ms`` for a notification."""
        if self._last is None:
            await self.start()
        now = time.monotonic()
        if not self._woken and now < self._next_sweep:
            timeout = min(block_ms / 1000, self._next_sweep - now)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        self._wake.clear()
        if time.monotonic() >= self._next_sweep:
            keys, sweep = set(self._site_of), True
            self._next_sweep = time.monotonic() + self.sweep_s
            self.sweeps += 1
        else:
            keys, sweep = self._woken, False
        self._woken = set()
        return await self._read(keys, count, sweep)

    async def aclose(self) -> None:
        """Stop every listener (their connections go back to the cluster client, closed with it)."""
        tasks = list(self._listeners.values())
        self._listeners.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- reading ---------------------------------------------------------------------------------
    def _by_node(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """The keys grouped by the primary that serves their slot now (the client's slot map)."""
        groups: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            groups[self.cluster.get_node_from_key(key).name].append(key)
        return groups

    async def _on_node(self, keys: list[str], command) -> list[Any]:
        """One pipeline of ``command(pipe, key)`` for keys of one node: one round trip."""
        pipe = self.cluster.pipeline(transaction=False)
        for key in keys:
            command(pipe, key)
        return await pipe.execute()

    async def _read(self, keys: set[str], count: int, sweep: bool) -> list[Batch]:
        groups = self._by_node(keys)
        last = self._last
        replies = await asyncio.gather(
            *(self._on_node(group, lambda pipe, key: pipe.xread({key: last[key]}, count=count))
              for group in groups.values()), return_exceptions=True)
        batches: list[Batch] = []
        failed = False
        for (node, group), reply in zip(groups.items(), replies):
            if isinstance(reply, BaseException):
                if isinstance(reply, asyncio.CancelledError):
                    raise reply
                failed = True
                logger.warning("stream reader: node %s failed (%s); %d sites read again in %.1f s", node,
                               reply, len(group), self._retry_s)
                continue
            if any(self.cluster.get_node_from_key(key).name != node for key in group):
                self._sweep_in(0)  # a slot moved (MOVED answered): regroup, listen where the sites are now
            for key, answer in zip(group, reply):
                for _stream, entries in answer or ():
                    batch = [(entry_id.decode(), fields.get(b"e", b"")) for entry_id, fields in entries]
                    if batch:
                        last[key] = batch[-1][0]
                        batches.append((self._site_of[key], batch))
                        if len(batch) >= count:  # more waiting: read on at once
                            self._woken.add(key)
                            self._wake.set()
        if failed:
            self._sweep_in(self._retry_s)
            self._retry_s = min(self._retry_s * 2, RETRY_CAP_S)
        else:
            self._retry_s = RETRY_S
        if sweep and not failed:
            self._listen_to(groups)
        return batches

    def _sweep_in(self, delay_s: float) -> None:
        self._next_sweep = min(self._next_sweep, time.monotonic() + delay_s)
        self._wake.set()

    # -- listening -------------------------------------------------------------------------------
    def _listen_to(self, groups: dict[str, list[str]]) -> None:
        """One listener per node serving our sites now; listeners of other nodes stop, dead ones restart."""
        wanted = set(groups)
        for name in list(self._listeners):
            task = self._listeners[name]
            if name not in wanted or task.done():
                del self._listeners[name]
                task.cancel()
        for name in wanted - set(self._listeners):
            node = self.cluster.get_node(node_name=name)
            if node is not None:
                self._listeners[name] = asyncio.create_task(self._listen(node), name=f"stream-listener-{name}")

    async def _listen(self, node: ClusterNode) -> None:
        """Wake the reader for every stream append on ``node``; any failure asks for a sweep and ends
        (the next sweep starts a new listener on whatever node then serves the sites)."""
        pubsub = self.cluster.pubsub(node=node)
        try:
            await self._enable_notifications(node)
            await pubsub.subscribe(CHANNEL)
            role_check = time.monotonic() + POLL_S
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=False, timeout=POLL_S)
                if time.monotonic() >= role_check:
                    # A demoted master (a manual fail-over) keeps its connections but stops hearing the
                    # appends: ask its role, on another connection, about once a second.
                    role_check = time.monotonic() + POLL_S
                    role = await self.cluster.execute_command("ROLE", target_nodes=node)
                    if role[0] != b"master":
                        raise ConnectionError(f"{node.name} is a {role[0].decode()} now")
                if message is None:
                    continue
                if message["type"] == "subscribe":  # (re)subscribed: what came before it was not heard
                    self.listening.add(node.name)
                    self._sweep_in(0)
                elif message["type"] == "message":
                    key = message["data"].decode()
                    if key in self._site_of:
                        self._woken.add(key)
                        self._wake.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("stream listener on %s stopped (%s); sweeping in %.1f s", node.name, exc, self._retry_s)
            self._sweep_in(self._retry_s)
            self._retry_s = min(self._retry_s * 2, RETRY_CAP_S)
        finally:
            self.listening.discard(node.name)
            try:
                await pubsub.aclose()
            except Exception:  # the connection is already gone
                pass

    async def _enable_notifications(self, node: ClusterNode) -> None:
        """Add ``E`` and ``t`` to the node's notify-keyspace-events (keeping its other flags) where CONFIG
        is allowed; otherwise say once that only the sweep brings that node's events."""
        try:
            flags = _flags(await self.cluster.config_get("notify-keyspace-events", target_nodes=node))
            missing = ("E" if "E" not in flags else "") + ("t" if "t" not in flags and "A" not in flags else "")
            if missing:
                await self.cluster.config_set("notify-keyspace-events", flags + missing, target_nodes=node)
        except ResponseError as exc:  # CONFIG renamed or refused (managed services)
            if node.name not in self._unset:
                self._unset.add(node.name)
                logger.error("cannot read or set notify-keyspace-events on %s (%s): unless it includes E and t "
                             "there, that node's events reach displays only through the %.0f s sweep",
                             node.name, exc, self.sweep_s)


def _flags(reply: Any) -> str:
    """The flags out of CONFIG GET's answer (a dict, possibly keyed by node name)."""
    if isinstance(reply, dict) and "notify-keyspace-events" not in reply and len(reply) == 1:
        reply = next(iter(reply.values()))
    value = reply.get("notify-keyspace-events", "") if isinstance(reply, dict) else ""
    return value.decode() if isinstance(value, bytes) else str(value)
