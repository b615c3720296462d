"""How call-next blends appointments with walk-ins (the README's "Order of calls"):

- before its slot time a checked-in appointment waits like a walk-in taken at check-in;
- from its slot time it is called ahead of walk-ins, earliest slot first (priority tickets still first);
- at most ``streak_max`` appointment calls in a row at an agency while one of its walk-ins has waited
  longer than ``walk_in_guard_s``: then that walk-in is called;
- a late arrival is a walk-in, and an appointment sent back after a no-show is one too.

The simulated morning runs a small hall (one field, three counters) minute by minute against the real
engine and Redis with a fake clock: the same walk-ins with and without bookings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from zoneinfo import ZoneInfo

import config
from qserver.clock import FakeClock
from qserver.engine import SiteEngine

UTC = dt.timezone.utc
HALL = """
[site]
slug = "xa-thu"
name = "Trung tâm Phục vụ hành chính công xã Thử"
no_show_return_after = {returns}

[[floors]]
number = 0
name = "Tầng trệt"

[[agencies]]
slug = "ho-tich"
name = "Tư pháp - Hộ tịch"
floor = 0
prefix = "A"

[[counters]]
id = "1"
floor = 0
agencies = ["ho-tich"]

[[counters]]
id = "2"
floor = 0
agencies = ["ho-tich"]

[[counters]]
id = "3"
floor = 0
agencies = ["ho-tich"]

[hours]
tue = ["07:00-11:00"]

[appointments]
share = {share}
slot_minutes = 30
service_minutes = 10
min_notice_minutes = 0
checkin_before_minutes = 30
grace_minutes = 15
streak_max = {streak}
walk_in_guard_s = {guard}
"""
AGENCY = "ho-tich"
SERVICE_MIN = 10


def hall(*, share: float = 0.34, streak: int = 3, guard: int = 900, returns: int = 0) -> config.Site:
    return config.parse_site(HALL.format(share=share, streak=streak, guard=guard, returns=returns), "xa-thu.toml")


def local(hour: int, minute: int = 0) -> dt.datetime:
    """Tuesday 24 November 2026 in the hall's time (UTC+7), as UTC."""
    return dt.datetime(2026, 11, 24, hour, minute, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).astimezone(UTC)


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


async def engine_for(redis, site, at: dt.datetime) -> tuple[SiteEngine, FakeClock]:
    clock = FakeClock(at)
    engine = SiteEngine(redis, site, clock, secret=b"test-secret", always_open=True)
    await engine.seed_counters()
    return engine, clock


async def test_an_appointment_waits_by_check_in_before_its_time_and_goes_first_after(redis):
    """Checked in at 08:35 for 09:00: at 08:50 it is called after the walk-ins taken before 08:35 only; one
    for 09:30 checked in at 09:05 goes ahead of every walk-in at 09:30, but after a priority ticket."""
    engine, clock = await engine_for(redis, hall(), local(8, 0))
    code = (await engine.book(AGENCY, "2026-11-24", "09:00", id_number="092200001234", phone="0912345678"))["booking"]
    early = (await engine.book(AGENCY, "2026-11-24", "09:30", id_number="092200005678", phone="0912345679"))["booking"]
    clock.set(local(8, 30))
    walk_in_before = (await engine.issue(AGENCY))["ticket"]
    clock.set(local(8, 35))
    appointment = (await engine.check_in(code=code["code"]))["ticket"]
    clock.set(local(8, 40))
    walk_ins_after = [(await engine.issue(AGENCY))["ticket"] for _ in range(2)]
    assert (await engine.call_next("1"))["ticket"]["id"] == walk_in_before["id"]
    clock.set(local(8, 50))   # before 09:00: its place is its check-in
    assert (await engine.call_next("2"))["ticket"]["id"] == appointment["id"]
    clock.set(local(9, 5))
    second = (await engine.check_in(code=early["code"]))["ticket"]   # for 09:30
    priority = (await engine.issue(AGENCY, priority="elderly"))["ticket"]
    clock.set(local(9, 30))
    order = [(await engine.call_next(c))["ticket"]["id"] for c in ("3", "1", "2")]
    assert order == [priority["id"], second["id"], walk_ins_after[0]["id"]]


async def book_and_check_in(engine, clock, count: int, *, at: dt.datetime) -> list[str]:
    """``count`` bookings for 09:00, checked in at ``at``; their tickets' ids."""
    codes = [(await engine.book(AGENCY, "2026-11-24", "09:00", id_number=f"0922000012{n:02d}",
                                phone=f"09123456{n:02d}"))["booking"]["code"] for n in range(count)]
    clock.set(at)
    return [(await engine.check_in(code=code))["ticket"]["id"] for code in codes]


@pytest.mark.parametrize("issued_at, expected, turns", [
    # waited 20 min > 10: the guard calls it after two in a row; A3 then overtakes nobody
    ((8, 40), ["A1", "A2", "W", "A3"], [True, True, False, False]),
    # waited 5 min: the appointments keep going
    ((8, 55), ["A1", "A2", "A3", "W"], [True, True, True, False]),
])
async def test_appointments_in_a_row_give_way_to_a_walk_in_that_waited_too_long(redis, issued_at, expected, turns):
    """streak_max 2, guard 10 minutes, three appointments due at 09:00 checked in after the walk-in W (so
    each one overtakes it): W is called after two of them only when it has waited beyond the guard. The
    streak lives in Redis (a second process sees it) and the call events mark the appointments' turns."""
    engine, clock = await engine_for(redis, hall(share=1.0, streak=2, guard=600), local(8, 0))
    clock.set(local(*issued_at))
    walk_in = (await engine.issue(AGENCY))["ticket"]["id"]
    ids = await book_and_check_in(engine, clock, 3, at=local(*issued_at) + dt.timedelta(minutes=1))
    names = {walk_in: "W", **{tid: f"A{i + 1}" for i, tid in enumerate(ids)}}
    clock.set(local(9, 0))
    other_process, _ = await engine_for(redis, engine.site, local(9, 0))
    order = []
    for n, counter in enumerate(("1", "2", "3", "1")):
        caller = other_process if n % 2 else engine
        order.append(names[(await caller.call_next(counter))["ticket"]["id"]])
    assert order == expected
    marked = [bool(e.get("appointment_turn")) for _i, e in reversed(await engine.recent_events(100))
              if e["type"] == "called"]
    assert marked == turns


async def test_the_guard_stops_a_run_of_appointments(redis):
    """Six appointments due at once and a walk-in waiting 22 minutes: after streak_max (3) appointment
    turns the walk-in is called; with streak_max 0 (no limit) it waits for all six."""
    for streak, position in ((3, 3), (0, 6)):
        await redis.flushall()
        engine, clock = await engine_for(redis, hall(share=1.0, streak=streak, guard=600), local(8, 0))
        clock.set(local(8, 39))
        walk_in = (await engine.issue(AGENCY))["ticket"]["id"]
        await book_and_check_in(engine, clock, 6, at=local(8, 40))
        clock.set(local(9, 1))
        order = [(await engine.call_next(("1", "2", "3")[n % 3]))["ticket"]["id"] for n in range(7)]
        assert order.index(walk_in) == position


async def test_late_arrivals_and_sent_back_appointments_are_walk_ins(redis):
    """After the grace the kiosk refuses the check-in (the citizen takes a normal number); an appointment
    called, missed and sent back to the queue no longer goes ahead of walk-ins."""
    engine, clock = await engine_for(redis, hall(returns=1), local(8, 0))
    booking = (await engine.book(AGENCY, "2026-11-24", "09:00", id_number="092200001234", phone="0912345678"))
    clock.set(local(8, 50))
    appointment = (await engine.check_in(code=booking["booking"]["code"]))["ticket"]
    walk_ins = [(await engine.issue(AGENCY))["ticket"]["id"] for _ in range(3)]
    clock.set(local(9, 0))
    assert (await engine.call_next("1"))["ticket"]["id"] == appointment["id"]
    sent_back = await engine.no_show("1")
    assert sent_back["ticket"]["status"] == "waiting"
    order = [(await engine.call_next(c))["ticket"]["id"] for c in ("1", "2", "3")]
    assert order == walk_ins[:1] + [appointment["id"]] + walk_ins[1:2]  # back behind one other, no jump


# -- a simulated morning ------------------------------------------------------------------------------
@dataclasses.dataclass
class Morning:
    walk_in_waits: list[float]      # minutes from taking the number to the call
    appointment_waits: list[float]  # minutes from the slot time (or the check-in, when later) to the call
    longest_run: int                # appointment turns in a row while a walk-in had waited beyond the guard


async def simulate(redis, site, *, bookings_per_slot: int, walk_in_every_min: int = 6) -> Morning:
    """07:00–11:00: a walk-in every ``walk_in_every_min`` minutes, ``bookings_per_slot`` bookings in each 30-minute slot (checked
    in 10 minutes before their time; one in four 10 minutes after it, within the grace), three counters
    serving 10 minutes each; minute by minute until the hall is empty."""
    await redis.flushall()
    engine, clock = await engine_for(redis, site, local(6, 0))
    arrivals: dict[dt.datetime, list[str]] = {}
    n = 0
    for slot in range(8):
        start = local(7) + dt.timedelta(minutes=30 * slot)
        for _ in range(bookings_per_slot):
            n += 1
            booking = (await engine.book(AGENCY, "2026-11-24", start.astimezone(site.tz).strftime("%H:%M"),
                                         id_number=f"0922{n:08d}", phone=f"091{n:07d}"))["booking"]
            arrive = max(local(7), start + dt.timedelta(minutes=10 if n % 4 == 0 else -10))
            arrivals.setdefault(arrive, []).append(booking["code"])
    walk_ins = {local(7) + dt.timedelta(minutes=walk_in_every_min * i) for i in range(240 // walk_in_every_min)}
    guard_ms = site.appointments.walk_in_guard_s * 1000
    busy_until: dict[str, dt.datetime] = {}
    morning = Morning([], [], 0)
    run = 0
    minute = local(7)
    while minute < local(14):
        clock.set(minute)
        if minute in walk_ins:
            await engine.issue(AGENCY)
        for code in arrivals.get(minute, ()):
            await engine.check_in(code=code)
        for counter in ("1", "2", "3"):
            if busy_until.get(counter, minute) > minute:
                continue
            queue = (await engine.waiting_tickets())[AGENCY]
            oldest = min((t["issued_at"] for t in queue
                          if t.get("channel") != "appointment" or t["slot_at"] > ms(minute)), default=None)
            answer = await engine.call_next(counter)
            if answer["status"] == 204:
                busy_until.pop(counter, None)
                continue
            ticket = answer["ticket"]
            busy_until[counter] = minute + dt.timedelta(minutes=SERVICE_MIN)
            turn = next(e for _i, e in await engine.recent_events(5) if e["type"] == "called").get("appointment_turn")
            if ticket.get("channel") == "appointment":
                since = max(ticket["slot_at"], ticket["issued_at"])
                morning.appointment_waits.append(max(0, ticket["called_at"] - since) / 60000)
            else:
                morning.walk_in_waits.append((ticket["called_at"] - ticket["issued_at"]) / 60000)
            beyond_guard = oldest is not None and ms(minute) - oldest > guard_ms
            run = run + 1 if turn and beyond_guard else 0
            morning.longest_run = max(morning.longest_run, run)
        if minute >= local(11) and not busy_until:
            break
        minute += dt.timedelta(minutes=1)
    return morning


async def test_a_simulated_morning_serves_appointments_on_time_without_starving_walk_ins(redis):
    """Two bookings per slot (4 an hour) on top of 10 walk-ins an hour at three counters serving 6 an hour
    each: every appointment is called within 10 minutes of its time (or of its late check-in), no walk-in
    waits more than 15 minutes longer than in the same morning without bookings, and never more than
    streak_max appointment turns run past a walk-in waiting beyond the guard."""
    site = hall(share=0.34, streak=3, guard=900)
    baseline = await simulate(redis, site, bookings_per_slot=0)
    blended = await simulate(redis, site, bookings_per_slot=2)
    assert len(baseline.walk_in_waits) == len(blended.walk_in_waits) == 40
    assert len(blended.appointment_waits) == 16
    assert max(blended.appointment_waits) <= 10, blended.appointment_waits
    assert max(blended.walk_in_waits) <= max(baseline.walk_in_waits) + 15, (baseline, blended)
    assert blended.longest_run <= site.appointments.streak_max


async def test_a_crowded_morning_keeps_the_walk_in_guard(redis):
    """More than the counters serve (a walk-in every 4 minutes and every slot full, 3 a slot): with
    streak_max 2 and a 10-minute guard never more than 2 appointment turns run past a walk-in waiting
    beyond the guard (without the guard the same morning has longer runs), appointments are still called
    within 10 minutes of their time, and everyone is called in the end."""
    guarded = await simulate(redis, hall(streak=2, guard=600), bookings_per_slot=3, walk_in_every_min=4)
    unguarded = await simulate(redis, hall(streak=0, guard=600), bookings_per_slot=3, walk_in_every_min=4)
    assert guarded.longest_run <= 2 < unguarded.longest_run
    assert max(guarded.appointment_waits) <= 10
    assert len(guarded.walk_in_waits) == 60 and len(guarded.appointment_waits) == 24
