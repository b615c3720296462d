"""The managers' pages in real headless Chromium: console actions, live alerts, ratings into reports."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.managers import NOI_VU, TU_PHAP

pytestmark = pytest.mark.browser
SITE = "/api/v1/sites/cantho"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_page(browser, width: int = 1600, height: int = 1000):
    page = await browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


async def test_reassignment_in_the_console_changes_the_next_call(live, browser):
    """Counter 12 moved from Nội vụ to Tư pháp in the console calls V001, not E001; the page follows live."""
    async with live.client() as http:
        kiosk = bearer(live.token("kiosk"))
        await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=kiosk)
        live.clock.advance(seconds=30)
        await http.post(f"{SITE}/tickets", json={"agency": TU_PHAP}, headers=kiosk)
        page = await new_page(browser)
        await page.goto(f"{live.base_url}/m/cantho?token={live.token('manager', name='hoa')}")
        card = page.locator('.cc[data-counter="12"]')
        await expect(card.locator(f'.chip[data-agency="{NOI_VU}"]')).to_be_visible()
        await page.evaluate("window.sameDocument = true")

        await card.click()
        await expect(page.locator("#counter-modal")).to_be_visible()
        await page.select_option("#cm-add", TU_PHAP)
        await page.click("#cm-add-btn")
        await page.click(f'#cm-agencies [data-remove="{NOI_VU}"]')
        await page.click("#cm-save")
        await expect(page.locator("#counter-modal")).to_be_hidden()
        await expect(card.locator(f'.chip[data-agency="{TU_PHAP}"]')).to_be_visible()
        await expect(card.locator(f'.chip[data-agency="{NOI_VU}"]')).to_have_count(0)

        called = await http.post(f"{SITE}/counters/12/call-next", headers=bearer(live.token("officer", ["12"])))
        assert called.json()["number"] == "V001"
        await expect(card.locator(".cc-number")).to_have_text("V001")
        await expect(card).to_have_attribute("data-state", "serving")
        await expect(page.locator(f'#agencies tr[data-agency="{TU_PHAP}"] .c-waiting')).to_have_text("0")
        assert await page.evaluate("window.sameDocument") is True     # updated without a reload
        entries = (await http.get(f"{SITE}/audit", headers=bearer(live.token("manager")))).json()["entries"]
        assert [(e["kind"], e["actor"]) for e in entries] == [("reassign", "manager:hoa")]
        assert page.js_errors == []


async def test_alert_appears_when_a_wait_passes_the_threshold(live, browser):
    """With the fake clock moved past wait_alert_s, the console shows the agency's alert by itself."""
    async with live.client() as http:
        await http.post(f"{SITE}/tickets", json={"agency": "so-xay-dung"}, headers=bearer(live.token("kiosk")))
        page = await new_page(browser)
        await page.goto(f"{live.base_url}/m/cantho?refresh_s=1&token={live.token('manager')}")
        row = page.locator('#agencies tr[data-agency="so-xay-dung"]')
        await expect(row.locator(".c-waiting")).to_have_text("1")
        await expect(page.locator("#alerts")).to_be_hidden()
        live.clock.advance(seconds=live.app.state.sites["cantho"].wait_alert_s + 60)
        alert = page.locator('.c-alert[data-agency="so-xay-dung"]')
        await expect(alert).to_be_visible()
        await expect(alert).to_contain_text("Sở Xây dựng: người chờ lâu nhất đã chờ 31 phút")
        await expect(row).to_have_class("bad")
        assert page.js_errors == []


async def test_a_rating_on_the_tablet_shows_in_the_report(live, browser):
    """'Hoàn thành' at counter 33 opens the rating on its tablet; the citizen's choice is counted in the report."""
    async with live.client() as http:
        tablet = await new_page(browser, 1280, 800)
        await tablet.goto(f"{live.base_url}/r/cantho/counter/33?token={live.token('kiosk')}")
        await expect(tablet.locator("body")).to_have_attribute("data-rating-state", "idle")
        await expect(tablet.locator("html")).to_have_attribute("data-online", "1")
        await http.post(f"{SITE}/tickets", json={"agency": TU_PHAP}, headers=bearer(live.token("kiosk")))
        officer = bearer(live.token("officer", ["33"], name="lan"))
        await http.post(f"{SITE}/counters/33/call-next", headers=officer)
        live.clock.advance(seconds=240)
        await http.post(f"{SITE}/counters/33/complete", headers=officer)
        await expect(tablet.locator("body")).to_have_attribute("data-rating-state", "ask")
        await expect(tablet.locator("#rt-number")).to_have_text("V001")
        await expect(tablet.locator(".rt-choice")).to_have_text(["Rất hài lòng", "Hài lòng", "Không hài lòng"])
        await tablet.click('.rt-choice[data-score="3"]')
        await expect(tablet.locator("body")).to_have_attribute("data-rating-state", "thanks")
        assert tablet.js_errors == []

        page = await new_page(browser)
        await page.goto(f"{live.base_url}/m/cantho/reports?token={live.token('manager')}")
        row = page.locator(f'#r-agencies tr[data-key="{TU_PHAP}"]')
        await expect(row.locator('td[data-rating="3"]')).to_have_text("1")
        await expect(row.locator("td[data-satisfied]")).to_have_text("100%")
        await expect(page.locator('#r-officers tr[data-key="officer:lan"] td[data-rating="3"]')).to_have_text("1")
        assert page.js_errors == []


async def test_manager_signs_in_with_a_password_and_officers_are_refused(live, browser):
    """The console asks for a login; an officer account is refused, a manager's opens the console."""
    await live.app.state.auth.add_user("lan", "matkhau-123", "officer", "cantho", ("33",))
    await live.app.state.auth.add_user("thuy", "matkhau-456", "manager", "cantho")
    page = await new_page(browser)
    await page.goto(f"{live.base_url}/m/cantho")
    await expect(page.locator("#m-login")).to_be_visible()
    await page.fill("#m-username", "lan")
    await page.fill("#m-password", "matkhau-123")
    await page.click("#m-login button[type=submit]")
    await expect(page.locator("#m-login-error")).to_have_text("Tài khoản này không phải tài khoản quản lý.")
    await page.fill("#m-username", "thuy")
    await page.fill("#m-password", "matkhau-456")
    await page.click("#m-login button[type=submit]")
    await expect(page.locator('.cc[data-counter="1"]')).to_be_visible()
    await expect(page.locator("#m-user")).to_have_text("thuy")
    await page.goto(f"{live.base_url}/m/cantho/audit")          # the login is kept for the other pages
    await expect(page.locator("#a-status")).to_contain_text("2 mục ngày 24/11/2026")  # the two accounts made
    await expect(page.locator("body")).to_contain_text("Lưu tài khoản thuy (quản lý)")
    assert page.js_errors == []
