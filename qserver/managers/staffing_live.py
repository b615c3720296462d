"""The staffing model on the hall as it is now: advice during the day and the what-if from the live layout.

The live inputs come from the engine (:func:`live_inputs`: the console's state, the tickets issued so far
per agency); the rest is pure: today's forecast re-scaled by how the day is going (``nowcast``), the
advice list, and a plan that keeps the open counters as they are until closing (the what-if's base in the
console). With no usable history the forecast is empty (nobody expected besides those waiting).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config import Site

from ..engine import SiteEngine
from ..staffing import (DayForecast, DayPlan, LiveState, NoHistory, SlotPlan, advice_json, advise,
                        configured_eligibility, nowcast)
from ..staffing.slots import day_slots, hhmm
from .console import console_state
from .planning import SitePlanning

__all__ = ["LiveInputs", "live_inputs", "today_forecast", "advice_answer", "hold_layout", "ELIGIBILITY_SCOPES"]

#: ``?scope=`` of the advice: ``any`` agency (what the reassignment allows) or the ``config``ured ones.
ELIGIBILITY_SCOPES = ("any", "config")


@dataclass(frozen=True)
class LiveInputs:
    console: Mapping[str, Any]
    state: LiveState
    issued: Mapping[str, int]


async def live_inputs(engine: SiteEngine) -> LiveInputs:
    """The console's state, the :class:`LiveState` built from it and today's tickets per agency (counted
    for the agency where they are now, as the profiles count them)."""
    console = await console_state(engine)
    state = LiveState.from_console(engine.site, console)
    tickets = await engine.tickets_issued(dt.date.fromisoformat(console["day"]))
    issued = Counter(t.get("agency") for t in tickets if t.get("agency"))
    return LiveInputs(console, state, dict(issued))


def today_forecast(planning: SitePlanning, day: dt.date, issued: Mapping[str, int], now_s: float) -> DayForecast:
    """The day's forecast scaled by the tickets so far; an empty one when there is no history to forecast from."""
    try:
        forecast = planning.forecast(day)
    except NoHistory:
        slots = day_slots(planning.site, day)
        forecast = DayForecast(planning.site.slug, day, slots, {a.slug: (0.0,) * len(slots)
                                                               for a in planning.site.agencies})
    return nowcast(forecast, issued, now_s)


def advice_answer(planning: SitePlanning, live: LiveInputs, *, limit: int = 3, scope: str = "any") -> dict[str, Any]:
    """The advice list (``advice_json``) with what it was computed from."""
    site = planning.site
    state = live.state
    forecast = today_forecast(planning, state.day, live.issued, state.now_s)
    eligibility = configured_eligibility(site) if scope == "config" else None
    advices = advise(site, state, forecast, planning.profiles.models(), eligibility=eligibility, limit=limit)
    answer = advice_json(site, advices)
    horizon = [i for i, s in enumerate(forecast.slots) if s.end_s > state.now_s and s.start_s < state.now_s + 3600]
    answer.update({
        "day": state.day.isoformat(), "now": live.console["now"], "time": hhmm(state.now_s), "scope": scope,
        "target_wait_s": site.target_wait_s, "horizon_s": 3600,
        "waiting": len(state.waiting), "issued_today": sum(live.issued.values()),
        "expected_next_hour": round(sum(forecast.slot_total(i) * _overlap(forecast, i, state.now_s) for i in horizon), 1),
        "today_factor": round(forecast.factors.get("today", 1.0), 3),
    })
    return answer


def _overlap(forecast: DayForecast, index: int, now_s: float) -> float:
    slot = forecast.slots[index]
    lo, hi = max(slot.start_s, now_s), min(slot.end_s, now_s + 3600)
    return max(0.0, hi - lo) / slot.length_s


def hold_layout(site: Site, forecast: DayForecast, layout: Mapping[str, tuple[str, ...]], *, from_s: float = 0,
                target_share: float = 0.8) -> tuple[DayPlan, DayForecast]:
    """The open counters kept as they are until closing, and the forecast of the citizens still to come
    (slots over before ``from_s`` emptied; the current one pro rata): the console's what-if base."""
    kept = {c: tuple(a) for c, a in layout.items()}
    slots = tuple(SlotPlan(s, kept, {}, {}, {}) for s in forecast.slots)
    plan = DayPlan(site, forecast.day, "config", slots, site.target_wait_s, target_share)
    over = [s.index for s in forecast.slots if s.end_s <= from_s]
    rest = forecast.scaled(0.0, slots=over) if over else forecast
    current = [s for s in forecast.slots if s.start_s < from_s < s.end_s]
    if current:
        slot = current[0]
        rest = rest.scaled((slot.end_s - from_s) / slot.length_s, slots=[slot.index])
    return plan, rest
