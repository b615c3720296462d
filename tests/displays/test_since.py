"""qs.js resumes from a fresh ``since``: a display whose topics are quiet takes the heartbeats' ``up_to``
(never moving back), so after a cut it gets a replay of what it missed instead of a new snapshot."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import redis as sync_redis

from qserver.engine.keys import SiteKeys
from tests.support import TIMEOUT, ServerProcess, wait_until
from tests.support.browser import Pages

pytestmark = pytest.mark.browser


@pytest.fixture
def quick_server(redis_server, flushed, tmp_path):
    """``qserver run`` with heartbeats every 0.2 s and a replay limit of 10 events."""
    process = ServerProcess(redis_server.url, tmp_path,
                            extra_env={"QSERVER_HEARTBEAT_S": "0.2", "QSERVER_REPLAY_MAX_EVENTS": "10"})
    process.start()
    yield process
    process.close()


@pytest.fixture
def pages(browser, quick_server):
    opened = Pages(browser, quick_server)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors: {opened.errors}"


def test_next_since_takes_later_heartbeats_only(pages):
    """QS.nextSince: events and snapshots set since; a heartbeat's up_to only when later; results never."""
    page = pages.open("/d/cantho/counter/9")
    cases = page.evaluate("""[
      QS.nextSince(null, {type: "snapshot", event_id: "5-1"}),
      QS.nextSince("5-1", {type: "heartbeat", event_id: null, up_to: "7-0"}),
      QS.nextSince("7-0", {type: "heartbeat", event_id: null, up_to: "6-9"}),
      QS.nextSince("10-0", {type: "heartbeat", event_id: null, up_to: "9-99"}),
      QS.nextSince("9-2", {type: "heartbeat", event_id: null, up_to: "9-10"}),
      QS.nextSince("7-0", {type: "heartbeat", event_id: null}),
      QS.nextSince("7-0", {type: "result", event_id: "8-0"}),
      QS.nextSince("7-0", {type: "called", event_id: "8-0"}),
      QS.nextSince(null, {type: "heartbeat", event_id: null, up_to: "3-0"})
    ]""")
    assert cases == ["5-1", "7-0", "7-0", "10-0", "9-10", "7-0", "7-0", "8-0", "3-0"]


def test_a_quiet_display_resumes_with_a_replay(quick_server, pages):
    """A page following a quiet agency keeps the heartbeats' up_to; cut after many events elsewhere, it
    reconnects with since=up_to and gets the one event it missed, not a second snapshot."""
    opened, paused = [], set()

    def relay(route):
        """Pass the server's frames on, until the socket is "cut" (what follows is lost)."""
        opened.append(route)
        upstream = route.connect_to_server()
        upstream.on_message(lambda message: None if route.url in paused else route.send(message))

    page = pages.open("/d/cantho/counter/9", before=lambda p: p.route_web_socket("**/ws?*", relay))
    page.evaluate("""window.__frames = [];
      window.__link = QS.live({topics: ["agency:so-y-te"], banner: false,
                               onFrame: function (frame) { window.__frames.push(frame); }});""")
    wait_until(lambda: page.evaluate("window.__frames.length") == 1, what="the quiet link's snapshot")
    kiosk = quick_server.token("kiosk")
    for _ in range(8):  # 16 events of another agency: more than the replay limit
        assert quick_server.call("POST", "/api/v1/sites/cantho/tickets", kiosk, {"agency": "so-noi-vu"}).status_code == 201
    redis = sync_redis.Redis.from_url(quick_server.redis_url)
    last = redis.xrevrange(SiteKeys("cantho").events, count=1)[0][0].decode()
    redis.close()
    wait_until(lambda: page.evaluate("window.__link.lastEventId()") == last, timeout=TIMEOUT,
               what="the heartbeats' up_to")
    ours = [r for r in opened if "so-y-te" in r.url]
    assert len(ours) == 1
    paused.add(ours[0].url)   # the network fails: what comes now is lost, then the socket is closed
    ticket = quick_server.call("POST", "/api/v1/sites/cantho/tickets", kiosk, {"agency": "so-y-te"}).json()
    ours[0].close()
    wait_until(lambda: any(f.get("type") == "issued" for f in page.evaluate("window.__frames")),
               what="the missed event")
    resumed = [r for r in opened if "so-y-te" in r.url][-1]
    assert parse_qs(urlparse(resumed.url).query)["since"] == [last]
    frames = page.evaluate("window.__frames")
    assert [f["type"] for f in frames][:2] == ["snapshot", "issued"]
    assert frames[1]["ticket"]["id"] == ticket["id"]
