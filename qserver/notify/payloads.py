"""Which stream events become which webhook, and the JSON body each carries (docs/webhooks.md shows them).

Pure: the worker looks the phone number and the booking up in Redis and passes them in. Every body has
``id`` (the site and the stream id of the event: the same on every retry, so a receiver drops
duplicates), ``type``, ``site``, ``occurred_at``, ``to`` (the phone number), the ticket or booking, and
``message``: a ready Vietnamese SMS text (``message_plain`` without diacritics for gateways that send
GSM-7 only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from unidecode import unidecode

from config import Site

from ..labels import counter_name
from ..present import iso, present_booking, present_ticket

__all__ = ["WEBHOOK_KINDS", "webhook_kind", "lookup_of", "near_agencies", "build_payload"]

#: stream event type → webhook type
WEBHOOK_KINDS = {
    "near": "ticket-near",
    "called": "ticket-called",
    "booked": "booking-confirmed",
    "booking_moved": "booking-confirmed",
    "booking_reminder": "booking-reminder",
    "booking_cancelled": "booking-cancelled",
    "webhook_test": "test",
}
#: Events after which the worker looks for tickets whose turn has come near.
NEAR_TRIGGERS = ("issued", "called", "completed", "no_show", "transferred", "queue")


def webhook_kind(event: dict[str, Any]) -> str | None:
    """The webhook an event becomes (None: none)."""
    return WEBHOOK_KINDS.get(event.get("type", ""))


def lookup_of(event: dict[str, Any]) -> tuple[str, str, str] | None:
    """What the worker must read before building the body: ("ticket", ticket id, its day) for a ticket's
    phone number, ("booking", booking id, "") for a booking's code and phone; None for a test."""
    ticket = event.get("ticket")
    if event.get("type") in ("near", "called") and isinstance(ticket, dict):
        ticket_id = ticket.get("id", "")
        stamp = ticket_id.split("-", 1)[0]
        day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}" if len(stamp) == 8 and stamp.isdigit() else ""
        return ("ticket", ticket_id, day)
    booking = event.get("booking")
    if isinstance(booking, dict) and booking.get("id"):
        return ("booking", booking["id"], "")
    return None


def near_agencies(event: dict[str, Any]) -> set[str]:
    """The agencies whose queue moved with this event (where a turn may have come near)."""
    if event.get("type") not in NEAR_TRIGGERS:
        return set()
    found = set(event.get("waiting") or ())
    ticket = event.get("ticket")
    if isinstance(ticket, dict) and ticket.get("agency"):
        found.add(ticket["agency"])
    if event.get("agency"):
        found.add(event["agency"])
    return found


def _when(site: Site, ms: int | None) -> str:
    if ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=site.tz)
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"


def _absolute(base_url: str, path: str | None) -> str | None:
    return f"{base_url.rstrip('/')}{path}" if path and base_url else path


def _message(site: Site, kind: str, event: dict[str, Any], ticket: dict[str, Any] | None,
             booking: dict[str, Any] | None, url: str | None) -> str:
    name = site.short_name or site.name
    link = f" {url}" if url else ""
    if kind == "ticket-near" and ticket:
        ahead = event.get("ahead", 0)
        turn = "sắp đến lượt bạn" if not ahead else f"còn {ahead} người trước bạn"
        return f"{name}: số {ticket['number']} ({ticket['agency_name']}) {turn}. Vui lòng có mặt.{link}"
    if kind == "ticket-called" and ticket:
        counter = event.get("counter") or ticket.get("counter")
        again = "Nhắc lại: m" if event.get("recall") else "M"
        return f"{name}: {again}ời công dân có số {ticket['number']} đến {counter_name(str(counter)).lower()}."
    if booking and kind == "booking-confirmed":
        verb = "Đã đổi lịch hẹn" if event.get("type") == "booking_moved" else "Đã đặt lịch hẹn"
        opens = dt.datetime.fromisoformat(booking["checkin_from"]) if booking.get("checkin_from") else None
        early = f" Xác nhận tại máy lấy số từ {opens:%H:%M}." if opens else ""
        return (f"{name}: {verb} {booking['agency_name']} lúc {booking['time']} ngày "
                f"{dt.date.fromisoformat(booking['day']):%d/%m/%Y}, mã {booking.get('code', '')}.{early}{link}")
    if booking and kind == "booking-reminder":
        return (f"{name}: Nhắc lịch hẹn {booking['agency_name']} lúc {booking['time']} ngày "
                f"{dt.date.fromisoformat(booking['day']):%d/%m/%Y}, mã {booking.get('code', '')}.{link}")
    if booking and kind == "booking-cancelled":
        when = f"lúc {booking['time']} ngày {dt.date.fromisoformat(booking['day']):%d/%m/%Y}"
        if event.get("reason") == "slot_closed":
            note = f" ({booking['cancel_note']})" if booking.get("cancel_note") else ""
            return (f"{name}: Rất tiếc, lịch hẹn {booking.get('code', '')} {when} đã bị hủy do khung giờ tạm "
                    f"ngừng tiếp nhận{note}. Vui lòng đặt lịch khác.{link}")
        return f"{name}: Đã hủy lịch hẹn {booking.get('code', '')} {when}."
    return f"{name}: tin thử từ qserver."


def build_payload(site: Site, kind: str, event_id: str, event: dict[str, Any], *, phone: str | None,
                  booking: dict[str, Any] | None = None, base_url: str = "") -> dict[str, Any]:
    """The JSON body of one delivery (``booking`` is the stored booking, with its code)."""
    body: dict[str, Any] = {"id": f"{site.slug}:{event_id}", "type": kind, "site": site.slug,
                            "site_name": site.name, "occurred_at": iso(site, event.get("at")),
                            "to": {"phone": phone} if phone else None}
    ticket = None
    url = None
    if isinstance(event.get("ticket"), dict) and kind.startswith("ticket-"):
        ticket = present_ticket(site, event["ticket"])
        ticket["track_url"] = url = _absolute(base_url, ticket["track_url"])
        body["ticket"] = {key: ticket.get(key) for key in ("id", "number", "agency", "agency_name", "floor",
                                                          "channel", "status", "counter", "issued_at", "slot_at",
                                                          "track_url")}
        if kind == "ticket-near":
            body["ahead"] = event.get("ahead")
        if kind == "ticket-called":
            body["counter"] = str(event.get("counter") or ticket.get("counter"))
            body["counter_floor"] = event.get("counter_floor")
            body["recall"] = bool(event.get("recall"))
    shown = None
    if booking is not None:
        shown = present_booking(site, booking, with_code=True)
        shown["url"] = url = _absolute(base_url, shown.get("url"))
        body["booking"] = shown
        if event.get("type") == "booking_moved":
            body["moved_from"] = event.get("from")
        if kind == "booking-cancelled":
            body["reason"] = event.get("reason")
    if kind == "booking-cancelled" and shown is not None and event.get("reason") == "slot_closed":
        url = _absolute(base_url, f"/s/{site.slug}/hen")
    body["message"] = _message(site, kind, event, ticket, shown, url)
    body["message_plain"] = unidecode(body["message"])
    return body
