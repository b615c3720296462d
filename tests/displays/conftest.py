"""Real headless Chromium for the page tests (Playwright's sync API, one browser per test module).

The tests here are plain (sync) functions: Playwright's sync API runs its own loop, which must not
be nested in pytest-asyncio's. ``server`` (tests/conftest.py) is a ``qserver run`` subprocess."""

from __future__ import annotations

import pytest

from tests.support.browser import Pages


@pytest.fixture
def pages(browser, server):
    opened = Pages(browser, server)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors: {opened.errors}"
