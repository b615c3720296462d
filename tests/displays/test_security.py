"""The pages keep their Content-Security-Policy: no page needs an inline script or a foreign source."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = ["/d/cantho/floor/0", "/d/cantho/floor/1", "/d/cantho/counter/12", "/k/cantho", "/o/cantho/counter/12",
         "/t/cantho/20261124-V001", "/m/cantho", "/m/cantho/reports", "/m/cantho/audit", "/r/cantho/counter/12"]


def test_no_page_breaks_its_content_security_policy(server, pages):
    """Every page loads under its CSP without a single violation reported by Chromium."""
    for path in PAGES:
        page = pages.open(path, wait_online=False)
        violations = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.reload()
        page.wait_for_load_state("networkidle")
        policy = page.evaluate("async () => (await fetch(location.href)).headers.get('content-security-policy')")
        assert "script-src 'self'" in policy, path
        assert violations == [], f"{path}: {violations}"
