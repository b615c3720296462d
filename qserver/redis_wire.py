"""qserver's own redis-py asyncio connection classes: hiredis packing, and a connection closed under a
command raised as the ConnectionError it is.

- **Packing.** redis-py's synchronous connections pack commands with hiredis when it is installed
  (``redis.connection.HiredisRespSerializer``); its asyncio connections always pack in Python, argument
  by argument. A transition's ``EVALSHA`` carries some forty keys and arguments, and packing them was a
  tenth of the server's time under load (docs/performance.md). Here they use redis-py's own hiredis
  packer; the bytes on the wire are the same.
- **A connection closed under a command.** redis-py's cluster client disconnects the connections of its
  nodes when it re-reads the topology during a fail-over, the ones other tasks are using too. A task
  that was connecting or sending on one then meets ``_writer`` gone and redis-py raises
  ``AttributeError`` (on Python 3.12+ a transport torn down under it gives ``TypeError``, redis-py
  #4287), which no retry layer of redis-py knows: the request failed with 500 in a fail-over. Nothing
  was written; here it is a ``ConnectionError``, which redis-py's retries run again on a new connection.

:func:`wired` gives the class for any redis-py connection class (TCP, unix socket, TLS, Sentinel-managed);
:func:`wire` sets it on a pool before the pool opens its first connection.
"""

from __future__ import annotations

from functools import lru_cache

from redis.asyncio import ConnectionPool
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.utils import HIREDIS_AVAILABLE

__all__ = ["wire", "wired"]


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
