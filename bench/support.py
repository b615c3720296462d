"""Shared pieces of the benchmarks: a private redis-server, a `qserver run` process, a lean HTTP/1.1
keep-alive client (so the load generator does not eat the CPU the server needs), percentiles."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qserver.auth import new_token  # noqa: E402
from qserver.embedded_redis import find_redis_server  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))
    return ordered[index]


def summary(name: str, latencies_s: list[float], elapsed_s: float) -> str:
    ms = [v * 1000 for v in latencies_s]
    return (f"{name:<34} {len(ms):>7} ops  {len(ms) / elapsed_s:>9,.0f} ops/s  "
            f"p50 {percentile(ms, 0.5):6.2f} ms  p99 {percentile(ms, 0.99):6.2f} ms  max {max(ms):7.2f} ms")


def pin_process(pid: int, cpus: set[int]) -> None:
    """Run every thread of a process on these CPUs only (Linux)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(task), cpus)
        except (ProcessLookupError, PermissionError):
            pass


def cpu_seconds(pid: int) -> float:
    """CPU time every thread of a process has run so far (Linux schedstat, nanoseconds)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


class RedisProcess:
    """A private redis-server on a free port. ``aof=True`` gives it the persistence of qserver's embedded
    one (append-only file, fsync every second); the default is none, so figures are the engine's."""

    def __init__(self, aof: bool = False):
        self.dir = Path(tempfile.mkdtemp(prefix="qserver-bench-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if aof else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [find_redis_server(os.environ.get("QSERVER_REDIS_SERVER")), "--port", str(self.port), "--bind",
             "127.0.0.1", "--save", "", *persistence, "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        self.client = client

    def token(self, role: str, counters=(), site: str = "cantho") -> str:
        token, key, value = new_token(role, site, tuple(counters), "bench")
        self.client.set(key, value)
        return token

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.05)


class ServerProcess:
    name = "qserver"

    def __init__(self, redis_url: str, extra_env: dict | None = None, checkout: Path | None = None):
        """``checkout``: run the qserver of that source tree instead of this one (``python -m`` puts the
        working directory first on the path, so the server runs there)."""
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="qserver-bench-"))
        # Load generators issue and read far faster than a hall: the per-kiosk and per-address limits are
        # off unless a benchmark turns them on (bench/hardening.py measures the login limits).
        env = {**os.environ, "QSERVER_REDIS_URL": redis_url, "QSERVER_ALWAYS_OPEN": "1",
               "QSERVER_DATA_DIR": str(self.dir), "QSERVER_LOG_LEVEL": "warning",
               "QSERVER_LIMIT_ISSUE_PER_KIOSK": "", "QSERVER_LIMIT_READS_PER_ADDRESS": "", **(extra_env or {})}
        self.process = subprocess.Popen([sys.executable, "-m", "qserver", "run", "--port", str(self.port)],
                                        env=env, cwd=checkout, stdout=subprocess.DEVNULL,
                                        stderr=open(self.dir / "server.log", "wb"))
        wait_for_port(self.port, self.process, "qserver")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def pin(self, cpus: set[int]) -> None:
        pin_process(self.process.pid, cpus)

    def cpu_s(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"server log: {self.dir / 'server.log'}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class FloorProcess(ServerProcess):
    """One of the floors of ``../shared/bench`` (floor_http.py, floor_ws.py) as a process, with the same
    handles as :class:`ServerProcess` (port, pin, rss_kib, cpu_s, stop)."""

    def __init__(self, script: Path, redis_url: str | None = None):
        self.name = script.stem
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="qserver-bench-floor-"))
        command = [sys.executable, str(script), "--port", str(self.port)]
        if redis_url:
            command += ["--redis-url", redis_url]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=open(self.dir / "server.log", "wb"))
        wait_for_port(self.port, self.process, script.name)


class HttpConnection:
    """One keep-alive HTTP/1.1 connection: send a request, read status and body (Content-Length)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, port: int) -> "HttpConnection":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, f"127.0.0.1:{port}")

    async def request(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
        self.writer.write(head + payload)
        status_line = await self.reader.readline()
        if not status_line:  # the server closed the idle keep-alive connection (after 5 s): open another
            host, _, port = self.host.rpartition(":")
            self.reader, self.writer = await asyncio.open_connection(host, int(port))
            self.writer.write(head + payload)
            status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    def close(self) -> None:
        self.writer.close()


def redis_connections(pid: int, redis_port: int) -> int:
    """TCP connections a process holds open to Redis on ``redis_port`` (Linux: its socket fds matched
    against /proc/net/tcp), the number ``CLIENT LIST`` shows for it."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            established = fields[3] == "01"
            if established and int(fields[2].rsplit(":", 1)[1], 16) == redis_port and fields[9] in inodes:
                count += 1
    return count
