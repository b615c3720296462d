"""Fixtures for the whole suite: a real redis-server for the session, engines with a fake clock,
the app in-process (httpx and a real uvicorn on a free port), and ``qserver run`` as a subprocess."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis as sync_redis
from redis.asyncio import Redis

import config
from qserver.auth import new_token
from qserver.clock import FakeClock
from qserver.embedded_redis import find_redis_server
from qserver.engine import SiteEngine

#: One scalable timeout for every wait in the suite (raise it on a slow machine).
TIMEOUT = float(os.environ.get("QSERVER_TEST_TIMEOUT", "10"))
UTC = dt.timezone.utc
#: Tuesday 24 November 2026, 08:00 in Cần Thơ (UTC+7): inside the morning session.
MORNING = dt.datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = TIMEOUT, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A throwaway redis-server with an append-only file, restartable in place."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [find_redis_server(os.environ.get("QSERVER_REDIS_SERVER")), "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always",
             "--dir", str(self.directory), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = sync_redis.Redis.from_url(self.url)
        wait_until(lambda: self._ping(client), what="redis-server to start")

    @staticmethod
    def _ping(client) -> bool:
        try:
            return client.ping()
        except sync_redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()


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


def make_token(url: str, role: str, site: str = "cantho", counters=(), name: str = "") -> str:
    token, key, value = new_token(role, site, tuple(counters), name or role)
    client = sync_redis.Redis.from_url(url)
    client.set(key, value)
    client.close()
    return token


class LiveApp:
    """The app in this process on a real uvicorn (real websockets), with an injectable clock."""

    def __init__(self, redis_url: str, tmp_path: Path, clock=None, **settings):
        from qserver.settings import Settings

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.redis_url = redis_url
        self.settings = Settings(port=self.port, redis_url=redis_url, data_dir=tmp_path / "var",
                                 always_open=settings.pop("always_open", True), **settings)
        self.clock = clock
        self.server = None
        self.task = None

    def uvicorn_options(self) -> dict:
        """uvicorn's defaults (the hub's fallback path); FanoutApp in test_hub_fanout.py adds its protocol."""
        return {}

    async def start(self) -> None:
        import uvicorn

        from qserver.web.app import create_app

        self.app = create_app(self.settings, clock=self.clock)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on", timeout_graceful_shutdown=1,
                                                    **self.uvicorn_options()))
        self.task = asyncio.create_task(self.server.serve())
        deadline = time.monotonic() + TIMEOUT
        while not self.server.started:
            if self.task.done():
                self.task.result()
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            await asyncio.wait_for(self.task, TIMEOUT)

    def token(self, role: str = "officer", counters=(), site: str = "cantho", name: str = "") -> str:
        return make_token(self.redis_url, role, site, counters, name)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT)


@pytest.fixture
async def live(redis_server, flushed, tmp_path, clock):
    """The app on a real uvicorn in this event loop, with the fake clock (hours ignored)."""
    app = LiveApp(redis_server.url, tmp_path, clock)
    await app.start()
    yield app
    await app.stop()


class ServerProcess:
    """``qserver run`` as a subprocess against the session's Redis: stop and start it like a real one."""

    def __init__(self, redis_url: str, tmp_path: Path, port: int | None = None, extra_env=None):
        self.redis_url = redis_url
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.data_dir = tmp_path / "var"
        self.log = tmp_path / f"qserver-{self.port}.log"
        self.env = {**os.environ, "QSERVER_REDIS_URL": redis_url, "QSERVER_DATA_DIR": str(self.data_dir),
                    "QSERVER_ALWAYS_OPEN": "1", **(extra_env or {})}
        self.process: subprocess.Popen | None = None
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT)

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "qserver", "run", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._healthy, what=f"qserver on port {self.port} (log: {self.log})")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"qserver exited: {self.log.read_text()[-2000:]}")
        try:
            return self._http.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def token(self, role: str = "officer", counters=(), site: str = "cantho", name: str = "") -> str:
        return make_token(self.redis_url, role, site, counters, name)

    def call(self, method: str, path: str, token: str | None = None, json=None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._http.request(method, path, headers=headers, json=json)

    def close(self) -> None:
        self.stop()
        self._http.close()


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
