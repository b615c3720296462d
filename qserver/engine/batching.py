"""Transitions started in the same turn of the event loop go to Redis together: one connection, one
write and one read for all of them (:func:`qserver.redis_wire.exchange`, a pipeline without redis-py's
per-call bookkeeping).

Each transition is still its own ``EVALSHA``, atomic on its own, answered or refused on its own: a
pipeline only puts the calls back to back on one connection instead of each taking a connection from
the pool, writing and waking up for its answer alone. Under load (50 officers and kiosks at once) that
is most of what a request cost in redis-py; alone, a call waits one loop turn more (microseconds).

A script Redis does not know (a restarted or flushed Redis) is loaded and run again by the redis-py
script object, as a direct call would. A lost connection fails every call of the batch with the same
error, as it would have failed each of them. A cluster client (whose pipelines split by shard) is
called directly, one script at a time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from ..redis_wire import exchange

__all__ = ["ScriptBatcher"]

#: Calls sent in one pipeline at most (a larger batch is split: one long write would delay the first).
MAX_BATCH = 128


class ScriptBatcher:
    """Runs registered scripts, batching the calls made in the same loop turn. One per Redis client."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self.batching = isinstance(redis, Redis)  # not a RedisCluster (another class)
        self._pending: list[tuple[AsyncScript, list, list, asyncio.Future]] = []
        self._tasks: set[asyncio.Task] = set()

    async def run(self, script: AsyncScript, keys: list, args: list) -> Any:
        """The script's answer, as ``await script(keys=keys, args=args)`` would give it."""
        if not self.batching:
            return await script(keys=keys, args=args)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((script, keys, args, future))
        return await future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), MAX_BATCH):
            task = asyncio.ensure_future(self._send(pending[start:start + MAX_BATCH]))
            self._tasks.add(task)  # held until done: a task nobody references may be collected
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[AsyncScript, list, list, asyncio.Future]]) -> None:
        try:
            results = await self._exchange([("EVALSHA", script.sha, len(keys), *keys, *args)
                                            for script, keys, args, _ in batch])
        except BaseException as exc:
            for *_, future in batch:
                _fail(future, exc)
            return
        for (script, keys, args, future), result in zip(batch, results):
            if isinstance(result, NoScriptError):
                try:
                    result = await script(keys=keys, args=args)  # loads it, then runs it
                except BaseException as exc:
                    _fail(future, exc)
                    continue
            if isinstance(result, Exception):
                _fail(future, result)
            else:
                _answer(future, result)

    async def _exchange(self, commands: list[tuple]) -> list[Any]:
        """The batch's replies (see :func:`qserver.redis_wire.exchange`: no redis-py pipeline per batch)."""
        return await exchange(self.redis.connection_pool, commands)


def _answer(future: asyncio.Future, result: Any) -> None:
    if not future.done():  # the caller may have been cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future, exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):  # the loop is shutting down
        future.cancel()
    else:
        future.set_exception(exc)
