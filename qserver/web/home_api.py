"""The HTTP API from home: online numbers, appointment slots and bookings (public, the code is the
holder's secret), the kiosk's check-in, managers closing slots and watching bookings and webhooks.

Public writes are limited per client address and per person (the keyed hash of the CCCD number);
booking codes looked up per address (:mod:`qserver.ratelimits`). Checks run in the contract's order:
token (401), site/agency/booking (404), right (403), body (422), state (409, in the Lua scripts).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..engine import SiteEngine
from ..engine import slots as slotting
from ..engine.cccd import person_hash
from ..engine.citizen import check_id_number, online_open, online_opening
from ..exceptions import Conflict
from ..managers.home_console import appointments_of
from ..present import iso, present_booking, present_ticket
from .http import bearer, engine_of, grant_of, json_response, optional_str, read_body

__all__ = ["online_ticket", "appointment_options", "site_slots", "create_booking", "get_booking", "cancel_booking",
           "move_booking", "check_in", "close_slots", "open_slots", "appointments_of_day", "webhook_status",
           "webhook_test", "online_options", "appointment_options_of"]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _limit_writes(request: Request, engine: SiteEngine, id_number: Any) -> None:
    """Count one public write against the client address, then against the person."""
    limits = request.app.state.limits
    await limits.check(limits.home_per_address, "home", _address(request),
                       "Quá nhiều yêu cầu lấy số, đặt lịch từ địa chỉ này.")
    person = person_hash(engine.secret, check_id_number(id_number))
    await limits.check(limits.home_per_person, "home-person", person,
                       "Số CCCD này đã gửi quá nhiều yêu cầu hôm nay.")


async def limit_codes(request: Request) -> None:
    """Count one booking-code lookup against the client address (guessing codes takes ages at this pace)."""
    limits = request.app.state.limits
    await limits.check(limits.codes_per_address, "code", _address(request),
                       "Quá nhiều lần tra cứu mã lịch hẹn từ địa chỉ này.")


async def _ticket_body(engine: SiteEngine, ticket: dict[str, Any], status: int = 200) -> Response:
    eta = None
    if ticket["status"] == "waiting" and ticket.get("ahead") is not None:
        eta = await engine.estimate_wait(ticket["agency"], ticket["ahead"])
    return json_response(present_ticket(engine.site, ticket, ahead=ticket.get("ahead"), eta_s=eta), status)


def _booking_body(engine: SiteEngine, booking: dict[str, Any], status: int = 200) -> Response:
    shown = present_booking(engine.site, booking, with_code=True)
    shown["qr_url"] = f"{shown['url']}/qr.svg"
    return json_response(shown, status)


# -- online numbers -------------------------------------------------------------------------------
def online_options(engine: SiteEngine) -> dict[str, Any]:
    """What the phone page needs to know about online numbers now."""
    site, now = engine.site, engine.clock.now()
    config = site.online
    is_open = config.enabled and (engine.always_open or online_open(site, now))
    opening = None if is_open or not config.enabled else online_opening(site, now)
    return {"enabled": config.enabled, "open": is_open,
            "opens_at": opening.isoformat(timespec="minutes") if opening else None,
            "from": f"{config.start:%H:%M}" if config.start else None, "max_per_person": config.max_per_person,
            "near_ahead": config.near_ahead, "no_show_limit": config.no_show_limit,
            "no_show_days": config.no_show_days}


async def online_ticket(request: Request) -> Response:
    """``POST .../online-tickets`` {agency, cccd, phone, key}: a number from a phone (public)."""
    engine = engine_of(request)
    body = await read_body(request)
    if isinstance(body.get("agency"), str):
        engine.agency(body["agency"])
    await _limit_writes(request, engine, body.get("cccd"))
    answer = await engine.online_issue(body.get("agency"), id_number=body.get("cccd"), phone=body.get("phone"),
                                       key=body.get("key"))
    return await _ticket_body(engine, answer["ticket"], answer["status"])


# -- appointments ---------------------------------------------------------------------------------
def appointment_options_of(engine: SiteEngine) -> dict[str, Any]:
    site, now = engine.site, engine.clock.now()
    config = site.appointments
    agencies = [{"slug": a.slug, "name": a.name, "floor": a.floor, "prefix": a.prefix,
                 "capacity": slotting.capacity(site, a.slug)}
                for a in site.agencies if slotting.takes_bookings(site, a.slug)]
    return {"enabled": config.enabled and bool(agencies), "agencies": agencies,
            "days": [d.isoformat() for d in slotting.bookable_days(site, now)],
            "slot_minutes": config.slot_minutes, "checkin_before_minutes": config.checkin_before_minutes,
            "grace_minutes": config.grace_minutes, "min_notice_minutes": config.min_notice_minutes,
            "max_per_person": config.max_per_person}


async def appointment_options(request: Request) -> Response:
    """``GET .../appointments``: which agencies take bookings, on which days, with what rules (public)."""
    return json_response(appointment_options_of(engine_of(request)))


async def site_slots(request: Request) -> Response:
    """``GET .../slots?agency=&date=``: the slots of an agency on a day with what is left (public)."""
    engine = engine_of(request)
    agency = engine.agency(request.query_params.get("agency"))
    day = slotting.parse_day(request.query_params.get("date") or engine.today())
    slotting.check_takes_bookings(engine.site, agency.slug)
    return json_response({"agency": agency.slug, "agency_name": agency.name, "date": day.isoformat(),
                          "slots": await engine.slots_view(agency.slug, day)})


async def create_booking(request: Request) -> Response:
    """``POST .../bookings`` {agency, date, time, cccd, phone, key} (public): 201 with the code."""
    engine = engine_of(request)
    body = await read_body(request)
    if isinstance(body.get("agency"), str):
        engine.agency(body["agency"])
    await _limit_writes(request, engine, body.get("cccd"))
    answer = await engine.book(body.get("agency"), body.get("date"), body.get("time"), id_number=body.get("cccd"),
                               phone=body.get("phone"), key=body.get("key"))
    return _booking_body(engine, answer["booking"], 201)


async def get_booking(request: Request) -> Response:
    """``GET .../bookings/{code}`` (public: the code is the holder's secret)."""
    engine = engine_of(request)
    await limit_codes(request)
    booking = await engine.booking_by_code(request.path_params["code"])
    return _booking_body(engine, booking)


async def cancel_booking(request: Request) -> Response:
    engine = engine_of(request)
    await limit_codes(request)
    answer = await engine.cancel_booking(request.path_params["code"])
    return _booking_body(engine, answer["booking"])


async def move_booking(request: Request) -> Response:
    """``POST .../bookings/{code}/move`` {date, time}."""
    engine = engine_of(request)
    await limit_codes(request)
    body = await read_body(request)
    answer = await engine.move_booking(request.path_params["code"], body.get("date"), body.get("time"))
    return _booking_body(engine, answer["booking"])


async def check_in(request: Request) -> Response:
    """``POST .../check-in`` {code | citizen_qr, key} (kiosk, manager): the booking's ticket (201)."""
    grant = await grant_of(request)
    engine = engine_of(request)
    grant.require(engine.site.slug, "kiosk", "manager")
    body = await read_body(request)
    issuer = hashlib.sha256((bearer(request) or "").encode()).hexdigest()[:16]
    limits = request.app.state.limits
    await limits.check(limits.issue_per_kiosk, "issue", issuer, "Máy lấy số này đã cấp quá nhiều số trong thời gian ngắn.")
    answer = await engine.check_in(code=optional_str(body, "code"), citizen_qr=optional_str(body, "citizen_qr"),
                                   actor=grant.actor(), issuer=issuer, key=body.get("key"))
    return await _ticket_body(engine, answer["ticket"], answer["status"])


# -- managers -------------------------------------------------------------------------------------
async def _manager(request: Request) -> tuple[SiteEngine, Any]:
    grant = await grant_of(request)
    engine = engine_of(request)
    grant.require(engine.site.slug, "manager")
    return engine, grant


async def close_slots(request: Request) -> Response:
    """``POST .../slots/close`` {date, agency?, from?, to?, reason}: the bookings there are cancelled."""
    engine, grant = await _manager(request)
    body = await read_body(request)
    answer = await engine.close_slots(body.get("date"), agency=body.get("agency"), start=body.get("from"),
                                      end=body.get("to"), reason=body.get("reason", ""), actor=grant.actor())
    return json_response({"closed": answer["closed"] or [], "cancelled": len(answer["cancelled"] or [])})


async def open_slots(request: Request) -> Response:
    engine, grant = await _manager(request)
    body = await read_body(request)
    answer = await engine.open_slots(body.get("date"), agency=body.get("agency"), start=body.get("from"),
                                     end=body.get("to"), actor=grant.actor())
    return json_response({"opened": answer["opened"] or []})


async def appointments_of_day(request: Request) -> Response:
    """``GET .../appointments/{date}`` (manager): the day's slots with their bookings."""
    engine, _grant = await _manager(request)
    day = slotting.parse_day(request.path_params["date"])
    return json_response(await appointments_of(engine, day, with_bookings=True))


async def webhook_status(request: Request) -> Response:
    """``GET .../webhook`` (manager): where messages go (never the secret) and how delivery goes."""
    engine, _grant = await _manager(request)
    stored = await engine.stored_webhook()
    config = engine.site.webhook
    url = stored.get("url") or config.url
    status = await engine.webhook_status()
    for key in ("last_ok_at", "failing_since", "last_error_at"):
        if status.get(key) is not None:
            status[key] = iso(engine.site, status[key])
    events = json.loads(stored["events"]) if stored.get("url") and stored.get("events") else list(config.events)
    return json_response({"url": url or None, "source": "redis" if stored.get("url") else ("config" if url else None),
                          "events": events, "status": status})


async def webhook_test(request: Request) -> Response:
    """``POST .../webhook/test`` (manager): a ``test`` delivery through the worker, like any event."""
    engine, grant = await _manager(request)
    if not ((await engine.stored_webhook()).get("url") or engine.site.webhook.url):
        raise Conflict("Trung tâm chưa cấu hình webhook. / No webhook is set for this site.", code="webhook_not_set")
    event_id = await engine.record_webhook_test(actor=grant.actor())
    return json_response({"event_id": event_id}, 202)
