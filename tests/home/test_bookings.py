"""Appointments: booking within a slot's capacity, cancel and move by code, the kiosk's check-in window
and grace, booking no-shows, closed slots with their bookings told, the per-person limits."""

from __future__ import annotations

import datetime as dt

import pytest

from qserver.engine import SiteEngine
from qserver.engine import slots as slotting
from qserver.exceptions import Conflict, InvalidField, NotFound
from tests.home.conftest import ID_A, ID_B, ID_C, PHONE_A, PHONE_B, person, with_appointments

TU_PHAP, NGOAI_VU = "so-tu-phap", "so-ngoai-vu"
TODAY, TOMORROW = "2026-11-24", "2026-11-25"
UTC = dt.timezone.utc


def local(hour: int, minute: int = 0, day: int = 24) -> dt.datetime:
    """A moment of November 2026 in Cần Thơ (UTC+7)."""
    return dt.datetime(2026, 11, day, hour - 7, minute, tzinfo=UTC)


def cccd_qr(id_number: str, birth: str = "01011985") -> str:
    return f"{id_number}|361234567|Nguyễn Văn An|{birth}|Nam|Ninh Kiều, Cần Thơ|01012021"


async def events_of(engine: SiteEngine, kind: str) -> list[dict]:
    return [event for _id, event in reversed(await engine.recent_events(500)) if event["type"] == kind]


def test_the_slot_grid_and_capacities_follow_the_config(site):
    """Sessions cut into 30-minute slots; capacity = share × counters × slot ÷ service, at least 1."""
    day = dt.date(2026, 11, 24)
    starts = [f"{s:%H:%M}" for s, _e in slotting.day_slots(site, day)]
    assert starts[:3] == ["07:00", "07:30", "08:00"] and starts[6] == "10:00" and starts[7] == "13:00"
    assert len(starts) == 14
    assert slotting.day_slots(site, dt.date(2026, 11, 28)) == []  # Saturday
    assert slotting.capacity(site, TU_PHAP) == 2       # 4 counters × 0.25 × 30 / 15
    assert slotting.capacity(site, NGOAI_VU) == 1      # 1 counter: round(0.5) → at least 1
    assert slotting.capacity(with_appointments(site, agencies=(TU_PHAP,)), NGOAI_VU) == 0
    assert slotting.normalize_code("k7pm-3qxr") == "K7PM3QXR"
    assert slotting.normalize_code("http://x/s/cantho/hen/K7PM3QXR") == "K7PM3QXR"
    assert slotting.normalize_code("K7PM3QX0") is None  # 0 is not in the alphabet


def test_check_in_never_opens_before_the_slots_own_day(site):
    """A slot soon after midnight (an all-day hall) with check-in 4 h ahead opens at midnight, not the evening
    before: the ticket belongs to the slot's day, and the script refuses a check-in on another day."""
    site = with_appointments(site, checkin_before_minutes=240, grace_minutes=15)
    def at(hour, minute):
        return dt.datetime(2026, 11, 25, hour, minute, tzinfo=site.tz)
    opens, closes = slotting.checkin_window(site, at(0, 30))
    assert opens == at(0, 0) and closes == at(0, 45)
    opens, _ = slotting.checkin_window(site, at(9, 30))
    assert opens == at(5, 30)

async def test_a_slot_takes_its_capacity_then_refuses(home_engine):
    """Two bookings fill a slot of Sở Tư pháp; the third is 409 slot_full and nothing changes."""
    first = await home_engine.book(TU_PHAP, TOMORROW, "09:00", id_number=ID_A, phone=PHONE_A)
    await home_engine.book(TU_PHAP, TOMORROW, "09:00", id_number=ID_B, phone=PHONE_B)
    assert first["status"] == 201 and slotting.normalize_code(first["booking"]["code"])
    last_event = await home_engine.last_event_id()
    with pytest.raises(Conflict) as refused:
        await home_engine.book(TU_PHAP, TOMORROW, "09:00", id_number=ID_C, phone=PHONE_A)
    assert refused.value.code == "slot_full" and "09:00 ngày 25/11/2026" in refused.value.message
    assert await home_engine.last_event_id() == last_event
    view = {s["time"]: s for s in await home_engine.slots_view(TU_PHAP, dt.date(2026, 11, 25))}
    assert (view["09:00"]["booked"], view["09:00"]["free"], view["09:00"]["bookable"]) == (2, 0, False)
    assert view["09:30"]["free"] == 2
    assert (await home_engine.booking_stats(dt.date(2026, 11, 25)))[TU_PHAP]["booked"] == 2


@pytest.mark.parametrize("day, time, code", [
    (TODAY, "07:30", "slot_unavailable"),      # already past at 08:00
    (TODAY, "08:30", "slot_unavailable"),      # less than an hour's notice
    ("2026-12-24", "09:00", "slot_unavailable"),  # beyond 14 days
    (TOMORROW, "09:10", "unknown_slot"),
    ("2026-11-28", "09:00", "unknown_slot"),   # a Saturday
])
async def test_slots_that_cannot_be_booked(home_engine, day, time, code):
    """A past, too-near, too-far or non-existent slot is refused with its own code, nothing booked."""
    with pytest.raises((Conflict, NotFound)) as refused:
        await home_engine.book(TU_PHAP, day, time, id_number=ID_A, phone=PHONE_A)
    assert refused.value.code == code
    assert await home_engine.person_bookings("x") == []


async def test_cancel_and_move_by_code(home_engine):
    """Cancel frees the place; a cancelled code cannot be cancelled again; moving checks the target slot."""
    a = (await home_engine.book(TU_PHAP, TOMORROW, "09:00", id_number=ID_A, phone=PHONE_A))["booking"]
    b = (await home_engine.book(TU_PHAP, TOMORROW, "10:00", id_number=ID_B, phone=PHONE_B))["booking"]
    await home_engine.book(TU_PHAP, TOMORROW, "10:00", id_number=ID_C, phone=PHONE_B)
    with pytest.raises(Conflict) as full:
        await home_engine.move_booking(a["code"], TOMORROW, "10:00")
    assert full.value.code == "slot_full"
    with pytest.raises(Conflict) as same:
        await home_engine.move_booking(a["code"], TOMORROW, "09:00")
    assert same.value.code == "same_slot"
    moved = (await home_engine.move_booking(slotting.show_code(a["code"]).lower(), "2026-11-26", "13:30"))["booking"]
    assert (moved["day"], moved["time"], moved["moves"]) == ("2026-11-26", "13:30", 1)
    assert await home_engine.contact(f"b:{a['id']}", "2026-11-26") == PHONE_A
    assert await home_engine.contact(f"b:{a['id']}", TOMORROW) is None
    counts, _closed = await home_engine.slot_state(dt.date(2026, 11, 25))
    assert counts[f"{TU_PHAP}|09:00"] == 0 and counts[f"{TU_PHAP}|10:00"] == 2
    cancelled = (await home_engine.cancel_booking(b["code"]))["booking"]
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "citizen"
    with pytest.raises(Conflict) as again:
        await home_engine.cancel_booking(b["code"])
    assert again.value.code == "booking_cancelled"
    with pytest.raises(NotFound) as unknown:
        await home_engine.cancel_booking("ABCD-EFGH")
    assert unknown.value.code == "unknown_booking" and "ABCD-EFGH" in unknown.value.message
    stats = (await home_engine.booking_stats(dt.date(2026, 11, 25)))[TU_PHAP]
    assert (stats["booked"], stats["cancelled"]) == (2, 1)  # a and b minus a moved out; b cancelled


async def test_check_in_window_and_grace(home_engine, clock):
    """Check-in opens 30 min before the slot and closes 15 min after it; before: 409 checkin_too_early with
    when, after: checkin_too_late (take a normal number); a used code: booking_used; nothing changes."""
    code = (await home_engine.book(TU_PHAP, TODAY, "09:30", id_number=ID_A, phone=PHONE_A))["booking"]["code"]
    late = (await home_engine.book(TU_PHAP, TODAY, "10:00", id_number=ID_B, phone=PHONE_B))["booking"]["code"]
    clock.set(local(8, 59))
    with pytest.raises(Conflict) as early:
        await home_engine.check_in(code=code)
    assert early.value.code == "checkin_too_early" and early.value.details["opens_at"].startswith("2026-11-24T09:00")
    assert (await home_engine.state())["waiting"][TU_PHAP] == 0
    clock.set(local(9, 0))
    ticket = (await home_engine.check_in(code=code))["ticket"]
    assert (ticket["channel"], ticket["slot_at"]) == ("appointment", int(local(9, 30).timestamp() * 1000))
    with pytest.raises(Conflict) as used:
        await home_engine.check_in(code=code)
    assert used.value.code == "booking_used" and ticket["number"] in used.value.message
    clock.set(local(10, 15))  # exactly the end of the grace: still in time
    assert (await home_engine.check_in(code=late))["ticket"]["channel"] == "appointment"
    other = (await home_engine.book(TU_PHAP, TODAY, "13:00", id_number=ID_C, phone=PHONE_A))["booking"]["code"]
    clock.set(local(13, 16))
    with pytest.raises(Conflict) as too_late:
        await home_engine.check_in(code=other)
    assert too_late.value.code == "checkin_too_late" and "lấy số thường" in too_late.value.message


async def test_check_in_by_the_cccd_qr(home_engine, clock):
    """Scanning the CCCD finds today's booking of that person; a card without one is 404 unknown_booking;
    an elderly citizen's check-in ticket gets the elderly priority."""
    await home_engine.book(TU_PHAP, TODAY, "09:00", id_number=ID_A, phone=PHONE_A)
    clock.set(local(8, 45))
    ticket = (await home_engine.check_in(citizen_qr=cccd_qr(ID_A, birth="05031950")))["ticket"]
    assert ticket["channel"] == "appointment" and ticket["priority"] == "elderly"
    with pytest.raises(NotFound) as none:
        await home_engine.check_in(citizen_qr=cccd_qr(ID_B))
    assert none.value.code == "unknown_booking"
    with pytest.raises(InvalidField):
        await home_engine.check_in()


async def test_a_booking_never_checked_in_is_a_no_show_at_the_end_of_its_grace(home_engine, clock):
    """The sweep turns it into a booking no-show at slot + grace, not before; it counts in the stats and as
    an unanswered visit (two of them bar booking and online numbers)."""
    first = (await home_engine.book(TU_PHAP, TODAY, "09:00", id_number=ID_A, phone=PHONE_A))["booking"]
    clock.set(local(9, 14))
    assert await home_engine.expire_bookings() == []
    clock.set(local(9, 15) + dt.timedelta(seconds=1))
    assert await home_engine.expire_bookings() == [first["id"]]
    assert (await home_engine.booking(first["id"]))["status"] == "no_show"
    assert [e["booking"]["id"] for e in await events_of(home_engine, "booking_no_show")] == [first["id"]]
    with pytest.raises(Conflict) as gone:
        await home_engine.check_in(code=first["code"])
    assert gone.value.code == "checkin_too_late"
    second = (await home_engine.book(TU_PHAP, TOMORROW, "09:00", id_number=ID_A, phone=PHONE_A))["booking"]
    clock.set(local(9, 20, 25))
    assert await home_engine.expire_bookings() == [second["id"]]
    assert (await home_engine.booking_stats(dt.date(2026, 11, 24), dt.date(2026, 11, 25)))[TU_PHAP]["no_show"] == 2
    with pytest.raises(Conflict) as barred:
        await home_engine.book(TU_PHAP, "2026-11-26", "09:00", id_number=ID_A, phone=PHONE_A)
    assert barred.value.code == "online_barred"
    with pytest.raises(Conflict):
        await home_engine.online_issue(TU_PHAP, id_number=ID_A, phone=PHONE_A)


async def test_closing_slots_cancels_their_bookings_and_tells_them(home_engine):
    """Closing tomorrow morning for Sở Tư pháp cancels its standing bookings there (a booking_cancelled event
    each, reason slot_closed), leaves the afternoon and other agencies; closed slots refuse bookings until
    opened again."""
    morning = [(await home_engine.book(TU_PHAP, TOMORROW, t, id_number=i, phone=PHONE_A))["booking"]
               for t, i in (("07:30", ID_A), ("09:00", ID_B))]
    afternoon = (await home_engine.book(TU_PHAP, TOMORROW, "13:30", id_number=ID_C, phone=PHONE_B))["booking"]
    other = (await home_engine.book(NGOAI_VU, TOMORROW, "09:00", id_number=ID_C, phone=PHONE_B))["booking"]
    answer = await home_engine.close_slots(TOMORROW, agency=TU_PHAP, start="07:00", end="12:00",
                                           reason="Cán bộ đi tập huấn", actor="manager:lan")
    assert sorted(answer["cancelled"]) == sorted(b["id"] for b in morning) and len(answer["closed"]) == 7
    told = await events_of(home_engine, "booking_cancelled")
    assert sorted(e["booking"]["id"] for e in told) == sorted(b["id"] for b in morning)
    assert {e["reason"] for e in told} == {"slot_closed"} and all("code" not in e["booking"] for e in told)
    assert (await home_engine.booking(afternoon["id"]))["status"] == "booked"
    assert (await home_engine.booking(other["id"]))["status"] == "booked"
    with pytest.raises(Conflict) as closed:
        await home_engine.book(TU_PHAP, TOMORROW, "08:00", id_number=ID_A, phone=PHONE_A)
    assert closed.value.code == "slot_closed" and "tập huấn" in closed.value.message
    view = {s["time"]: s for s in await home_engine.slots_view(TU_PHAP, dt.date(2026, 11, 25))}
    assert view["09:00"]["closed"] and view["09:00"]["booked"] == 0 and not view["13:30"]["closed"]
    await home_engine.open_slots(TOMORROW, agency=TU_PHAP, start="08:00", end="08:30")
    assert (await home_engine.book(TU_PHAP, TOMORROW, "08:00", id_number=ID_A, phone=PHONE_A))["status"] == 201


async def test_per_person_booking_limits(home_engine):
    """Two standing bookings per person; a second one at the same agency and day is already_booked."""
    await home_engine.book(TU_PHAP, TOMORROW, "09:00", id_number=ID_A, phone=PHONE_A)
    with pytest.raises(Conflict) as twice:
        await home_engine.book(TU_PHAP, TOMORROW, "13:00", id_number=ID_A, phone=PHONE_A)
    assert twice.value.code == "already_booked"
    await home_engine.book(NGOAI_VU, TOMORROW, "09:00", id_number=ID_A, phone=PHONE_A)
    with pytest.raises(Conflict) as limit:
        await home_engine.book(TU_PHAP, "2026-11-26", "09:00", id_number=ID_A, phone=PHONE_A)
    assert limit.value.code == "booking_limit"


async def test_idempotent_booking_and_check_in(home_engine, clock):
    """The same key books once and checks in once (a double tap on a slow phone or kiosk)."""
    one = await home_engine.book(TU_PHAP, TODAY, "09:00", id_number=ID_A, phone=PHONE_A, key="tap-1")
    two = await home_engine.book(TU_PHAP, TODAY, "09:00", id_number=ID_A, phone=PHONE_A, key="tap-1")
    assert one["booking"]["id"] == two["booking"]["id"]
    clock.set(local(8, 40))
    first = await home_engine.check_in(code=one["booking"]["code"], issuer="kiosk-1", key="k")
    again = await home_engine.check_in(code=one["booking"]["code"], issuer="kiosk-1", key="k")
    assert first["ticket"]["id"] == again["ticket"]["id"]
    assert (await home_engine.state())["waiting"][TU_PHAP] == 1


async def test_every_booking_gets_its_own_code(home_engine):
    """Eight people filling four afternoon slots get eight different codes and ids."""
    answers = []
    for n in range(8):
        cccd, phone = person(n)
        time = ("13:00", "14:00", "15:00", "16:00")[n // 2]
        answers.append((await home_engine.book(TU_PHAP, TOMORROW, time, id_number=cccd, phone=phone))["booking"])
    assert len({b["code"] for b in answers}) == 8 and len({b["id"] for b in answers}) == 8
    counts, _closed = await home_engine.slot_state(dt.date(2026, 11, 25))
    assert [counts[f"{TU_PHAP}|{t}"] for t in ("13:00", "14:00", "15:00", "16:00")] == [2, 2, 2, 2]


async def test_bookings_older_than_the_day_keys_are_forgotten(home_engine, clock):
    """46 days after its slot a booking (and its code) is dropped; its day's counts stay."""
    made = (await home_engine.book(TU_PHAP, TOMORROW, "09:00", id_number=ID_A, phone=PHONE_A))["booking"]
    clock.advance(days=45)
    assert await home_engine.forget_old_bookings() == 0
    clock.advance(days=2)
    assert await home_engine.forget_old_bookings() == 1
    with pytest.raises(NotFound):
        await home_engine.booking_by_code(made["code"])
    assert (await home_engine.booking_stats(dt.date(2026, 11, 25)))[TU_PHAP]["booked"] == 1
