"""A past day against the plan: what was open, where the target was missed, and why.

For each agency and slot of ``day``, from that day's stored tickets:

- ``tickets``: issued in the slot (counted for the agency where they ended, as in the profiles);
- ``within_share``: called within ``target_wait_s`` over those tickets (never called counts as missed);
- ``counters_open``: counters that served someone of the agency during the slot (a ticket in service
  overlaps it). Tickets cannot show a counter open but idle, so this is a lower bound;
- ``counters_needed``: what the plan asks for *with hindsight* (the day's actual arrivals), and
  ``forecast``: what the forecast from the days before expected.

A cell with at least ``min_tickets`` tickets under ``target_share`` is *missed*, with its reasons:
``short`` (fewer counters served it than needed), ``volume`` (at least 25 % and 2 tickets over the
forecast), ``slow`` (the agency's services that day at least 20 % longer than usual), ``backlog`` (the
slot before was missed too), else ``other``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from config import Site

from .exceptions import NoHistory
from .forecast import DayForecast, ForecastSettings, forecast_day
from .plan import PlanSettings, plan_day
from .profiles import Profiles
from .slots import DayClock, day_slots

__all__ = ["review_day"]


def review_day(site: Site, profiles: Profiles, tickets: Iterable[Mapping[str, Any]], day: dt.date, *,
               settings: PlanSettings = PlanSettings(), forecast_settings: ForecastSettings = ForecastSettings(),
               min_tickets: int = 3) -> dict[str, Any]:
    """The review of one closed day (see the module docstring)."""
    slots = day_slots(site, day)
    target = settings.wait_s(site)
    if not slots:
        return {"site": site.slug, "day": day.isoformat(), "status": "closed", "agencies": []}
    clock = DayClock(site, day, slots)
    slugs = [a.slug for a in site.agencies]
    counts = {a: [0] * len(slots) for a in slugs}
    within = {a: [0] * len(slots) for a in slugs}
    serving: dict[str, list[set[str]]] = {a: [set() for _ in slots] for a in slugs}
    services: dict[str, list[float]] = {a: [] for a in slugs}
    for t in tickets:
        agency = t.get("agency")
        if agency not in counts:
            continue
        issued = clock.seconds(int(t["issued_at"]))
        if not 0 <= issued < 86_400:
            continue
        index = clock.slot_of(issued)
        counts[agency][index] += 1
        called, done = t.get("called_at"), t.get("done_at")
        if called is None:
            continue
        if (called - t["issued_at"]) / 1000 <= target:
            within[agency][index] += 1
        start, end = clock.seconds(called), clock.seconds(done) if done is not None else clock.seconds(called) + 1
        if t.get("counter") is not None:
            for slot in slots:
                if start < slot.end_s and end > slot.start_s:
                    serving[agency][slot.index].add(str(t["counter"]))
        if t.get("status") == "done" and done is not None:
            services[agency].append((done - called) / 1000)
    try:
        forecast = forecast_day(profiles, day, forecast_settings)
    except NoHistory:
        forecast = None
    models = profiles.models()
    hindsight = DayForecast(site.slug, day, slots, {a: tuple(float(n) for n in row) for a, row in counts.items()})
    needed = plan_day(site, hindsight, models, settings)
    rows, missed_total, judged = [], 0, 0
    for agency in site.agencies:
        slug, cells, previous_missed = agency.slug, [], False
        usual = profiles.services[slug].mean_s if slug in profiles.services else None
        day_mean = statistics.fmean(services[slug]) if len(services[slug]) >= min_tickets else None
        for i, slot in enumerate(slots):
            n = counts[slug][i]
            share = within[slug][i] / n if n else None
            need = needed.slots[i].need.get(slug, 0)
            opened = len(serving[slug][i])
            expected = forecast.expected[slug][i] if forecast else None
            missed = n >= min_tickets and share < settings.target_share
            reasons = []
            if missed:
                judged_reasons = _reasons(opened, need, n, expected, day_mean, usual, previous_missed
                                          and slots[i - 1].session == slot.session)
                reasons = judged_reasons or [{"code": "other", "text": "khác"}]
                missed_total += 1
            judged += 1 if n >= min_tickets else 0
            previous_missed = missed
            cells.append({"slot": slot.key, "tickets": n, "forecast": None if expected is None else round(expected, 1),
                          "within_share": None if share is None else round(share, 4), "counters_open": opened,
                          "counters": sorted(serving[slug][i], key=_counter_order(site)), "counters_needed": need,
                          "missed": missed, "reasons": reasons})
        rows.append({"slug": slug, "name": agency.name, "cells": cells,
                     "mean_service_s": None if day_mean is None else round(day_mean),
                     "usual_service_s": None if usual is None else round(usual)})
    return {"site": site.slug, "day": day.isoformat(), "status": "open", "target_wait_s": target,
            "target_share": settings.target_share, "slots": [s.key for s in slots], "agencies": rows,
            "cells_judged": judged, "cells_missed": missed_total}


def _counter_order(site: Site):
    order = {c.id: i for i, c in enumerate(site.counters)}
    return lambda cid: (order.get(cid, len(order)), cid)


def _reasons(opened: int, need: int, tickets: int, expected: float | None, day_mean: float | None,
             usual: float | None, backlog: bool) -> list[dict[str, str]]:
    reasons = []
    if opened < need:
        reasons.append({"code": "short", "text": f"thiếu quầy: {opened} quầy phục vụ, cần {need}"})
    if expected is not None and tickets >= 1.25 * expected and tickets - expected >= 2:
        reasons.append({"code": "volume", "text": f"đông hơn dự báo: {tickets} phiếu, dự báo {expected:.0f}"})
    if day_mean is not None and usual and day_mean >= 1.2 * usual:
        reasons.append({"code": "slow", "text": f"phục vụ lâu: trung bình {day_mean / 60:.0f} phút, "
                                                f"thường {usual / 60:.0f} phút"})
    if backlog:
        reasons.append({"code": "backlog", "text": "tồn từ khung giờ trước"})
    return reasons
