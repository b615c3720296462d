"""Commands packed by hiredis on redis-py's asyncio connections.

redis-py's synchronous connections pack commands with hiredis when it is installed
(``redis.connection.HiredisRespSerializer``); its asyncio connections always pack in Python, argument
by argument. A transition's ``EVALSHA`` carries some forty keys and arguments, and packing them was
a tenth of the server's time under load (docs/performance.md). :func:`pack_with_hiredis` gives a pool's
connections redis-py's own hiredis packer; the bytes on the wire are the same.
"""

from __future__ import annotations

from functools import lru_cache

from redis.asyncio import ConnectionPool
from redis.connection import HiredisRespSerializer
from redis.utils import HIREDIS_AVAILABLE

__all__ = ["pack_with_hiredis"]


class _HiredisPacking:
    """Mixin for a redis.asyncio connection class: ``pack_command`` by hiredis (pipelines too)."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args):
        return self._packer.pack(*args)


@lru_cache(maxsize=None)
def _packing(connection_class: type) -> type:
    if issubclass(connection_class, _HiredisPacking):
        return connection_class
    return type(f"Hiredis{connection_class.__name__}", (_HiredisPacking, connection_class), {})


def pack_with_hiredis(pool: ConnectionPool) -> ConnectionPool:
    """Make the pool's future connections (TCP, unix socket or TLS alike) pack with hiredis; the pool
    unchanged without hiredis. Call before the pool opens its first connection."""
    if HIREDIS_AVAILABLE:
        pool.connection_class = _packing(pool.connection_class)
    return pool
