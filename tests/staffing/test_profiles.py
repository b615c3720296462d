"""Profiles from stored tickets: which days are left out and why, arrivals per slot, service distributions."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from qserver.staffing import build_profiles
from qserver.staffing.slots import DayClock, day_slots, parse_hhmm

from .conftest import FIRST, LAST, OUTAGE_DAY, QUIET_DAY


@pytest.fixture(scope="module")
def profiles(cantho, cantho_history):
    return build_profiles(cantho, cantho_history)


def test_holidays_outages_and_quiet_days_are_left_out(profiles, cantho):
    """Holidays and weekends are not receiving days; the outage and the storm day are flagged with a note."""
    status = {d.day: d for d in profiles.days}
    assert status[dt.date(2026, 4, 30)].status == "holiday" and status[dt.date(2026, 5, 2)].status == "closed"
    assert status[OUTAGE_DAY].status == "outage"
    start, end = re.search(r"(\d\d:\d\d)–(\d\d:\d\d)", status[OUTAGE_DAY].note).groups()
    assert parse_hhmm(start) <= 8 * 3600 and 9 * 3600 + 1800 <= parse_hhmm(end) <= 9 * 3600 + 1800 + 900
    assert status[QUIET_DAY].status == "low_volume" and "trung vị các ngày thứ Tư" in status[QUIET_DAY].note
    assert status[dt.date(2026, 4, 28)].status == "after_holiday"  # Hùng Kings' day was Monday 27
    assert status[dt.date(2026, 5, 4)].status == "after_holiday"   # after 30-4 and 1-5
    flagged = {d.day for d in profiles.days if d.status in ("outage", "low_volume")}
    assert flagged == {OUTAGE_DAY, QUIET_DAY}, "no ordinary day is mistaken for an outage"
    assert all(not d.usable for d in profiles.days if d.day in flagged)


def test_counts_per_slot_add_up_to_the_tickets(profiles, cantho, cantho_history):
    """Every ticket of a receiving day is counted once, for its agency, in the slot of its issue time."""
    day = dt.date(2026, 4, 14)
    record = next(d for d in profiles.days if d.day == day)
    clock = DayClock(cantho, day, day_slots(cantho, day))
    mine = [t for t in cantho_history if clock.midnight_ms <= t["issued_at"] < clock.midnight_ms + 86_400_000]
    assert record.total == len(mine) > 300
    first = next(t for t in mine if t["agency"] == "so-tu-phap")
    index = clock.slot_of(clock.seconds(first["issued_at"]))
    assert record.counts["so-tu-phap"][index] >= 1
    assert sum(record.counts["so-tu-phap"]) == sum(1 for t in mine if t["agency"] == "so-tu-phap")
    assert [s.key for s in record.slots] == ["07:00", "07:30", "08:00", "08:30", "09:00", "09:30", "10:00",
                                             "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00"]


def test_service_distribution_matches_the_truth(profiles, cantho_truth):
    """Mean, median and lognormal spread of served tickets, and the no-show share, near the known values."""
    for slug in ("so-xay-dung", "so-tu-phap", "so-y-te"):
        stats, truth = profiles.services[slug], cantho_truth.services[slug]
        assert stats.mean_s == pytest.approx(truth.mean_s, rel=0.06)
        assert stats.quantiles["p50"] == pytest.approx(truth.mean_s * 2.718281828 ** (-truth.sigma ** 2 / 2), rel=0.08)
        assert stats.sigma == pytest.approx(truth.sigma, abs=0.05)
        assert stats.no_show_share == pytest.approx(0.05, abs=0.02)
        assert stats.quantiles["p10"] < stats.quantiles["p50"] < stats.quantiles["p90"]
    small = profiles.services["so-ngoai-vu"]
    assert small.served < 100 and small.no_show_s == pytest.approx(110, rel=0.25)


def test_weekday_profile_is_the_mean_of_ordinary_days(profiles):
    """The Wednesday profile averages the ordinary Wednesdays only (not the storm day)."""
    wednesdays = [d for d in profiles.days if d.status == "normal" and d.day.weekday() == 2]
    profile = profiles.weekday_profile("wed")
    expected = sum(d.counts["so-y-te"][2] for d in wednesdays) / len(wednesdays)
    assert profile["so-y-te"]["08:00"] == pytest.approx(expected)
    assert QUIET_DAY not in {d.day for d in wednesdays}


def test_today_is_left_out_of_arrivals(cantho, cantho_history):
    """A day not over yet does not enter the profile, but its finished services count."""
    today = dt.date(2026, 5, 8)
    profiles = build_profiles(cantho, cantho_history, today=today)
    assert next(d for d in profiles.days if d.day == today).status == "today"
    earlier = build_profiles(cantho, [t for t in cantho_history if t["issued_at"] < DayClock(cantho, today, ()).midnight_ms])
    assert profiles.services["so-y-te"].served > earlier.services["so-y-te"].served


def test_profile_json_lists_every_day(profiles):
    """The JSON names each day's status, the weekday profiles and the services."""
    data = profiles.to_json()
    assert len(data["days"]) == (LAST - FIRST).days + 1
    assert {"day", "status", "tickets", "note"} <= set(data["days"][0])
    assert set(data["weekdays"]) == {"mon", "tue", "wed", "thu", "fri"}
    assert data["services"][0]["lognormal"]["sigma"] > 0
