"""What the city console shows of each center, and in which order: pure functions of a site, its
:meth:`~qserver.engine.SiteReader.overview` and the time.

**Trouble** (docs/managers.md repeats it for supervisors). A center's ``level`` is

- ``bad`` when its longest wait is over its ``wait_alert_s``, or citizens wait for a field that no
  counter serves now (every counter of that field closed, or none assigned): nobody will call them;
- ``warn`` when the longest wait is over half of ``wait_alert_s``, or a field's only counters are
  paused, or a device (hall display, counter display, announcer) stopped acknowledging calls;
- ``ok`` otherwise.

Centers are sorted by level (bad, warn, ok), then by longest wait as a share of the center's own
threshold (a commune alerting at 20 minutes with 18 waited comes before the city center at 30 with
20), then by devices not acknowledging, then by people waiting, then by name: the first row is
the center that most needs a phone call.
"""

from __future__ import annotations

from typing import Any

from config import Site

from ..labels import CITY_LEVELS
from ..present import iso
from .console import device_alerts

__all__ = ["center_summary", "trouble_key", "city_totals", "LEVELS"]

#: Levels from the worst; their index is the rank used to sort.
LEVELS = ("bad", "warn", "ok")


def _minutes(seconds: int) -> int:
    return seconds // 60


def _counters(counters: dict[str, dict[str, Any]]) -> tuple[dict[str, int], set[str], set[str]]:
    """Counts by state, the fields some open counter serves, the fields some paused counter serves."""
    counts = dict.fromkeys(("total", "open", "serving", "idle", "paused", "closed"), 0)
    open_fields: set[str] = set()
    paused_fields: set[str] = set()
    for counter in counters.values():
        counts["total"] += 1
        status = counter.get("status", "open")
        fields = counter.get("agencies") if isinstance(counter.get("agencies"), list) else []
        if status == "open":
            counts["open"] += 1
            counts["serving" if counter.get("current") else "idle"] += 1
            open_fields.update(fields)
        elif status == "paused":
            counts["paused"] += 1
            paused_fields.update(fields)
        else:
            counts["closed"] += 1
    return counts, open_fields, paused_fields


def _today(site: Site, stats: dict[str, int]) -> dict[str, Any]:
    """The day's running totals, with means and the satisfied share (top two levels ÷ ratings)."""
    levels = site.rating_levels
    rated = stats.get("rated", 0)
    satisfied = sum(stats.get(f"rating:{score}", 0) for score in (levels, levels - 1))
    called, served = stats.get("called", 0), stats.get("served", 0)
    return {
        "issued": stats.get("issued", 0), "called": called, "served": served, "no_show": stats.get("no_show", 0),
        "rated": rated, "satisfied": satisfied,
        "satisfied_share": round(satisfied / rated, 4) if rated else None,
        "mean_wait_s": round(stats.get("wait_ms", 0) / called / 1000) if called else None,
        "mean_service_s": round(stats.get("service_ms", 0) / served / 1000) if served else None,
    }


def center_summary(site: Site, overview: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """One row of the city console: waits against the threshold, counters, today, devices, trouble."""
    counts, open_fields, paused_fields = _counters(overview["counters"])
    waiting_by_agency = {slug: n for slug, n in overview["waiting"].items() if n}
    oldest = overview["oldest_issued_at"]
    longest = max(0, round((now_ms - oldest) / 1000)) if oldest is not None else None
    alert_s = site.wait_alert_s
    devices, late = device_alerts(site, overview["acks"], overview["calls"], now_ms)
    late_names = [alert["device"] for alert in late]

    def names(slugs: list[str]) -> str:
        return ", ".join(site.agency_by_slug[s].name if s in site.agency_by_slug else s for s in slugs)

    problems: list[dict[str, Any]] = []
    level = "ok"
    if longest is not None and alert_s and longest > alert_s:
        level = "bad"
        problems.append({"kind": "wait", "text": f"Người chờ lâu nhất đã chờ {_minutes(longest)} phút "
                                                 f"(ngưỡng {_minutes(alert_s)} phút)."})
    elif longest is not None and alert_s and longest > alert_s / 2:
        level = "warn"
        problems.append({"kind": "wait_soon", "text": f"Người chờ lâu nhất đã chờ {_minutes(longest)} phút, "
                                                      f"quá nửa ngưỡng {_minutes(alert_s)} phút."})
    unserved = [s for s in waiting_by_agency if s not in open_fields and s not in paused_fields]
    if unserved:
        level = "bad"
        problems.append({"kind": "unserved", "agencies": unserved,
                         "text": f"{sum(waiting_by_agency[s] for s in unserved)} người chờ {names(unserved)} "
                                 f"nhưng không có quầy nào mở."})
    paused_only = [s for s in waiting_by_agency if s not in open_fields and s in paused_fields]
    if paused_only:
        level = "warn" if level == "ok" else level
        problems.append({"kind": "paused_only", "agencies": paused_only,
                         "text": f"{sum(waiting_by_agency[s] for s in paused_only)} người chờ {names(paused_only)}: "
                                 f"các quầy phục vụ đang tạm nghỉ."})
    if late_names:
        level = "warn" if level == "ok" else level
        problems.append({"kind": "devices", "devices": late_names,
                         "text": f"{len(late_names)} thiết bị không xác nhận số đã gọi: {', '.join(late_names)}."})
    return {
        "slug": site.slug, "name": site.name, "short_name": site.short_name or site.name,
        "groups": list(site.groups), "day": overview["day"],
        "level": level, "level_label": CITY_LEVELS[level], "problems": problems,
        "waiting": sum(waiting_by_agency.values()), "waiting_by_agency": waiting_by_agency,
        "longest_wait_s": longest, "oldest_issued_at": iso(site, oldest), "wait_alert_s": alert_s,
        "wait_ratio": round(longest / alert_s, 3) if longest is not None and alert_s else None,
        "counters": counts, "today": _today(site, overview["stats"]),
        "devices": {"total": len(devices), "late": len(late_names), "late_names": late_names},
        "console": f"/m/{site.slug}",
    }


def trouble_key(center: dict[str, Any]) -> tuple:
    """Sort key: the center that most needs attention first (see the module's docstring)."""
    return (LEVELS.index(center["level"]), -(center["wait_ratio"] or 0.0), -center["devices"]["late"],
            -center["waiting"], center["name"], center["slug"])


def city_totals(centers: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over the centers shown: people waiting, counters, today's tickets, satisfaction, levels."""
    def total(path: tuple[str, ...]) -> int:
        result = 0
        for center in centers:
            value: Any = center
            for part in path:
                value = value[part]
            result += value or 0
        return result

    rated, satisfied = total(("today", "rated")), total(("today", "satisfied"))
    longest = max((c["longest_wait_s"] for c in centers if c["longest_wait_s"] is not None), default=None)
    return {
        "centers": len(centers), "levels": {level: sum(1 for c in centers if c["level"] == level) for level in LEVELS},
        "waiting": total(("waiting",)), "longest_wait_s": longest,
        "counters": {key: total(("counters", key)) for key in ("total", "open", "serving", "paused", "closed")},
        "today": {key: total(("today", key)) for key in ("issued", "called", "served", "no_show")},
        "rated": rated, "satisfied_share": round(satisfied / rated, 4) if rated else None,
        "devices_late": total(("devices", "late")),
    }
