"""The JSON (and CSV) the pages serve: the plan grid behind the heat map, the advice list, the plan CSV.

Shapes are documented in ``docs/staffing.md``; every name a person reads is Vietnamese.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from config import Site

from ..labels import PLAN_KINDS
from .advice import Advice
from .forecast import DayForecast
from .plan import DayPlan

__all__ = ["plan_grid", "plan_csv", "advice_json", "KIND_NAMES"]

KIND_NAMES = PLAN_KINDS


def plan_grid(plan: DayPlan, forecast: DayForecast, *, compare: Sequence[DayPlan] = ()) -> dict[str, Any]:
    """The heat map's data: one row per agency, one cell per slot, and the counter-by-slot assignment."""
    site = plan.site
    slots = [s.slot for s in plan.slots]
    agencies = []
    for agency in site.agencies:
        cells = []
        for i, slot_plan in enumerate(plan.slots):
            ids = slot_plan.counters_of(agency.slug)
            cells.append({
                "counters": len(ids), "counter_ids": ids, "need": slot_plan.need.get(agency.slug, 0),
                "expected": round(forecast.expected[agency.slug][i], 2),
                "rate_per_h": round(slot_plan.rate_per_h.get(agency.slug, 0.0), 2),
                "service_level": round(slot_plan.service_level.get(agency.slug, 1.0), 4),
                "short": slot_plan.short.get(agency.slug, 0),
            })
        agencies.append({"slug": agency.slug, "name": agency.name, "floor": agency.floor, "cells": cells,
                         "counter_hours": round(sum(c["counters"] * s.hours for c, s in zip(cells, slots)), 1)})
    counters = [{"id": c.id, "name": c.name or f"Quầy {c.id}", "floor": c.floor,
                 "cells": [list(s.layout[c.id]) if c.id in s.layout else None for s in plan.slots]}
                for c in site.counters]
    return {
        "site": site.slug, "day": plan.day.isoformat(), "kind": plan.kind, "title": KIND_NAMES[plan.kind],
        "target_wait_s": plan.target_wait_s, "target_share": plan.target_share,
        "slots": [{"key": s.key, "label": s.label, "open_counters": len(p.layout),
                   "expected": round(forecast.slot_total(i), 1)} for i, (s, p) in enumerate(zip(slots, plan.slots))],
        "agencies": agencies, "counters": counters,
        "max_counters": max((c["counters"] for a in agencies for c in a["cells"]), default=0),
        "counter_hours": round(plan.counter_hours, 1),
        "compare": [{"kind": other.kind, "title": KIND_NAMES[other.kind], "counter_hours": round(other.counter_hours, 1)}
                    for other in compare],
    }


def plan_csv(plans: Sequence[DayPlan], forecasts: Sequence[DayForecast], *, delimiter: str = ",",
             decimal: str = ".") -> bytes:
    """One row per day, slot and agency; UTF-8 with a BOM so Excel shows Vietnamese
    (``delimiter=";", decimal=","`` for an Excel set to Vietnamese number formats)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    minutes = plans[0].target_wait_s // 60 if plans else 15
    writer.writerow(["Ngày", "Khung giờ", "Mã cơ quan", "Cơ quan", "Số phiếu dự kiến", "Số quầy cần",
                     "Số quầy bố trí", "Quầy", f"Tỷ lệ dự kiến gọi trong {minutes} phút (%)", "Thiếu quầy"])

    def number(value: float, digits: int) -> str:
        return f"{value:.{digits}f}".replace(".", decimal)

    for plan, forecast in zip(plans, forecasts):
        for i, slot_plan in enumerate(plan.slots):
            for agency in plan.site.agencies:
                ids = slot_plan.counters_of(agency.slug)
                writer.writerow([f"{plan.day:%d/%m/%Y}", slot_plan.slot.label, agency.slug, agency.name,
                                 number(forecast.expected[agency.slug][i], 1), slot_plan.need.get(agency.slug, 0),
                                 len(ids), " ".join(ids),
                                 number(slot_plan.service_level.get(agency.slug, 1.0) * 100, 1),
                                 slot_plan.short.get(agency.slug, 0)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def advice_json(site: Site, advices: Sequence[Advice]) -> dict[str, Any]:
    """The console's advice list; ``apply`` is the request the one-click button sends."""
    names = site.agency_by_slug
    items = []
    for advice in advices:
        move = advice.move
        items.append({
            "counter": move.counter, "from": list(move.before), "to": list(move.after),
            "from_names": [names[a].name for a in move.before], "to_names": [names[a].name for a in move.after],
            "message": advice.message, "gain_s": round(advice.gain_s),
            "objective": {"excess_wait_s": {"before": round(advice.baseline[0] / 1000),
                                            "after": round(advice.result[0] / 1000)},
                          "total_wait_s": {"before": round(advice.baseline[1] / 1000),
                                           "after": round(advice.result[1] / 1000)}},
            "effect": [{"agency": slug, "name": names[slug].name, "tickets": e["tickets"],
                        "longest_wait_s": {"before": e["longest_wait_s"][0], "after": e["longest_wait_s"][1]},
                        "mean_wait_s": {"before": e["mean_wait_s"][0], "after": e["mean_wait_s"][1]}}
                       for slug, e in advice.effect.items()],
            "apply": {"method": "PUT", "path": f"/api/v1/sites/{site.slug}/counters/{move.counter}/agencies",
                      "body": {"agencies": list(move.after)}},
        })
    return {"site": site.slug, "advice": items}
