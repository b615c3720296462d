"""The city's console and reports: every center at a glance for a manager of every site (``--site '*'``).

Page ``/m`` (console, and the city reports under ``/m#bao-cao``). API (bound in
:mod:`qserver.web.routes`; ``?group=`` narrows any of them to one ``[site] groups`` name):

- ``GET /api/v1/city/console``: per center its waits against its threshold, counters, today's totals,
  devices not acknowledging and its trouble level, sorted by trouble (:mod:`.city_view`);
- ``GET /api/v1/city/stats?from=&to=`` and ``/stats.csv``: the city's report per day and per center
  (:mod:`.city_reports`), at most :data:`MAX_CITY_RANGE_DAYS` days.

The console reads each site with :meth:`~qserver.engine.SiteReader.overview` (two round trips, no
ticket JSON), at most ``QSERVER_CITY_CACHE_S`` old (2 s) and :data:`CONCURRENCY` sites at a time, so
a thousand sites cost Redis a bounded burst and requests for single sites never queue behind it.
Waits and levels are computed at answer time from the cached reads, so they are exact for "now".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import config
from config import Site

from .. import labels
from ..auth import Grant
from ..engine import SiteEngine
from ..exceptions import Forbidden, InvalidField
from ..present import iso
from ..web.http import grant_of, json_response
from ..web.pages import PAGE_HEADERS, templates
from .city_reports import center_part, city_csv, city_report
from .city_view import center_summary, city_totals, trouble_key
from .reports import compute
from .web import date_range, history_of

__all__ = ["CityReads", "city_console", "city_stats", "city_stats_csv", "page_routes", "MAX_CITY_RANGE_DAYS"]

#: Sites read from Redis at the same time (the process's pool has 64 connections for everything).
CONCURRENCY = 16
#: The longest range of a city report (each day of each center is computed from its tickets).
MAX_CITY_RANGE_DAYS = 31
#: Sites whose reports are computed at the same time.
REPORT_CONCURRENCY = 4
#: How often the city console refreshes on its own; ``?refresh_s=`` overrides (1–60).
CITY_REFRESH_S = 5


class CityReads:
    """Each site's overview, read at most once per ``cache_s`` (concurrent askers share one read)."""

    def __init__(self, engines: dict[str, SiteEngine], cache_s: float, concurrency: int = CONCURRENCY):
        self.engines, self.cache_s = engines, cache_s
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._reading: dict[str, asyncio.Future] = {}
        self._gate = asyncio.Semaphore(concurrency)

    async def overviews(self, slugs: list[str]) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        found, missing = {}, []
        for slug in slugs:
            cached = self._cache.get(slug)
            if cached is not None and now - cached[0] < self.cache_s:
                found[slug] = cached[1]
            else:
                missing.append(slug)
        results = await asyncio.gather(*(self._read(slug) for slug in missing), return_exceptions=True)
        for slug, result in zip(missing, results):
            if isinstance(result, BaseException):
                raise result
            found[slug] = result
        return found

    async def _read(self, slug: str) -> dict[str, Any]:
        reading = self._reading.get(slug)
        if reading is None:
            reading = self._reading[slug] = asyncio.ensure_future(self._fetch(slug))
            reading.add_done_callback(lambda _f, slug=slug: self._reading.pop(slug, None))
        return await asyncio.shield(reading)

    async def _fetch(self, slug: str) -> dict[str, Any]:
        async with self._gate:
            read_at = time.monotonic()
            overview = await self.engines[slug].overview()
        self._cache[slug] = (read_at, overview)
        return overview


def city_reads_of(request: Request) -> CityReads:
    state = request.app.state
    reads = getattr(state, "city_reads", None)
    if reads is None or reads.engines is not state.engines:
        reads = state.city_reads = CityReads(state.engines, state.settings.city_cache_s)
    return reads


def require_city_manager(grant: Grant) -> None:
    if grant.role != "manager" or grant.site != "*":
        where = f"trung tâm {grant.site}" if grant.role == "manager" else f"quyền '{grant.role}'"
        raise Forbidden(f"Chỉ quản lý toàn thành phố (mọi trung tâm) xem được phần này; tài khoản này thuộc {where}. "
                        f"/ only a manager of every site ('*') may see the city; this token is {grant.role} "
                        f"of '{grant.site}'.", site=grant.site)


def chosen_sites(request: Request) -> tuple[str | None, dict[str, Site]]:
    """``?group=``'s sites (every site without it); an unknown group is a 422 naming the groups there are."""
    sites = request.app.state.sites
    group = request.query_params.get("group") or None
    if group is None:
        return None, dict(sites)
    try:
        return group, config.sites_in_group(sites, group)
    except KeyError:
        known = config.group_names(sites)
        raise InvalidField(f"Không có nhóm trung tâm “{group}”. Các nhóm: {', '.join(known) or 'không có'}. "
                           f"/ no site is in group {group!r}.", group=group, groups=known) from None


async def _city_request(request: Request) -> tuple[str | None, dict[str, Site]]:
    require_city_manager(await grant_of(request))
    return chosen_sites(request)


# -- the console ------------------------------------------------------------------------------------
async def city_console(request: Request) -> Response:
    group, sites = await _city_request(request)
    overviews = await city_reads_of(request).overviews(list(sites))
    now_ms = int(request.app.state.clock.now().timestamp() * 1000)
    centers = sorted((center_summary(site, overviews[slug], now_ms) for slug, site in sites.items()), key=trouble_key)
    first = next(iter(sites.values()), None)
    return json_response({
        "now": iso(first, now_ms) if first else None, "now_ms": now_ms, "group": group,
        "groups": config.group_names(request.app.state.sites), "cache_s": request.app.state.settings.city_cache_s,
        "totals": city_totals(centers), "centers": centers,
    })


# -- reports ----------------------------------------------------------------------------------------
async def _city_report(request: Request, *, center_days: bool) -> dict[str, Any]:
    group, sites = await _city_request(request)
    engines = request.app.state.engines
    if not sites:
        raise InvalidField("Không có trung tâm nào. / no site is configured.")
    today = history_of(request, engines[next(iter(sites))]).today()
    first, last = date_range(request, today)
    if (last - first).days >= MAX_CITY_RANGE_DAYS:
        raise InvalidField(f"Báo cáo toàn thành phố tối đa {MAX_CITY_RANGE_DAYS} ngày, không phải "
                           f"{(last - first).days + 1} ngày ({first:%d/%m/%Y}–{last:%d/%m/%Y}). "
                           f"/ a city report covers at most {MAX_CITY_RANGE_DAYS} days.",
                           days=(last - first).days + 1, max_days=MAX_CITY_RANGE_DAYS)
    gate = asyncio.Semaphore(REPORT_CONCURRENCY)

    async def part(slug: str, site: Site):
        async with gate:
            tickets = await history_of(request, engines[slug]).tickets(first, last)
            # CPU-bound for long ranges: off the event loop, so displays keep getting their calls.
            return await asyncio.to_thread(lambda: center_part(site, compute(site, tickets, first, last), tickets))

    parts = await asyncio.gather(*(part(slug, site) for slug, site in sites.items()))
    return city_report(list(parts), first, last, group=group, groups=config.group_names(request.app.state.sites),
                       center_days=center_days)


async def city_stats(request: Request) -> Response:
    daily = request.query_params.get("center_days") in ("1", "true", "yes")
    return json_response(await _city_report(request, center_days=daily))


async def city_stats_csv(request: Request) -> Response:
    report = await _city_report(request, center_days=True)
    semicolon = request.query_params.get("sep") in ("semicolon", ";")
    body = city_csv(report, delimiter=";" if semicolon else ",", decimal="," if semicolon else ".")
    span = report["from"] if report["from"] == report["to"] else f"{report['from']}_{report['to']}"
    scope = "thanh-pho" if report["group"] is None else "nhom"
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="thong-ke-{scope}-{span}.csv"', "Cache-Control": "no-store"})


# -- the page ---------------------------------------------------------------------------------------
async def city_page(request: Request) -> Response:
    """``/m``: the city console (the token is checked by the page's script: see city.js)."""
    sites: dict[str, Site] = request.app.state.sites
    try:
        refresh = max(1, min(60, int(request.query_params.get("refresh_s", CITY_REFRESH_S))))
    except ValueError:
        refresh = CITY_REFRESH_S
    first = next(iter(sites.values()), None)
    engine = getattr(request.app.state, "engines", {}).get(first.slug) if first else None
    now_ms = engine.now_ms() if engine else int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
    boot = {
        "site": {"slug": "*", "name": "Toàn thành phố", "timezone": first.timezone if first else "UTC",
                 "floors": [], "agencies": [], "counters": []},
        "labels": labels.for_city_page(), "page": "city", "wire": "json",
        "today": engine.today() if engine else None, "now_ms": now_ms,
        "refresh_s": refresh, "max_range_days": MAX_CITY_RANGE_DAYS, "groups": config.group_names(sites),
        "centers": [{"slug": s.slug, "name": s.name, "short_name": s.short_name or s.name, "groups": list(s.groups)}
                    for s in sites.values()],
    }
    return templates.TemplateResponse(request, "city.html", {"page": "city", "boot": boot, "sites": len(sites),
                                                             "groups": boot["groups"]}, headers=PAGE_HEADERS)


page_routes = [Route("/m", city_page, name="city_console")]
