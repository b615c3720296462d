"""The ASGI app factory: ``create_app(settings, *, redis=None, clock=None)``.

The lifespan opens Redis (unless one is given), seeds each site's counters, starts the hub, and
closes everything on the way out. No module-level clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

import config

from .api import json_response
from .api import routes as api_routes
from .auth import Auth
from .clock import Clock, SystemClock
from .engine import SiteEngine
from .exceptions import QServerError, Unavailable
from .hub import Hub
from .manager import routes as manager_routes
from .metrics import Metrics
from .pages import routes as page_routes
from .settings import Settings
from .ws import routes as ws_routes

__all__ = ["create_app", "connect_redis"]

logger = logging.getLogger(__name__)

#: Connections one process keeps to Redis at most (the hub's stream readers hold one each).
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
    return Redis(connection_pool=BlockingConnectionPool.from_url(url, **options))


async def _error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, QServerError):
        exc = Unavailable("Mất kết nối tới Redis. / Redis is unreachable.")
    return json_response(exc.body(), exc.status)


async def _prepare(engines: dict[str, SiteEngine], metrics: Metrics) -> None:
    """Seed counters and the waiting gauge; retried until Redis answers (it may start after us)."""
    delay = 0.2
    while True:
        try:
            for slug, engine in engines.items():
                await engine.seed_counters()
                state = await engine.state()
                for agency, count in state["waiting"].items():
                    metrics.waiting.labels(slug, agency).set(count)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("cannot prepare the sites yet (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def create_app(settings: Settings | None = None, *, redis: Redis | None = None, clock: Clock | None = None,
               sites: dict[str, config.Site] | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    sites = sites if sites is not None else config.load_sites(*settings.config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        own_redis = redis is None
        client = redis or connect_redis(settings.redis_url or "redis://127.0.0.1:6379/0")
        secret = settings.secret_bytes()
        engines = {slug: SiteEngine(client, site, clock, secret=secret, stream_maxlen=settings.stream_maxlen,
                                    always_open=settings.always_open) for slug, site in sites.items()}
        metrics = Metrics()
        hub = Hub(client, sites, engines, settings, metrics)
        app.state.redis, app.state.engines, app.state.hub = client, engines, hub
        app.state.auth = Auth(client, cache_s=settings.token_cache_s)
        app.state.metrics, app.state.clock = metrics, clock
        preparing = asyncio.create_task(_prepare(engines, metrics))
        await hub.start()
        try:
            yield
        finally:
            preparing.cancel()
            await hub.stop()
            if own_redis:
                await client.aclose()

    app = Starlette(routes=[*api_routes, *ws_routes, *page_routes, *manager_routes], lifespan=lifespan,
                    exception_handlers={QServerError: _error, RedisError: _error, ConnectionError: _error})
    app.state.sites = sites
    app.state.settings = settings
    return app
