"""What the managers' console shows of the citizen's side from home: today's bookings per slot against
capacity, the feed lines of booking events, and alerts when webhook deliveries fail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from config import Site

from ..engine import SiteEngine
from ..engine import slots as slotting
from ..present import iso, present_booking

__all__ = ["CHANNEL_WORDS", "appointments_of", "describe_home", "webhook_alerts", "DEAD_ALERT_S"]

#: How a ticket came, inside a feed line ("Cấp số A012 (trực tuyến) — ...").
CHANNEL_WORDS = {"online": " (trực tuyến)", "appointment": " (lịch hẹn)"}
#: Deliveries given up in the last day keep an alert on the console.
DEAD_ALERT_S = 24 * 3600
REASONS = {"citizen": "công dân hủy", "slot_closed": "khung giờ đóng"}


def describe_home(site: Site, event: dict[str, Any]) -> str | None:
    """One feed line for a booking event (None for the events the feed skips)."""
    kind, booking = event.get("type"), event.get("booking")
    if kind in ("slots_closed", "slots_opened"):
        day = event.get("day", "")
        count = len(event.get("slots") or [])
        if kind == "slots_opened":
            return f"Mở lại {count} khung giờ hẹn ngày {day}"
        return (f"Đóng {count} khung giờ hẹn ngày {day}" + (f" ({event.get('reason')})" if event.get("reason") else "")
                + f", hủy {event.get('cancelled', 0)} lịch hẹn")
    if not isinstance(booking, dict):
        return None
    agency = site.agency_by_slug.get(booking.get("agency") or "")
    where = f"{agency.name if agency else booking.get('agency')} {booking.get('time')} ngày {booking.get('day')}"
    lines = {"booked": f"Đặt lịch hẹn {booking.get('id')} — {where}",
             "booking_moved": f"Đổi lịch hẹn {booking.get('id')} sang {where}",
             "booking_cancelled": f"Hủy lịch hẹn {booking.get('id')} — {where} "
                                  f"({REASONS.get(event.get('reason'), event.get('reason'))})",
             "booking_checked_in": f"Xác nhận lịch hẹn {booking.get('id')} tại máy lấy số — {where}",
             "booking_no_show": f"Lịch hẹn {booking.get('id')} không đến — {where}"}
    return lines.get(kind)


async def appointments_of(engine: SiteEngine, day: dt.date | None = None, *,
                          with_bookings: bool = False) -> dict[str, Any]:
    """Per agency taking bookings: the day's (today's) slots with capacity, standing bookings, check-ins,
    no-shows, cancellations and whether a manager closed them; the day's totals per agency; with
    ``with_bookings`` the bookings themselves (never their codes)."""
    site = engine.site
    day = day or dt.date.fromisoformat(engine.today())
    takers = [a for a in site.agencies if slotting.takes_bookings(site, a.slug)]
    if not takers:
        return {"date": day.isoformat(), "agencies": []}
    bookings = await engine.bookings_of_day(day)
    counts, closed = await engine.slot_state(day)
    agencies = []
    for agency in takers:
        mine = [b for b in bookings if b["agency"] == agency.slug]
        cap = slotting.capacity(site, agency.slug)
        slots = []
        for start, end in slotting.day_slots(site, day):
            time = f"{start:%H:%M}"
            here = [b for b in mine if b["time"] == time]
            field = f"{agency.slug}|{time}"
            slots.append({"time": time, "end": f"{end:%H:%M}", "capacity": cap,
                          "booked": max(0, counts.get(field, 0)),
                          "checked_in": sum(1 for b in here if b["status"] == "checked_in"),
                          "no_show": sum(1 for b in here if b["status"] == "no_show"),
                          "cancelled": sum(1 for b in here if b["status"] == "cancelled"),
                          "closed": field in closed, "reason": closed.get(field, {}).get("reason")})
        agencies.append({"slug": agency.slug, "name": agency.name, "prefix": agency.prefix, "capacity": cap,
                         "slots": slots, **{key: sum(s[key] for s in slots)
                                            for key in ("booked", "checked_in", "no_show", "cancelled")}})
    answer: dict[str, Any] = {"date": day.isoformat(), "agencies": agencies}
    if with_bookings:
        answer["bookings"] = [present_booking(site, b) for b in bookings]
    return answer


async def webhook_alerts(engine: SiteEngine, now_ms: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the webhook's state for the console, its alerts): failing now, or deliveries given up lately."""
    site = engine.site
    stored = await engine.stored_webhook()
    url = stored.get("url") or site.webhook.url
    if not url:
        return None, []
    status = await engine.webhook_status()
    shown = {"url": url, "delivered": status.get("delivered", 0), "given_up": status.get("given_up", 0),
             "last_ok_at": iso(site, status.get("last_ok_at")), "failing_since": iso(site, status.get("failing_since")),
             "last_error": status.get("last_error"), "worker": status.get("worker")}
    alerts = []
    if status.get("failing_since"):
        since = iso(site, status["failing_since"])
        alerts.append({"kind": "webhook", "since": since,
                       "message": f"Gửi tin nhắn (webhook) tới cổng SMS/Zalo đang lỗi từ {since[11:16]}: "
                                  f"{status.get('last_error')}. Hệ thống đang thử lại."})
    recent = [d for d in status.get("dead", []) if now_ms - (d.get("at") or 0) < DEAD_ALERT_S * 1000]
    if recent:
        alerts.append({"kind": "webhook_dead", "since": iso(site, recent[-1].get("at")),
                       "message": f"{len(recent)} tin nhắn (webhook) không gửi được và đã bỏ qua trong 24 giờ qua "
                                  f"(gần nhất: {recent[0].get('type')}, {recent[0].get('error')})."})
    return shown, alerts
