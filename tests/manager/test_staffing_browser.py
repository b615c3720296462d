"""The staffing pages in real headless Chromium over synthetic history in the real archive: the heat map
"Kế hoạch bố trí quầy" and its CSV, a past day compared with the plan, the console's advice applied with one
click (audited), and the what-if panel.

Screenshots go to QSERVER_SCREENSHOTS_DIR when it is set (docs/screenshots), else to the test's folder."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

import config
from tests.support.browser import SCREENSHOTS_DIR
from tests.support.staffing import SHORT_DAY, TU_PHAP, cantho_tickets, install, scripted_morning, store

pytestmark = pytest.mark.browser
SITE = "/api/v1/sites/cantho"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def archive_file(tmp_path_factory):
    site = config.load_sites()["cantho"]
    path = tmp_path_factory.mktemp("staffing-pages") / "archive.sqlite"
    store(path, "cantho", cantho_tickets(site), site.tz)
    return path


@pytest.fixture
def history_live(live, archive_file):
    install(archive_file, live.settings.data_dir)
    return live


async def new_page(browser, width: int = 1700, height: int = 1100):
    page = await browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True,
                                  locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


async def screenshot(page, tmp_path: Path, name: str, selector: str | None = None) -> None:
    folder = Path(SCREENSHOTS_DIR) if SCREENSHOTS_DIR else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    target = page.locator(selector) if selector else page
    await target.screenshot(path=str(folder / name))


async def test_heat_map_and_csv_of_the_next_day(history_live, browser, tmp_path):
    """The reports page draws the next receiving day's plan cell by cell as the API gives it (counters per
    agency and slot, coloured by count, red where the model expects a miss), states the forecast's error, and
    downloads the week's plan as CSV."""
    manager = history_live.token("manager")
    async with history_live.client() as http:
        grid = (await http.get(f"{SITE}/plan", headers=bearer(manager))).json()
    page = await new_page(browser)
    await page.goto(f"{history_live.base_url}/m/cantho/reports?token={manager}")
    heat = page.locator("#s-heat")
    await expect(heat).to_have_attribute("data-mode", "plan")
    await expect(heat).to_have_attribute("data-day", grid["day"])
    await expect(page.locator("#s-date")).to_have_value("25/11/2026")
    cells = heat.locator("td.s-cell")
    await expect(cells).to_have_count(len(grid["agencies"]) * len(grid["slots"]))
    tu_phap = next(a for a in grid["agencies"] if a["slug"] == TU_PHAP)
    row = heat.locator(f'tr[data-agency="{TU_PHAP}"] td.s-cell')
    assert await row.evaluate_all("cells => cells.map(c => Number(c.dataset.counters))") == \
        [c["counters"] for c in tu_phap["cells"]]
    busiest = max(tu_phap["cells"], key=lambda c: c["counters"])
    index = tu_phap["cells"].index(busiest)
    cell = heat.locator(f'td[data-agency="{TU_PHAP}"][data-slot="{grid["slots"][index]["key"]}"]')
    await expect(cell).to_have_text(str(busiest["counters"]))
    await expect(cell).to_have_class(re.compile(rf"\blv{-(-5 * busiest['counters'] // grid['max_counters'])}\b"))
    assert "quầy " + ", ".join(busiest["counter_ids"]) in await cell.get_attribute("title")
    await expect(page.locator('[data-card="plan-hours"] b')).to_have_text(
        f"{grid['counter_hours']:.1f}".replace(".", ",").replace(",0", "") + " giờ")
    error = page.locator("#s-error")
    await expect(error).to_contain_text("Sai số dự báo, kiểm tra lại trên")
    await expect(error).to_contain_text("11/11/2026 (mất kết nối / ngừng cấp số")
    await screenshot(page, tmp_path, "staffing-plan.png", "#s-plan")

    async with page.expect_download() as waiting:
        await page.click("#s-csv")
    download = await waiting.value
    assert download.suggested_filename == "ke-hoach-quay-cantho-2026-11-25_2026-12-01.csv"
    text = Path(await download.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Ngày" and len(rows) - 1 == 5 * len(grid["slots"]) * len(grid["agencies"])
    first = next(r for r in rows if r[0] == "25/11/2026" and r[2] == TU_PHAP and r[1].startswith(grid["slots"][index]["key"]))
    assert int(first[6]) == busiest["counters"] and first[7] == " ".join(busiest["counter_ids"])
    assert page.js_errors == []


async def test_a_past_day_against_the_plan(history_live, browser, tmp_path):
    """'Ngày làm việc trước' (or ?plan= a past day) shows Monday's counters serving / needed: Sở Tư pháp's
    missed cells in red and listed with their reasons (too few counters)."""
    manager = history_live.token("manager")
    async with history_live.client() as http:
        review = (await http.get(f"{SITE}/plan-review?date={SHORT_DAY}", headers=bearer(manager))).json()
    missed = [(a["slug"], c) for a in review["agencies"] for c in a["cells"] if c["missed"]]
    page = await new_page(browser)
    await page.goto(f"{history_live.base_url}/m/cantho/reports?plan={SHORT_DAY}&token={manager}")
    heat = page.locator("#s-heat")
    await expect(heat).to_have_attribute("data-mode", "review")
    await page.click('[data-plan-day="next"]')
    await expect(heat).to_have_attribute("data-mode", "plan")
    await page.click('[data-plan-day="previous"]')
    await expect(heat).to_have_attribute("data-mode", "review")
    await expect(page.locator("#s-heading")).to_contain_text("Thứ Hai, 23/11/2026")
    await expect(heat.locator("td.s-cell.miss")).to_have_count(len(missed))
    slug, cell = next((s, c) for s, c in missed if s == TU_PHAP)
    node = heat.locator(f'td[data-agency="{TU_PHAP}"][data-slot="{cell["slot"]}"]')
    await expect(node).to_have_text(f'{cell["counters_open"]}/{cell["counters_needed"]}')
    listed = page.locator(f'#s-missed-rows tr[data-agency="{TU_PHAP}"][data-slot="{cell["slot"]}"]')
    await expect(listed.locator('[data-reason="short"]')).to_contain_text("thiếu quầy")
    await expect(page.locator('[data-card="missed"] b')).to_have_text(f'{review["cells_missed"]} / {review["cells_judged"]}')
    await screenshot(page, tmp_path, "staffing-review.png", "#s-plan")
    assert page.js_errors == []


async def test_console_advice_applies_with_one_click(history_live, browser, tmp_path):
    """On the scripted morning the console shows the advice the API gives; 'Áp dụng' moves that counter to Sở Tư
    pháp (its card shows the new agency) and the audit trail records the manager's reassignment."""
    engine = history_live.app.state.engines["cantho"]
    await scripted_morning(engine, history_live.clock)
    manager = history_live.token("manager", name="hoa")
    async with history_live.client() as http:
        advice = (await http.get(f"{SITE}/advice?limit=3", headers=bearer(manager))).json()["advice"]
        best = advice[0]
        page = await new_page(browser)
        await page.goto(f"{history_live.base_url}/m/cantho?token={manager}")
        item = page.locator('.a-item[data-rank="1"]')
        await expect(item.locator(".a-message")).to_have_text(best["message"])
        await expect(item).to_have_attribute("data-counter", best["counter"])
        await expect(page.locator("#advice-meta")).to_contain_text("lúc 08:45")
        await expect(item.locator(".a-effect")).to_contain_text("Sở Tư pháp: chờ lâu nhất")
        for rank, other in enumerate(advice[1:], start=2):   # as good as the first: offered as an alternative
            if other["to"] == best["to"] and other["gain_s"] == best["gain_s"]:
                await expect(page.locator(f'.a-item[data-rank="{rank}"] .a-message')).to_have_text(
                    "Hoặc: " + other["message"])
        await screenshot(page, tmp_path, "staffing-advice.png", "#advice-card")
        card = page.locator(f'.cc[data-counter="{best["counter"]}"]')
        await expect(card.locator(f'.chip[data-agency="{TU_PHAP}"]')).to_have_count(0)
        await item.locator("[data-apply]").click()
        await expect(page.locator("#m-toast")).to_contain_text(f"Đã chuyển Quầy {best['counter']} sang phục vụ Sở Tư pháp")
        await expect(card.locator(f'.chip[data-agency="{TU_PHAP}"]')).to_be_visible()
        await expect(card.locator(".chip")).to_have_count(1)
        entries = (await http.get(f"{SITE}/audit?kind=reassign", headers=bearer(manager))).json()["entries"]
        assert [(e["counter"], e["actor"]) for e in entries] == [(best["counter"], "manager:hoa")]
        assert entries[0]["detail"] == (f"Quầy {best['counter']} phục vụ: Sở Tư pháp "
                                        f"(trước đó: {', '.join(best['from_names'])})")
        state = (await http.get(f"{SITE}/state")).json()
        assert next(c for c in state["counters"] if c["id"] == best["counter"])["agencies"] == [TU_PHAP]
        await expect(page.locator('.a-item[data-rank="1"]')).not_to_have_attribute("data-counter", best["counter"])
    assert page.js_errors == []


async def test_what_if_panel_shows_the_expected_waits(history_live, browser, tmp_path):
    """Closing counters 33 and 34 in the what-if panel shows Sở Tư pháp's expected waits getting longer, before
    anything is changed in the hall."""
    manager = history_live.token("manager")
    page = await new_page(browser)
    await page.goto(f"{history_live.base_url}/m/cantho?token={manager}")
    await expect(page.locator("#w-from")).to_have_value("08:00")
    await expect(page.locator('#whatif-form [data-for="volume"]').first).to_be_hidden()
    for counter in ("33", "34"):
        await page.select_option("#w-counter", counter)
        await page.click("#w-add")
    await expect(page.locator("#w-changes li > span")).to_have_text(["Đóng quầy 33 · 08:00–hết giờ", "Đóng quầy 34 · 08:00–hết giờ"])
    await page.click("#whatif-form button[type=submit]")
    result = page.locator("#w-result")
    await expect(result).to_be_visible()
    await expect(result.locator("[data-summary]")).to_contain_text("Từ 08:00 đến hết giờ, công dân được gọi trong 15 phút")
    row = result.locator(f'tr[data-agency="{TU_PHAP}"]')
    await expect(row.locator("td.w-worse").first).to_be_visible()
    async with history_live.client() as http:
        state = (await http.get(f"{SITE}/state")).json()
    assert all(c["status"] == "open" for c in state["counters"] if c["id"] in ("33", "34"))
    await page.select_option("#w-kind", "volume")
    await expect(page.locator('#whatif-form label[data-for="volume"]')).to_be_visible()
    await expect(page.locator('#whatif-form label[data-for="close_counter"]')).to_be_hidden()
    await screenshot(page, tmp_path, "staffing-what-if.png", "#whatif-card")
    assert page.js_errors == []
