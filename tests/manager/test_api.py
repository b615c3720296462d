"""The managers' HTTP API on a real server: console, stats, CSV, audit, rating by number, pages."""

from __future__ import annotations

import csv
import io

from tests.support.managers import NOI_VU, TU_PHAP

SITE = "/api/v1/sites/cantho"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def served_ticket(http, live, counter: str = "33", agency: str = TU_PHAP, officer: str = "lan") -> dict:
    """Issue a ticket, call it at ``counter`` one minute later and complete it two minutes after that."""
    kiosk, staff = live.token("kiosk"), live.token("officer", [counter], name=officer)
    ticket = (await http.post(f"{SITE}/tickets", json={"agency": agency}, headers=bearer(kiosk))).json()
    live.clock.advance(seconds=60)
    assert (await http.post(f"{SITE}/counters/{counter}/call-next", headers=bearer(staff))).status_code == 200
    live.clock.advance(seconds=120)
    assert (await http.post(f"{SITE}/counters/{counter}/complete", headers=bearer(staff))).status_code == 200
    return ticket


async def test_stats_need_a_manager(live):
    """401 without a token, 404 for an unknown site, 403 for an officer, 422 for a bad date or range."""
    async with live.client() as http:
        assert (await http.get(f"{SITE}/stats")).status_code == 401
        manager = bearer(live.token("manager"))
        assert (await http.get("/api/v1/sites/nowhere/stats", headers=manager)).json()["error"]["code"] == "unknown_site"
        officer = await http.get(f"{SITE}/stats", headers=bearer(live.token("officer", ["33"])))
        assert officer.status_code == 403 and officer.json()["error"]["code"] == "forbidden"
        bad = await http.get(f"{SITE}/stats?date=24/11/2026", headers=manager)
        assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["error"]["message"]
        backwards = await http.get(f"{SITE}/stats?from=2026-11-24&to=2026-11-20", headers=manager)
        assert backwards.status_code == 422
        assert (await http.get(f"{SITE}/stats.csv", headers=bearer(live.token("kiosk")))).status_code == 403


async def test_stats_json_and_csv_of_today(live):
    """A served ticket shows in today's stats (JSON with charts) and in the CSV download."""
    async with live.client() as http:
        await served_ticket(http, live)
        manager = bearer(live.token("manager", name="hoa"))
        report = (await http.get(f"{SITE}/stats?date=2026-11-24&charts=1", headers=manager)).json()
        tu_phap = next(r for r in report["agencies"] if r["key"] == TU_PHAP)
        assert (tu_phap["issued"], tu_phap["served"], tu_phap["wait_s"]["p50"], tu_phap["service_s"]["max"]) == (1, 1, 60, 120)
        assert report["officers"][0]["name"] == "lan"
        assert report["charts"]["hourly"].startswith("<svg") and "Số phiếu phát theo giờ" in report["charts"]["hourly"]
        assert (await http.get(f"{SITE}/stats", headers=manager)).json()["total"]["served"] == 1  # today by default

        response = await http.get(f"{SITE}/stats.csv?from=2026-11-24&to=2026-11-24", headers=manager)
        assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
        assert 'filename="thong-ke-cantho-2026-11-24.csv"' in response.headers["content-disposition"]
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert next(r for r in rows if r[1] == TU_PHAP)[2:5] == ["Sở Tư pháp", "1", "1"]
        semicolon = await http.get(f"{SITE}/stats.csv?sep=semicolon", headers=manager)
        assert semicolon.content.decode("utf-8-sig").splitlines()[0].startswith("Nhóm;Mã;Tên;")


async def test_rating_by_ticket_number(live):
    """The kiosk rates one of today's tickets by its number; once only; unknown numbers are 404."""
    async with live.client() as http:
        ticket = await served_ticket(http, live)
        kiosk = bearer(live.token("kiosk"))
        path = f"{SITE}/tickets/by-number/{ticket['number'].lower()}/rating"
        assert (await http.post(path, json={"score": 3}, headers=bearer(live.token("display")))).status_code == 403
        rated = await http.post(path, json={"score": 3}, headers=kiosk)
        assert rated.status_code == 200 and rated.json()["rating"] == 3 and rated.json()["id"] == ticket["id"]
        again = await http.post(path, json={"score": 1}, headers=kiosk)
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
        missing = await http.post(f"{SITE}/tickets/by-number/Z999/rating", json={"score": 3}, headers=kiosk)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_ticket"
        assert (await http.post(f"{SITE}/tickets/by-number/{ticket['number']}/rating", json={"score": 9},
                                headers=kiosk)).status_code in (409, 422)


async def test_audit_api_filters(live):
    """The audit endpoint lists a day's manager actions, filtered by counter and agency; unknown ones are 404."""
    async with live.client() as http:
        manager = bearer(live.token("manager", name="hoa"))
        await http.put(f"{SITE}/counters/12/agencies", json={"agencies": [TU_PHAP, NOI_VU]}, headers=manager)
        await http.post(f"{SITE}/counters/13/pause", json={"reason": "Nghỉ trưa"}, headers=manager)
        entries = (await http.get(f"{SITE}/audit?date=2026-11-24", headers=manager)).json()["entries"]
        assert [(e["kind"], e["counter"], e["actor"]) for e in entries] == [
            ("reassign", "12", "manager:hoa"), ("status", "13", "manager:hoa")]
        only = (await http.get(f"{SITE}/audit?counter=13", headers=manager)).json()["entries"]
        assert [e["detail"] for e in only] == ["Quầy 13: tạm nghỉ — lý do: Nghỉ trưa"]
        assert (await http.get(f"{SITE}/audit?agency={TU_PHAP}", headers=manager)).json()["entries"][0]["kind"] == "reassign"
        assert (await http.get(f"{SITE}/audit?counter=99", headers=manager)).status_code == 404
        assert (await http.get(f"{SITE}/audit?kind=nonsense", headers=manager)).status_code == 422
        assert (await http.get(f"{SITE}/audit", headers=bearer(live.token("officer", ["12"])))).status_code == 403


async def test_console_alerts_on_long_waits_and_silent_devices(live):
    """The console data raises an alert past the site's wait threshold and for a display that missed a call."""
    async with live.client() as http:
        manager = bearer(live.token("manager"))
        kiosk = bearer(live.token("kiosk"))
        await http.post(f"{SITE}/tickets", json={"agency": NOI_VU}, headers=kiosk)
        engine = live.app.state.engines["cantho"]
        await engine.record_ack("floor-0-tv", "0-0")
        await engine.record_ack("floor-1-tv", "0-0")
        data = (await http.get(f"{SITE}/console", headers=manager)).json()
        noi_vu = next(a for a in data["agencies"] if a["slug"] == NOI_VU)
        assert (noi_vu["waiting"], noi_vu["longest_wait_s"], noi_vu["counters_open"]) == (1, 0, ["12", "13"])
        assert noi_vu["predicted_wait_s"] == 300 and data["alerts"] == []   # 2 × 300 s ÷ 2 open counters
        live.clock.advance(seconds=1801)
        data = (await http.get(f"{SITE}/console", headers=manager)).json()
        assert [(a["kind"], a["agency"]) for a in data["alerts"]] == [("wait", NOI_VU)]
        assert "Sở Nội vụ" in data["alerts"][0]["message"]
        staff = bearer(live.token("officer", ["12"]))
        await http.post(f"{SITE}/counters/12/call-next", headers=staff)   # a call on the ground floor
        live.clock.advance(seconds=90)
        data = (await http.get(f"{SITE}/console", headers=manager)).json()
        assert [(a["kind"], a.get("device")) for a in data["alerts"]] == [("device", "floor-0-tv")]
        counter = next(c for c in data["counters"] if c["id"] == "12")
        assert (counter["state"], counter["current"]["number"], counter["serving_s"]) == ("serving", "E001", 90)
        assert data["recent"][0]["text"] == "Gọi số E001 tới quầy 12"
        assert (await http.get(f"{SITE}/console", headers=bearer(live.token("display")))).status_code == 403


async def test_pages_render_in_vietnamese(live):
    """The console, reports, audit and rating pages render; unknown sites and counters are 404 pages."""
    async with live.client() as http:
        for path, text in (("/m/cantho", "Bảng điều hành"), ("/m/cantho/reports", "Báo cáo"),
                           ("/m/cantho/audit", "Nhật ký điều hành"), ("/r/cantho/counter/33", "Quầy số")):
            page = await http.get(path)
            assert page.status_code == 200 and text in page.text and "Trung tâm Phục vụ hành chính công" in page.text
        assert (await http.get("/m/nowhere")).status_code == 404
        assert (await http.get("/r/cantho/counter/99")).status_code == 404


async def test_a_broken_archive_is_a_json_error_and_spares_the_console(live):
    """When the archive file cannot be opened, history answers 500 archive_unavailable; the console still works."""
    (live.settings.data_dir / "archive.sqlite").mkdir(parents=True)   # a folder where the file should be
    async with live.client() as http:
        manager = bearer(live.token("manager"))
        assert (await http.get(f"{SITE}/console", headers=manager)).status_code == 200
        broken = await http.get(f"{SITE}/stats?date=2026-11-23", headers=manager)
        assert broken.status_code == 500 and broken.json()["error"]["code"] == "archive_unavailable"
        assert (await http.get(f"{SITE}/stats", headers=manager)).status_code == 200   # today needs no archive


async def test_console_queue_is_the_order_call_next_takes(live):
    """A no-show sent back behind 5 others and a priority ticket: the console lists the queue exactly in
    the order call-next then calls it (the console used to re-sort the no-show to the head)."""
    async with live.client() as http:
        kiosk, manager = bearer(live.token("kiosk")), bearer(live.token("manager"))
        for _ in range(7):
            assert (await http.post(f"{SITE}/tickets", json={"agency": TU_PHAP}, headers=kiosk)).status_code == 201
        assert (await http.post(f"{SITE}/counters/33/call-next", headers=manager)).json()["number"] == "V001"
        assert (await http.post(f"{SITE}/counters/33/no-show", headers=manager)).status_code == 200  # back once
        await http.post(f"{SITE}/tickets", json={"agency": TU_PHAP, "priority": "elderly"}, headers=kiosk)
        console = (await http.get(f"{SITE}/console", headers=manager)).json()
        listed = [t["number"] for t in next(a for a in console["agencies"] if a["slug"] == TU_PHAP)["tickets"]]
        assert listed == ["V008", "V002", "V003", "V004", "V005", "V006", "V001", "V007"]
        called = []
        while (answer := await http.post(f"{SITE}/counters/33/call-next", headers=manager)).status_code == 200:
            called.append(answer.json()["number"])
        assert called == listed


async def test_every_manager_action_is_in_the_audit_trail(live):
    """Reassigning, closing and opening a counter, a notice, a ticket moved, a token created and revoked:
    each is an audit entry with who did it, when and what changed."""
    auth = live.app.state.auth
    async with live.client() as http:
        manager = bearer(live.token("manager", name="hoa"))
        ticket = (await http.post(f"{SITE}/tickets", json={"agency": TU_PHAP}, headers=bearer(live.token("kiosk")))).json()
        assert (await http.put(f"{SITE}/counters/13/agencies", json={"agencies": [TU_PHAP, NOI_VU]},
                               headers=manager)).status_code == 200
        assert (await http.post(f"{SITE}/counters/14/close", headers=manager)).status_code == 200
        assert (await http.post(f"{SITE}/counters/14/open", headers=manager)).status_code == 200
        assert (await http.post(f"{SITE}/notices", json={"text": "Nghỉ trưa từ 11:30"}, headers=manager)).status_code == 201
        assert (await http.post(f"{SITE}/tickets/{ticket['id']}/move", json={"agency": NOI_VU},
                                headers=manager)).status_code == 200
        kiosk_token = await auth.create_token("kiosk", "cantho", name="kiosk-3", actor="admin:root")
        await auth.revoke(kiosk_token, actor="admin:root")
        entries = (await http.get(f"{SITE}/audit", headers=manager)).json()["entries"]
    by_kind = {}
    for entry in entries:
        by_kind.setdefault(entry["kind"], []).append(entry)
    assert by_kind["reassign"][0]["actor_label"] == "hoa (quản lý)" and "Sở Nội vụ" in by_kind["reassign"][0]["detail"]
    assert [e["status"] for e in by_kind["status"]] == ["closed", "open"]
    assert by_kind["notice"][0]["detail"].endswith("Nghỉ trưa từ 11:30")
    assert by_kind["move"][0]["ticket"] == ticket["number"] and by_kind["move"][0]["actor_label"] == "hoa (quản lý)"
    access = [e["detail"] for e in by_kind["access"]]
    assert access[0].startswith("Tạo mã truy cập máy lấy số “kiosk-3”") and access[1].startswith("Thu hồi mã")
    assert {e["actor_label"] for e in by_kind["access"]} == {"root (quản trị)"}
    assert all(e["at"] for e in entries)
