"""Many sites at once: which centers will miss their target tomorrow (the city console's view).

A commune center is a ``config.Site`` like the city center (5–10 counters, fields instead of
departments), so the same profile → forecast → plan chain applies. For each site and day this reads, from
the queueing model only (fast enough for a city's hundred centers):

- ``config``: the expected share of tickets called within target if every configured counter is open as
  configured (what happens when nobody changes anything);
- ``plan``: the same with the best plan for the officers on duty, and the counters the plan still lacks.

A site *will miss* when even its plan stays under ``target_share`` overall, or leaves more than 10 % of
its agency-slot cells under target (``at_risk``; ``short`` lists where counters are lacking); a site that
would miss with its configured layout but not with the plan only needs re-arranging.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from config import Site

from .exceptions import NoHistory
from .forecast import DayForecast, ForecastSettings, forecast_day
from .plan import DayPlan, PlanSettings, config_plan, plan_day
from .profiles import Profiles

__all__ = ["outlook", "rank_sites", "rank_key", "expected_share", "MIN_CELLS_MET"]

#: A site meets its target when the model puts at least this share of its agency-slot cells at target.
MIN_CELLS_MET = 0.9


def expected_share(plan: DayPlan, forecast: DayForecast) -> float:
    """Expected tickets within target over expected tickets, by the model's service levels."""
    total = within = 0.0
    for i, slot_plan in enumerate(plan.slots):
        for slug, row in forecast.expected.items():
            total += row[i]
            within += row[i] * slot_plan.service_level.get(slug, 0.0)
    return within / total if total else 1.0


def outlook(site: Site, profiles: Profiles, day: dt.date, *, settings: PlanSettings = PlanSettings(),
            forecast_settings: ForecastSettings = ForecastSettings()) -> dict[str, Any]:
    """One site's outlook for ``day`` (see the module docstring)."""
    head = {"site": site.slug, "name": site.name, "day": day.isoformat(), "counters": len(site.counters)}
    try:
        forecast = forecast_day(profiles, day, forecast_settings)
    except NoHistory as exc:
        return {**head, "status": "no_history", "message": exc.message, "will_miss": None}
    if not forecast.slots:
        return {**head, "status": "closed", "will_miss": False}
    services = profiles.models()
    best = plan_day(site, forecast, services, settings)
    current = config_plan(site, forecast, services, settings)
    plan_share, config_share = expected_share(best, forecast), expected_share(current, forecast)
    short = [{"slot": s.slot.key, "agency": slug, "counters": n} for s in best.slots for slug, n in s.short.items()]
    cells = [(s.slot.key, slug, s.service_level.get(slug, 0.0)) for i, s in enumerate(best.slots)
             for slug, row in forecast.expected.items() if row[i] > 0]
    at_risk = [{"slot": key, "agency": slug, "service_level": round(level, 4)} for key, slug, level in cells
               if level < settings.target_share]
    cells_met = 1 - len(at_risk) / len(cells) if cells else 1.0
    peak = max(best.slots, key=lambda s: len(s.layout))
    will_miss = plan_share < settings.target_share or cells_met < MIN_CELLS_MET
    return {
        **head, "status": "open", "expected_tickets": round(forecast.total, 1),
        "config_share": round(config_share, 4), "plan_share": round(plan_share, 4),
        "plan_counter_hours": round(best.counter_hours, 1), "config_counter_hours": round(current.counter_hours, 1),
        "peak_counters": len(peak.layout), "peak_slot": peak.slot.key, "short": short,
        "cells_met_share": round(cells_met, 4), "at_risk": at_risk,
        "will_miss": will_miss, "rearrange_only": not will_miss and config_share < settings.target_share,
    }


def rank_sites(entries: Iterable[tuple[Site, Profiles]], day: dt.date, *,
               settings: PlanSettings | Mapping[str, PlanSettings] = PlanSettings(),
               forecast_settings: ForecastSettings = ForecastSettings()) -> list[dict[str, Any]]:
    """Every site's outlook, those that will miss first (lowest planned share first), then those that
    only need re-arranging, then the rest; sites without history last. ``settings`` may be per site slug."""
    rows = []
    for site, profiles in entries:
        mine = settings.get(site.slug, PlanSettings()) if isinstance(settings, Mapping) else settings
        rows.append(outlook(site, profiles, day, settings=mine, forecast_settings=forecast_settings))
    return sorted(rows, key=rank_key)


def rank_key(row: Mapping[str, Any]) -> tuple:
    """The order of :func:`rank_sites`: will miss (lowest planned share first), re-arranging only, the
    rest, then closed days and sites without history."""
    if row["status"] != "open":
        return (3, 0.0, 0.0, row["site"])
    group = 0 if row["will_miss"] else 1 if row["rearrange_only"] else 2
    return (group, row["plan_share"], row["config_share"], row["site"])
