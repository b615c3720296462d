"""Fixtures of the from-home tests: CCCD numbers and phones, a site whose appointments are easy to count."""

from __future__ import annotations

import dataclasses
import datetime as dt

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


# -- a real server and a real browser for the pages --------------------------------------------------
def midday_zone(now: dt.datetime | None = None) -> str:
    """A whole-hour time zone in which it is about noon at ``now`` (default: the wall clock)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    offset = 12 - now.hour                     # -11 … +12 hours from UTC
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"   # Etc/GMT-5 is UTC+5


#: How long before its slot ``home_server`` checks a booking in.
CHECKIN_BEFORE_MINUTES = 240
ALL_DAY = 'mon = ["00:00-23:59"]\ntue = ["00:00-23:59"]\nwed = ["00:00-23:59"]\nthu = ["00:00-23:59"]\n' \
          'fri = ["00:00-23:59"]\nsat = ["00:00-23:59"]\nsun = ["00:00-23:59"]\nholidays = []\n'


@pytest.fixture
def home_server(redis_server, flushed, tmp_path):
    """``qserver run`` (real clock) with Cần Thơ open every day, all day, bookable up to the next slot and
    checked in up to 4 hours ahead, in a time zone where it is midday now (a test run at 23:40 in Cần Thơ
    would find no slot left today, and tomorrow's check-in opens only at midnight): the page tests do not
    depend on the hour they run at. ``process.tz`` is that zone."""
    import re
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import config
    from tests.support import ServerProcess

    zone = midday_zone()
    text = (Path(config.BUILTIN_SITES_DIR) / "cantho.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[hours\].*?\n\[announce\]", "[hours]\n" + ALL_DAY + "\n[announce]", text, flags=re.S)
    text, replaced = re.subn(r'^timezone = ".*"$', f'timezone = "{zone}"', text, count=1, flags=re.M)
    assert replaced == 1
    text += f"\n[appointments]\nmin_notice_minutes = 0\ncheckin_before_minutes = {CHECKIN_BEFORE_MINUTES}\n"
    path = tmp_path / "cantho-all-day.toml"
    path.write_text(text, encoding="utf-8")
    process = ServerProcess(redis_server.url, tmp_path, extra_env={"QSERVER_CONFIG": str(path)})
    process.tz = ZoneInfo(zone)
    process.start()
    yield process
    process.close()


@pytest.fixture
def home_pages(browser, home_server):
    from tests.support.browser import Pages

    opened = Pages(browser, home_server)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors: {opened.errors}"
