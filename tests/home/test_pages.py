"""The citizen's pages from home in real Chromium on a phone-sized screen (390×844, touch), against a real
``qserver run``: take a number, watch it move, get the nudge when near and when called (also after the
phone slept); book a visit, see its code and QR, check it in at the kiosk, cancel another."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

import shutil
from pathlib import Path

from tests.home.conftest import ID_A, ID_B, PHONE_A
from tests.support import TIMEOUT, wait_until
from tests.support.browser import SCREENSHOTS_DIR

pytestmark = pytest.mark.browser

SITE = "/api/v1/sites/cantho"
TU_PHAP = "so-tu-phap"
PHONE = dict(width=390, height=844, wait_online=False, is_mobile=True, has_touch=True)
#: A phone's vibration, recorded (headless Chromium has no motor): every call returns true like a phone's.
RECORD_VIBRATION = "navigator.vibrate = function (p) { window.__vibrated = (window.__vibrated || []).concat([p]); return true; };"


class Sleep:
    """Puts the phone's live link to sleep: its socket is closed and new ones fail until it wakes."""

    def __init__(self):
        self.asleep, self.routes = False, []

    def relay(self, route):
        if self.asleep:
            route.close()
            return
        route.connect_to_server()
        self.routes.append(route)

    def start(self):
        self.asleep = True
        for route in self.routes:
            route.close()

    def stop(self):
        self.asleep = False


def phone(pages, path: str, sleep: Sleep | None = None):
    def prepare(page):
        page.add_init_script(RECORD_VIBRATION)
        if sleep is not None:
            page.route_web_socket("**/ws?*", sleep.relay)

    return pages.open(path, before=prepare, **PHONE)


def shot(page, tmp_path: Path, name: str) -> None:
    """A screenshot into the test's folder (and QSERVER_SCREENSHOTS_DIR when set: docs/screenshots)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    if SCREENSHOTS_DIR:
        shutil.copy(path, Path(SCREENSHOTS_DIR) / path.name)


def call_next(server, token: str, counter: str) -> dict:
    response = server.call("POST", f"{SITE}/counters/{counter}/call-next", token, {})
    assert response.status_code == 200, response.text
    return response.json()


def test_take_a_number_on_the_phone_see_it_move_and_get_the_nudge(home_server, home_pages, tmp_path):
    """Five walk-ins wait; the phone takes a number (ahead 5), follows it as officers call (4 …), alerts at
    3 ahead (banner, title, vibration, sound), and alerts again when called while the phone was offline."""
    kiosk, manager = home_server.token("kiosk"), home_server.token("manager")
    for _ in range(5):
        assert home_server.call("POST", f"{SITE}/tickets", kiosk, {"agency": TU_PHAP}).status_code == 201
    sleep = Sleep()
    page = phone(home_pages, "/s/cantho", sleep)
    assert page.evaluate("innerWidth") == 390 and page.evaluate("navigator.maxTouchPoints") > 0
    expect(page.locator("#agencies [data-agency='so-tu-phap']")).to_contain_text("5 người đang chờ")
    page.tap("#agencies [data-agency='so-tu-phap']")
    expect(page.locator("#chosen")).to_contain_text("Sở Tư pháp")
    page.fill("#cccd", "12345")
    page.fill("#phone", PHONE_A)
    page.tap("#take")
    expect(page.locator("#cccd-bad")).to_be_visible()       # checked on the phone before it is sent
    page.fill("#cccd", "0922 0000 1234")
    shot(page, tmp_path, "phone-take-number")
    page.tap("#take")
    page.wait_for_url(re.compile(r"/t/cantho/\d{8}-V006$"))
    page.wait_for_selector("html[data-online='1']")
    expect(page.locator("#t-number")).to_have_text("V006")
    expect(page.locator("#t-channel")).to_have_text("Lấy số trực tuyến")
    expect(page.locator("#t-ahead")).to_have_text("5")
    assert page.locator("#t-qr-img").evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("#t-alert")).to_be_hidden()
    page.tap("#t-sound")                                     # the tap that lets the page play sound
    expect(page.locator("#t-sound")).to_have_text("Đã bật âm báo ✓")

    counter = "32"
    call_next(home_server, manager, counter)
    expect(page.locator("#t-ahead")).to_have_text("4")      # it moves, live
    assert page.evaluate("QS_TICKET.alerts.length") == 0
    call_next(home_server, manager, counter)
    expect(page.locator("#t-ahead")).to_have_text("3")
    banner = page.locator("#t-alert")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("còn 3 người trước bạn")
    assert page.title().startswith("🔔 Sắp đến lượt")
    shot(page, tmp_path, "phone-ticket-near")
    trace = page.evaluate("QS_TICKET")
    assert [a["kind"] for a in trace["alerts"]] == ["near"] and trace["beeps"] == 1 and trace["sound"] is True
    assert len(page.evaluate("window.__vibrated")) == 2     # the tap's short buzz, then the alert's pattern
    page.tap("#t-alert-ok")
    expect(banner).to_be_hidden()

    # The phone sleeps (its link is cut): its turn comes meanwhile; when it wakes it catches up and alerts.
    sleep.start()
    wait_until(lambda: page.evaluate("document.documentElement.getAttribute('data-online')") == "0",
               what="the page to notice it is offline")
    connects = page.evaluate("QS.stats.connects")
    for _ in range(4):
        called = call_next(home_server, manager, counter)
    assert called["number"] == "V006"
    assert page.evaluate("QS_TICKET.alerts.length") == 1
    sleep.stop()
    reconnect_ms = 20 * TIMEOUT * 100  # the backoff is capped at 15 s
    expect(banner).to_be_visible(timeout=reconnect_ms)
    expect(banner).to_contain_text(f"Mời đến quầy số {counter}")
    expect(page.locator("#t-status")).to_have_attribute("data-status", "called")
    trace = page.evaluate("QS_TICKET")
    assert [a["kind"] for a in trace["alerts"]] == ["near", "called"] and trace["beeps"] == 2
    assert page.evaluate("QS.stats.connects") > connects and page.evaluate("QS.stats.snapshots") == 1  # `since`
    page.reload()                                            # alerts are given once, not at every visit
    page.wait_for_selector("html[data-online='1']")
    expect(page.locator("#t-status")).to_have_attribute("data-status", "called")
    assert page.evaluate("QS_TICKET.alerts.length") == 0
    expect(page.locator("#t-alert")).to_be_hidden()


def test_a_refused_online_number_says_why_in_vietnamese(home_server, home_pages):
    """A person already holding a number at that agency is told so, with the number, and no ticket is made."""
    first = home_server.call("POST", f"{SITE}/online-tickets", None,
                             {"agency": TU_PHAP, "cccd": ID_A, "phone": PHONE_A}).json()
    page = phone(home_pages, "/s/cantho")
    page.tap("#agencies [data-agency='so-tu-phap']")
    page.fill("#cccd", ID_A)
    page.fill("#phone", PHONE_A)
    page.tap("#take")
    expect(page.locator("#take-error")).to_contain_text(f"Công dân đã có số {first['number']} đang chờ")
    assert home_server.call("GET", f"{SITE}/state").json()["waiting"][TU_PHAP] == 1


def test_book_a_visit_see_its_code_and_qr_then_check_in_at_the_kiosk(home_server, home_pages, tmp_path):
    """Book the first free slot of Sở Tư pháp on the phone; the confirmation shows the code and its QR; the
    kiosk checks it in by the code (as a scanner would type the QR's address) and prints the appointment's
    ticket; a second booking is cancelled from its page and its place is free again."""
    page = phone(home_pages, "/s/cantho/hen")
    page.select_option("#agency", TU_PHAP)
    first_slot = page.locator("#slots button:not([disabled])").first
    expect(first_slot).to_contain_text("còn 2 chỗ")
    time = first_slot.get_attribute("data-time")
    first_slot.tap()
    page.fill("#cccd", ID_A)
    page.fill("#phone", "0912 345 678")
    shot(page, tmp_path, "phone-booking")
    page.tap("#book-go")
    page.wait_for_url(re.compile(r"/s/cantho/hen/[A-Z2-9]{8}$"))
    code = page.url.rsplit("/", 1)[1]
    expect(page.locator("#b-code")).to_have_text(f"{code[:4]}-{code[4:]}")
    expect(page.locator("#b-time")).to_have_text(time)
    expect(page.locator("#b-status")).to_have_text("Đã đặt")
    page.wait_for_function("document.querySelector('#b-qr-img').naturalWidth > 0")
    shot(page, tmp_path, "phone-booking-confirmation")

    kiosk = home_pages.open(f"/k/cantho?token={home_server.token('kiosk')}", has_touch=True)
    kiosk.tap("#open-checkin")
    expect(kiosk.locator("body")).to_have_attribute("data-step", "checkin")
    kiosk.keyboard.type(f"{home_server.base_url}/s/cantho/hen/{code}")   # a scanner types where the focus is
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("body")).to_have_attribute("data-step", "ticket")
    expect(kiosk.locator("#tk-slot")).to_contain_text(f"lúc {time}")
    ticket_id = kiosk.locator("#ticket-big").get_attribute("data-ticket")
    issued = home_server.call("GET", f"{SITE}/tickets/{ticket_id}").json()
    assert issued["channel"] == "appointment" and issued["booking"]
    kiosk.tap("#ticket-done")
    kiosk.tap("#open-checkin")
    kiosk.fill("#checkin-code", code.lower())
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#checkin-error")).to_contain_text("đã được xác nhận")

    page.reload()
    expect(page.locator("#b-status")).to_have_text("Đã xác nhận")
    expect(page.locator("#b-actions")).to_be_hidden()

    other = home_server.call("POST", f"{SITE}/bookings", None, {"agency": TU_PHAP, "date": issued["slot_at"][:10],
                                                               "time": time, "cccd": ID_B, "phone": PHONE_A}).json()
    mine = phone(home_pages, other["url"])
    expect(mine.locator("#b-status")).to_have_text("Đã đặt")
    mine.on("dialog", lambda dialog: dialog.accept())
    mine.tap("#b-cancel")
    expect(mine.locator("#b-status")).to_have_text("Đã hủy")
    slots = home_server.call("GET", f"{SITE}/slots?agency={TU_PHAP}&date={issued['slot_at'][:10]}").json()["slots"]
    assert next(s for s in slots if s["time"] == time)["booked"] == 1  # the checked-in one keeps its place
