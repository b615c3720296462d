"""Reports per procedure, of a scripted day whose numbers are worked out by hand: tickets count for the
procedure they end with (the officer's correction included), with their waits and services; the CSV has
the rows; the console shows the procedure of a ticket being served and of the waiting ones."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace

import pytest

from qserver.engine import SiteEngine
from qserver.managers.archive import Archive, History
from qserver.managers.console import console_state
from qserver.managers.reports import compute, report_csv
from qserver.procedures import load_site_catalogue
from tests.support.managers import Script

DAY = dt.date(2026, 11, 24)
LLTP, TRICH_LUC = "CT.TP.001", "CT.TP.003"
LAN = "officer:lan"


@pytest.fixture
async def engine(redis, site, clock) -> SiteEngine:
    """The Cần Thơ site with its sample catalogue, final no-shows."""
    engine = SiteEngine(redis, replace(site, no_show_return_after=0), clock, secret=b"test-secret",
                        catalogue=load_site_catalogue(site))
    await engine.seed_counters()
    return engine


async def scripted_day(engine, clock) -> dict[str, str]:
    """08:00 V001 (LLTP), 08:01 V002 (LLTP), 08:02 V003 (no procedure), 08:03 V004 (LLTP, still waiting).
    Counter 33 (lan): calls V001 08:10, V002 08:15 (V001 served 300 s), corrects V002 to the trích lục
    08:16, calls V003 08:20 (V002 served 300 s), completes V003 08:30 (600 s)."""
    s = Script(engine, clock)
    ids = {"V001": (await s.issue(0, "so-tu-phap", procedure=LLTP))["id"],
           "V002": (await s.issue(60, None, procedure=LLTP))["id"],
           "V003": (await s.issue(120, "so-tu-phap"))["id"],
           "V004": (await s.issue(180, "so-tu-phap", procedure=LLTP))["id"]}
    for seconds in (600, 900):
        s.at(seconds)
        await engine.call_next("33", actor=LAN)
    s.at(960)
    await engine.set_procedure("33", TRICH_LUC, actor=LAN)
    s.at(1200)
    await engine.call_next("33", actor=LAN)
    s.at(1800)
    await engine.complete("33", actor=LAN)
    return ids


async def report_of_day(engine, tmp_path):
    history = History(engine, Archive(tmp_path / "archive.sqlite"))
    return compute(engine.site, await history.tickets(DAY, DAY), DAY, DAY)


async def test_tickets_and_times_per_procedure(engine, clock, tmp_path):
    """LLTP: 2 issued (1 served, 1 waiting); the trích lục: V002 after the correction; the ticket without
    a procedure in the last row; waits and services as scripted."""
    await scripted_day(engine, clock)
    report = await report_of_day(engine, tmp_path)
    catalogue = engine.catalogue
    rows = report["procedures"]
    assert [(r["key"], r["name"]) for r in rows] == [
        (LLTP, catalogue.get(LLTP).name), (TRICH_LUC, catalogue.get(TRICH_LUC).name), ("", "Không chọn thủ tục")]
    lltp, trich, none = rows
    assert (lltp["issued"], lltp["served"], lltp["waiting"]) == (2, 1, 1)
    assert lltp["wait_s"]["p50"] == 600 and lltp["service_s"] == {"count": 1, "p50": 300, "p90": 300, "max": 300,
                                                                   "mean": 300.0}
    assert (trich["issued"], trich["served"]) == (1, 1)
    assert trich["wait_s"]["max"] == 840 and trich["service_s"]["max"] == 300
    assert (none["issued"], none["served"]) == (1, 1)
    assert none["wait_s"]["max"] == 1080 and none["service_s"]["max"] == 600
    assert sum(r["issued"] for r in rows) == report["total"]["issued"] == 4


async def test_the_csv_has_a_row_per_procedure(engine, clock, tmp_path):
    """The CSV's "Thủ tục" group: code, name, issued, served, the service median."""
    await scripted_day(engine, clock)
    table = list(csv.reader(io.StringIO(report_csv(await report_of_day(engine, tmp_path)).decode("utf-8-sig"))))
    header = table[0]
    rows = {r[1]: dict(zip(header, r)) for r in table[1:] if r[0] == "Thủ tục"}
    assert set(rows) == {LLTP, TRICH_LUC, ""}
    assert rows[TRICH_LUC]["Tên"] == engine.catalogue.get(TRICH_LUC).name
    assert (rows[LLTP]["Số phiếu phát"], rows[LLTP]["Đã phục vụ"], rows[LLTP]["Phục vụ trung vị (giây)"]) == \
        ("2", "1", "300")
    assert rows[""]["Tên"] == "Không chọn thủ tục"


async def test_the_console_shows_procedures(engine, clock):
    """The serving counter's ticket carries its procedure; each queue counts its waiting tickets by
    procedure; the feed says the officer corrected one."""
    await scripted_day(engine, clock)
    s = Script(engine, clock)
    await s.issue(1900, None, procedure=LLTP)
    await s.issue(1910, None, procedure=TRICH_LUC)
    s.at(1920)
    await engine.call_next("33", actor=LAN)  # V004
    state = await console_state(engine)
    counter = next(c for c in state["counters"] if c["id"] == "33")
    assert counter["current"]["number"] == "V004" and counter["current"]["procedure"]["code"] == LLTP
    tu_phap = next(a for a in state["agencies"] if a["slug"] == "so-tu-phap")
    assert [(t["number"], t["procedure"]["code"]) for t in tu_phap["tickets"]] == [("V005", LLTP), ("V006", TRICH_LUC)]
    assert [(p["code"], p["waiting"]) for p in tu_phap["procedures"]] == [(LLTP, 1), (TRICH_LUC, 1)]
    assert f"Quầy 33 sửa thủ tục của số V002: {engine.catalogue.get(TRICH_LUC).name}" in [
        item["text"] for item in state["recent"]]
