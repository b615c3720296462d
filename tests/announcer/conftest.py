"""Fixtures for the announcer's tests (helpers in :mod:`tests.support.announcer`)."""

from __future__ import annotations

import pytest

import config
from announcer.sentence import Wording
from tests.support.announcer import FakeClock


@pytest.fixture
def cantho() -> config.Site:
    return config.load_sites()["cantho"]


@pytest.fixture
def wording(cantho) -> Wording:
    return Wording.from_site(cantho)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
