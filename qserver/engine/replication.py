"""Writes that wait for replicas: Redis ``WAIT numreplicas timeout`` after each transition.

``WAIT`` covers the writes of the connection that sends it, so the write and the ``WAIT`` go in one
non-transactional pipeline: one round trip, one connection (in a cluster: the node of the site's slot).
A write the replicas did not confirm in time is still answered — the master has it — but counted and
logged: that is the write a fail-over in the next moment could lose.

With ``replicas=0`` (the default) nothing changes: the script runs as a plain call, a blind-write
transaction as ``MULTI``/``EXEC``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

__all__ = ["Replication"]

logger = logging.getLogger(__name__)

#: ``on_unconfirmed(site, operation, acknowledged)``: a write fewer replicas than asked confirmed in time.
Unconfirmed = Callable[[str, str, int], None]


class Replication:
    """How many replicas must have a write before it is answered, and what to do when they do not."""

    def __init__(self, redis: Any, replicas: int = 0, timeout_ms: int = 500,
                 on_unconfirmed: Unconfirmed | None = None):
        self.redis, self.replicas, self.timeout_ms = redis, replicas, timeout_ms
        self.on_unconfirmed = on_unconfirmed
        self._cluster = isinstance(redis, RedisCluster)

    @property
    def enabled(self) -> bool:
        return self.replicas > 0

    async def script(self, script: AsyncScript, keys: list[str], args: list[Any]) -> tuple[Any, int | None]:
        """Run a registered script; ``(its answer, replicas that confirmed)`` — None when not waited for."""
        if not self.enabled:
            return await script(keys=keys, args=args), None
        for attempt in (1, 2):
            pipe, on_node = await self._pipeline(keys[0])
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            pipe.execute_command("WAIT", self.replicas, self.timeout_ms, **on_node)
            answer, acknowledged = await pipe.execute(raise_on_error=False)
            if isinstance(answer, NoScriptError) and attempt == 1:  # a restarted or new server: nothing ran
                await self.redis.script_load(script.script)
                continue
            if isinstance(answer, Exception):
                raise answer
            return answer, _count(acknowledged)
        raise AssertionError("unreachable")

    async def transaction(self, key: str, build: Callable[[Any], None]) -> tuple[list[Any], int | None]:
        """Blind writes of one site (``build(pipe)`` queues them) as one MULTI/EXEC; ``(the EXEC results,
        replicas that confirmed)``. Every key must share ``key``'s hash slot."""
        if not self.enabled:
            pipe = self.redis.pipeline(transaction=True)
            build(pipe)
            return await pipe.execute(), None
        pipe, on_node = await self._pipeline(key)
        pipe.execute_command("MULTI", **on_node)
        build(pipe)
        pipe.execute_command("EXEC", **on_node)
        pipe.execute_command("WAIT", self.replicas, self.timeout_ms, **on_node)
        replies = await pipe.execute(raise_on_error=False)
        results, acknowledged = replies[-2], replies[-1]
        for reply in (*replies[:-2], results):
            if isinstance(reply, Exception):
                raise reply
        return results, _count(acknowledged)

    def check(self, acknowledged: int | None, site: str, operation: str) -> None:
        """Log and count a write fewer replicas confirmed than asked (None: not waited for)."""
        if acknowledged is None or acknowledged >= self.replicas:
            return
        logger.warning("%s %s: %d of %d replicas confirmed the write within %d ms", site, operation,
                       acknowledged, self.replicas, self.timeout_ms)
        if self.on_unconfirmed is not None:
            self.on_unconfirmed(site, operation, acknowledged)

    async def _pipeline(self, key: str) -> tuple[Any, dict[str, Any]]:
        """A non-transactional pipeline, and the options that send key-less commands (MULTI, EXEC, WAIT)
        to the node of ``key`` — in a cluster, where the site's script runs."""
        pipe = self.redis.pipeline(transaction=False)
        if not self._cluster:
            return pipe, {}
        await self.redis.initialize()  # a no-op once the slots are known
        return pipe, {"target_nodes": self.redis.get_node_from_key(key)}


def _count(acknowledged: Any) -> int:
    """WAIT's answer; an error (the node was demoted meanwhile) counts as no replica."""
    return acknowledged if isinstance(acknowledged, int) else 0
