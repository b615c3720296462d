"""The simulator and ``qserver demo`` include numbers taken on phones and booked visits checked in at the
kiosk: what the report counts is what the server holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import signal

import httpx
import redis as sync_redis

from qserver.simulation import load_config, run_simulation
from qserver.simulation.home import person_numbers
from tests.home.conftest import CHECKIN_BEFORE_MINUTES
from tests.support import TIMEOUT, wait_until

SITE = "/api/v1/sites/cantho"


def test_simulated_citizens_have_valid_numbers():
    """The simulator's CCCD and mobile numbers pass the server's own checks, and repeat with the seed."""
    import random

    from qserver.engine.citizen import check_id_number, check_phone

    rng, again = random.Random(3), random.Random(3)
    pairs = [person_numbers(rng) for _ in range(200)]
    assert pairs == [person_numbers(again) for _ in range(200)]
    assert all(check_id_number(c) == c and check_phone(p) == p for c, p in pairs)


async def test_a_simulated_day_takes_numbers_online_and_checks_bookings_in(home_server, redis_server):
    """A third of the arrivals on phones, two bookings per agency (open now on the all-day hall): the report's
    online, booked and checked-in counts are the server's online tickets, bookings and appointment tickets."""
    counters = 6

    def configure(layout):
        base = load_config(layout, counters=counters, rate=15, duration_s=4, seed=5)
        return dataclasses.replace(base, online_share=0.33, bookings_per_agency=2, booking_no_show=0.0)

    report = await run_simulation(home_server.base_url, "cantho", configure,
                                  manager_token=home_server.token("manager"), kiosk_token=home_server.token("kiosk"))
    client = sync_redis.Redis.from_url(redis_server.url)
    events = [json.loads(fields[b"e"]) for _, fields in client.xrange("qs:{cantho}:events")]
    client.close()
    issued = [e["ticket"] for e in events if e["type"] == "issued"]
    channels = {channel: sum(1 for t in issued if t.get("channel", "kiosk") == channel)
                for channel in ("kiosk", "online", "appointment")}
    booked = [e for e in events if e["type"] == "booked"]
    assert report.errors == {}, report.errors
    assert report.counts["online"] == channels["online"] > 10
    assert report.counts["booked"] == len(booked) > 0 and len(booked) % 2 == 0
    # Nobody stays away: every booking whose check-in window was open when it was made is checked in (a
    # booking of tomorrow's first slots would open only at midnight).
    def open_when_made(event) -> bool:
        made = dt.datetime.fromtimestamp(event["at"] / 1000, home_server.tz)
        return (event["booking"]["day"] == made.date().isoformat()
                and event["booking"]["slot_at"] - CHECKIN_BEFORE_MINUTES * 60_000 <= event["at"])

    assert report.counts["checked_in"] == channels["appointment"] == sum(map(open_when_made, booked))
    assert report.counts["issued"] == len(issued)


def test_the_demo_shows_online_numbers_and_bookings(tmp_path, redis_server, flushed):
    """`qserver demo` prints the phone and booking pages; soon online tickets wait and bookings exist."""
    from tests.qserver.test_demo import answers, start_demo

    process, port, log = start_demo(tmp_path, "--duration", "20", "--no-announcer",
                                    env={"QSERVER_REDIS_URL": redis_server.url})
    try:
        wait_until(lambda: (r := answers(process, port, log)) is not None and r.status_code == 200,
                   what="the demo's /healthz")
        token = wait_until(lambda: re.search(r"manager  (\S+)", log.read_text()), what="the printed tokens").group(1)
        headers = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{port}"

        def online_waiting():
            console = httpx.get(f"{base}{SITE}/console", headers=headers, timeout=TIMEOUT).json()
            return any(t["channel"] == "online" for a in console["agencies"] for t in a["tickets"])

        wait_until(online_waiting, timeout=3 * TIMEOUT, what="an online number in a queue")
        days = httpx.get(f"{base}{SITE}/appointments", timeout=TIMEOUT).json()["days"][:2]

        def bookings():
            return sum(len(httpx.get(f"{base}{SITE}/appointments/{day}", headers=headers, timeout=TIMEOUT)
                           .json()["bookings"]) for day in days)

        # the demo books its visits one after another: wait for the third, not the first
        wait_until(lambda: bookings() >= 3, timeout=3 * TIMEOUT, what="three bookings")
        assert httpx.get(f"{base}/s/cantho", timeout=TIMEOUT).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    assert f"http://127.0.0.1:{port}/s/cantho" in output and f"http://127.0.0.1:{port}/s/cantho/hen" in output
