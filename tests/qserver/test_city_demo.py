"""`qserver demo --city` as a subprocess: 104 centers come alive, the city console URL and login are
printed and work, the short-of-staff communes show at the top, and --duration ends it."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.demo import answers, start_demo
from tests.support import TIMEOUT, wait_until

pytestmark = pytest.mark.slow


def test_city_demo_serves_104_live_centers_and_their_console(tmp_path, redis_server, flushed):
    """Calls happen at the center and at communes; the printed token and login open the city console."""
    duration = 5 * TIMEOUT + 10                  # long enough to look around on a busy machine
    process, port, log = start_demo(tmp_path, "--city", "--duration", f"{duration:g}",
                                    env={"QSERVER_REDIS_URL": redis_server.url})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: (r := answers(process, port, log)) is not None and r.status_code == 200,
                   timeout=TIMEOUT * 3, what="the city demo's /healthz")
        token = wait_until(lambda: (m := re.search(r"/m\?token=(\S+)", log.read_text())) and m.group(1),
                           what="the printed city console URL")
        headers = {"Authorization": f"Bearer {token}"}

        def busy():
            r = httpx.get(f"{base}/api/v1/city/console", headers=headers, timeout=TIMEOUT)
            body = r.json()
            called = {c["slug"] for c in body["centers"] if c["today"]["called"]}
            return "cantho" in called and len(called) >= 10 and body

        console = wait_until(busy, timeout=TIMEOUT * 4, what="calls at the center and at 10 communes")
        assert len(console["centers"]) == 104 and console["totals"]["counters"]["closed"] >= 3

        def center_busiest():
            # the center's arrival rate is several times any commune's: it soon leads (not always at first)
            centers = httpx.get(f"{base}/api/v1/city/console", headers=headers, timeout=TIMEOUT).json()["centers"]
            issued = {c["slug"]: c["today"]["issued"] for c in centers}
            return issued.pop("cantho") > max(issued.values())

        wait_until(center_busiest, timeout=TIMEOUT * 2, what="the center issuing more than any commune")
        output = log.read_text()
        short = re.findall(r"^    ([a-z0-9-]+): counter (\d+) closed, nobody calls (.+)$", output, re.M)
        assert len(short) == 3
        for slug, counter, _field in short:
            state = httpx.get(f"{base}/api/v1/sites/{slug}/state", timeout=TIMEOUT).json()
            assert next(c for c in state["counters"] if c["id"] == counter)["status"] == "closed"
        password = output.split("thanhpho / ")[1].split()[0]
        login = httpx.post(f"{base}/api/v1/login", json={"username": "thanhpho", "password": password})
        assert login.status_code == 200 and login.json()["site"] == "*" and login.json()["role"] == "manager"
        page = httpx.get(f"{base}/m", timeout=TIMEOUT)
        assert page.status_code == 200 and "Điều hành toàn thành phố" in page.text
        assert process.wait(timeout=duration + TIMEOUT * 2) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"--duration {duration:g}s reached" in log.read_text()
