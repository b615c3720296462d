"""Before serving: is the configured Redis there, and is it what the URL says?

:func:`check_redis` answers within ``wait_s`` (a Redis that starts a few seconds after qserver is waited
for) and raises one error naming the problem otherwise; ``qserver run`` prints it on one line and exits
with status 2:

- a URL of no known form: :class:`~qserver.settings.SettingsError` (from :mod:`qserver.redis_url`);
- nothing answers (no sentinel, no cluster node, no server): :class:`~qserver.exceptions.Unavailable`
  after ``wait_s``, naming every address tried and why;
- something answers but is not what the URL says (the sentinels know no such master, a cluster URL
  pointing at a server without cluster mode, a wrong password): Unavailable at once, no waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .connection import SENTINEL_TIMEOUT_S, connect_target
from .exceptions import Unavailable
from .redis_url import CLUSTER, SENTINEL, RedisTarget, parse_redis_url

__all__ = ["check_redis"]

logger = logging.getLogger(__name__)

#: Between two attempts while waiting for Redis to come up.
RETRY_EVERY_S = 0.25


class _Misconfigured(Exception):
    """Redis answers, but is not what ``QSERVER_REDIS_URL`` says: waiting would not help (private: it
    leaves :func:`check_redis` as Unavailable)."""


async def check_redis(url: str, *, wait_s: float = 10.0) -> str:
    """A description of the Redis that answered (for the start-up log line), or an error naming the problem."""
    target = parse_redis_url(url)
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        try:
            return await _probe(target)
        except _Misconfigured as exc:
            raise Unavailable(str(exc)) from exc
        except Unavailable as exc:
            if time.monotonic() + RETRY_EVERY_S > deadline:
                raise Unavailable(f"{exc.message} (waited {wait_s:g} s, QSERVER_REDIS_START_WAIT_S)") from exc
            if not announced:
                logger.warning("waiting up to %g s for Redis: %s", wait_s, exc.message)
                announced = True
            await asyncio.sleep(RETRY_EVERY_S)


async def _probe(target: RedisTarget) -> str:
    if target.kind == SENTINEL:
        return await _probe_sentinel(target)
    if target.kind == CLUSTER:
        return await _probe_cluster(target)
    client = connect_target(target)
    try:
        await _ping(client, target.describe())
    finally:
        await client.aclose()
    return target.describe()


async def _ping(client: Any, what: str) -> None:
    try:
        await client.ping()
    except AuthenticationError as exc:
        raise _Misconfigured(f"Redis at {what} refuses the credentials: {exc}") from exc
    except ResponseError as exc:  # NOAUTH, WRONGPASS, ...
        raise _Misconfigured(f"Redis at {what} refuses the connection: {exc}") from exc
    except (RedisError, OSError) as exc:
        raise Unavailable(f"Redis at {what} does not answer: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words (redis-py's messages repeat the address)."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, (RedisTimeoutError, TimeoutError)) or "timeout" in lowered or "timed out" in lowered:
        return "no answer in time"
    if "connect call failed" in lowered or "refused" in lowered or "error 111 " in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "error -2 " in lowered:
        return "unknown host"
    return text.splitlines()[0][:200]


def _node(host: str, port: int, **options: Any) -> Redis:
    return Redis(host=host, port=port, socket_timeout=SENTINEL_TIMEOUT_S, socket_connect_timeout=SENTINEL_TIMEOUT_S,
                 retry=None, **options)


async def _probe_sentinel(target: RedisTarget) -> str:
    """Ask every sentinel which masters it monitors; the URL's master must be one of them, and answer."""
    unreachable, known = [], set()
    found = None
    for host, port in target.hosts:
        sentinel = _node(host, port)
        try:
            masters = await sentinel.sentinel_masters()
        except (RedisError, OSError) as exc:
            unreachable.append(f"{host}:{port} ({_reason(exc)})")
            continue
        finally:
            await sentinel.aclose()
        known.update(masters)
        state = masters.get(target.master)
        if state and found is None:
            found = state
    if not known and unreachable:
        raise Unavailable(f"no sentinel answers: {', '.join(unreachable)}")
    if found is None:
        raise _Misconfigured(f"the sentinels at {', '.join(f'{h}:{p}' for h, p in target.hosts)} monitor no master "
                            f"named '{target.master}' (they monitor: {', '.join(sorted(known)) or 'none'})")
    if not found["is_master"] or found["is_sdown"] or found["is_odown"]:
        raise Unavailable(f"the sentinels see master '{target.master}' at {found['ip']}:{found['port']} down "
                          "(a fail-over may be under way)")
    client = connect_target(target)
    try:
        await _ping(client, f"{found['ip']}:{found['port']} (master '{target.master}')")
    finally:
        await client.aclose()
    return f"{target.describe()}: master at {found['ip']}:{found['port']}"


async def _probe_cluster(target: RedisTarget) -> str:
    """Every listed node that answers must be a cluster node; the cluster must cover every slot."""
    unreachable, reachable = [], 0
    for host, port in target.hosts:
        node = _node(host, port, username=target.username, password=target.password)
        try:
            info = await node.info("cluster")
        except (AuthenticationError, ResponseError) as exc:
            raise _Misconfigured(f"cluster node {host}:{port} refuses the connection: {_reason(exc)}") from exc
        except (RedisError, OSError) as exc:
            unreachable.append(f"{host}:{port} ({_reason(exc)})")
            continue
        finally:
            await node.aclose()
        if not int(info.get("cluster_enabled", 0)):
            raise _Misconfigured(f"{host}:{port} is not a Redis Cluster node (cluster mode is off); "
                                "use redis://host:port/db for a single server")
        reachable += 1
    if not reachable:
        raise Unavailable(f"no cluster node answers: {', '.join(unreachable)}")
    client = connect_target(target)
    try:
        await client.initialize()
        primaries = client.get_primaries()
        await asyncio.gather(*(client.ping(target_nodes=node) for node in primaries))
    except (RedisError, OSError) as exc:  # slots not covered, a primary down
        raise Unavailable(f"the Redis Cluster via {', '.join(f'{h}:{p}' for h, p in target.hosts)} is not "
                          f"ready: {_reason(exc)}") from exc
    except Exception as exc:  # RedisClusterException is no RedisError
        raise Unavailable(f"the Redis Cluster via {', '.join(f'{h}:{p}' for h, p in target.hosts)} is not "
                          f"ready: {_reason(exc)}") from exc
    finally:
        await client.aclose()
    return f"{target.describe()}: {len(primaries)} primaries ({', '.join(n.name for n in primaries)})"
