"""Fixtures of the server's tests."""

from __future__ import annotations

import pytest

from tests.support.live import Api


@pytest.fixture
async def api(live):
    """A small API client (kiosk and manager tokens) of the ``live`` app."""
    client = Api(live)
    yield client
    await client.http.aclose()
