"""Rate limits kept in Redis, so they hold across every process of a deployment.

The counting is the ``limits`` library's (fixed windows, one Lua round trip per hit) on the process's
own Redis connection pool; what is limited, and how hard, comes from :class:`~qserver.settings.Settings`:

- login attempts per client address, and failed logins per user name: past the second limit the
  account is locked out until the window ends (the managers' console shows it);
- tickets per kiosk (or manager) token: a kiosk cannot print a thousand tickets a minute;
- anonymous reads (pages and the public API) per client address;
- from home: online numbers and bookings per address and per person (CCCD hash), booking codes looked up
  per address (codes cannot be guessed in the time that allows).

A refusal is :class:`~qserver.exceptions.RateLimited` (429 with ``Retry-After``). When Redis itself fails,
limits let the request through: the request then meets the same Redis and answers 503 on its own.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from .exceptions import RateLimited
from .settings import Settings

__all__ = ["Limits"]

logger = logging.getLogger(__name__)

PREFIX = "qs:limit"


def _item(text: str) -> RateLimitItem | None:
    return parse(text) if text and text.strip() else None


def _storage(redis: Redis | RedisCluster) -> Storage:
    """A limits storage on the process's own client: the same pool, no connections of its own."""
    if isinstance(redis, RedisCluster):
        # the nodes the cluster client was given (it discovers the rest itself on first use)
        nodes = ",".join(f"{node.host}:{node.port}" for node in redis.nodes_manager.startup_nodes.values())
        password = (getattr(redis, "connection_kwargs", None) or {}).get("password")
        return RedisClusterStorage(f"async+redis+cluster://{nodes}", implementation="redispy", key_prefix=PREFIX,
                                   wrap_exceptions=True, max_connections=8,
                                   **({"password": password} if password else {}))
    return RedisStorage("async+redis://", implementation="redispy", key_prefix=PREFIX, wrap_exceptions=True,
                        connection_pool=redis.connection_pool)


class Limits:
    """The deployment's limits; ``check`` raises RateLimited, the other methods answer facts."""

    def __init__(self, redis: Redis | RedisCluster, settings: Settings):
        self.limiter = FixedWindowRateLimiter(_storage(redis))
        self.login_per_address = _item(settings.limit_login_per_address)
        self.login_failures = _item(settings.limit_login_failures)
        self.issue_per_kiosk = _item(settings.limit_issue_per_kiosk)
        self.reads_per_address = _item(settings.limit_reads_per_address)
        self.home_per_address = _item(settings.limit_home_per_address)
        self.home_per_person = _item(settings.limit_home_per_person)
        self.codes_per_address = _item(settings.limit_codes_per_address)
        self._warned_at = 0.0

    async def check(self, item: RateLimitItem | None, kind: str, who: str, message: str) -> None:
        """Count one hit of ``kind`` by ``who``; RateLimited (with when to retry) once over ``item``."""
        if item is None:
            return
        try:
            if await self.limiter.hit(item, kind, who):
                return
            retry = await self.retry_after_s(item, kind, who)
        except StorageError as exc:
            self._storage_failed(exc)
            return
        raise RateLimited(f"{message} Vui lòng thử lại sau {retry} giây. / Too many requests; retry in {retry} s.",
                          retry_after_s=retry)

    async def retry_after_s(self, item: RateLimitItem, kind: str, who: str) -> int:
        reset_at, _remaining = await self.limiter.get_window_stats(item, kind, who)
        return max(1, math.ceil(reset_at - time.time()))

    # -- logins -----------------------------------------------------------------------------------
    async def locked_until(self, username: str) -> float | None:
        """When a user name locked out by failed logins may try again (epoch seconds), or None."""
        if self.login_failures is None:
            return None
        try:
            if await self.limiter.test(self.login_failures, "login-failure", username):
                return None
            reset_at, _ = await self.limiter.get_window_stats(self.login_failures, "login-failure", username)
        except StorageError as exc:
            self._storage_failed(exc)
            return None
        return reset_at

    async def login_failed(self, username: str) -> bool:
        """Count a failed login; True when this failure locked the user name out."""
        if self.login_failures is None:
            return False
        try:
            await self.limiter.hit(self.login_failures, "login-failure", username)
            return not await self.limiter.test(self.login_failures, "login-failure", username)
        except StorageError as exc:
            self._storage_failed(exc)
            return False

    async def login_succeeded(self, username: str) -> None:
        if self.login_failures is not None:
            try:
                await self.limiter.clear(self.login_failures, "login-failure", username)
            except StorageError as exc:
                self._storage_failed(exc)

    def _storage_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            logger.warning("rate limits unavailable (%s): requests pass unlimited meanwhile", exc)
