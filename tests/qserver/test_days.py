"""Service days and receiving hours with a fake clock: numbering resets, queues expire or carry over."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from qserver.engine import hours
from qserver.engine import SiteEngine
from qserver.exceptions import Conflict

UTC = dt.timezone.utc
NOI_VU = "so-noi-vu"


def local(site, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=site.tz).astimezone(UTC)


async def test_numbers_restart_after_midnight(engine, clock, site):
    """Crossing midnight starts a new service day: numbers restart at 001 and yesterday's queue expires."""
    left = (await engine.issue(NOI_VU))["ticket"]
    await engine.issue(NOI_VU)
    await engine.call_next("12")                    # E001 is being served at closing time
    clock.set(local(site, 2026, 11, 25, 7, 5))
    fresh = (await engine.issue(NOI_VU))["ticket"]
    assert fresh["number"] == "E001" and fresh["id"] == "20261125-E001"
    assert (await engine.ticket("20261124-E002"))["status"] == "expired"
    closed = await engine.ticket(left["id"])
    assert closed["status"] == "done" and closed["outcome"] == "day_closed" and "done_at" not in closed
    assert (await engine.call_next("12"))["ticket"]["id"] == "20261125-E001"
    state = await engine.state()
    assert state["day"] == "2026-11-25" and [c["ticket"] for c in state["calls"]] == ["20261125-E001"]


async def test_rollover_runs_once_for_many_processes(engine, redis, site, clock):
    """Two engines (two processes) crossing midnight roll the day over once."""
    other = SiteEngine(redis, site, clock, secret=b"test-secret")
    await engine.issue(NOI_VU)
    clock.set(local(site, 2026, 11, 25, 7, 5))
    first, second = await engine.rollover(), await other.rollover()
    assert first["rolled"] is True and second["rolled"] is False
    day_events = [e for _id, e in await redis.xrange(engine.keys.events) if b'"type":"day"' in e[b"e"]]
    assert len(day_events) == 1


async def test_carry_over_keeps_waiting_tickets(redis, site, clock):
    """With end_of_day = carry_over, yesterday's waiting tickets are called first the next day."""
    engine = SiteEngine(redis, replace(site, end_of_day="carry_over"), clock, secret=b"s")
    await engine.seed_counters()
    await engine.issue(NOI_VU)
    clock.set(local(site, 2026, 11, 25, 7, 5))
    await engine.issue(NOI_VU)
    assert (await engine.call_next("12"))["ticket"]["id"] == "20261124-E001"
    assert (await engine.call_next("12"))["ticket"]["id"] == "20261125-E001"


async def test_issue_refused_outside_hours_with_opening_time(redis, site, clock):
    """Outside receiving hours an issue is a 409 saying when the center opens; nothing is written."""
    engine = SiteEngine(redis, site, clock, secret=b"s")
    clock.set(local(site, 2026, 11, 24, 11, 0))      # lunch break
    with pytest.raises(Conflict) as refused:
        await engine.issue(NOI_VU)
    assert refused.value.code == "closed_hours"
    assert refused.value.details["opens_at"] == "2026-11-24T13:00+07:00"
    assert "13:00" in refused.value.message
    assert await redis.xlen(engine.keys.events) == 0


def test_hours_sessions_weekends_and_holidays(site):
    """Sessions are [start, end); weekends and holidays are closed; the next opening skips them."""
    assert hours.is_open(site, local(site, 2026, 11, 24, 7, 0))
    assert not hours.is_open(site, local(site, 2026, 11, 24, 10, 30))
    assert hours.is_open(site, local(site, 2026, 11, 24, 16, 29))
    assert not hours.is_open(site, local(site, 2026, 11, 28, 9, 0))          # Saturday
    friday_evening = local(site, 2026, 11, 27, 17, 0)
    assert hours.next_opening(site, friday_evening) == dt.datetime(2026, 11, 30, 7, 0, tzinfo=site.tz)
    assert not hours.is_open(site, local(site, 2026, 9, 2, 9, 0))            # Quốc khánh
    assert hours.next_opening(site, local(site, 2026, 9, 1, 8, 0)) == dt.datetime(2026, 9, 3, 7, 0, tzinfo=site.tz)


def test_service_day_is_local(site):
    """The service day is the local date (UTC+7), not the UTC one."""
    assert hours.service_day(site, dt.datetime(2026, 11, 24, 18, 30, tzinfo=UTC)) == dt.date(2026, 11, 25)
