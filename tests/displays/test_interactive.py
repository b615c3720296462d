"""Kiosk, officer pad and citizen ticket page in a real browser, driving the real engine."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import subprocess
import sys
import threading

import pytest
from playwright.sync_api import expect

from qserver.clock import FakeClock
from tests.support import TIMEOUT, LiveApp, wait_until

from tests.support.browser import Pages

pytestmark = pytest.mark.browser


def issue(server, agency: str, token: str) -> dict:
    response = server.call("POST", "/api/v1/sites/cantho/tickets", token, {"agency": agency})
    assert response.status_code == 201, response.text
    return response.json()


def ticket(server, ticket_id: str) -> dict:
    response = server.call("GET", f"/api/v1/sites/cantho/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()


def counter_state(server, counter: str) -> dict:
    state = server.call("GET", "/api/v1/sites/cantho/state").json()
    return next(c for c in state["counters"] if c["id"] == counter)


# ------------------------------------------------------------------------------------------ kiosk
def test_kiosk_issues_a_ticket_by_touch_and_prints_it(server, pages):
    """Tap floor, agency, "Lấy số": the ticket is issued, shown, and the print view holds its number and QR."""
    page = pages.open(f"/k/cantho?token={server.token('kiosk')}", has_touch=True)
    assert "token=" not in page.url  # taken once, kept in localStorage
    expect(page.locator("#kiosk-setup")).to_be_hidden()
    page.tap("#floor-choices [data-floor='1']")
    agency = page.locator("#agency-choices [data-agency='so-tu-phap']")
    expect(agency).to_contain_text("120 thủ tục")
    expect(agency.locator(".waiting-count")).to_have_text("0")
    agency.tap()
    expect(page.locator("#chosen-agency")).to_contain_text("Sở Tư pháp")
    page.tap("#take")

    expect(page.locator("body")).to_have_attribute("data-step", "ticket")
    number = page.locator("#tk-number").inner_text()
    ticket_id = page.locator("#ticket-big").get_attribute("data-ticket")
    issued = ticket(server, ticket_id)
    assert issued["number"] == number and issued["agency"] == "so-tu-phap" and issued["status"] == "waiting"
    expect(page.locator("#tk-counters")).to_have_text("32, 33, 34, 35")
    expect(page.locator("#tk-floor")).to_have_text("Tầng 1")
    expect(page.locator("#tk-ahead")).to_have_text("0")

    page.emulate_media(media="print")
    printed = page.locator("#print-ticket")
    expect(printed).to_be_visible()
    expect(page.locator(".app-main")).to_be_hidden()
    expect(printed.locator("#pt-number")).to_have_text(number)
    expect(printed).to_contain_text("Sở Tư pháp")
    expect(printed).to_contain_text("Người chờ trước")
    assert printed.bounding_box()["width"] == pytest.approx(72 / 25.4 * 96, abs=2)  # 72 mm printable
    assert printed.locator("#pt-qr img").get_attribute("src").startswith("data:image/")
    page.emulate_media(media="screen")

    # The kiosk's waiting count follows the queue live; a second ticket sees one person ahead.
    page.tap("#ticket-done")
    page.tap("#floor-choices [data-floor='1']")
    expect(page.locator("#agency-choices [data-agency='so-tu-phap'] .waiting-count")).to_have_text("1")
    page.tap("#agency-choices [data-agency='so-tu-phap']")
    page.tap("#take")
    expect(page.locator("#tk-ahead")).to_have_text("1")


def test_kiosk_priority_and_cccd(server, pages):
    """A staff-confirmed priority and a scanned CCCD travel with the ticket; the raw QR is never shown."""
    page = pages.open(f"/k/cantho?token={server.token('kiosk')}")
    page.click("#floor-choices [data-floor='0']")
    page.click("#agency-choices [data-agency='so-y-te']")
    page.click("[data-priority='elderly']")
    page.click("#staff-ok")
    expect(page.locator("#priority-ok")).to_have_text("Đã xác nhận ưu tiên: Người cao tuổi")
    page.locator("#cccd").type("092088001234|361234567|Nguyễn Văn An|01011950|Nam|Ninh Kiều, Cần Thơ|01012021")
    page.keyboard.press("Enter")
    expect(page.locator("#cccd-ok")).to_have_text("Đã đọc CCCD số ••••••••1234")
    assert "Nguyễn" not in page.locator("body").inner_text()
    page.click("#take")
    expect(page.locator("body")).to_have_attribute("data-step", "ticket")
    issued = ticket(server, page.locator("#ticket-big").get_attribute("data-ticket"))
    assert issued["priority"] == "elderly"


@contextlib.contextmanager
def app_in_a_thread(redis_url: str, tmp_path, clock):
    """The app on a real uvicorn with a fake clock and real receiving hours, in its own thread and loop
    (Playwright's sync API must not run inside pytest-asyncio's loop)."""
    app = LiveApp(redis_url, tmp_path, clock, always_open=False)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(app.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="qserver-app", daemon=True)
    thread.start()
    assert started.wait(TIMEOUT), "the app did not start"
    try:
        yield app
    finally:
        asyncio.run_coroutine_threadsafe(app.stop(), loop).result(TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()


def test_kiosk_shows_when_it_opens(browser, redis_server, flushed, tmp_path):
    """At noon (between the sessions) the kiosk shows the server's 409 sentence: it opens at 13:00."""
    noon = dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.timezone.utc)  # 12:00 in Cần Thơ, a Tuesday
    with app_in_a_thread(redis_server.url, tmp_path, FakeClock(noon)) as app:
        pages = Pages(browser, app)
        try:
            page = pages.open(f"/k/cantho?token={app.token('kiosk')}")
            page.click("#floor-choices [data-floor='1']")
            page.click("#agency-choices [data-agency='so-ngoai-vu']")
            page.click("#take")
            expect(page.locator("body")).to_have_attribute("data-step", "closed")
            expect(page.locator("#closed-message")).to_contain_text("Ngoài giờ tiếp nhận")
            expect(page.locator("#closed-message")).to_contain_text("13:00 ngày 24/11/2026")
            page.click("#closed-ok")
            expect(page.locator("body")).to_have_attribute("data-step", "floor")
        finally:
            pages.close()
        assert not pages.errors, pages.errors


# ------------------------------------------------------------------------------------------ officer pad
def pad_state(page) -> dict:
    """What the officer pad shows, for a failure's message."""
    return page.evaluate("""() => ({pad_hidden: document.querySelector('#pad').hidden,
        message: document.querySelector('#pad-message').textContent, focus: document.activeElement.tagName,
        busy: document.body.dataset.busy, signed_in: document.body.dataset.signedIn,
        has_focus: document.hasFocus()})""")


def test_officer_pad_drives_the_engine(server, pages):
    """Buttons and shortcuts call, recall, complete, mark no-show, pause and transfer; refusals are explained."""
    kiosk = server.token("kiosk")
    tickets = [issue(server, "so-giao-duc-dao-tao", kiosk) for _ in range(4)]
    page = pages.open(f"/o/cantho/counter/30?token={server.token('officer', counters=['30'])}")
    expect(page.locator("#pad")).to_be_visible()
    expect(page.locator("#queues [data-agency='so-giao-duc-dao-tao'] b")).to_have_text("4")

    page.click("[data-action='call-next']")
    expect(page.locator("#cur-number")).to_have_text(tickets[0]["number"])
    assert ticket(server, tickets[0]["id"])["status"] == "called"
    expect(page.locator("#queues [data-agency='so-giao-duc-dao-tao'] b")).to_have_text("3")

    # A double click calls one ticket, not two.
    page.dblclick("[data-action='call-next']")
    expect(page.locator("#cur-number")).to_have_text(tickets[1]["number"])
    expect(page.locator("body")).to_have_attribute("data-busy", "0")
    assert ticket(server, tickets[2]["id"])["status"] == "waiting"
    assert ticket(server, tickets[0]["id"])["status"] == "done"

    page.keyboard.press("r")  # Gọi lại
    expect(page.locator("#pad-message")).to_have_text(f"Đã gọi lại số {tickets[1]['number']}.")
    assert ticket(server, tickets[1]["id"])["recalls"] == 1
    page.keyboard.press("h")  # Hoàn thành
    expect(page.locator("#cur-number")).to_have_text("Chưa có số")
    expect(page.locator("#pad-message")).to_have_text(f"Đã hoàn thành số {tickets[1]['number']}.")
    assert ticket(server, tickets[1]["id"])["status"] == "done"

    page.keyboard.press("r")  # nothing to recall: refused, and said so in Vietnamese
    expect(page.locator("#pad-message")).to_have_class("message error")
    assert page.locator("#pad-message").inner_text().strip()

    page.keyboard.press("Enter")
    expect(page.locator("#cur-number")).to_have_text(tickets[2]["number"])
    page.keyboard.press("v")  # Vắng mặt
    expect(page.locator("#pad-message")).to_contain_text("vắng mặt")
    expect(page.locator("body")).to_have_attribute("data-busy", "0")
    assert ticket(server, tickets[2]["id"])["status"] in ("no_show", "waiting")  # the site may return no-shows

    page.keyboard.press("p")  # Tạm nghỉ
    expect(page.locator("#status-pill")).to_have_text("Tạm nghỉ")
    assert counter_state(server, "30")["status"] == "paused"
    page.click("[data-action='call-next']")  # refused while paused
    expect(page.locator("#pad-message")).to_have_class("message error")
    page.click("#pause-btn")  # Tiếp tục
    expect(page.locator("#status-pill")).to_have_text("Đang mở")
    assert counter_state(server, "30")["status"] == "open"

    page.click("[data-action='call-next']")
    expect(page.locator("#cur-number")).to_have_text(tickets[3]["number"])
    page.keyboard.press("c")  # Chuyển
    expect(page.locator("#transfer-modal")).to_be_visible()
    page.click("#transfer-choices [data-agency='so-tu-phap']")
    expect(page.locator("#pad-message")).to_contain_text("Sở Tư pháp")
    moved = ticket(server, tickets[3]["id"])
    assert moved["agency"] == "so-tu-phap" and moved["status"] == "waiting"

    if ticket(server, tickets[2]["id"])["status"] == "waiting":  # the no-show came back: serve it
        page.click("[data-action='call-next']")
        expect(page.locator("#cur-number")).to_have_text(tickets[2]["number"])
        page.click("[data-action='complete']")
        expect(page.locator("#pad-message")).to_have_text(f"Đã hoàn thành số {tickets[2]['number']}.")
    page.click("[data-action='call-next']")
    expect(page.locator("#pad-message")).to_have_text("Không còn công dân nào đang chờ.")


def test_officer_pad_queues_a_press_made_while_busy(server, pages):
    """A key pressed while the previous request is still in flight is not dropped: the pad says it
    waits its turn and carries it out right after, in order."""
    kiosk = server.token("kiosk")
    first = issue(server, "so-giao-duc-dao-tao", kiosk)
    page = pages.open(f"/o/cantho/counter/30?token={server.token('officer', counters=['30'])}")
    expect(page.locator("#queues [data-agency='so-giao-duc-dao-tao'] b")).to_have_text("1")
    expect(page.locator("body")).to_have_attribute("data-signed-in", "1")  # its token checked: it takes presses
    held = []
    page.route("**/counters/30/call-next", lambda route: held.append(route))  # its answer is held back
    page.keyboard.press("Enter")
    wait_until(lambda: held or page.wait_for_timeout(20),
               what=lambda: f"the held call-next request (the pad then: {pad_state(page)})")
    page.keyboard.press("Enter")  # the same press again: one call, and the pad says so
    expect(page.locator("#pad-message")).to_contain_text("bấm một lần là đủ")
    page.keyboard.press("h")  # Hoàn thành while call-next is in flight: queued, not dropped
    expect(page.locator("body")).to_have_attribute("data-queued", "1")
    expect(page.locator("#pad-message")).to_contain_text("Đã nhận “Hoàn thành”")
    held[0].continue_()
    expect(page.locator("#pad-message")).to_have_text(f"Đã hoàn thành số {first['number']}.")
    expect(page.locator("body")).to_have_attribute("data-busy", "0")
    page.unroute("**/counters/30/call-next")
    done = ticket(server, first["id"])
    assert done["status"] == "done" and done["counter"] == "30"


def test_officer_pad_login(server, pages):
    """Without a token the pad asks for a login; a wrong password and another counter are refused in Vietnamese."""
    subprocess.run([sys.executable, "-m", "qserver", "user", "add", "lan", "--role", "officer", "--site", "cantho",
                    "--counter", "31", "--password", "mật-khẩu-đúng"], env=server.env, check=True,
                   capture_output=True)
    page = pages.open("/o/cantho/counter/31", wait_online=False)
    expect(page.locator("#login")).to_be_visible()
    page.fill("#username", "lan")
    page.fill("#password", "sai")
    page.click("#login button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")

    page.fill("#password", "mật-khẩu-đúng")
    page.click("#login button[type=submit]")
    expect(page.locator("#pad")).to_be_visible()
    page.reload()  # the token is kept
    expect(page.locator("#pad")).to_be_visible()

    other = page.context.new_page()
    other.goto(server.base_url + "/o/cantho/counter/30")
    other.evaluate("localStorage.clear()")
    other.reload()
    other.fill("#username", "lan")
    other.fill("#password", "mật-khẩu-đúng")
    other.click("#login button[type=submit]")
    expect(other.locator("#login-error")).to_contain_text("không được phân công quầy số 30")


# ------------------------------------------------------------------------------------------ citizen page
def test_citizen_page_follows_the_ticket(server, pages):
    """On a phone the citizen sees people ahead, then "Mời đến quầy số N" when called, live."""
    kiosk, manager = server.token("kiosk"), server.token("manager")
    first = issue(server, "so-tu-phap", kiosk)
    mine = issue(server, "so-tu-phap", kiosk)
    page = pages.open(mine["track_url"], 390, 844, is_mobile=True, has_touch=True)
    expect(page.locator("#t-number")).to_have_text(mine["number"])
    expect(page.locator("#t-status")).to_have_attribute("data-status", "waiting")
    expect(page.locator("#t-ahead")).to_have_text("1")

    server.call("POST", "/api/v1/sites/cantho/counters/33/call-next", manager, {})
    expect(page.locator("#t-ahead")).to_have_text("0")
    server.call("POST", "/api/v1/sites/cantho/counters/34/call-next", manager, {})
    expect(page.locator("#t-status")).to_have_attribute("data-status", "called")
    expect(page.locator("#t-status")).to_contain_text("Mời đến quầy số 34")
    assert first["id"] != mine["id"]
    assert page.evaluate("document.documentElement.scrollWidth") == 390

    server.call("POST", "/api/v1/sites/cantho/counters/34/complete", manager, {})
    expect(page.locator("#t-status")).to_have_attribute("data-status", "done")


def test_citizen_page_unknown_ticket(server, pages):
    """A ticket id that does not exist says so in Vietnamese."""
    page = pages.open("/t/cantho/20261124-V999", 390, 844, wait_online=False)
    expect(page.locator("#t-status")).to_have_attribute("data-status", "missing")
    expect(page.locator("#t-status")).to_contain_text("Không tìm thấy số thứ tự này.")


def test_kiosk_follows_a_token_rotation(server, pages):
    """`qserver token rotate` on the kiosk's token: the kiosk exchanges it by itself, keeps the new one and
    issues with it; nobody touches the screen."""
    made = subprocess.run([sys.executable, "-m", "qserver", "token", "create", "--role", "kiosk", "--name", "kiosk-1"],
                          env=server.env, check=True, capture_output=True, text=True)
    token = made.stdout.strip().splitlines()[-1]
    page = pages.open(f"/k/cantho?token={token}&rotation_ms=300")
    token_id = server.call("GET", "/api/v1/whoami", token).json()["token_id"]
    subprocess.run([sys.executable, "-m", "qserver", "token", "rotate", token_id, "--grace-s", "600"],
                   env=server.env, check=True, capture_output=True)
    stored = "() => localStorage.getItem('qs.token.kiosk.cantho')"
    fresh = wait_until(lambda: (page.evaluate(stored) or token) != token and page.evaluate(stored),
                       what="the kiosk's exchanged token")
    assert server.call("GET", "/api/v1/whoami", fresh).json()["name"] == "kiosk-1"
    page.click("#floor-choices [data-floor='0']")
    page.click("#agency-choices [data-agency='so-noi-vu']")
    page.click("#take")
    expect(page.locator("body")).to_have_attribute("data-step", "ticket")
    issued = ticket(server, page.locator("#ticket-big").get_attribute("data-ticket"))
    assert issued["status"] == "waiting"
