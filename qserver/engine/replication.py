"""Commands that must run together on one connection, on one server or on the node of a site's slot:
MULTI/EXEC blocks, and writes that wait for replicas (Redis ``WAIT numreplicas timeout``).

``WAIT`` covers the writes of the connection that sends it, so the write and the ``WAIT`` go in one
non-transactional pipeline: one round trip, one connection. A write the replicas did not confirm in time
is still answered — the master has it — but counted and logged: that is the write a fail-over in the next
moment could lose. With ``replicas=0`` (the default) a script is a plain call.

On a Redis Cluster these run on a client of the node that serves the site's slot, borrowing that node's
bounded connections: redis-py's own cluster transaction pipeline runs each queued command through
``asyncio.run`` in a new thread, which is slow and breaks connections made in the app's loop.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster, _ClusterNodePoolAdapter
from redis.commands.core import AsyncScript
from redis.exceptions import AskError, MaxConnectionsError, MovedError, NoScriptError, SlotNotCoveredError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["Replication", "on_node", "atomic"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Unconfirmed writes are logged at most this often (a replica down for an hour is one line a minute).
LOG_EVERY_S = 60.0

#: ``on_unconfirmed(site, operation, acknowledged)``: a write fewer replicas than asked confirmed in time.
Unconfirmed = Callable[[str, str, int], None]

#: cluster client → {node name: (node, a plain client on that node's connections)}
_node_clients: "weakref.WeakKeyDictionary[RedisCluster, dict[str, tuple[ClusterNode, Redis]]]" = \
    weakref.WeakKeyDictionary()


def _client_of(cluster: RedisCluster, node: ClusterNode) -> Redis:
    clients = _node_clients.setdefault(cluster, {})
    known = clients.get(node.name)
    if known is None or known[0] is not node:  # a new node object after a topology refresh
        known = clients[node.name] = (node, Redis(connection_pool=_ClusterNodePoolAdapter(node)))
    return known[1]


def _node_of(cluster: RedisCluster, key: str) -> ClusterNode:
    """The primary serving ``key``; while the client's slot table is being refreshed after a fail-over it
    may raise IndexError or KeyError, or find no node (redis-py #3238, #2437): a slot not covered yet, which
    callers answer as 503 and retry."""
    try:
        node = cluster.get_node_from_key(key)
    except (IndexError, KeyError) as exc:
        raise SlotNotCoveredError(f"the slot of {key!r} has no known primary yet") from exc
    if node is None:
        raise SlotNotCoveredError(f"the slot of {key!r} has no known primary yet")
    return node


async def on_node(redis: Any, key: str, run: Callable[[Any], Awaitable[T]]) -> T:
    """``run(client)`` with a client whose commands all go to where ``key`` lives: the client itself on one
    server; on a cluster, the node serving ``key``'s slot (one retry when the slot has just moved)."""
    if not isinstance(redis, RedisCluster):
        return await run(redis)
    slot = getattr(redis, "slot", None)  # a bounded client's in-flight limit (connection.BoundedRedisCluster)
    for attempt in (1, 2):
        await redis.initialize()  # a no-op once the slots are known
        client = _client_of(redis, _node_of(redis, key))
        try:
            if slot is None:
                return await run(client)
            async with slot():
                return await run(client)
        except MaxConnectionsError:  # this process's own limit, not the node's health
            raise
        except (MovedError, AskError):  # a fail-over or a resharding moved the slot
            if attempt == 2:
                raise
            await redis.exists(key)  # through the cluster client, which learns the slot's new node
        except (RedisConnectionError, RedisTimeoutError):
            try:  # let the cluster client notice too, so the next request finds the promoted replica
                await redis.exists(key)
            except Exception:
                pass
            raise
    raise AssertionError("unreachable")


async def atomic(redis: Any, key: str, build: Callable[[Any], None]) -> list[Any]:
    """The commands ``build(pipe)`` queues, as one MULTI/EXEC; every key must share ``key``'s hash slot."""
    async def multi(client: Any) -> list[Any]:
        pipe = client.pipeline(transaction=True)
        build(pipe)
        return await pipe.execute()

    return await on_node(redis, key, multi)


class SiteMulti:
    """A MULTI/EXEC written like a pipeline (``multi.hset(...)`` ..., ``await multi.execute()``) that runs
    on the node serving ``key``'s slot: every command must touch keys of that one site."""

    def __init__(self, redis: Any, key: str):
        self._redis, self._key, self._queued = redis, key, []

    def __getattr__(self, command: str) -> Callable[..., None]:
        def queue(*args: Any, **kwargs: Any) -> None:
            self._queued.append((command, args, kwargs))
        return queue

    def _build(self, pipe: Any) -> None:
        for command, args, kwargs in self._queued:
            getattr(pipe, command)(*args, **kwargs)

    async def execute(self) -> list[Any]:
        return await atomic(self._redis, self._key, self._build)


class Replication:
    """How many replicas must have a write before it is answered, and what to do when they do not."""

    def __init__(self, redis: Any, replicas: int = 0, timeout_ms: int = 500,
                 on_unconfirmed: Unconfirmed | None = None):
        self.redis, self.replicas, self.timeout_ms = redis, replicas, timeout_ms
        self.on_unconfirmed = on_unconfirmed
        self._unlogged, self._log_after = 0, 0.0

    @property
    def enabled(self) -> bool:
        return self.replicas > 0

    async def script(self, script: AsyncScript, keys: list[str], args: list[Any], *,
                     wait: bool = True) -> tuple[Any, int | None]:
        """Run a registered script; ``(its answer, replicas that confirmed)`` — None when not waited for."""
        if not (self.enabled and wait):
            return await script(keys=keys, args=args), None

        async def run_and_wait(client: Any) -> tuple[Any, int]:
            for attempt in (1, 2):
                pipe = client.pipeline(transaction=False)
                pipe.evalsha(script.sha, len(keys), *keys, *args)
                pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
                answer, acknowledged = await pipe.execute(raise_on_error=False)
                if isinstance(answer, NoScriptError) and attempt == 1:  # a new or restarted server: nothing ran
                    await client.script_load(script.script)
                    continue
                if isinstance(answer, Exception):
                    raise answer
                return answer, _count(acknowledged)
            raise AssertionError("unreachable")

        return await on_node(self.redis, keys[0], run_and_wait)

    async def transaction(self, key: str, build: Callable[[Any], None]) -> tuple[list[Any], int | None]:
        """Blind writes of one site (``build(pipe)`` queues them) as one MULTI/EXEC; ``(the EXEC results,
        replicas that confirmed)``. Every key must share ``key``'s hash slot. With WAIT the results are
        Redis's raw replies (an XADD's id as bytes, HSET's count)."""
        if not self.enabled:
            return await atomic(self.redis, key, build), None

        async def multi_and_wait(client: Any) -> tuple[list[Any], int]:
            pipe = client.pipeline(transaction=False)
            pipe.execute_command("MULTI")
            build(pipe)
            pipe.execute_command("EXEC")
            pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
            replies = await pipe.execute(raise_on_error=False)
            for reply in replies[:-1]:
                if isinstance(reply, Exception):
                    raise reply
            return replies[-2], _count(replies[-1])

        return await on_node(self.redis, key, multi_and_wait)

    def check(self, acknowledged: int | None, site: str, operation: str) -> None:
        """Log and count a write fewer replicas confirmed than asked (None: not waited for). The log says
        it at most every :data:`LOG_EVERY_S` (with how many since), the counter counts every one."""
        if acknowledged is None or acknowledged >= self.replicas:
            return
        self._unlogged += 1
        now = time.monotonic()
        if now >= self._log_after:
            logger.warning("%s %s: %d of %d replicas confirmed the write within %d ms (%d such writes since the "
                           "last report)", site, operation, acknowledged, self.replicas, self.timeout_ms,
                           self._unlogged)
            self._unlogged, self._log_after = 0, now + LOG_EVERY_S
        if self.on_unconfirmed is not None:
            self.on_unconfirmed(site, operation, acknowledged)


def _count(acknowledged: Any) -> int:
    """WAIT's answer; an error (the node was demoted meanwhile) counts as no replica."""
    return acknowledged if isinstance(acknowledged, int) else 0
