"""Real headless Chromium for the page tests (Playwright's sync API, one browser per test module).

The tests here are plain (sync) functions: Playwright's sync API runs its own loop, which must not
be nested in pytest-asyncio's. ``server`` (tests/conftest.py) is a ``qserver run`` subprocess.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import TIMEOUT

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: Where screenshot-producing tests also copy their pictures (``docs/screenshots`` to refresh them).
SCREENSHOTS_DIR = os.environ.get("QSERVER_SCREENSHOTS_DIR")


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Pages:
    """Opens pages of one server in fresh browser contexts and closes them after the test."""

    def __init__(self, browser, server):
        self.browser, self.server = browser, server
        self.contexts = []
        self.errors: list[str] = []

    def open(self, path: str, width: int = 1920, height: int = 1080, wait_online: bool = True, before=None,
             **options):
        context = self.browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                                           timezone_id="Asia/Ho_Chi_Minh", **options)
        context.set_default_timeout(TIMEOUT * 1000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{path}: {error}"))
        if before is not None:  # e.g. install a fake clock or route the websocket before the page loads
            before(page)
        page.goto(self.server.base_url + path)
        if wait_online:
            page.wait_for_selector("html[data-online='1']")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, server):
    opened = Pages(browser, server)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors: {opened.errors}"
