"""Floor managers' pages and API: the live console, reports with CSV, the audit trail, citizen ratings.

Pages (the token lives in the browser's localStorage; every number comes from the API below):
``/m/{site}`` console, ``/m/{site}/reports``, ``/m/{site}/audit``, ``/r/{site}/counter/{id}`` rating tablet.

API (manager unless said otherwise): ``GET .../console`` (what the console draws), ``GET .../stats``
and ``GET .../stats.csv`` (``date`` or ``from``/``to``), ``GET .../audit`` (``date``, ``counter``,
``agency``, ``kind``) and ``POST .../tickets/by-number/{number}/rating`` (kiosk, officer, manager:
rate one of today's tickets by the number printed on it). Actions (reassign, open/close, pause, move a
ticket, notices, issuing) use the existing endpoints of :mod:`qserver.api`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import statistics
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from displays import TEMPLATES_DIR

from .api import engine_of, grant_of, json_response, optional_str, read_body
from .archive import Archive, History, day_tickets
from .engine import SiteEngine
from .exceptions import InvalidField, NotFound, QServerError
from .pages import PAGE_HEADERS, site_layout, static_url
from .present import iso, present_ticket
from .audit import AUDIT_KINDS, actor_label, audit_trail, filter_audit
from .reports import RATING_LABELS, compute, daily_svg, hourly_svg, ratings_svg, report_csv

__all__ = ["routes", "console_state", "ACK_GRACE_S"]

logger = logging.getLogger(__name__)

#: A device that has not acknowledged a call this many seconds after it was made raises an alert.
ACK_GRACE_S = 60
#: Devices silent for longer than this are considered retired, not broken (no alert).
ACK_FORGET_S = 24 * 3600
#: The longest range one report may cover.
MAX_RANGE_DAYS = 400
#: How often the console refreshes on its own (waits grow without events); ``?refresh_s=`` overrides.
CONSOLE_REFRESH_S = 5

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals["static"] = static_url

STATUS_LABELS = {"serving": "Đang phục vụ", "idle": "Đang chờ gọi", "paused": "Tạm nghỉ", "closed": "Đóng"}


# -- helpers ------------------------------------------------------------------------------------------
def history_of(request: Request, engine: SiteEngine) -> History:
    """One :class:`History` per site and process, over ``<data dir>/archive.sqlite``."""
    state = request.app.state
    histories = getattr(state, "manager_histories", None)
    if histories is None:
        histories = state.manager_histories = {}
    history = histories.get(engine.site.slug)
    if history is None or history.engine is not engine:
        path = request.app.state.settings.data_dir / "archive.sqlite"
        history = histories[engine.site.slug] = History(engine, Archive(path))
    return history


async def manager_request(request: Request) -> tuple[SiteEngine, Any]:
    grant = await grant_of(request)
    engine = engine_of(request)
    grant.require(engine.site.slug, "manager")
    return engine, grant


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidField(f"'{name}' phải là ngày dạng YYYY-MM-DD, không phải {text!r}. "
                           f"/ '{name}' must be a date like 2026-11-24.") from None


def date_range(request: Request, today: dt.date) -> tuple[dt.date, dt.date]:
    """``?date=`` (one day), or ``?from=&to=`` (``from`` alone runs to today); today by default."""
    query = request.query_params
    if query.get("date"):
        first = last = _date(query["date"], "date")
    else:
        first = _date(query["from"], "from") if query.get("from") else None
        last = _date(query["to"], "to") if query.get("to") else None
        if first is None and last is None:
            first = last = today
        elif first is None:
            first = last
        elif last is None:
            last = max(first, today)
    if first > last:
        raise InvalidField("'from' phải trước hoặc bằng 'to'. / 'from' must not be after 'to'.")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidField(f"Khoảng thời gian tối đa {MAX_RANGE_DAYS} ngày. / At most {MAX_RANGE_DAYS} days.")
    return first, last


def _ms(engine: SiteEngine) -> int:
    return int(engine.clock.now().timestamp() * 1000)


# -- the console's data ---------------------------------------------------------------------------------
_FLOOR_RE = re.compile(r"floor-?(-?\d+)")
_COUNTER_RE = re.compile(r"counter-([A-Za-z0-9]+)")


def device_alerts(site, acks: dict[str, dict[str, Any]], calls: list[dict[str, Any]], now_ms: int,
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


def describe(site, event: dict[str, Any]) -> str | None:
    """One line of the console's activity feed, or None for events the feed skips."""
    kind, ticket, counter = event.get("type"), event.get("ticket"), event.get("counter")
    number = ticket.get("number") if isinstance(ticket, dict) else None
    if kind == "issued" and number:
        priority = " (ưu tiên)" if ticket.get("priority") else ""
        agency = site.agency_by_slug.get(ticket.get("agency") or "")
        return f"Cấp số {number}{priority} — {agency.name if agency else ticket.get('agency')}"
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
    if kind == "rated" and number:
        label = RATING_LABELS[site.rating_levels].get(ticket.get("rating"), "")
        return f"Số {number} đánh giá: {label}"
    if kind == "counter" and isinstance(counter, dict):
        if "previous" in event:
            names = ", ".join(site.agency_by_slug[a].prefix for a in counter.get("agencies") or []
                              if a in site.agency_by_slug)
            return f"Quầy {counter['id']} chuyển sang phục vụ {names}"
        words = {"open": "mở", "paused": "tạm nghỉ", "closed": "đóng"}
        return f"Quầy {counter['id']}: {words.get(counter.get('status'), counter.get('status'))}"
    if kind == "notice" and isinstance(event.get("notice"), dict):
        return f"Thông báo: {event['notice'].get('text', '')}"
    if kind == "day":
        return f"Bắt đầu ngày {event.get('day')}"
    return None


async def console_state(engine: SiteEngine, *, feed: int = 14) -> dict[str, Any]:
    """Everything the console draws, computed at the engine clock's 'now'."""
    site, keys, redis = engine.site, engine.keys, engine.redis
    state = await engine.state()
    now_ms = _ms(engine)
    pipe = redis.pipeline(transaction=False)
    for agency in site.agencies:
        pipe.zrange(keys.queue(agency.slug), 0, -1)
    pipe.hgetall(keys.acks)
    pipe.xrevrange(keys.events, count=200)
    results = await engine._read(pipe.execute())
    queues = dict(zip((a.slug for a in site.agencies), results[:len(site.agencies)]))
    acks_raw, recent_raw = results[len(site.agencies)], results[len(site.agencies) + 1]
    waiting_ids = [tid for ids in queues.values() for tid in ids]
    blobs = await engine._read(redis.hmget(keys.tickets, waiting_ids)) if waiting_ids else []
    waiting = {tid.decode(): json.loads(b) for tid, b in zip(waiting_ids, blobs) if b}
    today = await day_tickets(engine, dt.date.fromisoformat(state["day"]))
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
            "id": raw["id"], "floor": raw.get("floor"), "name": raw.get("name") or f"Quầy {raw['id']}",
            "status": status, "state": kind, "state_label": STATUS_LABELS[kind], "reason": raw.get("reason"),
            "agencies": list(raw.get("agencies") or []) if isinstance(raw.get("agencies"), list) else [],
            "current": present_ticket(site, current) if current else None,
            "serving_s": round((now_ms - current["called_at"]) / 1000) if current and current.get("called_at") else None,
            "since": iso(site, raw.get("since")), "served": raw.get("served", 0),
            "mean_service_s": round(statistics.fmean(durations)) if durations else None,
        })

    agencies, alerts = [], []
    for agency, estimate in zip(site.agencies, estimates):
        tickets = sorted((waiting[t.decode()] for t in queues[agency.slug] if t.decode() in waiting),
                         key=lambda t: (0 if t.get("priority") else 1, t.get("seq", 0)))
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
                         "priority": t.get("priority")} for t in tickets[:60]],
        })
        if longest is not None and site.wait_alert_s and longest > site.wait_alert_s:
            alerts.append({"kind": "wait", "agency": agency.slug, "since": iso(site, oldest + site.wait_alert_s * 1000),
                           "message": f"{agency.name}: người chờ lâu nhất đã chờ {longest // 60} phút "
                                      f"(ngưỡng {site.wait_alert_s // 60} phút), {len(tickets)} người đang chờ."})

    acks = {}
    for device, blob in acks_raw.items():
        try:
            acks[device.decode()] = json.loads(blob)
        except ValueError:
            continue
    devices, device_warnings = device_alerts(site, acks, state["calls"], now_ms)
    recent = []
    for event_id, fields in recent_raw:
        try:
            event = json.loads(fields[b"e"])
        except (KeyError, ValueError):
            continue
        line = describe(site, event)
        if line:
            recent.append({"event_id": event_id.decode(), "at": iso(site, event.get("at")), "text": line,
                           "actor": actor_label(event.get("actor"))})
        if len(recent) >= feed:
            break
    return {
        "site": site.slug, "day": state["day"], "now": iso(site, now_ms), "now_ms": now_ms,
        "event_id": state["event_id"], "wait_alert_s": site.wait_alert_s, "target_wait_s": site.target_wait_s,
        "counters": counters, "agencies": agencies, "alerts": alerts + device_warnings, "devices": devices,
        "recent": recent,
        "notices": [{"id": n["id"], "text": n["text"], "floor": n.get("floor"),
                     "expires_at": iso(site, n.get("expires_at"))} for n in state["notices"]],
    }


# -- API handlers -----------------------------------------------------------------------------------
async def console(request: Request) -> Response:
    engine, _grant = await manager_request(request)
    try:
        # The console is opened every morning: a good moment to archive yesterday (once per day).
        await history_of(request, engine).archive_closed_days()
    except QServerError as exc:
        logger.warning("console of %s: archiving closed days failed: %s", engine.site.slug, exc.message)
    return json_response(await console_state(engine))


async def _report(request: Request) -> tuple[SiteEngine, dict[str, Any]]:
    engine, _grant = await manager_request(request)
    history = history_of(request, engine)
    first, last = date_range(request, history.today())
    return engine, compute(engine.site, await history.tickets(first, last), first, last)


async def stats(request: Request) -> Response:
    _engine, report = await _report(request)
    if request.query_params.get("charts") in ("1", "true", "yes"):
        report["charts"] = {"hourly": hourly_svg(report), "ratings": ratings_svg(report)}
        if report["days"] > 1:
            report["charts"]["daily"] = daily_svg(report)
    return json_response(report)


async def stats_csv(request: Request) -> Response:
    engine, report = await _report(request)
    semicolon = request.query_params.get("sep") in ("semicolon", ";")
    body = report_csv(report, delimiter=";" if semicolon else ",", decimal="," if semicolon else ".")
    span = report["from"] if report["from"] == report["to"] else f"{report['from']}_{report['to']}"
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="thong-ke-{engine.site.slug}-{span}.csv"',
        "Cache-Control": "no-store"})


async def audit(request: Request) -> Response:
    grant = await grant_of(request)
    engine = engine_of(request)
    query = request.query_params
    counter = query.get("counter") or None
    agency = query.get("agency") or None
    if counter is not None:
        engine.counter(counter)
    if agency is not None:
        engine.agency(agency)
    grant.require(engine.site.slug, "manager")
    kinds = [k for k in (query.get("kind") or "").split(",") if k]
    unknown = [k for k in kinds if k not in AUDIT_KINDS]
    if unknown:
        raise InvalidField(f"'kind' không hợp lệ: {', '.join(unknown)}. / unknown kind; use {', '.join(AUDIT_KINDS)}.")
    history = history_of(request, engine)
    day = _date(query["date"], "date") if query.get("date") else history.today()
    entries = filter_audit(audit_trail(engine.site, await history.events(day)), counter=counter, agency=agency,
                           kinds=kinds or None)
    return json_response({"site": engine.site.slug, "date": day.isoformat(), "counter": counter, "agency": agency,
                          "kinds": {k: v for k, v in AUDIT_KINDS.items()}, "entries": entries})


async def rate_by_number(request: Request) -> Response:
    """A citizen rates one of today's tickets by its printed number (kiosk, officer or manager token)."""
    grant = await grant_of(request)
    engine = engine_of(request)
    number = request.path_params["number"].strip().upper()
    ticket_id = f"{dt.date.fromisoformat(engine.today()):%Y%m%d}-{number}"
    try:
        await engine.ticket(ticket_id)
    except NotFound:
        raise NotFound(f"Hôm nay không có số '{number}'. / no ticket '{number}' today.", code="unknown_ticket") from None
    grant.require(engine.site.slug, "kiosk", "officer", "manager")
    body = await read_body(request)
    answer = await engine.rate(ticket_id, body.get("score"), dossier=optional_str(body, "dossier"),
                               actor=grant.actor())
    return json_response(present_ticket(engine.site, answer["ticket"]))


# -- pages ------------------------------------------------------------------------------------------------
def _page(request: Request, template: str, page: str, **extra: Any) -> Response:
    site = request.app.state.sites.get(request.path_params["site"])
    if site is None:
        slug = request.path_params["site"]
        return templates.TemplateResponse(request, "error.html", {
            "title": "Không tìm thấy", "message": f"Không có trung tâm “{slug}”.",
            "message_en": f"Unknown site '{slug}'."}, status_code=404, headers=PAGE_HEADERS)
    engine = request.app.state.engines.get(site.slug) if hasattr(request.app.state, "engines") else None
    today = engine.today() if engine is not None else dt.date.today().isoformat()
    now_ms = _ms(engine) if engine is not None else None
    boot = {"site": site_layout(site), "page": page, "today": today, "now_ms": now_ms, "wait_alert_s": site.wait_alert_s,
            "target_wait_s": site.target_wait_s, "rating_levels": site.rating_levels,
            "rating_labels": {str(k): v for k, v in RATING_LABELS[site.rating_levels].items()}, **extra}
    return templates.TemplateResponse(request, template, {"site": site, "boot": boot, "page": page, **extra},
                                      headers=PAGE_HEADERS)


async def console_page(request: Request) -> Response:
    try:
        refresh = max(1, min(60, int(request.query_params.get("refresh_s", CONSOLE_REFRESH_S))))
    except ValueError:
        refresh = CONSOLE_REFRESH_S
    return _page(request, "manager.html", "console", refresh_s=refresh)


async def reports_page(request: Request) -> Response:
    return _page(request, "reports.html", "reports")


async def audit_page(request: Request) -> Response:
    return _page(request, "audit.html", "audit", audit_kinds=AUDIT_KINDS)


async def rating_page(request: Request) -> Response:
    site = request.app.state.sites.get(request.path_params["site"])
    counter = request.path_params["id"]
    if site is not None and counter not in site.counter_by_id:
        return templates.TemplateResponse(request, "error.html", {
            "title": "Không tìm thấy", "message": f"Không có quầy số “{counter}”.",
            "message_en": f"No counter '{counter}' at this site."}, status_code=404, headers=PAGE_HEADERS)
    try:
        show_s = max(5, min(300, int(request.query_params.get("show_s", 30))))
    except ValueError:
        show_s = 30
    return _page(request, "rating.html", "rating", counter=counter, show_s=show_s)


SITE = "/api/v1/sites/{site}"
routes = [
    Route("/m/{site}", console_page, name="manager_console"),
    Route("/m/{site}/reports", reports_page, name="manager_reports"),
    Route("/m/{site}/audit", audit_page, name="manager_audit"),
    Route("/r/{site}/counter/{id}", rating_page, name="rating_tablet"),
    Route(SITE + "/console", console),
    Route(SITE + "/stats", stats),
    Route(SITE + "/stats.csv", stats_csv),
    Route(SITE + "/audit", audit),
    Route(SITE + "/tickets/by-number/{number}/rating", rate_by_number, methods=["POST"]),
]
