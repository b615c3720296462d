"""What the managers' console draws: counters, agencies with their queues in call order, alerts (long
waits, devices that stopped acknowledging), the activity feed. Computed from the engine's reads."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import statistics
from typing import Any

from config import Site

from ..engine import SiteEngine
from ..labels import COUNTER_STATE, COUNTER_STATUS_WORDS, PRINTER_PROBLEMS, PRINTER_VIA, RATING_LABELS, counter_name
from ..present import iso, present_procedure_ref, present_ticket
from .audit import access_detail, actor_label
from .home_console import CHANNEL_WORDS, appointments_of, describe_home, webhook_alerts

__all__ = ["console_state", "device_alerts", "printer_alerts", "procedures_waiting", "describe", "ACK_GRACE_S"]

#: A device that has not acknowledged a call this many seconds after it was made raises an alert.
ACK_GRACE_S = 60
#: Devices silent for longer than this are considered retired, not broken (no alert).
ACK_FORGET_S = 24 * 3600
#: Events read for the activity feed (most are queue counts and are skipped).
FEED_EVENTS = 200

_FLOOR_RE = re.compile(r"floor-?(-?\d+)")
_COUNTER_RE = re.compile(r"counter-([A-Za-z0-9]+)")


def device_alerts(site: Site, acks: dict[str, dict[str, Any]], calls: list[dict[str, Any]], now_ms: int,
                  grace_s: int = ACK_GRACE_S) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(devices, alerts): a device is late when a call it should show was made more than ``grace_s`` ago
    and its last acknowledgement is older than that call. A device's scope comes from its name
    (``floor-1-tv`` → floor 1, ``counter-12-display`` → counter 12, anything else → every call)."""
    devices, alerts = [], []
    for name, ack in sorted(acks.items()):
        at = ack.get("at") or 0
        if now_ms - at > ACK_FORGET_S * 1000:
            continue
        floor_match, counter_match = _FLOOR_RE.search(name), _COUNTER_RE.search(name)
        if counter_match:
            mine = [c for c in calls if str(c.get("counter")) == counter_match.group(1)]
        elif floor_match:
            floor = int(floor_match.group(1))
            mine = [c for c in calls if floor in (c.get("floor"), c.get("counter_floor"))]
        else:
            mine = calls
        missed = [c for c in mine if c.get("at", 0) > at and now_ms - c.get("at", 0) > grace_s * 1000]
        late = bool(missed)
        devices.append({"device": name, "last_ack_at": iso(site, at), "ok": not late})
        if late:
            oldest = min(missed, key=lambda c: c["at"])
            alerts.append({
                "kind": "device", "device": name, "since": iso(site, oldest["at"]),
                "message": f"Thiết bị “{name}” không xác nhận số {oldest.get('number')} gọi tới quầy "
                           f"{oldest.get('counter')} lúc {iso(site, oldest['at'])[11:16]} "
                           f"(lần xác nhận cuối {iso(site, at)[11:16]}).",
            })
    return devices, alerts


def printer_alerts(site: Site, printers: dict[str, dict[str, Any]],
                   now_ms: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(devices, alerts) of the kiosks' thermal printers: an alert for each whose last report was a problem
    (off, out of paper ...) or paper near its end; a report older than a day is forgotten."""
    devices, alerts = [], []
    for kiosk, report in sorted(printers.items()):
        at = report.get("at") or 0
        if now_ms - at > ACK_FORGET_S * 1000:
            continue
        name = f"printer:{kiosk}"
        ok = bool(report.get("ok"))
        devices.append({"device": name, "kind": "printer", "kiosk": kiosk, "printer": report.get("printer"),
                        "last_report_at": iso(site, at), "ok": ok, "paper_low": bool(report.get("paper_low"))})
        problem = None if ok else PRINTER_PROBLEMS.get(report.get("code") or "", PRINTER_PROBLEMS["printer_error"])
        if problem is None and report.get("paper_low"):
            problem = PRINTER_PROBLEMS["paper_low"] + ", cần thay cuộn giấy"
        if problem is None:
            continue
        via = PRINTER_VIA.get(report.get("via") or "", "máy in")
        ticket = f"; số {report['ticket']} chưa in được" if not ok and report.get("ticket") else ""
        alerts.append({
            "kind": "printer", "device": name, "kiosk": kiosk, "code": report.get("code") or "paper_low",
            "since": iso(site, at), "detail": report.get("detail") or "",
            "message": f"Máy lấy số “{kiosk}” ({via} “{report.get('printer') or '?'}”): {problem} "
                       f"(lúc {iso(site, at)[11:16]}{ticket}).",
        })
    return devices, alerts


def procedures_waiting(tickets: list[dict[str, Any]], top: int = 3) -> list[dict[str, Any]]:
    """The procedures most waited for in one queue: ``[{"code", "name", "waiting"}]``, most first."""
    counts: dict[str, dict[str, Any]] = {}
    for ticket in tickets:
        ref = present_procedure_ref(ticket)
        if ref is not None:
            counts.setdefault(ref["code"], {**ref, "waiting": 0})["waiting"] += 1
    return sorted(counts.values(), key=lambda p: -p["waiting"])[:top]


def describe(site: Site, event: dict[str, Any]) -> str | None:
    """One line of the console's activity feed, or None for events the feed skips."""
    kind, ticket, counter = event.get("type"), event.get("ticket"), event.get("counter")
    number = ticket.get("number") if isinstance(ticket, dict) else None
    if kind == "issued" and number:
        priority = " (ưu tiên)" if ticket.get("priority") else ""
        channel = CHANNEL_WORDS.get(ticket.get("channel") or "", "")
        agency = site.agency_by_slug.get(ticket.get("agency") or "")
        ref = present_procedure_ref(ticket)
        return (f"Cấp số {number}{priority}{channel} — {agency.name if agency else ticket.get('agency')}"
                + (f" · {ref['name']}" if ref else ""))
    if kind == "called" and number:
        word = "Gọi lại" if event.get("recall") else ("Gọi ngoài thứ tự" if event.get("out_of_order") else "Gọi")
        return f"{word} số {number} tới quầy {counter}"
    if kind == "completed" and number:
        return f"Quầy {counter} hoàn thành số {number}"
    if kind == "no_show" and number:
        return f"Số {number} vắng mặt tại quầy {counter}" + (" (xếp lại hàng chờ)" if event.get("returned") else "")
    if kind == "transferred" and number:
        target = site.agency_by_slug.get(event.get("agency") or "")
        return f"Chuyển số {number} sang {target.name if target else event.get('agency')}"
    if kind == "procedure" and number:
        ref = present_procedure_ref(ticket)
        return f"Quầy {counter} sửa thủ tục của số {number}: {ref['name'] if ref else 'bỏ thủ tục'}"
    if kind == "rated" and number:
        label = RATING_LABELS[site.rating_levels].get(ticket.get("rating"), "")
        return f"Số {number} đánh giá: {label}"
    if kind == "counter" and isinstance(counter, dict):
        if "previous" in event:
            names = ", ".join(site.agency_by_slug[a].prefix for a in counter.get("agencies") or []
                              if a in site.agency_by_slug)
            return f"Quầy {counter['id']} chuyển sang phục vụ {names}"
        return f"Quầy {counter['id']}: {COUNTER_STATUS_WORDS.get(counter.get('status'), counter.get('status'))}"
    if kind == "notice" and isinstance(event.get("notice"), dict):
        return f"Thông báo: {event['notice'].get('text', '')}"
    if kind == "access":
        return access_detail(event)
    if kind == "day":
        return f"Bắt đầu ngày {event.get('day')}"
    return describe_home(site, event)


async def console_state(engine: SiteEngine, *, feed: int = 14,
                        lockouts: list[tuple[str, float]] = ()) -> dict[str, Any]:
    """Everything the console draws, computed at the engine clock's 'now'; ``lockouts`` are the site's
    user names locked out by failed logins, with the epoch second they may try again."""
    site = engine.site
    state = await engine.state()
    now_ms = engine.now_ms()
    queues = await engine.waiting_tickets()
    acks = await engine.acks()
    printers = await engine.printers()
    recent_events = await engine.recent_events(FEED_EVENTS)
    today = await engine.tickets_issued(dt.date.fromisoformat(state["day"]))
    estimates = await asyncio.gather(*(engine.estimate_wait(a.slug, state["waiting"].get(a.slug, 0))
                                       for a in site.agencies))

    services: dict[str, list[float]] = {}
    served_by_agency: dict[str, int] = {}
    for ticket in today:
        if ticket.get("status") == "done" and ticket.get("called_at") and ticket.get("done_at"):
            services.setdefault(str(ticket.get("counter")), []).append((ticket["done_at"] - ticket["called_at"]) / 1000)
            served_by_agency[ticket["agency"]] = served_by_agency.get(ticket["agency"], 0) + 1

    counters = []
    for raw, current in state["counters"]:
        status = raw.get("status", "open")
        kind = status if status != "open" else ("serving" if current else "idle")
        durations = services.get(raw["id"], [])
        counters.append({
            "id": raw["id"], "floor": raw.get("floor"), "name": counter_name(raw["id"], raw.get("name")),
            "status": status, "state": kind, "state_label": COUNTER_STATE[kind], "reason": raw.get("reason"),
            "agencies": list(raw.get("agencies") or []) if isinstance(raw.get("agencies"), list) else [],
            "current": present_ticket(site, current) if current else None,
            "serving_s": round((now_ms - current["called_at"]) / 1000) if current and current.get("called_at") else None,
            "since": iso(site, raw.get("since")), "served": raw.get("served", 0),
            "mean_service_s": round(statistics.fmean(durations)) if durations else None,
        })

    agencies, alerts = [], []
    for agency, estimate in zip(site.agencies, estimates):
        tickets = queues[agency.slug]  # in the order call-next takes them (a returned no-show where it went back)
        oldest = min((t["issued_at"] for t in tickets), default=None)
        longest = round((now_ms - oldest) / 1000) if oldest is not None else None
        serving = [c["id"] for c in counters if agency.slug in c["agencies"] and c["status"] == "open"]
        agencies.append({
            "slug": agency.slug, "name": agency.name, "floor": agency.floor, "prefix": agency.prefix,
            "waiting": state["waiting"].get(agency.slug, 0), "served": served_by_agency.get(agency.slug, 0),
            "oldest_issued_at": iso(site, oldest), "longest_wait_s": longest, "predicted_wait_s": estimate,
            "counters_open": serving,
            "counters": [c["id"] for c in counters if agency.slug in c["agencies"]],
            "tickets": [{"id": t["id"], "number": t["number"], "issued_at": iso(site, t["issued_at"]),
                         "priority": t.get("priority"), "procedure": present_procedure_ref(t),
                         "channel": t.get("channel", "kiosk"), "slot_at": iso(site, t.get("slot_at"))}
                        for t in tickets[:60]],
            "procedures": procedures_waiting(tickets),
        })
        if longest is not None and site.wait_alert_s and longest > site.wait_alert_s:
            alerts.append({"kind": "wait", "agency": agency.slug, "since": iso(site, oldest + site.wait_alert_s * 1000),
                           "message": f"{agency.name}: người chờ lâu nhất đã chờ {longest // 60} phút "
                                      f"(ngưỡng {site.wait_alert_s // 60} phút), {len(tickets)} người đang chờ."})

    devices, device_warnings = device_alerts(site, acks, state["calls"], now_ms)
    printer_devices, printer_warnings = printer_alerts(site, printers, now_ms)
    devices += printer_devices
    device_warnings += printer_warnings
    webhook, webhook_warnings = await webhook_alerts(engine, now_ms)
    device_warnings = device_warnings + webhook_warnings
    for user, until in lockouts:
        alerts.append({"kind": "lockout", "user": user, "since": iso(site, now_ms), "until": iso(site, until * 1000),
                       "message": f"Tài khoản “{user}” tạm khóa vì đăng nhập sai nhiều lần, "
                                  f"đến {iso(site, until * 1000)[11:16]}."})
    recent = []
    for event_id, event in recent_events:
        line = describe(site, event)
        if line:
            recent.append({"event_id": event_id, "at": iso(site, event.get("at")), "text": line,
                           "actor": actor_label(event.get("actor"))})
        if len(recent) >= feed:
            break
    return {
        "site": site.slug, "day": state["day"], "now": iso(site, now_ms), "now_ms": now_ms,
        "event_id": state["event_id"], "wait_alert_s": site.wait_alert_s, "target_wait_s": site.target_wait_s,
        "counters": counters, "agencies": agencies, "alerts": alerts + device_warnings, "devices": devices,
        "recent": recent, "appointments": await appointments_of(engine), "webhook": webhook,
        "notices": [{"id": n["id"], "text": n["text"], "floor": n.get("floor"),
                     "expires_at": iso(site, n.get("expires_at"))} for n in state["notices"]],
    }
