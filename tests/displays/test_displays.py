"""Hall and counter displays in a real browser: calls reach the right floor, recalls flash, the
offline banner shows while the server is down and the screen catches up by itself afterwards."""

from __future__ import annotations

import json
import time

import pytest
import redis as sync_redis
from playwright.sync_api import expect

from qserver.engine.keys import SiteKeys
from tests.support import TIMEOUT, wait_until

pytestmark = pytest.mark.browser

#: A call must be on the hall screen this soon after the API answered (milliseconds in practice).
CALL_BOUND_S = 2.0 * TIMEOUT / 10


def issue(server, agency: str, token: str) -> dict:
    response = server.call("POST", "/api/v1/sites/cantho/tickets", token, {"agency": agency})
    assert response.status_code == 201, response.text
    return response.json()


def act(server, counter: str, action: str, token: str, **body) -> dict | None:
    response = server.call("POST", f"/api/v1/sites/cantho/counters/{counter}/{action}", token, body)
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.status_code != 204 else None


def row(page, number: str):
    return page.locator(f".call[data-number='{number}']")


def test_call_appears_on_its_floor_only(server, pages):
    """A floor-1 call shows on the floor-1 screen within the bound and never on the ground floor."""
    kiosk, manager = server.token("kiosk"), server.token("manager")
    upstairs = pages.open("/d/cantho/floor/1")
    ground = pages.open("/d/cantho/floor/0")
    ticket = issue(server, "so-tu-phap", kiosk)

    started = time.monotonic()
    act(server, "33", "call-next", manager)
    expect(upstairs.locator(".call.newest")).to_have_attribute("data-number", ticket["number"],
                                                               timeout=CALL_BOUND_S * 1000)
    assert time.monotonic() - started < CALL_BOUND_S
    expect(upstairs.locator(".call.newest .counter")).to_contain_text("33")
    assert upstairs.evaluate("QS.stats.protocol") == "qs.v1.json"
    expect(upstairs.locator(".call.newest")).to_have_class("call newest flash")

    # The ground floor is live (it gets its own call) and never showed the floor-1 one.
    ground_ticket = issue(server, "so-xay-dung", kiosk)
    act(server, "1", "call-next", manager)
    expect(ground.locator(".call.newest")).to_have_attribute("data-number", ground_ticket["number"])
    expect(row(ground, ticket["number"])).to_have_count(0)
    expect(row(upstairs, ground_ticket["number"])).to_have_count(0)
    assert ground.evaluate("QS.stats.connects") == 1

    # Each screen acknowledged the call it showed, under its device name (floor-<n>-tv by default).
    client = sync_redis.Redis.from_url(server.redis_url)
    try:
        def acks():
            found = {k.decode(): json.loads(v) for k, v in client.hgetall(SiteKeys("cantho").acks).items()}
            return found if {"floor-1-tv", "floor-0-tv"} <= set(found) else None
        acknowledged = wait_until(acks, what="acks from both screens")
    finally:
        client.close()
    def stream_id(device):
        return tuple(int(part) for part in acknowledged[device]["event_id"].split("-"))
    assert stream_id("floor-1-tv") < stream_id("floor-0-tv")  # each acked its own floor's call


def test_msgpack_wire(server, pages):
    """With ?wire=msgpack the page speaks qs.v1.msgpack through the vendored decoder and shows calls the same."""
    kiosk, manager = server.token("kiosk"), server.token("manager")
    hall = pages.open("/d/cantho/floor/1?wire=msgpack")
    assert hall.evaluate("QS.stats.protocol") == "qs.v1.msgpack"
    ticket = issue(server, "so-ngoai-vu", kiosk)
    act(server, "32", "call-next", manager)
    expect(hall.locator(".call.newest")).to_have_attribute("data-number", ticket["number"])
    expect(hall.locator(".agency-row[data-agency='so-ngoai-vu'] .count")).to_have_text("0")


def test_call_from_a_counter_on_another_floor_shows_on_both(server, pages):
    """A ground-floor ticket called by a floor-1 counter shows on both screens, naming the counter's floor."""
    kiosk, manager = server.token("kiosk"), server.token("manager")
    response = server.call("PUT", "/api/v1/sites/cantho/counters/24/agencies", manager,
                           {"agencies": ["so-xay-dung"]})
    assert response.status_code == 200, response.text
    upstairs = pages.open("/d/cantho/floor/1")
    ground = pages.open("/d/cantho/floor/0")
    ticket = issue(server, "so-xay-dung", kiosk)
    act(server, "24", "call-next", manager)
    for page in (upstairs, ground):
        expect(page.locator(".call.newest")).to_have_attribute("data-number", ticket["number"])
    expect(ground.locator(".call.newest .counter small")).to_have_text("Quầy · Tầng 1")
    expect(upstairs.locator(".call.newest .counter small")).to_have_text("Quầy")


def test_recall_flashes_again(server, pages):
    """A recall moves the ticket to the top again and flashes it again, tagged "Gọi lại"."""
    kiosk, manager = server.token("kiosk"), server.token("manager")
    hall = pages.open("/d/cantho/floor/1")
    first = issue(server, "so-tu-phap", kiosk)
    second = issue(server, "so-ngoai-vu", kiosk)
    act(server, "33", "call-next", manager)
    expect(hall.locator("body")).to_have_attribute("data-flash-count", "1")
    act(server, "32", "call-next", manager)
    expect(hall.locator(".call.newest")).to_have_attribute("data-number", second["number"])
    expect(hall.locator("body")).to_have_attribute("data-flash-count", "2")

    act(server, "33", "recall", manager)
    newest = hall.locator(".call.newest")
    expect(newest).to_have_attribute("data-number", first["number"])
    expect(hall.locator("body")).to_have_attribute("data-flash-count", "3")
    expect(newest).to_have_class("call newest flash")
    expect(newest.locator(".tag")).to_have_text("Gọi lại")
    expect(row(hall, first["number"])).to_have_count(1)  # one row per ticket, the newest call wins
    expect(hall.locator(".call.newest.flash")).to_have_count(0, timeout=10_000)  # the flash ends


def test_counter_display_states(server, pages):
    """The counter display shows ----, then the number and agency, Tạm nghỉ when paused, Quầy đóng when closed."""
    kiosk, manager = server.token("kiosk"), server.token("manager")
    page = pages.open("/d/cantho/counter/33")
    body = page.locator("#cd-body")
    expect(body).to_have_attribute("data-state", "idle")
    expect(page.locator("#cd-serving")).to_have_text("----")
    expect(page.locator("#cd-caption")).to_contain_text("Chưa có số")

    ticket = issue(server, "so-tu-phap", kiosk)
    act(server, "33", "call-next", manager)
    expect(page.locator("#cd-serving")).to_have_text(ticket["number"])
    expect(page.locator("#cd-agency")).to_have_text("Sở Tư pháp")
    expect(body).to_have_class("cd-body stale-dim state-serving flash")

    act(server, "33", "complete", manager)
    expect(body).to_have_attribute("data-state", "idle")
    act(server, "33", "pause", manager, reason="Họp giao ban")
    expect(page.locator("#cd-serving")).to_have_text("Tạm nghỉ")
    act(server, "33", "resume", manager)
    expect(body).to_have_attribute("data-state", "idle")
    act(server, "33", "close", manager)
    expect(page.locator("#cd-serving")).to_have_text("Quầy đóng")


def test_offline_banner_then_catch_up_without_reload(server, pages):
    """Server down: the banner shows over the last state; back up: calls made meanwhile appear, no reload."""
    kiosk, manager = server.token("kiosk"), server.token("manager")
    hall = pages.open("/d/cantho/floor/1")
    counter = pages.open("/d/cantho/counter/33")
    before = issue(server, "so-tu-phap", kiosk)
    act(server, "33", "call-next", manager)
    expect(hall.locator(".call.newest")).to_have_attribute("data-number", before["number"])
    for page in (hall, counter):
        page.evaluate("window.__sameDocument = true")

    server.stop()
    for page in (hall, counter):
        expect(page.locator(".qs-offline")).to_be_visible()
        expect(page.locator(".qs-offline")).to_contain_text("Mất kết nối — đang kết nối lại…")
    expect(hall.locator(".call.newest")).to_have_attribute("data-number", before["number"])  # last state stays

    server.start()
    after = issue(server, "so-tu-phap", kiosk)
    act(server, "33", "call-next", manager)  # very likely before the pages are back: they catch up with `since`
    reconnect_s = 20 * TIMEOUT / 10  # the backoff is capped at 15 s
    expect(hall.locator(".call.newest")).to_have_attribute("data-number", after["number"], timeout=reconnect_s * 1000)
    expect(counter.locator("#cd-serving")).to_have_text(after["number"], timeout=reconnect_s * 1000)
    for page in (hall, counter):
        expect(page.locator(".qs-offline")).to_be_hidden()
        assert page.evaluate("window.__sameDocument") is True
        assert page.evaluate("QS.stats.connects") >= 2
        assert page.evaluate("QS.stats.snapshots") == 1  # resumed with `since`: the missed events, no new snapshot
    expect(row(hall, before["number"])).to_have_count(1)


def test_a_silent_socket_counts_as_dead(server, pages):
    """45 s without a frame (heartbeats included) drops the socket, shows the banner and reconnects."""
    silent = {"on": False}

    def relay(route):
        upstream = route.connect_to_server()
        upstream.on_message(lambda message: None if silent["on"] else route.send(message))

    def prepare(page):
        page.clock.install()
        page.route_web_socket("**/ws?*", relay)

    hall = pages.open("/d/cantho/floor/1", before=prepare)
    silent["on"] = True  # the server keeps the socket open but nothing reaches the page any more
    hall.clock.run_for(44_000)
    expect(hall.locator(".qs-offline")).to_be_hidden()
    for _ in range(40):  # 45 s after the last frame (its arrival time varies a little), in 100 ms steps
        hall.clock.run_for(100)
        if hall.evaluate("QS.stats.drops") == 1:
            break
    # Declared dead; the first retry comes 350–500 ms later, so the banner must be up now.
    expect(hall.locator(".qs-offline")).to_be_visible()
    assert hall.evaluate("QS.stats.drops") == 1
    silent["on"] = False
    hall.clock.run_for(1_000)  # the first retry comes after at most 0.5 s
    expect(hall.locator("html")).to_have_attribute("data-online", "1")
    expect(hall.locator(".qs-offline")).to_be_hidden()
    assert hall.evaluate("QS.stats.connects") == 2


def test_backoff_is_jittered_and_capped(server, pages):
    """Retry delays grow from 0.5 s by ×1.8, vary between tries, and never pass 15 s."""
    page = pages.open("/d/cantho/counter/1")
    delays = page.evaluate("[0, 1, 2, 5, 10, 30, 1000].map(n => Array.from({length: 200}, () => QS.backoffMs(n)))")
    first, second, *_, late = delays
    assert 350 <= min(first) and max(first) <= 500
    assert 630 <= min(second) and max(second) <= 900
    assert len(set(first)) > 20  # jittered: screens restarted together do not retry together
    assert max(max(d) for d in delays) <= 15_000 and min(late) >= 10_500


def test_hall_fits_the_screen_and_ships_its_font(server, pages):
    """At 1920×1080 and 1280×720 the hall needs no scrolling, and the vendored Noto Sans draws the Vietnamese."""
    manager, kiosk = server.token("manager"), server.token("kiosk")
    server.call("POST", "/api/v1/sites/cantho/notices", manager,
                {"text": "Công dân vui lòng chuẩn bị đầy đủ hồ sơ trước khi lấy số. " * 3, "ttl_s": 600})
    for counter, agency in (("1", "so-xay-dung"), ("6", "so-giao-thong-van-tai"), ("9", "so-y-te")):
        issue(server, agency, kiosk)
        act(server, counter, "call-next", manager)
    for width, height in ((1920, 1080), (1280, 720)):
        page = pages.open("/d/cantho/floor/0", width, height)
        expect(page.locator(".call.newest")).to_have_attribute("data-number", "D001")
        page.evaluate("document.fonts.ready")
        size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        assert size == [width, height]
        overflowing = page.evaluate("""Array.from(document.querySelectorAll('.agency-row, .call'))
            .filter(n => n.getBoundingClientRect().bottom > innerHeight + 1).length""")
        assert overflowing == 0
        loaded = page.evaluate("""Array.from(document.fonts).filter(f => f.status === 'loaded')
            .map(f => f.family.replace(/"/g, '') + ' ' + f.weight + ' ' + f.unicodeRange.slice(0, 6))""")
        assert "Noto Sans 700 U+102-" in loaded, loaded  # the Vietnamese subset is in use
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith('"Noto Sans"')


def test_unknown_pages_answer_404_in_vietnamese(server):
    """An unknown site, floor or counter gets a Vietnamese 404 page; the static files are served."""
    for path in ("/d/hanoi/floor/1", "/d/cantho/floor/9", "/d/cantho/floor/x", "/d/cantho/counter/99",
                 "/k/hanoi", "/o/cantho/counter/99", "/t/hanoi/20261124-V001"):
        response = server.call("GET", path)
        assert response.status_code == 404, path
        assert "Không tìm thấy" in response.text
    page = server.call("GET", "/d/cantho/floor/1")
    assert page.status_code == 200
    assert "Tầng 1" in page.text and "Sở Tư pháp" in page.text
    for asset in ("qs.js", "qs.css", "hall.js", "vendor/qrcode.js", "vendor/msgpack.min.js",
                  "fonts/noto-sans-vietnamese-700-normal.woff2"):
        assert server.call("GET", f"/static/{asset}").status_code == 200, asset
