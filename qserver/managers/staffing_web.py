"""The staffing API (manager only; bound to paths in :mod:`qserver.web.routes`).

Per site (``/api/v1/sites/{site}``; a commune center like the city center):

- ``GET .../plan?date=``: the counter plan of a day as the heat map's JSON (default: the next receiving day);
- ``GET .../plan.csv?from=&to=&sep=``: the plans of a range of days as CSV (default: a week from that day);
- ``GET .../forecast-error``: the backtest (each past day forecast from the days before it) and the days
  left out of the profiles;
- ``GET .../plan-review?date=``: a past day against the plan: what was open, where the target was missed, why;
- ``GET .../advice?limit=&scope=``: the counter moves that help now, each with the request that applies it;
- ``POST .../what-if``: ``{"date", "base": "plan" | "now", "changes": [...], "replications"}``: the
  expected waits of a plan before and after the changes.

City: ``GET /api/v1/city/plan-risk?date=&group=`` (a manager of every site): which centers will miss their
target that day. Every answer is computed in a worker thread from :class:`.planning.Planner`'s cache.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from config import group_names, sites_in_group

from ..engine import SiteEngine
from ..exceptions import Conflict, Forbidden, InvalidField
from ..staffing import review_day, what_if
from ..staffing.network import rank_key
from ..staffing.slots import receiving_day
from ..web.http import engine_of, grant_of, json_response, read_body
from .planning import HISTORY_DAYS, Planner, SitePlanning, planning_json_meta
from .staffing_live import ELIGIBILITY_SCOPES, advice_answer, hold_layout, live_inputs, today_forecast
from .web import history_of

__all__ = ["plan", "plan_csv", "forecast_error", "plan_review", "advice", "what_if_answer", "city_plan_risk",
           "planner_of", "MAX_AHEAD_DAYS", "MAX_CSV_DAYS"]

#: How far ahead a plan may be asked for (the trend is read that far), and the longest CSV.
MAX_AHEAD_DAYS = 62
MAX_CSV_DAYS = 31
MAX_CHANGES = 20
MAX_REPLICATIONS = 100


def planner_of(request: Request) -> Planner:
    state = request.app.state
    planner = getattr(state, "staffing_planner", None)
    if planner is None:
        planner = state.staffing_planner = Planner()
    return planner


async def _manager(request: Request) -> SiteEngine:
    grant = await grant_of(request)
    engine = engine_of(request)
    grant.require(engine.site.slug, "manager")
    return engine


async def _planning(request: Request, engine: SiteEngine) -> SitePlanning:
    return await planner_of(request).of(history_of(request, engine))


def _day(text: Any, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise InvalidField(f"'{name}' phải là ngày dạng YYYY-MM-DD, không phải {text!r}. "
                           f"/ '{name}' must be a date like 2026-11-24.") from None


def _next_receiving_day(engine: SiteEngine, after: dt.date) -> dt.date:
    for offset in range(1, 15):
        day = after + dt.timedelta(days=offset)
        if receiving_day(engine.site, day):
            return day
    return after + dt.timedelta(days=1)


def _within(day: dt.date, today: dt.date, name: str) -> dt.date:
    first, last = today - dt.timedelta(days=HISTORY_DAYS), today + dt.timedelta(days=MAX_AHEAD_DAYS)
    if not first <= day <= last:
        # 409, not 422: the window moves with today (a well-formed date is refused for when it is asked)
        raise Conflict(f"'{name}' = {day.isoformat()} ngoài khoảng {first:%d/%m/%Y}–{last:%d/%m/%Y} có thể lập "
                       f"kế hoạch. / '{name}' must be between {first} and {last}.", code="outside_plan_window",
                       first=first.isoformat(), last=last.isoformat())
    return day


def _int(value: Any, name: str, low: int, high: int, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise InvalidField(f"'{name}' phải là số nguyên từ {low} đến {high}, không phải {value!r}. "
                           f"/ '{name}' must be an integer {low}..{high}.")
    return number


# -- per site ------------------------------------------------------------------------------------------
async def plan(request: Request) -> Response:
    engine = await _manager(request)
    today = dt.date.fromisoformat(engine.today())
    query = request.query_params.get("date")
    day = _within(_day(query, "date"), today, "date") if query else _next_receiving_day(engine, today)
    planning = await _planning(request, engine)
    grid = await asyncio.to_thread(planning.grid, day)
    return json_response({**grid, **planning_json_meta(planning), "today": today.isoformat()})


async def plan_csv(request: Request) -> Response:
    engine = await _manager(request)
    today = dt.date.fromisoformat(engine.today())
    query = request.query_params
    first = _within(_day(query["from"], "from"), today, "from") if query.get("from") \
        else _next_receiving_day(engine, today)
    last = _within(_day(query["to"], "to"), today, "to") if query.get("to") else first + dt.timedelta(days=6)
    if last < first:
        raise InvalidField("'from' phải trước hoặc bằng 'to'. / 'from' must not be after 'to'.")
    if (last - first).days >= MAX_CSV_DAYS:
        raise InvalidField(f"Tệp kế hoạch tối đa {MAX_CSV_DAYS} ngày. / At most {MAX_CSV_DAYS} days.")
    planning = await _planning(request, engine)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    body = await asyncio.to_thread(planning.csv, days, semicolon=query.get("sep") in ("semicolon", ";"))
    span = first.isoformat() if first == last else f"{first}_{last}"
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="ke-hoach-quay-{engine.site.slug}-{span}.csv"',
        "Cache-Control": "no-store"})


async def forecast_error(request: Request) -> Response:
    engine = await _manager(request)
    planning = await _planning(request, engine)
    result = await asyncio.to_thread(planning.backtest)
    return json_response({**result, **planning_json_meta(planning)})


async def plan_review(request: Request) -> Response:
    engine = await _manager(request)
    history = history_of(request, engine)
    today = history.today()
    query = request.query_params.get("date")
    if query:
        day = _day(query, "date")
    else:
        day = today - dt.timedelta(days=1)
        while not receiving_day(engine.site, day) and (today - day).days < 14:
            day -= dt.timedelta(days=1)
    if day >= today:
        raise InvalidField(f"Chỉ xem lại được ngày đã qua, không phải {day:%d/%m/%Y}. "
                           f"/ 'date' must be before today ({today}).")
    if (today - day).days > 400:
        raise InvalidField("Chỉ xem lại được 400 ngày gần nhất. / 'date' is too far back (400 days at most).")
    planning = await planner_of(request).of(history)
    tickets = await history.tickets(day, day)
    result = await asyncio.to_thread(review_day, engine.site, planning.profiles, tickets, day)
    return json_response({**result, **planning_json_meta(planning)})


async def advice(request: Request) -> Response:
    engine = await _manager(request)
    query = request.query_params
    limit = _int(query.get("limit"), "limit", 1, 5, 3)
    scope = query.get("scope") or "any"
    if scope not in ELIGIBILITY_SCOPES:
        raise InvalidField(f"'scope' phải là {' hoặc '.join(ELIGIBILITY_SCOPES)}, không phải {scope!r}. "
                           f"/ 'scope' must be one of {', '.join(ELIGIBILITY_SCOPES)}.")
    planning = await _planning(request, engine)
    live = await live_inputs(engine)
    return json_response(await asyncio.to_thread(advice_answer, planning, live, limit=limit, scope=scope))


async def what_if_answer(request: Request) -> Response:
    engine = await _manager(request)
    body = await read_body(request)
    today = dt.date.fromisoformat(engine.today())
    base = body.get("base", "plan")
    if base not in ("plan", "now"):
        raise InvalidField(f"'base' phải là 'plan' hoặc 'now', không phải {base!r}. / 'base' must be 'plan' or 'now'.")
    day = _within(_day(body["date"], "date"), today, "date") if body.get("date") is not None else today
    if base == "now" and day != today:
        raise InvalidField(f"'base' = 'now' chỉ dùng cho hôm nay, không phải {day:%d/%m/%Y}. "
                           f"/ base 'now' is today's live layout; 'date' must be {today}.")
    changes = body.get("changes", [])
    if not isinstance(changes, list) or len(changes) > MAX_CHANGES:
        raise InvalidField(f"'changes' phải là danh sách tối đa {MAX_CHANGES} thay đổi. "
                           f"/ 'changes' must be a list of at most {MAX_CHANGES} changes.")
    replications = _int(body.get("replications"), "replications", 1, MAX_REPLICATIONS, 30)
    planning = await _planning(request, engine)
    site = engine.site
    if base == "now":
        live = await live_inputs(engine)

        def compute() -> dict[str, Any]:
            forecast = today_forecast(planning, day, live.issued, live.state.now_s)
            held, rest = hold_layout(site, forecast, live.state.layout(), from_s=live.state.now_s)
            return {**what_if(site, rest, planning.profiles.models(), held, changes, replications=replications,
                              priority_share=planning.profiles.priority_share),
                    "base": "now", "from": live.console["now"]}
    else:
        def compute() -> dict[str, Any]:
            return {**what_if(site, planning.forecast(day), planning.profiles.models(), planning.plan(day), changes,
                              replications=replications, priority_share=planning.profiles.priority_share),
                    "base": "plan"}
    return json_response(await asyncio.to_thread(compute))


# -- the city ---------------------------------------------------------------------------------------------
async def city_plan_risk(request: Request) -> Response:
    """Which centers will miss their target on ``date`` (default tomorrow), those that will first."""
    grant = await grant_of(request)
    if grant.role != "manager" or grant.site != "*":
        raise Forbidden("Chỉ tài khoản quản lý toàn thành phố (mọi trung tâm) xem được trang này. "
                        "/ only a manager of every site ('*') may see the city's outlook.")
    sites = request.app.state.sites
    query = request.query_params
    group = query.get("group") or None
    if group is not None:
        try:
            sites = sites_in_group(sites, group)
        except KeyError:
            raise InvalidField(f"Không có nhóm trung tâm {group!r}; các nhóm: {', '.join(group_names(sites))}. "
                               f"/ unknown group {group!r}.") from None
    engines = request.app.state.engines
    any_engine = next(iter(engines.values()))
    today = dt.date.fromisoformat(any_engine.today())
    day = _within(_day(query["date"], "date"), today, "date") if query.get("date") else today + dt.timedelta(days=1)
    planner = planner_of(request)
    rows = []
    for slug in sites:
        planning = await planner.of(history_of(request, engines[slug]))
        rows.append(await asyncio.to_thread(planning.outlook, day))
    rows.sort(key=rank_key)
    return json_response({
        "day": day.isoformat(), "group": group, "groups": group_names(request.app.state.sites),
        "sites": rows, "counts": {"sites": len(rows), "will_miss": sum(1 for r in rows if r.get("will_miss")),
                                  "rearrange_only": sum(1 for r in rows if r.get("rearrange_only")),
                                  "no_history": sum(1 for r in rows if r["status"] == "no_history")}})
