"""What managers see of the citizen's side from home: the console's channels, bookings per slot and feed
lines; the audit trail explaining an appointment's turn and closed slots; reports with tickets per
channel and what became of the bookings (also in the CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from qserver.managers.audit import audit_trail
from qserver.managers.console import console_state
from qserver.managers.home_reports import appointment_rows
from qserver.managers.reports import compute, report_csv
from tests.home.conftest import ID_A, ID_B, ID_C, PHONE_A

TU_PHAP = "so-tu-phap"
DAY = dt.date(2026, 11, 24)


def local(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 24, hour - 7, minute, tzinfo=dt.timezone.utc)


async def a_morning(engine, clock):
    """08:00 a walk-in, an online number; bookings at 09:00 (one comes at 08:45) and 09:30 (never comes),
    the afternoon closed; at 09:05 the appointment is called ahead of the walk-in and served."""
    walk_in = (await engine.issue(TU_PHAP))["ticket"]
    online = (await engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A))["ticket"]
    comes = (await engine.book(TU_PHAP, "2026-11-24", "09:00", id_number=ID_B, phone=PHONE_A))["booking"]
    await engine.book(TU_PHAP, "2026-11-24", "09:30", id_number=ID_C, phone=PHONE_A)
    await engine.book(TU_PHAP, "2026-11-24", "14:00", id_number=ID_A, phone=PHONE_A)
    await engine.close_slots("2026-11-24", agency=TU_PHAP, start="13:00", reason="Họp giao ban", actor="manager:lan")
    clock.set(local(8, 45))
    appointment = (await engine.check_in(code=comes["code"]))["ticket"]
    clock.set(local(9, 5))
    counter = next(c.id for c in engine.site.counters if c.agencies[0] == TU_PHAP)
    called = (await engine.call_next(counter))["ticket"]
    assert called["id"] == appointment["id"]
    clock.set(local(9, 20))
    await engine.complete(counter)
    clock.set(local(9, 50))
    assert len(await engine.expire_bookings()) == 1
    return walk_in, online, appointment


async def test_the_console_shows_channels_bookings_and_their_feed(home_engine, clock):
    """Waiting tickets carry their channel; today's slots show booked/capacity, check-ins, no-shows and the
    closed afternoon; the feed says what happened to the bookings."""
    walk_in, online, _appointment = await a_morning(home_engine, clock)
    console = await console_state(home_engine, feed=40)
    tu_phap = next(a for a in console["agencies"] if a["slug"] == TU_PHAP)
    assert [(t["number"], t["channel"]) for t in tu_phap["tickets"]] == [(walk_in["number"], "kiosk"),
                                                                         (online["number"], "online")]
    booked = next(a for a in console["appointments"]["agencies"] if a["slug"] == TU_PHAP)
    slots = {s["time"]: s for s in booked["slots"]}
    assert (slots["09:00"]["booked"], slots["09:00"]["checked_in"], slots["09:00"]["capacity"]) == (1, 1, 2)
    assert (slots["09:30"]["booked"], slots["09:30"]["no_show"]) == (1, 1)
    assert slots["14:00"]["closed"] and slots["14:00"]["reason"] == "Họp giao ban" and slots["14:00"]["booked"] == 0
    assert (booked["checked_in"], booked["no_show"], booked["cancelled"]) == (1, 1, 1)
    feed = [line["text"] for line in console["recent"]]
    assert any(line.startswith(f"Cấp số {online['number']} (trực tuyến)") for line in feed)
    assert any("Xác nhận lịch hẹn" in line and "09:00" in line for line in feed)
    assert any("không đến" in line and "09:30" in line for line in feed)
    assert any("Đóng 7 khung giờ hẹn ngày 2026-11-24 (Họp giao ban), hủy 1 lịch hẹn" == line for line in feed)
    assert console["webhook"] is None and not [a for a in console["alerts"] if a["kind"].startswith("webhook")]


async def test_the_audit_trail_explains_an_appointments_turn_and_closed_slots(home_engine, clock):
    """The appointment called ahead of the walk-in is a skip whose reason is its booked time; the closed
    slots are an entry with the manager, the reason and the bookings cancelled."""
    walk_in, online, appointment = await a_morning(home_engine, clock)
    entries = audit_trail(home_engine.site, reversed(await home_engine.recent_events(500)))
    skip = next(e for e in entries if e["kind"] == "skip")
    assert skip["ticket"] == appointment["number"] and "lịch hẹn lúc 09:00 đã đến giờ" in skip["detail"]
    assert skip["skipped"] == [walk_in["number"], online["number"]]
    closed = next(e for e in entries if e["kind"] == "slots")
    assert closed["actor"] == "manager:lan" and "Họp giao ban" in closed["detail"]
    assert "hủy 1 lịch hẹn" in closed["detail"] and closed["agencies"] == [TU_PHAP]


async def test_reports_count_channels_and_what_became_of_the_bookings(home_engine, clock):
    """Per channel: 1 kiosk, 1 online, 1 appointment; bookings of the day: 3 booked, 1 cancelled (closed),
    1 checked in and served, 1 no-show; the CSV ends with the channel columns."""
    await a_morning(home_engine, clock)
    tickets = await home_engine.tickets_issued(DAY)
    report = compute(home_engine.site, tickets, DAY, DAY)
    report["appointments"] = appointment_rows(home_engine.site, tickets, await home_engine.booking_stats(DAY))
    assert report["total"]["channels"] == {"kiosk": 1, "online": 1, "appointment": 1}
    row = next(r for r in report["agencies"] if r["key"] == TU_PHAP)
    assert row["channels"] == {"kiosk": 1, "online": 1, "appointment": 1}
    appointments = next(r for r in report["appointments"]["agencies"] if r["key"] == TU_PHAP)
    assert {k: appointments[k] for k in ("booked", "cancelled", "checked_in", "served", "no_show")} == {
        "booked": 3, "cancelled": 1, "checked_in": 1, "served": 1, "no_show": 1}
    assert report["appointments"]["total"]["served"] == 1
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert rows[0][-3:] == ["Phiếu: lấy tại máy", "Phiếu: trực tuyến", "Phiếu: lịch hẹn"]
    line = dict(zip(rows[0], next(r for r in rows if r[1] == TU_PHAP)))
    assert (line["Phiếu: lấy tại máy"], line["Phiếu: trực tuyến"], line["Phiếu: lịch hẹn"]) == ("1", "1", "1")
