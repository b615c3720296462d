"""Screenshots of the console, a report and the rating tablet after a simulated morning (1920×1080).

Set QSERVER_SCREENSHOTS_DIR=docs/screenshots to write them into the repository; otherwise they go to a
temporary folder (the test still checks the pages draw the simulated morning without script errors).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.support.browser import SCREENSHOTS_DIR

pytestmark = pytest.mark.browser

OFFICERS = ["an", "bình", "chi", "dũng", "giang", "hà", "hiếu", "hoa", "hùng", "khánh", "lan", "linh", "long", "mai",
            "minh", "nam", "nga", "ngọc", "phúc", "phương", "quang", "quỳnh", "sơn", "tâm", "thảo", "thanh", "thu",
            "trang", "trung", "tuấn", "uyên", "vân", "việt", "xuân", "yến"]
#: Agencies busier than their number of procedures says (per-minute arrival weight multipliers).
BUSY = {"so-tu-phap": 2.6, "so-lao-dong-tbxh": 1.6, "so-giao-thong-van-tai": 1.4}


async def simulate_morning(engine, clock, *, minutes: int = 150, seed: int = 7) -> None:
    """07:00 → 09:30 of a Tuesday: arrivals weighted by procedures, officers calling and completing, in
    time order (each counter acts when its current service ends)."""
    rng = random.Random(seed)
    site = engine.site
    start = dt.datetime(2026, 11, 24, 7, 0, tzinfo=site.tz).astimezone(dt.timezone.utc)
    end = start + dt.timedelta(minutes=minutes)
    officer = {c.id: f"officer:{OFFICERS[i % len(OFFICERS)]}" for i, c in enumerate(site.counters)}
    total_procedures = sum(a.procedures for a in site.agencies)
    clock.set(start)
    for counter, reason in {"23": "Cán bộ đi công tác", "34": "Cán bộ đi tập huấn"}.items():
        await engine.set_status(counter, "close", reason, actor="manager:thùy")
    plan: list[tuple[dt.datetime, int, str, str]] = []     # (when, order, what, whom)
    for minute in range(minutes):
        peak = 1.8 if 60 <= minute < 120 else 1.0
        for agency in site.agencies:
            rate = 2.4 * peak * agency.procedures / total_procedures * BUSY.get(agency.slug, 1.0)
            for _ in range(int(rate) + (rng.random() < rate - int(rate))):
                plan.append((start + dt.timedelta(minutes=minute, seconds=rng.uniform(0, 60)), 0, "issue", agency.slug))
    plan.append((start + dt.timedelta(minutes=70), 1, "pause", "13"))
    plan.append((start + dt.timedelta(minutes=95), 1, "reassign", "26"))
    for counter in site.counters:
        if counter.id not in ("23", "34"):
            plan.append((start + dt.timedelta(seconds=rng.uniform(30, 300)), 2, "call", counter.id))
    plan.sort()
    while plan:
        when, _order, what, whom = plan.pop(0)
        if when >= end:
            break
        clock.set(when)
        if what == "issue":
            await engine.issue(whom, priority="elderly" if rng.random() < 0.06 else None, actor="kiosk")
        elif what == "pause":
            await engine.set_status(whom, "pause", "Họp giao ban", actor="manager:thùy")
        elif what == "reassign":
            await engine.reassign(whom, ["so-nong-nghiep-ptnt", "so-tu-phap"], actor="manager:thùy")
        elif what == "call":
            counter = engine.site.counter_by_id[whom]
            status = json.loads(await engine.redis.hget(engine.keys.counters, whom))["status"]
            if status != "open":
                continue
            answer = await engine.call_next(counter.id, actor=officer[counter.id])
            later = rng.lognormvariate(5.75, 0.45) if answer["status"] == 200 else rng.uniform(20, 60)
            if answer["status"] == 200 and rng.random() < 0.05:
                plan.append((when + dt.timedelta(seconds=rng.uniform(60, 120)), 1, "no-show", whom))
            elif answer["status"] == 200 and rng.random() < 0.03:
                plan.append((when + dt.timedelta(seconds=rng.uniform(60, 180)), 1, "transfer", whom))
            else:
                plan.append((when + dt.timedelta(seconds=later), 2, "call", whom))
            plan.sort()
        elif what in ("no-show", "transfer"):
            if what == "no-show":
                await engine.no_show(whom, actor=officer[whom])
            else:
                current = json.loads(await engine.redis.hget(engine.keys.counters, whom)).get("current")
                agency = json.loads(await engine.redis.hget(engine.keys.tickets, current))["agency"]
                target = rng.choice([a.slug for a in site.agencies if a.slug != agency])
                await engine.transfer(whom, target, actor=officer[whom])
            plan.append((when + dt.timedelta(seconds=rng.uniform(10, 30)), 2, "call", whom))
            plan.sort()
    clock.set(end)
    for _id, blob in sorted((await engine.redis.hgetall(engine.keys.tickets)).items()):
        ticket = json.loads(blob)
        if ticket["status"] == "done" and rng.random() < 0.6:
            await engine.rate(ticket["id"], rng.choices([3, 2, 1], weights=[70, 22, 8])[0], actor="kiosk")
    await engine.post_notice("Quầy 13 tạm nghỉ họp giao ban đến 10 giờ. Công dân Sở Nội vụ mời đến quầy 12.", 0,
                             ttl_s=3600, actor="manager:thùy")
    clock.set(end - dt.timedelta(minutes=12))
    await engine.record_ack("floor-1-tv", "0-0")
    clock.set(end)
    await engine.record_ack("floor-0-tv", "0-0")
    await engine.record_ack("announcer-floor-0", "0-0")


async def test_console_and_report_screenshots(live, browser, tmp_path):
    """The console and the day's report draw a busy morning at 1920×1080 (saved as PNG)."""
    folder = Path(SCREENSHOTS_DIR or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    engine = live.app.state.engines["cantho"]
    await simulate_morning(engine, live.clock)
    token = live.token("manager", name="thùy")
    page = await browser.new_page(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{live.base_url}/m/cantho?token={token}")
    await expect(page.locator('.cc[data-counter="13"]')).to_have_attribute("data-state", "paused")
    await expect(page.locator(".c-alert").first).to_be_visible()
    await page.evaluate("document.fonts.ready")
    await page.screenshot(path=str(folder / "console.png"))
    await page.click('.cc[data-counter="26"]')
    await expect(page.locator("#counter-modal")).to_be_visible()
    await page.screenshot(path=str(folder / "console-counter.png"))
    await page.keyboard.press("Escape")

    await page.goto(f"{live.base_url}/m/cantho/reports")
    await expect(page.locator('#r-agencies tr[data-key="so-tu-phap"]')).to_be_visible()
    await page.evaluate("document.fonts.ready")
    await page.screenshot(path=str(folder / "reports.png"))
    await page.goto(f"{live.base_url}/m/cantho/audit")
    await expect(page.locator("#a-rows tr").first).to_be_visible()
    await page.screenshot(path=str(folder / "reports-audit.png"))
    assert errors == []


async def test_rating_tablet_screenshot(live, browser, tmp_path):
    """The rating tablet asking a citizen, at 1280×800 (saved as PNG)."""
    folder = Path(SCREENSHOTS_DIR or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    engine = live.app.state.engines["cantho"]
    tablet = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    await tablet.goto(f"{live.base_url}/r/cantho/counter/33?token={live.token('kiosk')}")
    await expect(tablet.locator("html")).to_have_attribute("data-online", "1")
    for _ in range(7):
        await engine.issue("so-tu-phap")
    for _ in range(7):
        await engine.call_next("33", actor="officer:lan")
    await engine.complete("33", actor="officer:lan")
    await expect(tablet.locator("body")).to_have_attribute("data-rating-state", "ask")
    await tablet.evaluate("document.getAnimations().forEach(a => a.pause())")
    await tablet.evaluate("document.fonts.ready")
    await tablet.screenshot(path=str(folder / "rating.png"))
