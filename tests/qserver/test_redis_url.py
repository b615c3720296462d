"""QSERVER_REDIS_URL: the three forms parsed in one place, bad ones refused at start-up with one clear line
(exit status 2, never a hang), and /healthz answering 503 promptly while Redis is away, then recovering."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from qserver.redis_url import CLUSTER, SENTINEL, STANDALONE, parse_redis_url
from qserver.settings import Settings, SettingsError
from tests.support import TIMEOUT, ServerProcess, free_port, wait_until
from tests.support.redis_topology import RedisProcess, free_ports


@pytest.mark.parametrize("url, kind, hosts, master, db, password", [
    ("redis://127.0.0.1:6379/2", STANDALONE, (("127.0.0.1", 6379),), "", 2, None),
    ("unix:///var/run/redis.sock", STANDALONE, (), "", 0, None),
    ("redis+sentinel://10.0.0.1:26379,10.0.0.2,10.0.0.3:26380/qmaster", SENTINEL,
     (("10.0.0.1", 26379), ("10.0.0.2", 26379), ("10.0.0.3", 26380)), "qmaster", 0, None),
    ("redis+sentinel://:s%40cret@h1:26379,h2:26379/qmaster/3", SENTINEL, (("h1", 26379), ("h2", 26379)),
     "qmaster", 3, "s@cret"),
    ("redis+cluster://n1:7000,n2:7001,[::1]:7002", CLUSTER, (("n1", 7000), ("n2", 7001), ("::1", 7002)), "", 0, None),
    ("redis+cluster://:pw@n1", CLUSTER, (("n1", 6379),), "", 0, "pw"),
])
def test_the_three_forms_parse(url, kind, hosts, master, db, password):
    """A standalone, a Sentinel and a Cluster URL give their kind, hosts (default ports), master, db and password."""
    target = parse_redis_url(url)
    assert (target.kind, target.master, target.db, target.password) == (kind, master, db, password)
    if hosts:
        assert target.hosts == hosts
    assert "cret" not in target.describe() and "pw" not in target.describe()


@pytest.mark.parametrize("url, problem", [
    ("", "is empty"),
    ("localhost:6379", "is not a URL"),
    ("memcached://h:11211", "unknown scheme 'memcached://'"),
    ("redis+sentinel://h:26379,h2:26379", "needs the master name after the sentinels"),
    ("redis+sentinel://h:26379/", "needs the master name after the sentinels"),
    ("redis+sentinel://h:26379/qmaster/one", "database 'one' is not a number"),
    ("redis+cluster://h:7000,h:7001/0", "a Redis Cluster has only database 0: remove '/0'"),
    ("redis+sentinel://h:26379,redis://h2:6379/qmaster", "mixes schemes ('redis://' inside a redis+sentinel:// URL)"),
    ("redis+cluster://h:7000,redis+sentinel://h:26379", "mixes schemes ('redis+sentinel://'"),
    ("redis://h1:6379,h2:6379/0", "lists several hosts (h1:6379,h2:6379)"),
    ("redis+cluster://h:70x0", "port '70x0' of host 'h:70x0' is not a number"),
    ("redis+cluster://h:99999", "port '99999' of host 'h:99999'"),
    ("redis+cluster://h:7000,,h:7001", "has an empty host in its list"),
    ("redis+cluster://h:7000?timeout=1", "takes no options"),
    ("redis://h:port/0", "port of 'h:port' is not a number"),
])
def test_a_bad_url_is_refused_naming_the_problem(url, problem):
    """Every malformed URL raises SettingsError that quotes the URL and names what is wrong with it."""
    with pytest.raises(SettingsError) as caught:
        parse_redis_url(url)
    message = str(caught.value)
    assert message.startswith("QSERVER_REDIS_URL=") and problem in message, message


def test_a_password_never_appears_in_an_error():
    """The password of a refused URL is masked in the message."""
    with pytest.raises(SettingsError) as caught:
        parse_redis_url("redis+sentinel://:hunter22@h:26379")
    assert "hunter22" not in str(caught.value) and ":***@h:26379" in str(caught.value)


def test_wait_settings_are_checked():
    """A negative replica count or a zero WAIT timeout (which would block for ever) is a settings error."""
    assert Settings.from_env({"QSERVER_REDIS_WAIT_REPLICAS": "2"}).redis_wait_replicas == 2
    with pytest.raises(SettingsError, match="QSERVER_REDIS_WAIT_REPLICAS=-1"):
        Settings.from_env({"QSERVER_REDIS_WAIT_REPLICAS": "-1"})
    with pytest.raises(SettingsError, match="QSERVER_REDIS_WAIT_TIMEOUT_MS=0"):
        Settings.from_env({"QSERVER_REDIS_WAIT_TIMEOUT_MS": "0"})


def run_refused(tmp_path, url: str, **env) -> tuple[str, float]:
    """``qserver run`` with ``url``: it must exit with status 2; (its error line, seconds it took)."""
    environ = {**os.environ, "QSERVER_REDIS_URL": url, "QSERVER_DATA_DIR": str(tmp_path / "var"),
               "QSERVER_REDIS_START_WAIT_S": "1", **env}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "qserver", "run", "--port", str(free_port())], env=environ,
                          capture_output=True, text=True, timeout=3 * TIMEOUT)
    elapsed = time.monotonic() - started
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2, done.stderr[-2000:]
    assert len(errors) == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return errors[0], elapsed


def test_qserver_run_refuses_a_bad_url_at_once(tmp_path):
    """A sentinel list without a master name stops `qserver run` with status 2 and one line saying so."""
    line, elapsed = run_refused(tmp_path, "redis+sentinel://127.0.0.1:26379,127.0.0.1:26380")
    assert "needs the master name after the sentinels" in line
    assert elapsed < TIMEOUT


def test_qserver_run_gives_up_on_an_absent_redis_after_the_start_wait(tmp_path):
    """Nothing listening: `qserver run` waits QSERVER_REDIS_START_WAIT_S, then exits 2 naming the address."""
    port = free_port()
    line, elapsed = run_refused(tmp_path, f"redis://127.0.0.1:{port}/0")
    assert f"Redis at redis://127.0.0.1:{port}/0 does not answer: connection refused" in line
    assert "waited 1 s" in line and elapsed < TIMEOUT


def test_healthz_is_503_promptly_while_redis_is_away_and_recovers(tmp_path):
    """Redis killed under a running server: every /healthz answers 503 within 2 s; Redis back on the same
    address: /healthz is 200 again without restarting qserver."""
    (port,) = free_ports(1)
    redis = RedisProcess(tmp_path / "redis", port, "--save", "", "--appendonly", "yes")
    redis.start()
    server = ServerProcess(f"redis://127.0.0.1:{port}/0", tmp_path)
    try:
        server.start()
        redis.kill()
        http = httpx.Client(base_url=server.base_url, timeout=TIMEOUT)
        slowest = 0.0
        for _ in range(5):
            started = time.monotonic()
            answer = http.get("/healthz")
            slowest = max(slowest, time.monotonic() - started)
            assert answer.status_code == 503 and answer.json() == {"ok": False, "redis": "unreachable"}
        assert slowest < 2.0, f"/healthz took {slowest:.2f} s with Redis away"
        redis.start()
        wait_until(lambda: http.get("/healthz").status_code == 200, what="/healthz after Redis came back")
        http.close()
    finally:
        server.close()
        redis.stop()
