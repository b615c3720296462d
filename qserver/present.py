"""What the outside sees: stored JSON (times in ms) turned into the public objects of API.md.

One place decides the public shape of a site's layout, a ticket, a counter, an event and the state,
for HTTP, websockets and the pages' boot data alike.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import orjson

from config import Site

from .engine.slots import checkin_window, show_code
from .labels import counter_name

__all__ = ["iso", "present_layout", "present_ticket", "present_procedure_ref", "present_counter", "present_event",
           "present_call", "present_notice", "present_state", "present_booking", "CHANNELS"]

TICKET_TIMES = ("issued_at", "called_at", "done_at", "rated_at", "slot_at")
PRIVATE_TICKET_FIELDS = ("seq", "n", "person", "officer", "procedure_name", "contact")
#: How a ticket came: the kiosk (or a manager), a phone (/s/{site}), a booking checked in at the kiosk.
CHANNELS = ("kiosk", "online", "appointment")
BOOKING_TIMES = ("slot_at", "created_at", "cancelled_at", "checked_in_at", "expired_at")


def iso(site: Site, ms: int | float | None) -> str | None:
    """Milliseconds since the epoch → ISO 8601 in the site's UTC offset (seconds precision)."""
    if ms is None:
        return None
    return _iso_second(site.tz, int(ms // 1000))


@lru_cache(maxsize=4096)
def _iso_second(tz: dt.tzinfo, second: int) -> str:
    # A ticket's times are presented again and again (its answer, every display frame, the console):
    # the same second of the same zone gives the same text.
    return dt.datetime.fromtimestamp(second, tz=tz).isoformat(timespec="seconds")


def present_layout(site: Site) -> dict[str, Any]:
    """A site's layout: names, floors, agencies (with the counters serving them), counters, hours."""
    return {
        "slug": site.slug, "name": site.name, "short_name": site.short_name or site.name, "address": site.address,
        "timezone": site.timezone,
        "floors": [{"number": f.number, "name": f.name, "name_en": f.name_en} for f in site.floors],
        "agencies": [{"slug": a.slug, "name": a.name, "floor": a.floor, "prefix": a.prefix,
                      "procedures": a.procedures,
                      "counters": [c.id for c in site.counters if a.slug in c.agencies]} for a in site.agencies],
        "counters": [{"id": c.id, "floor": c.floor, "agencies": list(c.agencies), "name": counter_name(c.id, c.name)}
                     for c in site.counters],
        "hours": {day: [f"{s:%H:%M}-{e:%H:%M}" for s, e in sessions] for day, sessions in site.hours.items()},
        "holidays": sorted(d.isoformat() for d in site.holidays),
        "announce": {"template": site.announce.template, "number_reading": site.announce.number_reading},
        "rating_levels": site.rating_levels,
    }


def present_ticket(site: Site, raw: dict[str, Any], *, ahead: int | None = None,
                   eta_s: int | None = None) -> dict[str, Any]:
    """The public ticket object. ``ahead``/``eta_s`` are given by callers that computed them."""
    ticket = {key: value for key, value in raw.items() if key not in PRIVATE_TICKET_FIELDS}
    for key in TICKET_TIMES:
        ticket[key] = iso(site, raw.get(key))
    agency = site.agency_by_slug.get(raw.get("agency", ""))
    ticket.setdefault("priority", None)
    ticket.setdefault("counter", None)
    ticket.setdefault("outcome", None)
    ticket.setdefault("recalls", 0)
    ticket.setdefault("channel", "kiosk")
    ticket["agency_name"] = agency.name if agency else raw.get("agency")
    ticket["procedure"] = present_procedure_ref(raw)
    if ahead is not None or "ahead" not in ticket:
        ticket["ahead"] = ahead
    ticket["eta_s"] = eta_s
    ticket["track_url"] = f"/t/{site.slug}/{raw['id']}"
    return ticket


def present_procedure_ref(raw: dict[str, Any]) -> dict[str, str] | None:
    """The procedure a ticket carries, ``{"code", "name"}`` (the name as it was when it was chosen), or None."""
    code = raw.get("procedure")
    if not isinstance(code, str) or not code:
        return None
    return {"code": code, "name": raw.get("procedure_name") or code}


def present_counter(site: Site, raw: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The public counter object, with its current ticket when given."""
    agencies = raw.get("agencies") or []
    return {
        "id": raw["id"],
        "floor": raw.get("floor"),
        "name": counter_name(raw["id"], raw.get("name")),
        "status": raw.get("status", "open"),
        "reason": raw.get("reason"),
        "agencies": list(agencies) if isinstance(agencies, list) else [],
        "current": present_ticket(site, current) if current else None,
        "since": iso(site, raw.get("since")),
        "served": raw.get("served", 0),
    }


def present_call(site: Site, raw: dict[str, Any]) -> dict[str, Any]:
    """One entry of the recent-calls list (what a hall display row shows)."""
    return {
        "ticket": raw["ticket"], "number": raw["number"], "counter": raw["counter"],
        "floor": raw["floor"], "counter_floor": raw.get("counter_floor", raw["floor"]),
        "agency": raw["agency"], "recall": bool(raw.get("recall")), "at": iso(site, raw.get("at")),
        "event_id": raw.get("event_id"),
    }


def present_event(site: Site, event_id: str, raw: dict[str, Any] | bytes | str) -> dict[str, Any]:
    """A stream entry → the frame every subscriber of its topics receives."""
    if not isinstance(raw, dict):
        raw = orjson.loads(raw)
    event = dict(raw)
    event["event_id"] = event_id
    event["at"] = iso(site, raw.get("at"))
    if isinstance(raw.get("ticket"), dict):
        event["ticket"] = present_ticket(site, raw["ticket"])
    if isinstance(raw.get("counter"), dict):
        event["counter"] = present_counter(site, raw["counter"], raw.get("ticket"))
    if event.get("type") == "queue":
        event["floors"] = sorted({site.agency_by_slug[slug].floor for slug in raw.get("waiting", {})
                                  if slug in site.agency_by_slug})
    if event.get("type") == "notice" and isinstance(raw.get("notice"), dict):
        notice = present_notice(site, raw["notice"])
        event["notice"] = notice
        event["floor"] = notice["floor"]
        if notice.get("floor") is None:
            event["floors"] = [floor.number for floor in site.floors]
    if isinstance(event.get("previous"), dict):  # an empty Lua list arrives as {}
        event["previous"] = []
    if isinstance(raw.get("booking"), dict):  # the public part only: no code, no person (scripts_home.py)
        event["booking"] = present_booking(site, raw["booking"])
    if isinstance(event.get("slots"), dict):  # an empty Lua list
        event["slots"] = []
    return event


def present_booking(site: Site, raw: dict[str, Any], *, with_code: bool = False) -> dict[str, Any]:
    """A booking as its holder sees it (``with_code``: the code and the confirmation page's address;
    only answers to the holder, never events, carry them). The keyed person hash is never shown."""
    agency = site.agency_by_slug.get(raw.get("agency", ""))
    booking = {key: raw.get(key) for key in ("id", "agency", "day", "time", "status", "ticket", "cancel_reason",
                                             "cancel_note", "moves")}
    for key in BOOKING_TIMES:
        booking[key] = iso(site, raw.get(key))
    booking["agency_name"] = agency.name if agency else raw.get("agency")
    booking["floor"] = agency.floor if agency else None
    if raw.get("slot_at") is not None:
        start = dt.datetime.fromtimestamp(raw["slot_at"] / 1000, tz=site.tz)
        opens, closes = checkin_window(site, start)
        booking["checkin_from"], booking["checkin_until"] = (opens.isoformat(timespec="seconds"),
                                                             closes.isoformat(timespec="seconds"))
    if with_code and raw.get("code"):
        booking["code"] = show_code(raw["code"])
        booking["url"] = f"/s/{site.slug}/hen/{raw['code']}"
    return booking


def present_notice(site: Site, raw: dict[str, Any]) -> dict[str, Any]:
    """A hall-display notice; ``floor`` None means every floor."""
    return {**raw, "floor": raw.get("floor"), "created_at": iso(site, raw.get("created_at")),
            "expires_at": iso(site, raw.get("expires_at"))}


def present_state(site: Site, state: dict[str, Any], floor: int | None = None) -> dict[str, Any]:
    """``SiteEngine.state()`` → the public state; with ``floor``, only what that floor's screens show."""
    counters = [present_counter(site, raw, current) for raw, current in state["counters"]]
    calls = [present_call(site, call) for call in state["calls"]]
    waiting = state["waiting"]
    notices = [present_notice(site, n) for n in state["notices"]]
    if floor is not None:
        counters = [c for c in counters if c["floor"] == floor]
        calls = [c for c in calls if floor in (c["floor"], c["counter_floor"])]
        waiting = {slug: n for slug, n in waiting.items()
                   if slug in site.agency_by_slug and site.agency_by_slug[slug].floor == floor}
        notices = [n for n in notices if n["floor"] in (None, floor)]
    return {"site": state["site"], "day": state["day"], "event_id": state["event_id"], "counters": counters,
            "waiting": waiting, "calls": calls, "notices": notices}
