"""The managers' pages and API: the live console, reports with CSV, the audit trail, citizen ratings.

Pages (the token lives in the browser's localStorage; every number comes from the API below):
``/m/{site}`` console, ``/m/{site}/reports``, ``/m/{site}/audit``, ``/r/{site}/counter/{id}`` rating tablet.

API (manager unless said otherwise; bound to paths in :mod:`qserver.web.routes`): the console's data,
stats and stats.csv (``date`` or ``from``/``to``), the audit trail (``date``, ``counter``, ``agency``,
``kind``) and rating one of today's tickets by the number printed on it (kiosk, officer, manager).
Actions (reassign, open/close, pause, move a ticket, notices, issuing) use :mod:`qserver.web.api`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import SiteEngine
from ..exceptions import InvalidField, NotFound, QServerError
from ..labels import staffing_labels
from ..present import present_ticket
from ..web.http import engine_of, grant_of, json_response, optional_str, read_body
from ..web.pages import not_found, render, unknown_site
from .archive import Archive, History
from .audit import AUDIT_KINDS, audit_trail, filter_audit
from .charts import daily_svg, hourly_svg, ratings_svg
from .console import console_state
from .home_reports import appointment_rows
from .reports import compute, report_csv

__all__ = ["page_routes", "console", "stats", "stats_csv", "audit", "rate_by_number", "history_of"]

logger = logging.getLogger(__name__)

#: The longest range one report may cover.
MAX_RANGE_DAYS = 400
#: How often the console refreshes on its own (waits grow without events); ``?refresh_s=`` overrides.
CONSOLE_REFRESH_S = 5


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


# -- API handlers -----------------------------------------------------------------------------------
async def console(request: Request) -> Response:
    engine, _grant = await manager_request(request)
    try:
        # The console is opened every morning: a good moment to archive yesterday (once per day).
        await history_of(request, engine).archive_closed_days()
    except QServerError as exc:
        logger.warning("console of %s: archiving closed days failed: %s", engine.site.slug, exc.message)
    auth, limits = request.app.state.auth, request.app.state.limits
    lockouts = []
    for user in await auth.users_of(engine.site.slug):
        until = await limits.locked_until(user)
        if until is not None:
            lockouts.append((user, until))
    return json_response(await console_state(engine, lockouts=lockouts))


async def _report(request: Request) -> tuple[SiteEngine, dict[str, Any]]:
    engine, _grant = await manager_request(request)
    history = history_of(request, engine)
    first, last = date_range(request, history.today())
    tickets = await history.tickets(first, last)
    report = compute(engine.site, tickets, first, last)
    report["appointments"] = appointment_rows(engine.site, tickets, await engine.booking_stats(first, last))
    return engine, report


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
        return unknown_site(request)
    return render(request, template, site, page, wait_alert_s=site.wait_alert_s, target_wait_s=site.target_wait_s,
                  **extra)


async def console_page(request: Request) -> Response:
    try:
        refresh = max(1, min(60, int(request.query_params.get("refresh_s", CONSOLE_REFRESH_S))))
    except ValueError:
        refresh = CONSOLE_REFRESH_S
    return _page(request, "manager.html", "console", refresh_s=refresh, staffing=staffing_labels())


async def reports_page(request: Request) -> Response:
    return _page(request, "reports.html", "reports", staffing=staffing_labels())


async def audit_page(request: Request) -> Response:
    return _page(request, "audit.html", "audit", audit_kinds=AUDIT_KINDS)


async def rating_page(request: Request) -> Response:
    site = request.app.state.sites.get(request.path_params["site"])
    counter = request.path_params["id"]
    if site is not None and counter not in site.counter_by_id:
        return not_found(request, f"Không có quầy số “{counter}”.", f"No counter '{counter}' at this site.")
    try:
        show_s = max(5, min(300, int(request.query_params.get("show_s", 30))))
    except ValueError:
        show_s = 30
    return _page(request, "rating.html", "rating", counter=counter, show_s=show_s)


page_routes = [
    Route("/m/{site}", console_page, name="manager_console"),
    Route("/m/{site}/reports", reports_page, name="manager_reports"),
    Route("/m/{site}/audit", audit_page, name="manager_audit"),
    Route("/r/{site}/counter/{id}", rating_page, name="rating_tablet"),
]
