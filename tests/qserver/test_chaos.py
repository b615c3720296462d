"""Chaos against real processes: load over HTTP, kill -9 of ``qserver run``, Redis restarted from its
append-only file, display sockets cut at random and resumed; nothing acknowledged is lost and no display
misses an event of its topics (the harness is tests/support/chaos.py; bench/chaos.py runs it longer)."""

from __future__ import annotations

import os

import pytest

from tests.support import ServerProcess
from tests.support.chaos import Chaos, Plan

pytestmark = pytest.mark.chaos

#: Heartbeats every second carry the site's position, so a quiet display's ``since`` stays fresh; a replay
#: limit that a display on a ``since`` a few seconds stale would pass (~75 events a second) and a fresh one never.
#: Kiosks keep a real one's 60 tickets a minute: faster ones (600) doubled the event rate, past what that limit
#: was set for.
CHAOS_ENV = {"QSERVER_HEARTBEAT_S": "1", "QSERVER_REPLAY_MAX_EVENTS": "500"}


async def test_faults_lose_no_ticket_and_no_display_misses_an_event(redis_server, flushed, tmp_path):
    """Kiosks, officers and twelve displays through server kills and Redis restarts: every invariant holds."""
    seed = int(os.environ.get("QSERVER_CHAOS_SEED", "0")) or int.from_bytes(os.urandom(4), "big")
    server = ServerProcess(redis_server.url, tmp_path, extra_env=CHAOS_ENV)
    server.start()
    try:
        report = await Chaos(server, redis_server, Plan(seconds=30, seed=seed)).run()
    finally:
        server.close()
        if redis_server.process.poll() is not None:  # failed during a fault: the next tests need it
            redis_server.start()
    print(report.format())
    print("\n".join(report.problems()))
    assert report.tickets > 50 and report.faults["kill"] and report.faults["redis"] and report.faults["both"]
    assert report.connections > 3 * report.displays, "the displays were hardly cut"
    assert report.problems() == [], f"seed {seed}; log {server.log}\n" + report.format()
