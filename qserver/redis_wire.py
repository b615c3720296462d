"""qserver's own redis-py asyncio connection classes: hiredis packing, and a connection closed under a
command raised as the ConnectionError it is.

- **Packing.** redis-py's synchronous connections pack commands with hiredis when it is installed
  (``redis.connection.HiredisRespSerializer``); its asyncio connections always pack in Python, argument
  by argument. A transition's ``EVALSHA`` carries some forty keys and arguments, and packing them was a
  tenth of the server's time under load (docs/performance.md). Here they use redis-py's own hiredis
  packer; the bytes on the wire are the same.
- **An exchange** (:func:`exchange`): commands written at once on one pooled connection and their
  replies read back, for the transitions' batches: redis-py's pipeline adds a command stack, reply
  callbacks and observability hooks per batch that were a fifth of a call-next's cost in the server
  (docs/performance.md).
- **A connection closed under a command.** redis-py's cluster client disconnects the connections of its
  nodes when it re-reads the topology during a fail-over, the ones other tasks are using too. A task
  that was connecting or sending on one then meets ``_writer`` gone and redis-py raises
  ``AttributeError`` (on Python 3.12+ a transport torn down under it gives ``TypeError``, redis-py
  #4287), which no retry layer of redis-py knows: the request failed with 500 in a fail-over. Nothing
  was written; here it is a ``ConnectionError``, which redis-py's retries run again on a new connection.
  (redis-py 8.2 checks the writer before its write and raises the ConnectionError itself; the mixin
  keeps 8.1, the oldest release setup.cfg allows, right.)

:func:`wired` gives the class for any redis-py connection class (TCP, unix socket, TLS, Sentinel-managed);
:func:`wire` sets it on a pool before the pool opens its first connection.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from redis.asyncio import ConnectionPool
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.utils import HIREDIS_AVAILABLE

__all__ = ["wire", "wired", "exchange"]


class _HiredisPacking:
    """Mixin for a redis.asyncio connection class: ``pack_command`` by hiredis (pipelines too)."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args):
        return self._packer.pack(*args)


class _ClosedUnderCommand:
    """Mixin for a redis.asyncio connection class: a socket closed by another task while this one sends
    is a ConnectionError (see the module's docstring), the connection left disconnected."""

    async def send_packed_command(self, command, check_health=True):
        try:
            await super().send_packed_command(command, check_health)
        except (AttributeError, TypeError) as exc:
            writer = self._writer
            if writer is not None and not writer.is_closing():
                raise  # not a closed socket: a bug to see as it is
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Connection closed while a command was being sent: {exc!r}") from exc


@lru_cache(maxsize=None)
def wired(connection_class: type) -> type:
    """``connection_class`` with qserver's mixins (the same class for the same argument)."""
    if issubclass(connection_class, _ClosedUnderCommand):
        return connection_class
    mixins = (_HiredisPacking, _ClosedUnderCommand) if HIREDIS_AVAILABLE else (_ClosedUnderCommand,)
    return type(f"Qserver{connection_class.__name__}", (*mixins, connection_class), {})


def wire(pool: ConnectionPool) -> ConnectionPool:
    """Make the pool's future connections qserver's (see :func:`wired`). Call before the pool opens
    its first connection."""
    pool.connection_class = wired(pool.connection_class)
    return pool


async def exchange(pool: ConnectionPool, commands: list[tuple]) -> list[Any]:
    """The replies to ``commands``, written at once on one connection of ``pool``, an error reply in
    its place (as ``pipeline(transaction=False).execute(raise_on_error=False)`` answers). A lost
    connection is retried as redis-py retries a pipeline, on a fresh connection; a socket left with
    unread replies (a cancelled or failed read) is closed, never given back to the pool."""
    connection = await pool.get_connection()

    async def write_and_read() -> list[Any]:
        await connection.send_packed_command(connection.pack_commands(commands))
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(await connection.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies

    async def disconnect(_error: Exception) -> None:
        await connection.disconnect()

    try:
        return await connection.retry.call_with_retry(write_and_read, disconnect)
    except BaseException:
        await connection.disconnect(nowait=True)
        raise
    finally:
        await pool.release(connection)
