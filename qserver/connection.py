"""Which Redis a process uses and how it connects: the one place for that decision.

``QSERVER_REDIS_URL`` names it (see :mod:`qserver.redis_url` for the three forms: one server, a
Sentinel-managed master, a Redis Cluster); without it, the embedded redis-server of the data directory
(started for the duration of a command when none runs yet).

Every client is bounded and fails fast: at most :data:`REDIS_CONNECTIONS` connections per Redis node, a
request waits at most :data:`POOL_WAIT_S` for one, a dead server is noticed within seconds (short connect
timeouts, a few quick retries), so ``/healthz`` answers 503 promptly and recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import socket
from collections.abc import Iterator
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

from .embedded_redis import EmbeddedRedis, running_url
from .redis_url import CLUSTER, SENTINEL, RedisTarget, parse_redis_url
from .redis_wire import wire, wired
from .settings import Settings

__all__ = ["connect_redis", "connect_target", "redis_url_for", "client_name", "REDIS_CONNECTIONS",
           "SentinelRedis", "BoundedRedisCluster"]

#: Request connections one process keeps to each Redis node at most (on one server or a Sentinel master
#: the stream reader's blocking XREAD holds one of them; on a cluster its pub/sub listener is one more).
REDIS_CONNECTIONS = 64
#: How long a request waits for a free connection before it is refused (503).
POOL_WAIT_S = 5.0
#: Reads and writes; blocking reads (the stream reader's 2 s XREAD) stay well under it.
SOCKET_TIMEOUT_S = 5.0
#: Opening a connection to a data node; a sentinel gets less (it only names the master).
CONNECT_TIMEOUT_S = 2.0
SENTINEL_TIMEOUT_S = 1.0


def _retry() -> Retry:
    """A few quick retries (about half a second in all): a restart or fail-over is bridged by the
    clients' own retries on 503, not by holding requests."""
    return Retry(ExponentialWithJitterBackoff(cap=0.25, base=0.02), retries=3)


def client_name(prefix: str = "qserver") -> str:
    """The name every connection of this process gives itself (``CLIENT LIST`` shows it)."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}".replace(" ", "_")


#: Set while a task holds one of a cluster client's command slots (a redirection inside a pipeline then
#: runs on the slot it already holds instead of waiting for a second one).
_holding_slot: contextvars.ContextVar[bool] = contextvars.ContextVar("qserver_cluster_slot", default=False)


class BoundedRedisCluster(RedisCluster):
    """redis-py's cluster client, blocking like the standalone pool.

    redis-py's cluster nodes refuse a connection beyond ``max_connections`` (MaxConnectionsError) instead
    of waiting. Here every command and pipeline first takes one of ``in_flight`` slots (waiting up to
    :data:`POOL_WAIT_S`), so no node ever has more than ``in_flight`` request connections from this
    process, plus the stream reader's one pub/sub connection per node.
    """

    def __init__(self, *args: Any, in_flight: int = REDIS_CONNECTIONS, wait_s: float = POOL_WAIT_S, **kwargs: Any):
        super().__init__(*args, max_connections=in_flight + 2, **kwargs)
        # redis-py fixes the cluster's connection class; nodes found later take it from connection_kwargs
        ours = wired(self.connection_kwargs["connection_class"])
        self.connection_kwargs["connection_class"] = ours
        for node in self.nodes_manager.startup_nodes.values():
            node.connection_class = ours
        self._slots = asyncio.Semaphore(in_flight)
        self._wait_s = wait_s

    @contextlib.asynccontextmanager
    async def slot(self):
        if _holding_slot.get():
            yield
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait_s)
        except asyncio.TimeoutError:
            raise RedisConnectionError("No connection available.") from None
        token = _holding_slot.set(True)
        try:
            yield
        finally:
            _holding_slot.reset(token)
            self._slots.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.slot():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> "BoundedClusterPipeline":
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        return BoundedClusterPipeline(self, transaction)


class BoundedClusterPipeline(ClusterPipeline):
    """A cluster pipeline that runs on one slot of its client (see :class:`BoundedRedisCluster`)."""

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        async with self.cluster_client.slot():
            return await super().execute(raise_on_error, allow_redirections)


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """The Sentinel pool of redis-py, blocking like the standalone one: a burst (a thousand displays
    reconnecting) waits for a connection instead of failing with "too many connections"."""


class SentinelRedis(Redis):
    """A client of the master the sentinels name; closing it also closes its sentinel connections."""

    sentinel: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinel is not None:
            await self.sentinel.aclose()


def _options(name: str | None) -> dict[str, Any]:
    return dict(decode_responses=False, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S,
                retry=_retry(), client_name=name)


def connect_redis(url: str, *, name: str | None = None) -> Redis | RedisCluster:
    """The asyncio client every part of a process shares (bytes in, bytes out), for any URL form.

    Nothing is contacted yet; a URL of no known form raises SettingsError.
    """
    return connect_target(parse_redis_url(url), name=name)


def connect_target(target: RedisTarget, *, name: str | None = None) -> Redis | RedisCluster:
    options = _options(name)
    if target.kind == CLUSTER:
        return BoundedRedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in target.hosts],
                                   username=target.username, password=target.password, health_check_interval=30,
                                   socket_keepalive=True, require_full_coverage=True, **options)
    if target.kind == SENTINEL:
        sentinel = Sentinel(list(target.hosts), sentinel_kwargs=dict(
            socket_timeout=SENTINEL_TIMEOUT_S, socket_connect_timeout=SENTINEL_TIMEOUT_S, retry=Retry(
                ExponentialWithJitterBackoff(cap=0.1, base=0.01), retries=1)))
        client = sentinel.master_for(target.master, redis_class=SentinelRedis,
                                     connection_pool_class=BlockingSentinelPool, db=target.db,
                                     username=target.username, password=target.password,
                                     max_connections=REDIS_CONNECTIONS, timeout=POOL_WAIT_S,
                                     health_check_interval=30, socket_keepalive=True, **options)
        wire(client.connection_pool)
        client.sentinel = sentinel
        return client
    if not target.url.startswith("unix://"):
        options["socket_keepalive"] = True  # TCP only: a unix socket refuses the option
    return Redis(connection_pool=wire(BlockingConnectionPool.from_url(
        target.url, max_connections=REDIS_CONNECTIONS, timeout=POOL_WAIT_S, health_check_interval=30, **options)))


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
