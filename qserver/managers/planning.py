"""The staffing core (:mod:`qserver.staffing`) fed with a site's stored history, cached in the process.

:class:`Planner` keeps, per site and service day, one :class:`SitePlanning`: the profiles built once
from the closed days of the last :data:`HISTORY_DAYS` days (read through :class:`.archive.History`, so
the archive and whatever Redis still holds), and every forecast, plan, backtest and outlook computed
from them, each once. Today's own tickets are left out of the profiles (the day is not over; the advice
reads today live), so an entry stays right for the whole service day and is dropped at the next one.

Everything here is synchronous and pure once the tickets are read; the web handlers run it in a worker
thread (a week's plan for the 35-counter center takes about 0.2 s, the first one of a day adds the
archive read).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config import Site

from ..staffing import (DayForecast, DayPlan, Profiles, backtest, build_profiles, config_plan, fixed_plan, forecast_day,
                        plan_csv, plan_day, plan_grid)
from ..staffing.network import expected_share, outlook
from .archive import History

__all__ = ["HISTORY_DAYS", "SitePlanning", "Planner", "planning_json_meta"]

logger = logging.getLogger(__name__)

#: Closed days a profile is built from (the forecast looks 56 days back; the rest feeds the backtest).
HISTORY_DAYS = 112


@dataclass
class SitePlanning:
    """One site on one service day: profiles and everything computed from them, each computed once."""

    site: Site
    today: dt.date
    profiles: Profiles
    tickets_read: int = 0
    built_s: float = 0.0
    _memo: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _once(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = compute()
        with self._lock:
            return self._memo.setdefault(key, value)

    def forecast(self, day: dt.date) -> DayForecast:
        """The forecast of ``day`` from the days before it (:class:`~qserver.staffing.NoHistory` without them)."""
        return self._once(("forecast", day), lambda: forecast_day(self.profiles, day))

    def plan(self, day: dt.date, kind: str = "plan") -> DayPlan:
        """The day's ``plan`` (to the load), ``config`` (every counter as configured) or ``fixed`` plan."""
        build = {"plan": plan_day, "config": config_plan, "fixed": fixed_plan}[kind]
        return self._once(("plan", kind, day), lambda: build(self.site, self.forecast(day), self.profiles.models()))

    def grid(self, day: dt.date) -> dict[str, Any]:
        """The heat map's JSON (``plan_grid``) with the forecast's factors and the expected shares."""
        def compute() -> dict[str, Any]:
            forecast = self.forecast(day)
            plan = self.plan(day)
            others = [self.plan(day, "config"), self.plan(day, "fixed")] if forecast.slots else []
            grid = plan_grid(plan, forecast, compare=others)
            grid["status"] = "open" if forecast.slots else "closed"
            grid["expected_share"] = round(expected_share(plan, forecast), 4)
            for entry, other in zip(grid["compare"], others):
                entry["expected_share"] = round(expected_share(other, forecast), 4)
            grid["forecast"] = {"total": round(forecast.total, 1), "after_holiday": forecast.after_holiday,
                                "factors": {k: round(v, 4) for k, v in forecast.factors.items()}}
            return grid
        return self._once(("grid", day), compute)

    def csv(self, days: Sequence[dt.date], *, semicolon: bool = False) -> bytes:
        """The plan CSV of the receiving days among ``days``."""
        open_days = [d for d in days if self.forecast(d).slots]
        return plan_csv([self.plan(d) for d in open_days], [self.forecast(d) for d in open_days],
                        delimiter=";" if semicolon else ",", decimal="," if semicolon else ".")

    def backtest(self) -> dict[str, Any]:
        """The forecast's error on the past days (each forecast from the days before it) and the days left out."""
        def compute() -> dict[str, Any]:
            result = backtest(self.profiles)
            result["history_days"] = HISTORY_DAYS
            result["left_out"] = [{"day": d.day.isoformat(), "status": d.status, "tickets": d.total, "note": d.note}
                                  for d in self.profiles.days if d.status not in ("normal", "closed")]
            result["usable_days"] = len(self.profiles.usable_days())
            return result
        return self._once(("backtest",), compute)

    def outlook(self, day: dt.date) -> dict[str, Any]:
        """The city view's row for this site (``network.outlook``: will it miss its target on ``day``?)."""
        return self._once(("outlook", day), lambda: outlook(self.site, self.profiles, day))


def planning_json_meta(planning: SitePlanning) -> dict[str, Any]:
    """What every answer says about the data behind it."""
    return {"history": {"from": (planning.today - dt.timedelta(days=HISTORY_DAYS)).isoformat(),
                        "to": (planning.today - dt.timedelta(days=1)).isoformat(),
                        "tickets": planning.tickets_read, "usable_days": len(planning.profiles.usable_days())}}


class Planner:
    """Per process: site slug → the :class:`SitePlanning` of its current service day."""

    def __init__(self, history_days: int = HISTORY_DAYS):
        self.history_days = history_days
        self._entries: dict[str, SitePlanning] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def of(self, history: History) -> SitePlanning:
        """The site's planning of today, built on first use from the closed days of the history."""
        site = history.engine.site
        today = history.today()
        entry = self._entries.get(site.slug)
        if entry is not None and entry.today == today:
            return entry
        lock = self._locks.setdefault(site.slug, asyncio.Lock())
        async with lock:
            entry = self._entries.get(site.slug)
            if entry is not None and entry.today == today:
                return entry
            started = time.perf_counter()
            tickets = await history.tickets(today - dt.timedelta(days=self.history_days), today - dt.timedelta(days=1))
            profiles = await asyncio.to_thread(build_profiles, site, tickets, today=today)
            entry = SitePlanning(site, today, profiles, len(tickets), time.perf_counter() - started)
            self._entries[site.slug] = entry
            logger.info("staffing profiles of %s for %s: %d tickets, %d usable days, %.2f s", site.slug, today,
                        len(tickets), len(profiles.usable_days()), entry.built_s)
            return entry

    def entries(self) -> Mapping[str, SitePlanning]:
        return dict(self._entries)
