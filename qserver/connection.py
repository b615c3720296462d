"""Which Redis a process uses and how it connects: the one place for that decision.

``QSERVER_REDIS_URL`` names it; without it, the embedded redis-server of the data directory (started
for the duration of a command when none runs yet).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from redis.asyncio import BlockingConnectionPool, Redis

from .embedded_redis import EmbeddedRedis, running_url
from .redis_wire import pack_with_hiredis
from .settings import Settings

__all__ = ["connect_redis", "redis_url_for", "REDIS_CONNECTIONS"]

#: Connections one process keeps to Redis at most (the stream reader holds one).
REDIS_CONNECTIONS = 64


def connect_redis(url: str) -> Redis:
    """The asyncio client every part of a process shares (bytes in, bytes out; blocking reads stay
    under the 5 s socket timeout)."""
    options = dict(decode_responses=False, health_check_interval=30, socket_timeout=5, socket_connect_timeout=5,
                   retry_on_timeout=True, max_connections=REDIS_CONNECTIONS, timeout=5)
    if not url.startswith("unix://"):
        options["socket_keepalive"] = True  # TCP only: a unix socket refuses the option
    # A blocking pool: a burst (a thousand displays reconnecting at once) waits for a connection
    # instead of failing with "too many connections".
    return Redis(connection_pool=pack_with_hiredis(BlockingConnectionPool.from_url(url, **options)))


@contextlib.contextmanager
def redis_url_for(settings: Settings) -> Iterator[str]:
    """The Redis to use: the configured URL, the embedded one already running for the data directory,
    or a private one started for the duration of the block."""
    if settings.redis_url:
        yield settings.redis_url
        return
    url = running_url(settings.data_dir)
    if url:
        yield url
        return
    with EmbeddedRedis(settings.data_dir, settings.redis_server) as url:
        yield url
