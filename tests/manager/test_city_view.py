"""The city console's pure part: a center's summary from its overview, the trouble order, the totals."""

from __future__ import annotations

import config
from qserver.managers.city_view import center_summary, city_totals, trouble_key

SITES = config.load_sites(config.CITIES_DIR / "cantho")
NOW = 1_800_000_000_000


def overview(site, *, waiting=None, oldest_s=None, counters=None, stats=None, acks=None, calls=None):
    """An overview as SiteReader.overview answers it; ``oldest_s`` seconds before NOW."""
    waiting = waiting or {}
    oldest = NOW - oldest_s * 1000 if oldest_s is not None else None
    default = {c.id: {"id": c.id, "status": "open", "agencies": list(c.agencies), "current": None}
               for c in site.counters}
    return {"day": "2027-01-15", "now_ms": NOW, "counters": {**default, **(counters or {})},
            "waiting": {a.slug: waiting.get(a.slug, 0) for a in site.agencies}, "oldest_issued_at": oldest,
            "oldest_by_agency": {}, "stats": stats or {}, "acks": acks or {}, "calls": calls or []}


def test_a_quiet_center_is_ok_with_its_numbers():
    """No one waiting, counters open: ok, no problems, today's means from the running totals."""
    site = SITES["xa-co-do"]
    stats = {"issued": 10, "called": 8, "served": 6, "wait_ms": 8 * 90_000, "service_ms": 6 * 300_000,
             "rated": 4, "rating:3": 2, "rating:2": 1, "rating:1": 1}
    c = center_summary(site, overview(site, stats=stats), NOW)
    assert c["level"] == "ok" and c["problems"] == [] and c["longest_wait_s"] is None and c["wait_ratio"] is None
    assert c["today"] == {"issued": 10, "called": 8, "served": 6, "no_show": 0, "rated": 4, "satisfied": 3,
                          "satisfied_share": 0.75, "mean_wait_s": 90, "mean_service_s": 300}
    assert c["counters"]["open"] == c["counters"]["idle"] == 5 and c["level_label"] == "Bình thường"


def test_only_paused_counters_for_a_field_is_a_warning_all_closed_is_bad():
    """Waiting citizens whose counters all pause: warn; whose counters are all closed: bad, named."""
    site = SITES["xa-co-do"]                                  # counter 1 alone serves Tư pháp - Hộ tịch
    waiting = {"tu-phap-ho-tich": 3}
    paused = center_summary(site, overview(site, waiting=waiting, oldest_s=60, counters={
        "1": {"id": "1", "status": "paused", "agencies": ["tu-phap-ho-tich"]}}), NOW)
    assert paused["level"] == "warn" and [p["kind"] for p in paused["problems"]] == ["paused_only"]
    assert paused["problems"][0]["text"] == "3 người chờ Tư pháp - Hộ tịch: các quầy phục vụ đang tạm nghỉ."
    closed = center_summary(site, overview(site, waiting=waiting, oldest_s=60, counters={
        "1": {"id": "1", "status": "closed", "agencies": ["tu-phap-ho-tich"]}}), NOW)
    assert closed["level"] == "bad" and closed["problems"][0]["agencies"] == ["tu-phap-ho-tich"]
    assert closed["counters"] == {"total": 5, "open": 4, "serving": 0, "idle": 4, "paused": 0, "closed": 1}


def test_the_trouble_order():
    """bad before warn before ok; within a level the larger share of the threshold, then late devices,
    then more waiting, then the name."""
    site = SITES["xa-co-do"]
    big = SITES["cantho"]
    call = {"number": "A001", "counter": "1", "floor": 0, "at": NOW - 120_000}
    rows = {
        "over": center_summary(site, overview(site, waiting={"kinh-te": 1}, oldest_s=1300), NOW),
        "closed": center_summary(site, overview(site, waiting={"kinh-te": 1}, oldest_s=10, counters={
            "5": {"id": "5", "status": "closed", "agencies": ["kinh-te"]}}), NOW),
        "half": center_summary(site, overview(site, waiting={"kinh-te": 2}, oldest_s=700), NOW),
        "device": center_summary(site, overview(site, acks={"floor-0-tv": {"at": NOW - 600_000}},
                                                calls=[call]), NOW),
        "center": center_summary(big, overview(big, waiting={"so-tu-phap": 9}, oldest_s=800), NOW),
        "busy": center_summary(site, overview(site, waiting={"kinh-te": 4}, oldest_s=100), NOW),
        "idle": center_summary(site, overview(site), NOW),
    }
    ordered = sorted(rows, key=lambda name: trouble_key(rows[name]))
    assert ordered == ["over", "closed", "half", "device", "center", "busy", "idle"]
    assert [rows[n]["level"] for n in ordered] == ["bad", "bad", "warn", "warn", "ok", "ok", "ok"]
    assert rows["device"]["devices"]["late_names"] == ["floor-0-tv"]
    totals = city_totals(list(rows.values()))
    assert totals["levels"] == {"bad": 2, "warn": 2, "ok": 3} and totals["waiting"] == 1 + 1 + 2 + 9 + 4
    assert totals["longest_wait_s"] == 1300 and totals["devices_late"] == 1 and totals["centers"] == 7
