"""Real headless Chromium for the page tests: the launch flags, screenshots' folder, and :class:`Pages`
(fresh browser contexts on one server, closed after the test, JavaScript errors collected)."""

from __future__ import annotations

import os

from tests.support import TIMEOUT

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


#: Where screenshot-producing tests also copy their pictures (``docs/screenshots`` to refresh them).
SCREENSHOTS_DIR = os.environ.get("QSERVER_SCREENSHOTS_DIR")


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
