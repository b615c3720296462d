"""Serving the app: uvicorn with qserver's options, the embedded Redis when no URL is set, and a
SIGTERM that stops both within a few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal

import config

from .connection import redis_url_for
from .redis_check import check_redis
from .settings import Settings

__all__ = ["serve", "raise_open_files_limit"]

logger = logging.getLogger(__name__)


def raise_open_files_limit() -> int:
    """Lift the soft limit of open files to the hard one: every display, pad and idle browser connection
    holds a descriptor, and 1,024 (a common default) is far below a city's screens."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            logger.warning("cannot raise the open files limit from %s: %s", soft, exc)
    return soft


def _uvicorn_server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises SIGTERM after its shutdown, which would kill the process before the
        embedded Redis is stopped: handle the signals without re-raising."""

        @contextlib.contextmanager
        def capture_signals(self):
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def serve(settings: Settings, *, clock=None, before_serving=None, sites: dict[str, config.Site] | None = None) -> None:
    """Run the app on uvicorn until SIGINT/SIGTERM, with the embedded Redis when no URL is set (``sites``:
    already loaded from ``settings.config``, so a city's thousand files are read once)."""
    import uvicorn

    from .live.fanout_protocol import FanoutProtocol
    from .web.app import create_app
    from .web.http_protocol import GuardedHttpProtocol

    _Server = _uvicorn_server_class()
    raise_open_files_limit()
    sites = sites if sites is not None else config.load_sites(*settings.config)
    with redis_url_for(settings) as url:
        # Before serving: a clear error (exit status 2) when Redis is not there or not what the URL says.
        logger.info("Redis: %s", asyncio.run(check_redis(url, wait_s=settings.redis_start_wait_s)))
        settings = settings.with_(redis_url=url)
        app = create_app(settings, clock=clock, sites=sites)
        server = _Server(uvicorn.Config(
            app, host=settings.host, port=settings.port, log_level=settings.log_level, lifespan="on",
            timeout_graceful_shutdown=3, ws_ping_interval=20, ws_ping_timeout=20, access_log=False,
            # The hub writes each event's frame bytes to every socket itself (qserver/live/).
            # Per-message deflate would make them differ per socket, and costs ~50 KiB and a
            # compression per frame for every browser (they all offer it): off.
            ws=FanoutProtocol or "auto", ws_per_message_deflate=False,
            # A frame over this closes the socket with 1009 (no client of ours sends more than a command).
            ws_max_size=settings.max_ws_message_bytes,
            # Idle keep-alive connections (a browser's spare sockets) are closed after 5 s, and a connection
            # that does not complete a request's headers within 10 s (a stalled or hostile client) too.
            timeout_keep_alive=5, http=GuardedHttpProtocol or "auto",
            # Behind a reverse proxy, the client's address (rate limits per address) is its X-Forwarded-For.
            proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips))
        if GuardedHttpProtocol is not None:
            GuardedHttpProtocol.headers_timeout_s = settings.headers_timeout_s
        if before_serving is not None:
            before_serving(settings, server)
        server.run()
