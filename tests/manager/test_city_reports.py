"""City-wide reports over the shipped city: per day and per center, a group, past days from the archive,
the CSV, bounded ranges; and the pure merge of center rows."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

import config
from qserver.managers.archive import Archive
from qserver.managers.city_reports import center_part, city_csv, city_report, merge_rows
from qserver.managers.reports import compute
from tests.support import MORNING
from tests.support.city import COMMUNE, TU_PHAP_HO_TICH, CityApi, city_app, wait_seeded

pytestmark = pytest.mark.slow
DAY1, DAY2 = "2026-11-24", "2026-11-25"
STATS = "/api/v1/city/stats"


@pytest.fixture
async def city(redis_server, flushed, tmp_path, clock):
    app = city_app(redis_server.url, tmp_path, clock)
    await app.start()
    await wait_seeded(app)
    api = CityApi(app)
    yield api
    await api.aclose()
    await app.stop()


async def two_days(city: CityApi) -> None:
    """Day 1: cantho serves V001 (wait 300 s, service 200 s); V002 does not come, is sent back to the
    queue (no longer called) and expires at the day's end; xa-co-do serves A001 (wait 600 s, service
    120 s, rated 3).
    Day 2: xa-co-do serves A001 (wait 60 s, service 60 s, rated 1); A002 still waits."""
    clock = city.app.clock
    clock.set(MORNING)
    await city.issue("cantho", "so-tu-phap")
    clock.advance(seconds=60)
    await city.issue("cantho", "so-tu-phap")
    await city.issue(COMMUNE, TU_PHAP_HO_TICH)
    clock.advance(seconds=240)
    await city.act("cantho", "33", "call-next")              # V001 waited 300 s
    clock.advance(seconds=200)
    await city.act("cantho", "33", "call-next")              # V001 served in 200 s, V002 waited 440 s
    clock.advance(seconds=60)
    await city.act("cantho", "33", "no-show")                # back in the queue (no_show_return_after 5)
    clock.advance(seconds=100)
    co_do = await city.act(COMMUNE, "1", "call-next")        # A001 waited 600 s
    clock.advance(seconds=120)
    await city.act(COMMUNE, "1", "complete")
    await city.rate(COMMUNE, co_do["id"], 3)
    clock.set(MORNING + dt.timedelta(days=1))
    first = await city.issue(COMMUNE, TU_PHAP_HO_TICH)
    await city.issue(COMMUNE, TU_PHAP_HO_TICH)
    clock.advance(seconds=60)
    await city.act(COMMUNE, "1", "call-next")
    clock.advance(seconds=60)
    await city.act(COMMUNE, "1", "complete")
    await city.rate(COMMUNE, first["id"], 1)


async def test_the_city_report_per_day_and_per_center(city):
    """Totals, each day and each center add up to what happened, with past days read from the archive."""
    await two_days(city)
    r = await city.http.get(STATS, params={"from": DAY1, "to": DAY2}, headers={"Authorization": f"Bearer {city.city}"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["from"], report["to"], report["days"], report["sites"]) == (DAY1, DAY2, 2, 104)
    total = report["total"]
    assert (total["name"], total["issued"], total["served"], total["expired"], total["waiting"]) == \
        ("Toàn thành phố", 5, 3, 1, 1)
    assert total["wait_s"] == {"count": 3, "p50": 300, "p90": 600, "max": 600, "mean": 320.0}
    assert total["service_s"] == {"count": 3, "p50": 120, "p90": 200, "max": 200, "mean": 126.7}
    assert total["rated"] == 2 and total["ratings"] == {"3": 1, "2": 0, "1": 1} and total["satisfied_share"] == 0.5
    # within target: cantho (900 s) 300; xa-co-do (600 s) 600 and 60
    assert total["within_target"] == 3 and total["within_target_share"] == 1.0
    day1, day2 = report["daily"]
    assert (day1["key"], day1["name"], day1["issued"], day1["served"], day1["wait_s"]["count"]) == \
        (DAY1, "24/11/2026", 3, 2, 2)
    assert (day2["key"], day2["issued"], day2["served"], day2["waiting"], day2["wait_s"]["p50"]) == (DAY2, 2, 1, 1, 60)
    centers = {c["slug"]: c for c in report["centers"]}
    assert len(centers) == 104 and "daily" not in centers[COMMUNE]
    assert (centers["cantho"]["issued"], centers["cantho"]["served"], centers["cantho"]["expired"]) == (2, 1, 1)
    assert (centers[COMMUNE]["issued"], centers[COMMUNE]["served"], centers[COMMUNE]["satisfied_share"]) == (3, 2, 0.5)
    assert centers[COMMUNE]["target_wait_s"] == 600 and centers["cantho"]["target_wait_s"] == 900
    assert centers["xa-vinh-vien"]["issued"] == 0 and centers["xa-vinh-vien"]["wait_s"]["p50"] is None
    archive = Archive(city.app.settings.data_dir / "archive.sqlite")
    assert archive.archived_days(COMMUNE) == {DAY1} and archive.counts(COMMUNE)["tickets"] == 1

    detailed = (await city.http.get(STATS, params={"from": DAY1, "to": DAY2, "center_days": "1"},
                                    headers={"Authorization": f"Bearer {city.city}"})).json()
    co_do_days = {d["key"]: d for d in next(c for c in detailed["centers"] if c["slug"] == COMMUNE)["daily"]}
    assert co_do_days[DAY1]["served"] == 1 and co_do_days[DAY2]["served"] == 1 and co_do_days[DAY2]["waiting"] == 1


async def test_a_group_report_covers_only_its_centers(city):
    """?group= keeps the group's centers; its totals are theirs alone."""
    await two_days(city)
    headers = {"Authorization": f"Bearer {city.city}"}
    area = (await city.http.get(STATS, params={"from": DAY1, "to": DAY2, "group": "Khu vực Cờ Đỏ"},
                                headers=headers)).json()
    sites = config.sites_in_group(city.app.app.state.sites, "Khu vực Cờ Đỏ")
    assert area["group"] == "Khu vực Cờ Đỏ" and area["total"]["name"] == "Nhóm Khu vực Cờ Đỏ"
    assert {c["slug"] for c in area["centers"]} == set(sites) and area["sites"] == len(sites)
    assert (area["total"]["issued"], area["total"]["served"], area["total"]["wait_s"]["p50"]) == (3, 2, 60)
    soc_trang = (await city.http.get(STATS, params={"date": DAY1, "group": "Sóc Trăng cũ"}, headers=headers)).json()
    assert soc_trang["total"]["issued"] == 0 and soc_trang["days"] == 1


async def test_the_city_csv_has_the_total_days_centers_and_centers_by_day(city):
    """One CSV table (UTF-8 with BOM): 1 total, a row per day, per center, per center and day."""
    await two_days(city)
    r = await city.http.get(STATS + ".csv", params={"from": DAY1, "to": DAY2},
                            headers={"Authorization": f"Bearer {city.city}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="thong-ke-thanh-pho-{DAY1}_{DAY2}.csv"'
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    kinds = [row[0] for row in body]
    assert kinds.count("Toàn bộ") == 1 and kinds.count("Ngày") == 2
    assert kinds.count("Trung tâm") == 104 and kinds.count("Trung tâm theo ngày") == 208
    column = {name: i for i, name in enumerate(header)}
    co_do = [row for row in body if row[1] == COMMUNE]
    assert [(row[0], row[column["Từ ngày"]], row[column["Đã phục vụ"]]) for row in co_do] == [
        ("Trung tâm", DAY1, "2"), ("Trung tâm theo ngày", DAY1, "1"), ("Trung tâm theo ngày", DAY2, "1")]
    assert co_do[0][column["Mục tiêu chờ (phút)"]] == "10" and co_do[0][column["Tỷ lệ hài lòng (%)"]] == "50.0"
    assert body[0][column["Số phiếu phát"]] == "5" and "Rất hài lòng" in header
    semicolon = await city.http.get(STATS + ".csv", params={"from": DAY1, "to": DAY2, "sep": "semicolon"},
                                    headers={"Authorization": f"Bearer {city.city}"})
    assert semicolon.content.decode("utf-8-sig").splitlines()[1].count(";") == len(header) - 1
    assert ";50,0" in semicolon.content.decode("utf-8-sig")


@pytest.mark.parametrize("query, words", [
    ({"from": DAY2, "to": DAY1}, "'from' phải trước"),
    ({"from": "2026-10-01", "to": "2026-11-24"}, "tối đa 31 ngày, không phải 55 ngày"),
    ({"date": "24/11/2026"}, "'date' phải là ngày dạng YYYY-MM-DD"),
    ({"date": DAY1, "group": "Không có"}, "Không có nhóm trung tâm “Không có”"),
])
async def test_bad_ranges_and_groups_are_clear_422s(city, query, words):
    """A reversed or too long range, a malformed date, an unknown group: 422 saying which."""
    for path in (STATS, STATS + ".csv"):
        r = await city.http.get(path, params=query, headers={"Authorization": f"Bearer {city.city}"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_field"
        assert words in r.json()["error"]["message"], r.json()


def _ticket(site, tid, issued_s, called_s=None, done_s=None, rating=None, status=None):
    base = int(MORNING.timestamp() * 1000)
    return {"id": tid, "agency": site.agencies[0].slug, "issued_at": base + issued_s * 1000,
            "called_at": None if called_s is None else base + called_s * 1000,
            "done_at": None if done_s is None else base + done_s * 1000, "counter": site.counters[0].id,
            "status": status or ("done" if done_s is not None else "called" if called_s is not None else "waiting"),
            "rating": rating}


def test_city_rows_add_centers_and_summarise_durations_again():
    """Counts add up; p50/p90 come from all tickets together; within target uses each center's own target."""
    sites = config.load_sites(config.CITIES_DIR / "cantho")
    day = MORNING.date()
    center, commune = sites["cantho"], sites[COMMUNE]
    center_tickets = [_ticket(center, "a", 0, 800, 900, 3), _ticket(center, "b", 0, 1000, 1100, 2)]
    commune_tickets = [_ticket(commune, "c", 0, 100, 160, 1), _ticket(commune, "d", 0, 700, None, None, "no_show"),
                       _ticket(commune, "e", 0)]
    parts = [center_part(center, compute(center, center_tickets, day, day), center_tickets),
             center_part(commune, compute(commune, commune_tickets, day, day), commune_tickets)]
    report = city_report(parts, day, day, group=None, groups=[])
    total = report["total"]
    assert (total["issued"], total["served"], total["no_show"], total["waiting"]) == (5, 3, 1, 1)
    assert total["wait_s"] == {"count": 4, "p50": 700, "p90": 1000, "max": 1000, "mean": 650.0}
    assert total["service_s"]["p50"] == 100 and total["service_s"]["count"] == 3
    assert total["within_target"] == 2                       # 800 ≤ 900 at the center, 100 ≤ 600 at the commune
    assert total["ratings"] == {"3": 1, "2": 1, "1": 1} and total["satisfied_share"] == round(2 / 3, 4)
    assert report["daily"][0]["wait_s"] == total["wait_s"] and report["rating_labels"]["3"] == "Rất hài lòng"
    one = city_report(parts[:1], day, day, group="Trung tâm thành phố", groups=[])
    assert one["total"]["wait_s"] == parts[0].report["total"]["wait_s"] and one["total"]["name"] == "Nhóm Trung tâm thành phố"
    text = city_csv(city_report(parts, day, day, group=None, groups=[], center_days=True)).decode("utf-8-sig")
    assert len(text.splitlines()) == 1 + 1 + 1 + 2 + 2


def test_rows_of_mixed_rating_scales_keep_the_share_but_not_the_levels():
    """A 5-level center and a 3-level one: satisfied counts each one's top two levels; no per-level counts."""
    three = {"served": 1, "ratings": {"3": 1, "2": 0, "1": 1}, "rated": 2, "wait_s": {"count": 0},
             "within_target": 0}
    five = {"served": 1, "ratings": {"5": 0, "4": 1, "3": 1, "2": 0, "1": 0}, "rated": 2, "wait_s": {"count": 0},
            "within_target": 0}
    for row in (three, five):
        row.update(dict.fromkeys(("issued", "no_show", "transferred", "received", "expired", "waiting", "in_service"), 0))
    row = merge_rows("all", "Toàn thành phố", [(three, 3), (five, 5)], [], [])
    assert row["ratings"] is None and row["rated"] == 4 and row["satisfied_share"] == 0.5
    assert row["very_satisfied_share"] == 0.25 and row["wait_s"]["p50"] is None
