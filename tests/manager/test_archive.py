"""The SQLite archive of closed days: written once, read for past days, ranges across days."""

from __future__ import annotations

import datetime as dt

from qserver.managers.archive import Archive, History
from qserver.managers.audit import audit_trail
from qserver.managers.reports import compute

from tests.support.managers import NOI_VU, Script, run_scripted_day

DAY1, DAY2 = dt.date(2026, 11, 24), dt.date(2026, 11, 25)


def local(site, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=site.tz).astimezone(dt.timezone.utc)


async def two_days(engine, clock):
    """The scripted Tuesday, then a short Wednesday: two Nội vụ tickets, one served and rated."""
    await run_scripted_day(engine, clock)
    day2 = Script(engine, clock, local(engine.site, 2026, 11, 25, 8, 0))
    first = await day2.issue(0, NOI_VU)
    await day2.issue(30, NOI_VU)
    day2.at(120)
    await engine.call_next("13", actor="officer:hoa")
    day2.at(420)
    await engine.complete("13", actor="officer:hoa")
    await engine.rate(first["id"], 3, actor="kiosk")


async def test_closed_day_is_archived_when_first_asked_for(day_engine, clock, tmp_path):
    """Asking for yesterday archives it (after the rollover expired its queue) and reads it from SQLite."""
    archive = Archive(tmp_path / "var" / "archive.sqlite")
    history = History(day_engine, archive)
    await run_scripted_day(day_engine, clock)
    live = compute(day_engine.site, await history.tickets(DAY1, DAY1), DAY1, DAY1)
    assert not archive.path.exists() or archive.counts("cantho")["days"] == 0

    clock.set(local(day_engine.site, 2026, 11, 25, 7, 30))
    past = compute(day_engine.site, await history.tickets(DAY1, DAY1), DAY1, DAY1)
    assert archive.counts("cantho")["days"] == 1 and archive.counts("cantho")["tickets"] == 12
    assert past["total"]["expired"] == 1 and past["total"]["waiting"] == 0   # V011 expired at rollover
    for key in ("issued", "served", "no_show", "transferred", "wait_s", "service_s", "ratings"):
        assert past["total"][key] == live["total"][key]
    assert past["officers"] == live["officers"] and past["counters"] == live["counters"]
    assert next(r for r in past["agencies"] if r["key"] == "so-tu-phap")["expired"] == 1


async def test_archiving_twice_changes_nothing(day_engine, clock, tmp_path):
    """A day archived again (same process, another process, or by hand) leaves the archive as it was."""
    archive = Archive(tmp_path / "archive.sqlite")
    await two_days(day_engine, clock)
    first = History(day_engine, archive)
    assert await first.archive_closed_days() == ["2026-11-24"]
    before = archive.counts("cantho")
    assert await first.archive_closed_days(force=True) == []
    assert await History(day_engine, archive).archive_closed_days() == []
    assert archive.store_day("cantho", "2026-11-24", [{"id": "x", "issued_at": 0}], []) is False
    assert archive.counts("cantho") == before
    assert before == {"days": 1, "tickets": 12, "events": before["events"]} and before["events"] > 30


async def test_range_across_days_reads_archive_and_redis(day_engine, clock, tmp_path):
    """A two-day range adds yesterday (archive) and today (Redis); each day has its own row."""
    await two_days(day_engine, clock)
    history = History(day_engine, Archive(tmp_path / "archive.sqlite"))
    report = compute(day_engine.site, await history.tickets(DAY1, DAY2), DAY1, DAY2)
    assert report["days"] == 2
    assert (report["total"]["issued"], report["total"]["served"], report["total"]["rated"]) == (14, 11, 8)
    assert [(d["key"], d["issued"], d["served"], d["expired"]) for d in report["daily"]] == [
        ("2026-11-24", 12, 10, 1), ("2026-11-25", 2, 1, 0)]
    noi_vu = next(r for r in report["agencies"] if r["key"] == NOI_VU)
    assert (noi_vu["issued"], noi_vu["served"], noi_vu["waiting"]) == (3, 3, 1)
    assert next(r for r in report["officers"] if r["key"] == "officer:hoa")["served"] == 1


async def test_archive_outlives_redis_day_keys(day_engine, clock, redis, tmp_path):
    """Once archived, a day's report and audit trail survive the deletion of its tickets from Redis."""
    await two_days(day_engine, clock)
    history = History(day_engine, Archive(tmp_path / "archive.sqlite"))
    before = compute(day_engine.site, await history.tickets(DAY1, DAY1), DAY1, DAY1)
    old = [t["id"] for t in await day_engine.tickets_issued(DAY1)]
    await redis.hdel(day_engine.keys.tickets, *old)
    await redis.zrem(day_engine.keys.ticket_index, *old)
    await redis.delete(day_engine.keys.events)
    again = History(day_engine, Archive(tmp_path / "archive.sqlite"))
    assert compute(day_engine.site, await again.tickets(DAY1, DAY1), DAY1, DAY1) == before
    kinds = [e["kind"] for e in audit_trail(day_engine.site, await again.events(DAY1))]
    assert kinds == ["no_show", "transfer"]
