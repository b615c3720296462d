"""CSV export (UTF-8 with BOM, Vietnamese headers) and the audit trail that explains every jump."""

from __future__ import annotations

import csv
import datetime as dt
import io

from qserver.managers.archive import Archive, History
from qserver.managers.audit import audit_trail, filter_audit
from qserver.engine import day_bounds_ms
from qserver.managers.reports import compute, report_csv

from tests.support.managers import NOI_VU, TU_PHAP, Script, run_scripted_day

DAY = dt.date(2026, 11, 24)


async def scripted_report(engine, clock, tmp_path):
    await run_scripted_day(engine, clock)
    history = History(engine, Archive(tmp_path / "archive.sqlite"))
    return compute(engine.site, await history.tickets(DAY, DAY), DAY, DAY)


async def test_csv_has_bom_and_vietnamese(day_engine, clock, tmp_path):
    """The CSV starts with a UTF-8 BOM; names and headers keep their diacritics; numbers match the report."""
    body = report_csv(await scripted_report(day_engine, clock, tmp_path))
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:4] == ["Nhóm", "Mã", "Tên", "Số phiếu phát"]
    assert "Rất hài lòng" in header and "Không hài lòng" in header and "Tỷ lệ hài lòng (%)" in header
    line = dict(zip(header, next(r for r in rows if r[1] == TU_PHAP)))
    assert line["Nhóm"] == "Cơ quan" and line["Tên"] == "Sở Tư pháp"
    assert (line["Số phiếu phát"], line["Đã phục vụ"], line["Vắng mặt"], line["Chuyển đi"]) == ("11", "8", "1", "1")
    assert (line["Chờ trung vị (giây)"], line["Chờ p90 (giây)"], line["Phục vụ p90 (giây)"]) == ("960", "1380", "300")
    assert line["Tỷ lệ gọi trong 15 phút (%)"] == "33.3" and line["Tỷ lệ hài lòng (%)"] == "80.0"
    assert [r[2] for r in rows if r[0] == "Cán bộ"] == ["lan", "minh"]
    assert [r[:4] for r in rows if r[0] == "Khung giờ"] == [["Khung giờ", "08", "08:00–08:59", "12"]]
    assert rows[1][:4] == ["Toàn trung tâm", "all", "Toàn trung tâm", "12"]


async def test_csv_for_excel_set_to_vietnamese(day_engine, clock, tmp_path):
    """With ';' as separator the decimals use ',' (Excel with Vietnamese number formats)."""
    body = report_csv(await scripted_report(day_engine, clock, tmp_path), delimiter=";", decimal=",")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    line = dict(zip(rows[0], next(r for r in rows if r[1] == TU_PHAP)))
    assert line["Tỷ lệ gọi trong 15 phút (%)"] == "33,3"


async def test_audit_explains_priority_skips_and_manager_actions(engine, clock):
    """Skips (priority), out-of-order calls, reassignments, pauses, moves, recalls, no-shows, notices, issues."""
    s = Script(engine, clock)
    v1 = await s.issue(0, TU_PHAP)
    v2 = await s.issue(60, TU_PHAP)
    await s.issue(120, TU_PHAP, priority="elderly")
    s.at(300)
    await engine.call_next("33", actor="officer:lan")                  # V003 first: elderly
    await engine.call_ticket("34", v2["id"], actor="officer:minh")     # V002 before V001: officer's choice
    await engine.reassign("33", [NOI_VU, TU_PHAP], actor="manager:hoa")
    await engine.set_status("34", "pause", "Họp giao ban", actor="manager:hoa")
    await engine.move_ticket(v1["id"], NOI_VU, actor="manager:hoa")
    await engine.recall("33", actor="officer:lan")
    await engine.no_show("33", actor="officer:lan")                    # the site sends it back once
    await engine.post_notice("Quầy 34 tạm nghỉ đến 9 giờ.", 1, actor="manager:hoa")
    await engine.issue(TU_PHAP, priority="disabled", actor="manager:hoa")
    start, end = day_bounds_ms(engine.site, DAY)
    entries = audit_trail(engine.site, await engine.events_between(start, end))
    assert [e["kind"] for e in entries] == ["skip", "out_of_order", "reassign", "status", "move", "recall",
                                            "no_show", "notice", "manager_issue"]
    skip, out_of_order = entries[0], entries[1]
    assert skip["ticket"] == "V003" and skip["skipped"] == ["V001", "V002"] and "người cao tuổi" in skip["detail"]
    assert out_of_order["skipped"] == ["V001"] and out_of_order["actor_label"] == "minh (cán bộ)"
    assert "Sở Nội vụ, Sở Tư pháp (trước đó: Sở Tư pháp)" in entries[2]["detail"]
    assert entries[3]["detail"] == "Quầy 34: tạm nghỉ — lý do: Họp giao ban"
    assert entries[4]["actor"] == "manager:hoa" and "từ Sở Tư pháp sang Sở Nội vụ" in entries[4]["detail"]
    assert "xếp lại hàng chờ" in entries[6]["detail"]
    assert [e["kind"] for e in filter_audit(entries, counter="33")] == ["skip", "reassign", "recall", "no_show"]
    assert [e["kind"] for e in filter_audit(entries, agency=NOI_VU)] == ["reassign", "move"]
    assert [e["kind"] for e in filter_audit(entries, kinds=["out_of_order", "skip"])] == ["skip", "out_of_order"]


async def test_a_call_in_order_is_not_in_the_audit(engine, clock):
    """Calls in issue order, completions and ratings make no audit entry."""
    s = Script(engine, clock)
    first = await s.issue(0, TU_PHAP)
    await s.issue(60, TU_PHAP)
    s.at(120)
    await engine.call_next("33", actor="officer:lan")
    await engine.call_next("34", actor="officer:minh")
    await engine.complete("33", actor="officer:lan")
    await engine.rate(first["id"], 3)
    start, end = day_bounds_ms(engine.site, DAY)
    assert audit_trail(engine.site, await engine.events_between(start, end)) == []
