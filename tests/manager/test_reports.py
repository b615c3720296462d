"""Report numbers of a scripted day, checked against values worked out by hand."""

from __future__ import annotations

import datetime as dt

from qserver.managers.archive import Archive, History
from qserver.managers.reports import annotate, compute, percentile, summarize

from tests.support.managers import run_scripted_day

DAY = dt.date(2026, 11, 24)


def row(rows, key):
    return next(r for r in rows if r["key"] == key)


async def report_of_day(engine, tmp_path):
    history = History(engine, Archive(tmp_path / "archive.sqlite"))
    return compute(engine.site, await history.tickets(DAY, DAY), DAY, DAY)


def test_nearest_rank_percentiles():
    """p50/p90 are nearest-rank: always a value of the list."""
    values = [60, 90, 120, 120, 150, 180, 240, 300]
    assert percentile(values, 50) == 120 and percentile(values, 90) == 300
    assert percentile([5], 90) == 5 and percentile([], 50) is None
    assert summarize([400, 1560]) == {"count": 2, "p50": 400, "p90": 1560, "max": 1560, "mean": 980.0}


async def test_agency_numbers_of_a_scripted_day(day_engine, clock, tmp_path):
    """Per agency: issued, served, no-shows, transfers, waits and services p50/p90/max, target share, ratings."""
    await run_scripted_day(day_engine, clock)
    report = await report_of_day(day_engine, tmp_path)
    tu_phap = row(report["agencies"], "so-tu-phap")
    assert {k: tu_phap[k] for k in ("issued", "served", "no_show", "transferred", "received", "expired",
                                    "waiting", "in_service")} == {
        "issued": 11, "served": 8, "no_show": 1, "transferred": 1, "received": 0, "expired": 0,
        "waiting": 1, "in_service": 0}
    assert tu_phap["wait_s"] == {"count": 9, "p50": 960, "p90": 1380, "max": 1380, "mean": 1010.0}
    assert tu_phap["service_s"] == {"count": 8, "p50": 120, "p90": 300, "max": 300, "mean": 157.5}
    assert tu_phap["within_target"] == 3 and tu_phap["within_target_share"] == round(3 / 9, 4)
    assert tu_phap["ratings"] == {"3": 3, "2": 1, "1": 1} and tu_phap["rated"] == 5
    assert tu_phap["satisfied_share"] == 0.8 and tu_phap["very_satisfied_share"] == 0.6

    noi_vu = row(report["agencies"], "so-noi-vu")
    assert (noi_vu["issued"], noi_vu["served"], noi_vu["received"], noi_vu["transferred"]) == (1, 2, 1, 0)
    assert noi_vu["wait_s"] == {"count": 2, "p50": 400, "p90": 1560, "max": 1560, "mean": 980.0}
    assert noi_vu["service_s"] == {"count": 2, "p50": 100, "p90": 300, "max": 300, "mean": 200.0}
    assert noi_vu["within_target_share"] == 0.5 and noi_vu["satisfied_share"] == 1.0
    assert row(report["agencies"], "so-y-te")["issued"] == 0


async def test_counter_officer_and_total_numbers(day_engine, clock, tmp_path):
    """Per counter and per officer (the actor of the call), and for the whole center."""
    await run_scripted_day(day_engine, clock)
    report = await report_of_day(day_engine, tmp_path)
    c33, c12 = row(report["counters"], "33"), row(report["counters"], "12")
    assert (c33["issued"], c33["served"], c33["no_show"], c33["transferred"]) == (None, 8, 1, 1)
    assert c33["wait_s"]["p50"] == 960 and c33["service_s"]["p90"] == 300
    assert c33["ratings"] == {"3": 3, "2": 1, "1": 1}
    assert (c12["served"], c12["wait_s"]["max"], c12["service_s"]["p50"]) == (2, 1560, 100)

    lan, minh = row(report["officers"], "officer:lan"), row(report["officers"], "officer:minh")
    assert lan["name"] == "lan" and (lan["served"], lan["no_show"], lan["transferred"], lan["rated"]) == (8, 1, 1, 5)
    assert minh["name"] == "minh" and (minh["served"], minh["rated"]) == (2, 2)
    assert [r["key"] for r in report["officers"]] == ["officer:lan", "officer:minh"]

    total = report["total"]
    assert (total["issued"], total["served"], total["no_show"], total["transferred"], total["waiting"]) == (12, 10, 1, 1, 1)
    assert total["wait_s"] == {"count": 11, "p50": 960, "p90": 1380, "max": 1560, "mean": 1004.5}
    assert total["within_target"] == 4 and total["ratings"] == {"3": 4, "2": 2, "1": 1}
    assert total["satisfied_share"] == round(6 / 7, 4)
    assert report["hourly"][8]["issued"] == 12 and sum(h["issued"] for h in report["hourly"]) == 12


def test_annotate_takes_the_last_call_and_first_agency():
    """The officer is the actor of the ticket's last (non-recall) call; the issued agency precedes transfers."""
    ticket = {"id": "t1", "agency": "b", "issued_at": 0}
    events = [("1-0", {"type": "called", "actor": "officer:a", "ticket": {"id": "t1"}}),
              ("2-0", {"type": "transferred", "actor": "officer:a", "from_agency": "a", "agency": "b", "counter": "3",
                       "ticket": {"id": "t1"}}),
              ("3-0", {"type": "called", "actor": "officer:b", "ticket": {"id": "t1"}}),
              ("4-0", {"type": "called", "actor": "officer:c", "recall": True, "ticket": {"id": "t1"}})]
    [annotated] = annotate([ticket], events)
    assert annotated["officer"] == "officer:b" and annotated["issued_agency"] == "a"
    assert annotated["transfers_by"] == [["3", "officer:a"]]
