"""Transitions go to Redis on one held connection, each written the moment it is asked, the replies
matched in order (:class:`qserver.redis_pipe.Pipe`): Redis runs the first transitions of a wave of
requests while the server still prepares the others. Calls made while that connection is being made
wait for it, in their order. When it cannot be made (Redis away a moment ago), and for the calls in
flight when it was lost, the calls of one turn of the event loop go together on a pooled connection
instead (one write and one read for all of them, :func:`qserver.redis_wire.exchange`, with redis-py's
retry): a call the pipe lost is run again that way, as redis-py runs a pipeline again on a new
connection.

Each transition is still its own ``EVALSHA``, atomic on its own, answered or refused on its own; the
pipe and the batch only put the calls back to back on one connection instead of each taking a
connection from the pool, writing and waking up for its answer alone. Under load (50 officers and
kiosks at once) that was most of what a request cost in redis-py.

A script Redis does not know (a restarted or flushed Redis) is loaded and run again: on the pipe behind
a ``SCRIPT LOAD`` (the callers refused together run again in their order), in a batch by the redis-py
script object, as a direct call would. A cluster client (whose pipelines split by shard) is called
directly, one script at a time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from ..redis_pipe import Pipe, PipeBroken
from ..redis_wire import exchange

__all__ = ["ScriptBatcher"]

#: Calls sent in one pipeline at most (a larger batch is split: one long write would delay the first).
MAX_BATCH = 128


class ScriptBatcher:
    """Runs registered scripts on the pipe, or batching the calls made in the same loop turn. One per
    Redis client."""

    def __init__(self, redis: Redis):
        self.redis = redis
        # None for a RedisCluster (another class): its scripts are called directly
        self._pipe = Pipe(redis.connection_pool) if isinstance(redis, Redis) else None
        self._pending: list[tuple[AsyncScript, list, list, asyncio.Future]] = []
        self._tasks: set[asyncio.Task] = set()

    async def run(self, script: AsyncScript, keys: list, args: list) -> Any:
        """The script's answer, as ``await script(keys=keys, args=args)`` would give it."""
        if self._pipe is None:
            return await script(keys=keys, args=args)
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        piped = self._pipe.submit(command)
        if piped is not None:
            try:
                result = await piped
                if isinstance(result, NoScriptError):  # a restarted or flushed Redis
                    result = await self._loaded_and_run(script, command, result)
                return await _settle(script, keys, args, result)
            except PipeBroken:
                pass  # run again the other way
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((script, keys, args, future))
        return await future

    async def _loaded_and_run(self, script: AsyncScript, command: tuple, refused: NoScriptError) -> Any:
        """The reply of ``command`` run again on the pipe behind a SCRIPT LOAD of its script: the callers
        refused together load and run again in their order (each wakes in turn)."""
        loading = self._pipe.submit(("SCRIPT", "LOAD", script.script))
        again = self._pipe.submit(command) if loading is not None else None
        if again is None:
            return refused  # the pipe is down: loaded and run again on a pooled connection
        loading.add_done_callback(_retrieved)
        return await again

    async def aclose(self) -> None:
        """Give the pipe's connection back (calls after this go the batched way)."""
        if self._pipe is not None:
            await self._pipe.aclose()

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
            try:
                _answer(future, await _settle(script, keys, args, result))
            except BaseException as exc:
                _fail(future, exc)

    async def _exchange(self, commands: list[tuple]) -> list[Any]:
        """The batch's replies (see :func:`qserver.redis_wire.exchange`: no redis-py pipeline per batch)."""
        return await exchange(self.redis.connection_pool, commands)


async def _settle(script: AsyncScript, keys: list, args: list, result: Any) -> Any:
    """A script's answer from its reply: a script Redis did not know is loaded and run again, an error
    reply raised."""
    if isinstance(result, NoScriptError):
        return await script(keys=keys, args=args)  # loads it, then runs it
    if isinstance(result, Exception):
        raise result
    return result


def _retrieved(future: asyncio.Future) -> None:
    """Take a future's outcome nobody awaits (asyncio would log an exception never retrieved)."""
    if not future.cancelled():
        future.exception()


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
