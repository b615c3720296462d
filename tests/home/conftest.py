"""Fixtures of the from-home tests: CCCD numbers and phones, a site whose appointments are easy to count."""

from __future__ import annotations

import dataclasses

import pytest

from qserver.engine import SiteEngine

#: Twelve-digit CCCD numbers (079 = Hồ Chí Minh City's code, 092 = Cần Thơ's) and mobile numbers.
ID_A, ID_B, ID_C = "092200001234", "092185004321", "079301009876"
PHONE_A, PHONE_B = "0912345678", "0987654321"


def person(n: int) -> tuple[str, str]:
    """The n-th distinct (CCCD number, phone) of a test."""
    return f"0922{n:08d}", f"09{n % 100000000:08d}"


@pytest.fixture
def home_site(site):
    """Cần Thơ with online numbers always given (hours still apply to slots)."""
    return site


@pytest.fixture
async def home_engine(redis, home_site, clock) -> SiteEngine:
    engine = SiteEngine(redis, home_site, clock, secret=b"test-secret", always_open=True)
    await engine.seed_counters()
    return engine


def with_appointments(site, **changes):
    """The site with some [appointments] settings changed."""
    return dataclasses.replace(site, appointments=dataclasses.replace(site.appointments, **changes))


def with_online(site, **changes):
    return dataclasses.replace(site, online=dataclasses.replace(site.online, **changes))
