"""Fixtures for the whole suite: a real redis-server for the session, engines with a fake clock,
the app in-process (a real uvicorn on a free port), and ``qserver run`` as a subprocess.
Helpers live in :mod:`tests.support`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis as sync_redis
from redis.asyncio import Redis

import config
from qserver.clock import FakeClock
from qserver.engine import SiteEngine
from tests.support import TIMEOUT, MORNING, LiveApp, RedisServer, ServerProcess


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture
def flushed(redis_server):
    """An empty database for this test."""
    client = sync_redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()


@pytest.fixture
async def redis(redis_server, flushed):
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def site() -> config.Site:
    return config.load_sites()["cantho"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MORNING)


@pytest.fixture
async def engine(redis, site, clock) -> SiteEngine:
    engine = SiteEngine(redis, site, clock, secret=b"test-secret")
    await engine.seed_counters()
    return engine


@pytest.fixture
async def live(redis_server, flushed, tmp_path, clock):
    """The app on a real uvicorn in this event loop, with the fake clock (hours ignored)."""
    app = LiveApp(redis_server.url, tmp_path, clock)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
def server(redis_server, flushed, tmp_path):
    """A running ``qserver run`` subprocess (always open) on a free port against the session's Redis."""
    process = ServerProcess(redis_server.url, tmp_path)
    process.start()
    yield process
    process.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("chromium is not installed (make test installs it with apt)")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path):
    """A headless Chromium through Playwright's sync API, one per test module (the managers' tests use an
    async one of their own); every ``expect`` waits up to the suite's timeout."""
    from playwright.sync_api import expect, sync_playwright

    from tests.support.browser import CHROMIUM_ARGS

    expect.set_options(timeout=TIMEOUT * 1000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
