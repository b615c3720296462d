"""The HTTP API from home on a real server: concurrent bookings of the last places, limits per address and
per person, Vietnamese 4xx refusals that change nothing, the kiosk's check-in, managers closing slots,
the route table in /openapi.json."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tests.home.conftest import ID_A, ID_B, PHONE_A, person
from tests.support import LiveApp

SITE = "/api/v1/sites/cantho"
TU_PHAP = "so-tu-phap"
TOMORROW = "2026-11-25"


@pytest.fixture
async def open_app(redis_server, flushed, tmp_path, clock):
    """The app with the public per-address and per-person limits off (100 phones share one test address)."""
    app = LiveApp(redis_server.url, tmp_path, clock, limit_home_per_address="", limit_home_per_person="",
                  limit_codes_per_address="", home_worker=False)
    await app.start()
    yield app
    await app.stop()


async def test_a_hundred_phones_booking_the_last_five_places_get_exactly_five(open_app, redis):
    """Three slots of Sở Tư pháp (2 places each), one place already taken: 100 concurrent bookings of those
    5 last places → exactly 5 succeed (201), 95 are 409 slot_full, and every slot holds exactly 2."""
    engine = open_app.app.state.engines["cantho"]
    times = ("07:00", "07:30", "08:00")   # capacity 2 each: 6 places, one taken first → 5 left
    async with open_app.client() as http:
        first = await http.post(f"{SITE}/bookings", json={"agency": TU_PHAP, "date": TOMORROW, "time": "07:00",
                                                          "cccd": ID_A, "phone": PHONE_A})
        assert first.status_code == 201

        async def book(n: int):
            cccd, phone = person(100 + n)
            return await http.post(f"{SITE}/bookings", json={"agency": TU_PHAP, "date": TOMORROW,
                                                             "time": times[n % 3], "cccd": cccd, "phone": phone})

        answers = await asyncio.gather(*(book(n) for n in range(100)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 5 and statuses.count(409) == 95
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"slot_full"}
    counts, _closed = await engine.slot_state(dt.date(2026, 11, 25))
    assert [counts.get(f"{TU_PHAP}|{t}", 0) for t in times] == [2, 2, 2]
    assert len(await engine.bookings_of_day(dt.date(2026, 11, 25))) == 6


async def test_limits_per_address_and_per_person(redis_server, flushed, tmp_path, clock):
    """Per person: the 4th request with one CCCD number in the window is 429 (with Retry-After) while the
    address is still under its limit; per address: past its limit a new CCCD number is 429 too."""
    app = LiveApp(redis_server.url, tmp_path, clock, limit_home_per_address="6/minute",
                  limit_home_per_person="3/minute", home_worker=False)
    await app.start()
    try:
        async with app.client() as http:
            async def take(cccd: str, phone: str = PHONE_A):
                return await http.post(f"{SITE}/online-tickets", json={"agency": "so-y-te", "cccd": cccd,
                                                                        "phone": phone})
            same = [await take(ID_A) for _ in range(4)]
            assert [r.status_code for r in same] == [201, 409, 409, 429]
            assert same[3].json()["error"]["code"] == "rate_limited" and int(same[3].headers["Retry-After"]) >= 1
            assert "CCCD" in same[3].json()["error"]["message"]
            others = [await take(person(n)[0], person(n)[1]) for n in range(3)]
            assert [r.status_code for r in others] == [201, 201, 429]   # the address's 7th request
            assert "địa chỉ" in others[2].json()["error"]["message"]
    finally:
        await app.stop()


@pytest.mark.parametrize("path, body, status, code, words", [
    ("online-tickets", {"agency": TU_PHAP, "cccd": "12345", "phone": PHONE_A}, 422, "invalid_id_number", "12 chữ số"),
    ("online-tickets", {"agency": TU_PHAP, "cccd": ID_A, "phone": "12345"}, 422, "invalid_phone", "di động"),
    ("online-tickets", {"agency": "so-xyz", "cccd": ID_A, "phone": PHONE_A}, 404, "unknown_agency", "so-xyz"),
    ("bookings", {"agency": TU_PHAP, "date": TOMORROW, "time": "09:10", "cccd": ID_A, "phone": PHONE_A}, 404,
     "unknown_slot", "09:10"),
    ("bookings", {"agency": TU_PHAP, "date": "mai", "time": "09:00", "cccd": ID_A, "phone": PHONE_A}, 422,
     "invalid_field", "YYYY-MM-DD"),
    ("bookings/ZZZZ-ZZZZ/cancel", {}, 404, "unknown_booking", "ZZZZ-ZZZZ"),
    ("bookings/ZZZZ-ZZZZ/move", {"date": TOMORROW, "time": "09:00"}, 404, "unknown_booking", "ZZZZ-ZZZZ"),
])
async def test_bad_input_is_a_clear_vietnamese_4xx_and_changes_nothing(open_app, path, body, status, code, words):
    """Each malformed or unknown value: its status and code, a Vietnamese sentence naming it, no event."""
    engine = open_app.app.state.engines["cantho"]
    before = await engine.last_event_id()
    async with open_app.client() as http:
        r = await http.post(f"{SITE}/{path}", json=body)
    assert r.status_code == status and r.json()["error"]["code"] == code
    assert words in r.json()["error"]["message"]
    assert await engine.last_event_id() == before


async def test_the_kiosk_checks_a_booking_in_and_managers_see_and_close_slots(open_app, clock):
    """Check-in needs a kiosk token and answers the appointment ticket; the manager's day view counts it;
    closing the afternoon cancels the other booking; a closed slot refuses bookings (409 slot_closed)."""
    engine = open_app.app.state.engines["cantho"]
    kiosk = {"Authorization": f"Bearer {open_app.token('kiosk')}"}
    manager = {"Authorization": f"Bearer {open_app.token('manager')}"}
    async with open_app.client() as http:
        morning = (await http.post(f"{SITE}/bookings", json={"agency": TU_PHAP, "date": "2026-11-24",
                                                             "time": "09:00", "cccd": ID_A, "phone": PHONE_A})).json()
        await http.post(f"{SITE}/bookings", json={"agency": TU_PHAP, "date": "2026-11-24", "time": "14:00",
                                                  "cccd": ID_B, "phone": PHONE_A})
        assert (await http.post(f"{SITE}/check-in", json={"code": morning["code"]})).status_code == 401
        early = await http.post(f"{SITE}/check-in", json={"code": morning["code"]}, headers=kiosk)
        assert early.status_code == 409 and early.json()["error"]["code"] == "checkin_too_early"
        clock.advance(minutes=45)  # 08:45
        scanned = f"http://qserver.local/s/cantho/hen/{morning['code'].replace('-', '')}"
        ticket = await http.post(f"{SITE}/check-in", json={"code": scanned}, headers=kiosk)
        assert ticket.status_code == 201 and ticket.json()["channel"] == "appointment"
        assert ticket.json()["slot_at"].startswith("2026-11-24T09:00")
        closed = await http.post(f"{SITE}/slots/close", json={"date": "2026-11-24", "agency": TU_PHAP,
                                                              "from": "13:00", "reason": "Họp giao ban"},
                                 headers=manager)
        assert closed.json() == {"closed": [f"{TU_PHAP}|{t}" for t in
                                            ("13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00")],
                                 "cancelled": 1}
        refused = await http.post(f"{SITE}/bookings", json={"agency": TU_PHAP, "date": "2026-11-24",
                                                            "time": "15:00", "cccd": ID_A, "phone": PHONE_A})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "slot_closed"
        day = (await http.get(f"{SITE}/appointments/2026-11-24", headers=manager)).json()
        options = (await http.get(f"{SITE}/appointments")).json()
        slots = (await http.get(f"{SITE}/slots", params={"agency": TU_PHAP, "date": "2026-11-25"})).json()
        spec = (await http.get("/openapi.json")).json()
    tu_phap = next(a for a in day["agencies"] if a["slug"] == TU_PHAP)
    nine = next(s for s in tu_phap["slots"] if s["time"] == "09:00")
    assert (nine["booked"], nine["checked_in"], nine["capacity"]) == (1, 1, 2)
    assert tu_phap["cancelled"] == 1 and all("code" not in b for b in day["bookings"])
    assert options["days"][0] == "2026-11-24" and any(a["slug"] == TU_PHAP for a in options["agencies"])
    assert slots["slots"][0] == {"time": "07:00", "end": "07:30", "capacity": 2, "booked": 0, "free": 2,
                                 "closed": False, "reason": None, "bookable": True, "problem": None}
    for path in ("/online-tickets", "/bookings", "/bookings/{code}", "/bookings/{code}/cancel", "/bookings/{code}/move",
                 "/check-in", "/slots", "/slots/close", "/slots/open", "/appointments", "/appointments/{date}",
                 "/webhook", "/webhook/test"):
        assert "/api/v1/sites/{site}" + path in spec["paths"], path
    assert "Booking" in spec["components"]["schemas"] and "OnlineTicketRequest" in spec["components"]["schemas"]
    assert spec["paths"]["/api/v1/sites/{site}/online-tickets"]["post"].get("security") is None
    assert (await engine.booking_stats(dt.date(2026, 11, 24)))[TU_PHAP] == {"booked": 2, "cancelled": 1,
                                                                           "checked_in": 1, "no_show": 0}


async def test_a_booking_is_public_by_its_code_only(open_app):
    """GET by code answers the booking with its code and QR address, never the person's hash; the
    confirmation page and its QR (SVG) exist for that code only."""
    async with open_app.client() as http:
        made = (await http.post(f"{SITE}/bookings", json={"agency": TU_PHAP, "date": TOMORROW, "time": "09:00",
                                                          "cccd": ID_A, "phone": PHONE_A})).json()
        shown = (await http.get(f"{SITE}/bookings/{made['code'].lower()}")).json()
        page = await http.get(made["url"])
        qr = await http.get(made["qr_url"])
        missing = await http.get("/s/cantho/hen/ZZZZZZZZ/qr.svg")
    assert shown["code"] == made["code"] and shown["status"] == "booked" and "person" not in shown
    assert shown["checkin_from"].startswith("2026-11-25T08:30") and shown["checkin_until"].startswith("2026-11-25T09:15")
    assert page.status_code == 200 and "Lịch hẹn" in page.text
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml" and qr.content.startswith(b"<svg")
    assert missing.status_code == 404
