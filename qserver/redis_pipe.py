"""One held Redis connection on which commands are written the moment they are asked, their replies
matched in order: requests pipelined into each other.

Why: 50 kiosks and officers at once move in waves. When a loop turn's transitions went to Redis
together (one write, one read), the server had nothing to do while Redis ran the wave's scripts, and
was busy only ~83 % of the time; written as they come, Redis runs the first transitions of a wave while
the server still prepares the others (docs/performance.md, "Third pass": HTTP issue rate 0.54–0.67 →
0.67–0.90 of the floor's in one A/B run, call-next 0.56–0.59 → 0.74–0.87).

- :meth:`Pipe.submit` writes a command and gives the future of its reply (an error reply, such as
  ``NoScriptError``, is the result, not raised). Without a live connection it starts making one and
  holds the command until then (commands keep their order; if the connection cannot be made, they
  fail with its error, unsent); it gives None when none can be made now (after a failure, not again
  for ``reconnect_s``), and the caller takes another way.
- A lost connection, or a reply not read within the connection's socket timeout, fails every command
  in flight with :class:`PipeBroken`. Whether such a command ran in Redis is unknown, as when a
  pipeline's connection is lost: the caller may run it again, as redis-py's retry does a pipeline's.
  The connection goes back to the pool closed, never with unread replies.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Any

from redis.asyncio import ConnectionPool
from redis.exceptions import ResponseError

__all__ = ["Pipe", "PipeBroken"]

logger = logging.getLogger(__name__)

#: After a failed connect, how long the pipe waits before it tries again (callers go another way).
RECONNECT_S = 0.5
#: How long closing waits for the reader and for the connection to go back to the pool.
CLOSE_TIMEOUT_S = 1.0


class PipeBroken(Exception):
    """The pipe's connection was lost (or a reply was overdue) with the command in flight."""


class Pipe:
    def __init__(self, pool: ConnectionPool, *, reconnect_s: float = RECONNECT_S):
        self.pool, self.reconnect_s = pool, reconnect_s
        self._link: _Link | None = None
        self._connecting: asyncio.Task | None = None
        self._held: list[tuple[tuple, asyncio.Future]] = []  # submitted while connecting
        self._retry_at = 0.0
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._link is not None and not self._link.writer.is_closing()

    def submit(self, command: tuple) -> asyncio.Future | None:
        """The future of ``command``'s reply, the command already written; None when not connected."""
        if self.connected:
            return self._link.submit(command)
        if self._link is not None:  # closed under us: its reader fails what is in flight
            self._link.reader.cancel()
            self._link = None
        self._connect_soon()
        if self._connecting is None:
            return None
        future = asyncio.get_running_loop().create_future()
        self._held.append((command, future))
        return future

    async def aclose(self) -> None:
        """Stop: commands in flight fail with PipeBroken, the connection goes back to the pool."""
        self._closed = True
        link, self._link = self._link, None
        tasks = [task for task in (self._connecting, link and link.reader) if task is not None]
        for task in tasks:
            task.cancel()
        if tasks:  # bounded, and never taking our own cancellation for theirs
            await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT_S)

    def _connect_soon(self) -> None:
        if self._closed or self._connecting is not None or time.monotonic() < self._retry_at:
            return
        self._connecting = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        link, failure = None, None
        try:
            connection = await self.pool.get_connection()
            writer = getattr(connection, "_writer", None)
            if writer is None or self._closed:  # a connection class without a stream writer is never piped
                self._retry_at = float("inf")
                await self.pool.release(connection)
            else:
                self._link = link = _Link(self, connection, writer)
        except Exception as exc:  # Redis away: the commands held fail with it, nothing was sent
            logger.debug("pipe: no connection (%s)", exc)
            self._retry_at = time.monotonic() + self.reconnect_s
            failure = exc
        finally:
            self._connecting = None
            held, self._held = self._held, []
            for command, future in held:
                if future.done():
                    continue
                if link is None:
                    future.set_exception(failure or PipeBroken("the pipe was closed"))
                else:
                    link.submit(command, future)

    def _lost(self, link: _Link, exc: BaseException) -> None:
        if self._link is link:
            self._link = None
        if not isinstance(exc, asyncio.CancelledError):
            self._retry_at = time.monotonic() + self.reconnect_s


class _Link:
    """One connection of a pipe, its commands in flight and the task reading their replies."""

    def __init__(self, pipe: Pipe, connection: Any, writer: Any):
        self.connection, self.writer = connection, writer
        self.in_flight: collections.deque[asyncio.Future] = collections.deque()
        self.busy = asyncio.Event()  # set while commands are in flight: the reader reads
        self.reader = asyncio.ensure_future(self._read(pipe))

    def submit(self, command: tuple, future: asyncio.Future | None = None) -> asyncio.Future:
        if future is None:
            future = asyncio.get_running_loop().create_future()
        self.writer.writelines(self.connection.pack_command(*command))
        self.in_flight.append(future)
        self.busy.set()
        return future

    async def _read(self, pipe: Pipe) -> None:
        connection, in_flight = self.connection, self.in_flight
        try:
            while True:
                if not in_flight:
                    self.busy.clear()
                    await self.busy.wait()
                try:
                    reply = await connection.read_response()  # within the connection's socket timeout
                except ResponseError as exc:
                    reply = exc
                future = in_flight.popleft()
                if not future.done():  # its caller may have been cancelled meanwhile
                    future.set_result(reply)
        except BaseException as exc:
            pipe._lost(self, exc)
            broken = PipeBroken(f"the Redis connection was lost with {len(in_flight)} commands in flight: {exc!r}")
            while in_flight:
                future = in_flight.popleft()
                if not future.done():
                    future.set_exception(broken)
            try:  # bounded: a pool that is closing too must not hold the task (or the loop's end) up
                await asyncio.wait_for(_give_back(pipe.pool, connection), CLOSE_TIMEOUT_S)
            except Exception:
                pass
            if not isinstance(exc, Exception):  # cancelled (aclose, a closed link) or the process stopping
                raise
            logger.info("pipe: %s", broken)


async def _give_back(pool: ConnectionPool, connection: Any) -> None:
    await connection.disconnect(nowait=True)
    await pool.release(connection)
