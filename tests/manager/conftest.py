"""Fixtures of the managers' tests (helpers in :mod:`tests.support.managers`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qserver.engine import SiteEngine
from tests.support import TIMEOUT
from tests.support.browser import CHROMIUM_ARGS


@pytest.fixture
async def day_engine(redis, site, clock) -> SiteEngine:
    """The Cần Thơ site with final no-shows (a no-show is not sent back to the queue)."""
    engine = SiteEngine(redis, replace(site, no_show_return_after=0), clock, secret=b"test-secret")
    await engine.seed_counters()
    return engine


@pytest.fixture
async def browser(chromium_path):
    """A headless Chromium (real, through Playwright) for this test."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=TIMEOUT * 1000)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
