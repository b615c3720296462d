"""What-if: a manager changes a day's plan and sees the expected waits before doing it.

Changes are plain dicts (what the page posts), applied in order, each to the slots overlapping
``from``–``to`` (default: the whole day):

- ``{"kind": "close_counter", "counter": "13", "from": "09:00", "to": "10:30"}``
- ``{"kind": "add_officer", "agency": "so-tu-phap", "from": "07:30", "to": "09:30"}``: one more counter
  for the agency, the first closed counter that may serve it by configuration (else any closed counter;
  ``"counter"`` picks one)
- ``{"kind": "assign", "counter": "13", "agency": "so-tu-phap"}``: the counter serves that agency only
- ``{"kind": "volume", "multiplier": 1.4, "agency": "so-tu-phap"}``: a rush (agency optional: all)

Both the plan and the changed plan are simulated on the forecast with the same seeded citizens (common
random numbers), so the difference is the change, not the noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from config import Site

from .evaluate import Evaluation, evaluate
from .exceptions import InvalidChange, UnknownAgency, UnknownCounter
from .forecast import DayForecast
from .plan import DayPlan
from .simulate import ServiceModel, draw_arrivals, schedule_of
from .slots import Slot, parse_hhmm

__all__ = ["apply_changes", "what_if", "summary", "KINDS"]

KINDS = ("close_counter", "add_officer", "assign", "volume")


def _span(change: Mapping[str, Any], slots: Sequence[Slot], index: int) -> list[int]:
    try:
        start = parse_hhmm(change["from"]) if change.get("from") else 0
        end = parse_hhmm(change["to"]) if change.get("to") else 24 * 3600
    except ValueError as exc:
        raise InvalidChange(f"Thay đổi #{index + 1}: giờ không hợp lệ ({exc}). / change #{index + 1}: {exc}") from None
    if end <= start:
        raise InvalidChange(f"Thay đổi #{index + 1}: 'to' phải sau 'from'. / change #{index + 1}: 'to' must be after 'from'")
    return [s.index for s in slots if s.start_s < end and s.end_s > start]


def _counter(site: Site, change: Mapping[str, Any], index: int) -> str:
    counter = str(change.get("counter", ""))
    if counter not in site.counter_by_id:
        raise UnknownCounter(f"Thay đổi #{index + 1}: quầy '{counter}' không có ở {site.slug}. "
                             f"/ change #{index + 1}: counter '{counter}' is not configured for site '{site.slug}'")
    return counter


def _agency(site: Site, change: Mapping[str, Any], index: int, *, optional: bool = False) -> str | None:
    agency = change.get("agency")
    if agency is None and optional:
        return None
    if agency not in site.agency_by_slug:
        raise UnknownAgency(f"Thay đổi #{index + 1}: không có cơ quan '{agency}'. "
                            f"/ change #{index + 1}: agency '{agency}' not found")
    return agency


def apply_changes(site: Site, plan: DayPlan, forecast: DayForecast, changes: Sequence[Mapping[str, Any]]):
    """(layouts per slot, forecast) after the changes."""
    slots = tuple(s.slot for s in plan.slots)
    layouts = [dict(s.layout) for s in plan.slots]
    for index, change in enumerate(changes):
        if not isinstance(change, Mapping) or change.get("kind") not in KINDS:
            kind = change.get("kind") if isinstance(change, Mapping) else change
            raise InvalidChange(f"Thay đổi #{index + 1}: loại '{kind}' không hợp lệ (dùng {', '.join(KINDS)}). "
                                f"/ change #{index + 1}: unknown kind {kind!r}")
        kind, span = change["kind"], _span(change, slots, index)
        if kind == "close_counter":
            counter = _counter(site, change, index)
            for i in span:
                layouts[i].pop(counter, None)
        elif kind == "assign":
            counter, agency = _counter(site, change, index), _agency(site, change, index)
            for i in span:
                layouts[i][counter] = (agency,)
        elif kind == "add_officer":
            agency = _agency(site, change, index)
            wanted = _counter(site, change, index) if change.get("counter") is not None else None
            for i in span:
                free = [c.id for c in site.counters if c.id not in layouts[i]]
                ranked = sorted(free, key=lambda cid: (agency not in site.counter_by_id[cid].agencies,))
                choice = wanted if wanted in free else (ranked[0] if ranked and wanted is None else None)
                if choice is None:
                    raise InvalidChange(f"Thay đổi #{index + 1}: không còn quầy trống lúc {slots[i].key}. "
                                        f"/ change #{index + 1}: no free counter at {slots[i].key}")
                layouts[i][choice] = (agency,)
        else:
            try:
                multiplier = float(change.get("multiplier"))
            except (TypeError, ValueError):
                multiplier = -1.0
            if not 0 <= multiplier <= 20:
                raise InvalidChange(f"Thay đổi #{index + 1}: hệ số {change.get('multiplier')!r} không hợp lệ (0–20). "
                                    f"/ change #{index + 1}: multiplier must be a number 0..20")
            agency = _agency(site, change, index, optional=True)
            forecast = forecast.scaled(multiplier, None if agency is None else [agency], span)
    return layouts, forecast


def summary(site: Site, evaluation: Evaluation, counter_hours: float) -> dict[str, Any]:
    agencies = evaluation.agency_summary()
    return {
        "counter_hours": round(counter_hours, 1),
        "within_target_share": round(evaluation.overall_level(), 4),
        "cells_met_share": round(evaluation.met_share(), 4),
        "longest_wait_s": max((a["longest_wait_s"] for a in agencies.values()), default=0),
        "slots": [{"slot": s.key, "service_level": None if v is None else round(v, 4)}
                  for s, v in zip(evaluation.slots, evaluation.slot_levels())],
        "agencies": [{"slug": a.slug, "name": a.name, **agencies[a.slug]} for a in site.agencies if a.slug in agencies],
    }


def what_if(site: Site, forecast: DayForecast, services: Mapping[str, ServiceModel], plan: DayPlan,
            changes: Sequence[Mapping[str, Any]], *, replications: int = 30, seed: object = 0,
            priority_share: float = 0.0) -> dict[str, Any]:
    """Expected waits of the plan and of the changed plan (the JSON the what-if panel shows)."""
    slots = tuple(s.slot for s in plan.slots)
    layouts, changed = apply_changes(site, plan, forecast, changes)

    def run(layout_list, day_forecast: DayForecast) -> Evaluation:
        return evaluate(slots, schedule_of(slots, layout_list),
                        lambda r: draw_arrivals(slots, day_forecast.expected, services, (seed, r),
                                                priority_share=priority_share),
                        replications=replications, target_wait_s=plan.target_wait_s, target_share=plan.target_share)

    before = run(plan.layouts(), forecast)
    after = run(layouts, changed)
    hours = sum(len(layout) * s.hours for layout, s in zip(layouts, slots))
    return {"site": site.slug, "day": plan.day.isoformat(), "target_wait_s": plan.target_wait_s,
            "target_share": plan.target_share, "replications": replications, "changes": list(changes),
            "before": summary(site, before, plan.counter_hours), "after": summary(site, after, hours)}
