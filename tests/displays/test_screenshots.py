"""Screenshots of every page at 1920×1080 with a realistic morning on screen.

Always taken (into the test's tmp folder) so a broken page shows up here; refresh the committed ones with
``QSERVER_SCREENSHOTS_DIR=docs/screenshots python -m pytest tests/displays/test_screenshots.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import SCREENSHOTS_DIR

pytestmark = pytest.mark.browser

MORNING_QUEUE = {  # agency → tickets issued before the screenshots
    "so-nong-nghiep-ptnt": 6, "so-khoa-hoc-cong-nghe": 3, "so-lao-dong-tbxh": 9, "so-giao-duc-dao-tao": 7,
    "so-ngoai-vu": 2, "so-tu-phap": 11, "so-xay-dung": 4, "so-van-hoa-the-thao-du-lich": 5,
    "so-giao-thong-van-tai": 12, "so-y-te": 6, "so-noi-vu": 8, "so-ke-hoach-dau-tu": 9,
    "so-tai-nguyen-moi-truong": 10, "so-thong-tin-truyen-thong": 2, "so-cong-thuong": 5, "ban-quan-ly-kcx-kcn": 3,
}
CALLS = ["24", "27", "30", "32", "28", "33", "1", "3", "6", "9", "12", "14", "17", "20", "7", "34"]


def test_screenshots_of_every_page(server, pages, tmp_path):
    """Each page renders with live data; the pictures land in tmp (and in QSERVER_SCREENSHOTS_DIR when set)."""
    manager = server.token("manager")
    api = "/api/v1/sites/cantho"
    for agency, count in MORNING_QUEUE.items():
        kiosk = server.token("kiosk")  # several kiosks: one prints at most 60 tickets a minute
        for _ in range(count):
            assert server.call("POST", f"{api}/tickets", kiosk, {"agency": agency}).status_code == 201
    for counter in CALLS:
        assert server.call("POST", f"{api}/counters/{counter}/call-next", manager, {}).status_code == 200
    server.call("POST", f"{api}/counters/33/recall", manager, {})
    server.call("POST", f"{api}/counters/26/pause", manager, {"reason": "Họp giao ban"})
    server.call("POST", f"{api}/notices", manager, {
        "text": "Từ ngày 01/12, Sở Tư pháp nhận hồ sơ lý lịch tư pháp tại quầy 32–35. "
                "Công dân vui lòng chuẩn bị bản sao CCCD trước khi lấy số.", "ttl_s": 3600})
    shots: list[Path] = []

    def shot(page, name: str, **options) -> None:
        page.evaluate("document.fonts.ready")
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), animations="disabled", **options)
        shots.append(path)

    hall = pages.open("/d/cantho/floor/1")
    expect(hall.locator(".call.newest")).to_have_attribute("data-number", "V001")
    shot(hall, "hall-floor-1")
    ground = pages.open("/d/cantho/floor/0")
    expect(ground.locator(".call.newest")).to_have_attribute("data-number", "C002")
    shot(ground, "hall-floor-0")
    small = pages.open("/d/cantho/floor/0", 1280, 720)
    expect(small.locator(".call.newest")).to_have_attribute("data-number", "C002")
    shot(small, "hall-floor-0-1280x720")

    counter = pages.open("/d/cantho/counter/33")
    expect(counter.locator("#cd-serving")).to_have_text("V001")
    shot(counter, "counter-33")
    paused = pages.open("/d/cantho/counter/26")
    expect(paused.locator("#cd-serving")).to_have_text("Tạm nghỉ")
    shot(paused, "counter-26-paused")

    kiosk_page = pages.open(f"/k/cantho?token={kiosk}", has_touch=True)
    shot(kiosk_page, "kiosk-1-floor")
    kiosk_page.tap("#floor-choices [data-floor='1']")
    expect(kiosk_page.locator("#agency-choices [data-agency='so-tu-phap'] .waiting-count")).not_to_have_text("0")
    shot(kiosk_page, "kiosk-2-agency")
    kiosk_page.tap("#agency-choices [data-agency='so-tu-phap']")
    kiosk_page.tap("[data-priority='elderly']")
    kiosk_page.tap("#staff-ok")
    shot(kiosk_page, "kiosk-3-confirm")
    kiosk_page.tap("#take")
    expect(kiosk_page.locator("body")).to_have_attribute("data-step", "ticket")
    shot(kiosk_page, "kiosk-4-ticket")
    number = kiosk_page.locator("#tk-number").inner_text()
    track = kiosk_page.locator("#ticket-big").get_attribute("data-ticket")
    kiosk_page.emulate_media(media="print")
    kiosk_page.set_viewport_size({"width": 302, "height": 560})  # 80 mm at 96 dpi
    shot(kiosk_page, "kiosk-5-printed-80mm", full_page=True)

    finder = pages.open(f"/k/cantho?token={kiosk}", has_touch=True)
    finder.tap("#find-procedure")
    for key in "ly lich tu phap":
        finder.tap(f"#osk [data-key='{'space' if key == ' ' else key}']")
    expect(finder.locator("#proc-results .proc-result").first).to_have_attribute("data-code", "CT.TP.001")
    shot(finder, "kiosk-6-search")
    finder.locator("#proc-results .proc-result").first.tap()
    expect(finder.locator("body")).to_have_attribute("data-step", "procedure")
    shot(finder, "kiosk-7-procedure")

    officer = pages.open(f"/o/cantho/counter/30?token={server.token('officer', counters=['30'])}")
    expect(officer.locator("#cur-number")).not_to_have_text("Chưa có số")
    shot(officer, "officer-pad")

    citizen = pages.open(f"/t/cantho/{track}")
    expect(citizen.locator("#t-number")).to_have_text(number)
    expect(citizen.locator("#t-status")).to_have_attribute("data-status", "waiting")
    shot(citizen, "citizen-ticket")
    phone = pages.open(f"/t/cantho/{track}", 390, 844, is_mobile=True, has_touch=True)
    expect(phone.locator("#t-ahead")).not_to_have_text("–")
    shot(phone, "citizen-ticket-phone")

    server.stop()
    expect(hall.locator(".qs-offline")).to_be_visible()
    shot(hall, "hall-floor-1-offline")
    server.start()

    for path in shots:
        assert path.stat().st_size > 10_000, path
    if SCREENSHOTS_DIR:
        target = Path(SCREENSHOTS_DIR)
        target.mkdir(parents=True, exist_ok=True)
        for path in shots:
            shutil.copy(path, target / path.name)
