"""Helpers the whole suite shares: one scalable timeout, waits, a throwaway redis-server, the app on a
real uvicorn in-process, ``qserver run`` as a subprocess, tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis as sync_redis

from qserver.auth import new_token
from qserver.embedded_redis import find_redis_server

#: One scalable timeout for every wait in the suite (raise it on a slow machine).
TIMEOUT = float(os.environ.get("QSERVER_TEST_TIMEOUT", "10"))


UTC = dt.timezone.utc


#: Tuesday 24 November 2026, 08:00 in Cần Thơ (UTC+7): inside the morning session.
MORNING = dt.datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = TIMEOUT, interval: float = 0.02, what="condition"):
    """``predicate()``'s first truthy result; ``what`` names it in the timeout's message (a callable is
    called only then, to describe the state it found)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what() if callable(what) else what}")
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


def make_token(url: str, role: str, site: str = "cantho", counters=(), name: str = "") -> str:
    token, key, value = new_token(role, site, tuple(counters), name or role)
    client = sync_redis.Redis.from_url(url)
    client.set(key, value)
    client.close()
    return token


class LiveApp:
    """The app in this process on a real uvicorn (real websockets), with an injectable clock.

    ``fanout=True`` serves websockets with the hub's :class:`FanoutProtocol` as ``qserver run`` does (the
    hub writes frames to the sockets itself); otherwise uvicorn's default, the endpoint's writer-task path.
    The fan-out app declines per-message deflate like ``qserver run`` unless ``deflate``.
    """

    def __init__(self, redis_url: str, tmp_path: Path, clock=None, *, fanout: bool = False, deflate: bool = False,
                 sites=None, **settings):
        from qserver.settings import Settings

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.redis_url = redis_url
        self.settings = Settings(port=self.port, redis_url=redis_url, data_dir=tmp_path / "var",
                                 always_open=settings.pop("always_open", True), **settings)
        self.clock = clock
        self.sites = sites  # None: the configured sites
        self.fanout, self.deflate = fanout, deflate
        self.server = None
        self.task = None

    def uvicorn_options(self) -> dict:
        from qserver.live.fanout_protocol import FanoutProtocol

        if not self.fanout:
            return {}  # uvicorn's defaults: the endpoint's writer-task path
        return {"ws": FanoutProtocol, "ws_per_message_deflate": self.deflate}

    async def start(self) -> None:
        import uvicorn

        from qserver.web.app import create_app

        self.app = create_app(self.settings, clock=self.clock, sites=self.sites)
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
