"""The ASGI app factory: ``create_app(settings, *, redis=None, clock=None, sites=None)``.

The lifespan opens Redis (unless one is given), seeds each site's counters, starts the hub, and
closes everything on the way out. No module-level clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

import config

from ..auth import Auth, audit_to
from ..clock import Clock, SystemClock
from ..connection import client_name, connect_redis
from ..engine import ScriptBatcher, SiteEngine
from ..engine.replication import Replication
from ..exceptions import QServerError
from ..heap import HeapKeeper
from ..live.endpoint import routes as ws_routes
from ..live.hub import Hub
from ..managers.city import page_routes as city_pages
from ..managers.web import page_routes as manager_pages
from ..metrics import Metrics
from ..notify import HomeWorker
from ..printing.sites import load_printers
from ..procedures import load_catalogues
from ..ratelimits import Limits
from ..settings import Settings
from .guard import Guard
from .home_pages import routes as home_pages
from .http import error_response, http_error_response
from .pages import routes as display_pages
from .routes import api_routes

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


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
    # Each site's procedure catalogue (with its search index) and printers, read once per process: a
    # broken file stops the start here, with every problem (`qserver check-config` lists them first).
    catalogues = load_catalogues(sites)
    printers = {slug: load_printers(site) for slug, site in sites.items()}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        own_redis = redis is None
        client = redis or connect_redis(settings.redis_url or "redis://127.0.0.1:6379/0", name=client_name())
        secret = settings.secret_bytes()
        metrics = Metrics()
        # One for every site: WAIT for the configured replicas after each write, on the write's connection.
        replication = Replication(client, settings.redis_wait_replicas, settings.redis_wait_timeout_ms,
                                  on_unconfirmed=metrics.unconfirmed)
        batcher = ScriptBatcher(client)  # every site's transitions share its pipe
        engines = {slug: SiteEngine(client, site, clock, secret=secret, stream_maxlen=settings.stream_maxlen,
                                    always_open=settings.always_open, replication=replication,
                                    catalogue=catalogues[slug].catalogue, batcher=batcher)
                   for slug, site in sites.items()}
        hub = Hub(client, sites, engines, settings, metrics)
        app.state.redis, app.state.engines, app.state.hub = client, engines, hub
        app.state.auth = Auth(client, cache_s=settings.token_cache_s, audit=audit_to(engines))
        app.state.limits = Limits(client, settings)
        app.state.metrics, app.state.clock = metrics, clock
        preparing = asyncio.create_task(_prepare(engines, metrics))
        heap = HeapKeeper(settings.gc_freeze_s, metrics.idle_s)
        heap.start()
        await hub.start()
        app.state.worker = worker = HomeWorker(client, engines, settings, metrics)
        if settings.home_worker:
            await worker.start()
        try:
            yield
        finally:
            preparing.cancel()
            await heap.stop()
            await worker.stop()
            await hub.stop()
            app.state.auth.close()
            await hub.reader.aclose()
            await batcher.aclose()
            if own_redis:
                await client.aclose()

    app = Starlette(routes=[*api_routes(), *ws_routes, *display_pages, *home_pages, *city_pages, *manager_pages],
                    lifespan=lifespan, middleware=[Middleware(Guard, max_body_bytes=settings.max_body_bytes)],
                    exception_handlers={HTTPException: http_error_response, QServerError: error_response,
                                        RedisError: error_response,
                                        # a cluster between primaries: a slot not covered yet, no node reached
                                        RedisClusterException: error_response,
                                        OSError: error_response})  # a socket's error or timeout: 503
    app.state.sites = sites
    app.state.settings = settings
    app.state.catalogues, app.state.printers = catalogues, printers
    return app
