"""Faults on a real `qserver run` process: Redis restarted (AOF), the server killed and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.support import TIMEOUT, free_port, wait_until

SITE = "/api/v1/sites/cantho"


def day_state(server) -> dict:
    state = server.call("GET", f"{SITE}/state").json()
    return {"waiting": state["waiting"], "calls": [c["ticket"] for c in state["calls"]],
            "serving": {c["id"]: (c["current"] or {}).get("id") for c in state["counters"]}}


def test_redis_restart_keeps_every_ticket(server, redis_server):
    """Redis restarted mid-day (append-only file): queues, current tickets and numbering are intact."""
    kiosk, officer = server.token("kiosk"), server.token("officer", ["12", "33"])
    for agency in ("so-noi-vu", "so-noi-vu", "so-tu-phap", "so-noi-vu"):
        assert server.call("POST", f"{SITE}/tickets", kiosk, {"agency": agency}).status_code == 201
    assert server.call("POST", f"{SITE}/counters/12/call-next", officer).json()["number"] == "E001"
    before = day_state(server)
    redis_server.restart()
    wait_until(lambda: server.call("GET", "/healthz").status_code == 200, what="healthz after the restart")
    assert day_state(server) == before
    assert server.call("POST", f"{SITE}/counters/12/call-next", officer).json()["number"] == "E002"
    assert server.call("POST", f"{SITE}/tickets", kiosk, {"agency": "so-noi-vu"}).json()["number"] == "E004"


def test_server_killed_and_restarted_loses_nothing(server):
    """SIGKILL of the server loses no ticket: after a restart the same state is served."""
    kiosk, officer = server.token("kiosk"), server.token("officer", ["12"])
    for _ in range(3):
        server.call("POST", f"{SITE}/tickets", kiosk, {"agency": "so-noi-vu"})
    server.call("POST", f"{SITE}/counters/12/call-next", officer)
    before = day_state(server)
    server.kill()
    server.start()
    assert day_state(server) == before
    assert server.call("POST", f"{SITE}/counters/12/call-next", officer).json()["number"] == "E002"


def test_ctrl_c_stops_the_server_before_its_embedded_redis(tmp_path):
    """Ctrl-C in a terminal signals the whole process group: the server still shuts down first and then
    stops its Redis (a Redis that took the SIGINT itself died under the running server: "Redis is
    unreachable" at every stop)."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "QSERVER_DATA_DIR": str(tmp_path / "var"), "HOME": str(tmp_path)}
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "qserver", "run", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT)

        def healthy():
            try:
                return http.get("/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, what="qserver with its embedded Redis")
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/ws?site=cantho&topics=site") as ws:
            ws.recv(timeout=TIMEOUT)
            os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
            assert process.wait(timeout=TIMEOUT) == 0
        assert not (tmp_path / "var" / "redis.url").exists(), "the embedded Redis was not stopped"
        output = log.read_text()
        assert "unreachable" not in output and "Traceback" not in output, output[-2000:]
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()


def test_sigterm_stops_server_and_embedded_redis(tmp_path):
    """`qserver run` with its embedded Redis stops both within seconds on SIGTERM, websockets open or not."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "QSERVER_DATA_DIR": str(tmp_path / "var"), "HOME": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "qserver", "run", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT)

        def healthy():
            try:
                return http.get("/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, what="qserver with its embedded Redis")
        url = (tmp_path / "var" / "redis.url").read_text()
        assert url.startswith("unix://")
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/ws?site=cantho&topics=site") as ws:
            ws.recv(timeout=TIMEOUT)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=TIMEOUT) == 0
            assert time.monotonic() - started < 5
        assert not (tmp_path / "var" / "redis.url").exists(), "the embedded Redis was not stopped"
    finally:
        if process.poll() is None:  # a failed assertion: stop it the polite way, so its Redis stops too
            process.terminate()
            try:
                process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
