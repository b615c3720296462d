"""Arrival and service profiles from stored tickets (the archive's dicts, times in ms since the epoch).

Arrivals: a ticket counts for the agency where it *ended* (the one whose counters carried its load) in
the 30-minute slot of its issue time. Service: ``done_at - called_at`` of served tickets (1 s to 4 h;
longer is a forgotten "done" press), no-shows' counter time ``done_at - called_at`` of final no-shows,
no-show share = no-shows / (served + no-shows).

Which days a profile uses (the documented rule, ``docs/staffing.md``):

- ``holiday`` / ``closed``: a configured holiday or a weekday without hours: left out.
- ``today`` (and later): not over yet: left out of arrivals (its finished services are used).
- ``low_volume``: fewer tickets than ``low_volume_share`` (50 %) of the median of the same weekday's
  receiving days: left out (a storm, a half-day closure, a system that was down most of the day).
- ``outage``: a stretch of at least ``outage_min_s`` (30 min) inside receiving hours without a single
  ticket issued, where the weekday's median profile expected at least ``outage_expected`` (8) tickets:
  left out. Under normal operation such a stretch has a chance below e^-8 ≈ 0.03 % (and a day holds at
  most 14 disjoint half-hours), so this flags a kiosk or network outage, not a quiet hour of a commune.
- ``after_holiday``: the first receiving day after a holiday on a day with hours: kept out of the
  ordinary profile, used to learn the after-holiday factor of the forecast.
- ``normal``: everything else.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from config import Site

from .simulate import ServiceModel
from .slots import WEEKDAY_NAMES, DayClock, Slot, after_holiday, day_slots, hhmm, receiving_day, weekday_key

__all__ = ["CleaningRules", "DayCounts", "ServiceStats", "Profiles", "build_profiles", "DEFAULT_SERVICE_S"]

#: Service time assumed for an agency nobody has served yet (the engine's ``DEFAULT_SERVICE_S``).
DEFAULT_SERVICE_S = 300.0
USABLE = ("normal", "after_holiday")


@dataclass(frozen=True)
class CleaningRules:
    low_volume_share: float = 0.5
    outage_expected: float = 8.0
    outage_min_s: float = 1800.0
    min_service_s: float = 1.0
    max_service_s: float = 4 * 3600.0
    #: below this many served tickets an agency's service leans on the whole site's (shrinkage weight)
    service_prior_n: int = 10


@dataclass(frozen=True)
class DayCounts:
    """One day's arrivals per agency per slot, and whether profiles use it."""

    day: dt.date
    slots: tuple[Slot, ...]
    counts: Mapping[str, tuple[int, ...]]
    total: int
    status: str
    note: str = ""

    @property
    def usable(self) -> bool:
        return self.status in USABLE

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(slot.key for slot in self.slots)

    def slot_totals(self) -> list[int]:
        return [sum(c[i] for c in self.counts.values()) for i in range(len(self.slots))]


@dataclass(frozen=True)
class ServiceStats:
    """An agency's service time distribution (seconds) and no-shows."""

    agency: str
    served: int
    mean_s: float
    quantiles: Mapping[str, float]
    mu: float
    sigma: float
    no_show_share: float
    no_show_s: float
    pooled: bool = False

    @property
    def model(self) -> ServiceModel:
        return ServiceModel(self.mean_s, self.sigma, self.no_show_share, self.no_show_s)

    def to_json(self) -> dict[str, Any]:
        return {"agency": self.agency, "served": self.served, "mean_s": round(self.mean_s, 1),
                "quantiles_s": {k: round(v, 1) for k, v in self.quantiles.items()},
                "lognormal": {"mu": round(self.mu, 4), "sigma": round(self.sigma, 4)},
                "no_show_share": round(self.no_show_share, 4), "no_show_s": round(self.no_show_s, 1),
                "pooled": self.pooled}


@dataclass(frozen=True)
class Profiles:
    site: Site
    days: tuple[DayCounts, ...]
    services: Mapping[str, ServiceStats]
    priority_share: float = 0.0
    by_day: dict[dt.date, DayCounts] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_day.update({d.day: d for d in self.days})

    def usable_days(self, before: dt.date | None = None) -> list[DayCounts]:
        return [d for d in self.days if d.usable and (before is None or d.day < before)]

    def models(self) -> dict[str, ServiceModel]:
        return {slug: stats.model for slug, stats in self.services.items()}

    def weekday_profile(self, weekday: str) -> dict[str, dict[str, float]]:
        """Mean tickets per agency per slot over the ordinary days of ``weekday`` ("mon" ...)."""
        days = [d for d in self.days if d.status == "normal" and weekday_key(d.day) == weekday]
        sums: dict[str, dict[str, float]] = {a.slug: {} for a in self.site.agencies}
        for d in days:
            for slug, counts in d.counts.items():
                row = sums.setdefault(slug, {})
                for slot, n in zip(d.slots, counts):
                    row[slot.key] = row.get(slot.key, 0.0) + n
        return {slug: {k: v / len(days) for k, v in row.items()} for slug, row in sums.items()} if days else {}

    def to_json(self) -> dict[str, Any]:
        weekdays = sorted({weekday_key(d.day) for d in self.days if d.status == "normal"},
                          key=("mon", "tue", "wed", "thu", "fri", "sat", "sun").index)
        return {
            "site": self.site.slug,
            "days": [{"day": d.day.isoformat(), "status": d.status, "tickets": d.total, "note": d.note}
                     for d in self.days],
            "weekdays": {w: {slug: {k: round(v, 2) for k, v in row.items()}
                             for slug, row in self.weekday_profile(w).items()} for w in weekdays},
            "services": [s.to_json() for s in self.services.values()],
            "priority_share": round(self.priority_share, 4),
        }


def _local_day(site: Site, ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=site.tz).date()


def build_profiles(site: Site, tickets: Iterable[Mapping[str, Any]], *, first: dt.date | None = None,
                   last: dt.date | None = None, today: dt.date | None = None,
                   rules: CleaningRules = CleaningRules()) -> Profiles:
    """Profiles of ``first``..``last`` (default: the days the tickets span). ``today`` and later days
    are incomplete: their arrivals are left out, their finished services used."""
    by_day: dict[dt.date, list[Mapping[str, Any]]] = {}
    for ticket in tickets:
        by_day.setdefault(_local_day(site, int(ticket["issued_at"])), []).append(ticket)
    if first is None or last is None:
        known = sorted(by_day) or ([today] if today else [])
        if not known:
            return Profiles(site, (), _services(site, [], rules), 0.0)
        first, last = first or known[0], last or known[-1]
    days: list[tuple[dt.date, tuple[Slot, ...], dict[str, list[int]], list[float], str]] = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        slots = day_slots(site, day)
        if not receiving_day(site, day):
            status = "holiday" if day in site.holidays else "closed"
        elif today is not None and day >= today:
            status = "today"
        else:
            status = "after_holiday" if after_holiday(site, day) else "normal"
        counts = {a.slug: [0] * len(slots) for a in site.agencies}
        seconds: list[float] = []
        if slots:
            clock = DayClock(site, day, slots)
            for ticket in by_day.get(day, ()):
                agency = ticket.get("agency")
                if agency not in counts:
                    continue
                at = clock.seconds(int(ticket["issued_at"]))
                counts[agency][clock.slot_of(at)] += 1
                seconds.append(at)
        days.append((day, slots, counts, sorted(seconds), status))
    result = _clean(site, days, rules)
    services = _services(site, [t for d, ts in by_day.items() if receiving_day(site, d) for t in ts], rules)
    issued = sum(len(ts) for ts in by_day.values())
    priority = sum(1 for ts in by_day.values() for t in ts if t.get("priority")) / issued if issued else 0.0
    return Profiles(site, tuple(result), services, priority)


def _clean(site: Site, days: list, rules: CleaningRules) -> list[DayCounts]:
    """Mark low-volume and outage days against the medians of the same weekday (see the module doc)."""
    median_total: dict[str, float] = {}
    median_slots: dict[tuple[str, tuple[str, ...]], list[float]] = {}
    for weekday in {weekday_key(d) for d, *_ in days}:
        same = [(slots, counts) for d, slots, counts, _, status in days
                if status in ("normal", "after_holiday") and weekday_key(d) == weekday]
        if not same:
            continue
        median_total[weekday] = statistics.median(sum(map(sum, c.values())) for _, c in same)
        groups: dict[tuple[str, ...], list[list[int]]] = {}
        for slots, counts in same:
            groups.setdefault(tuple(s.key for s in slots), []).append(
                [sum(c[i] for c in counts.values()) for i in range(len(slots))])
        for keys, rows in groups.items():
            median_slots[(weekday, keys)] = [statistics.median(col) for col in zip(*rows)]
    result = []
    for day, slots, counts, seconds, status in days:
        total = sum(map(sum, counts.values()))
        note = ""
        weekday = weekday_key(day)
        if status in USABLE and weekday in median_total:
            expected_slots = median_slots.get((weekday, tuple(s.key for s in slots)))
            gap = _longest_gap(slots, seconds, expected_slots, rules.outage_min_s) if expected_slots else None
            if total < rules.low_volume_share * median_total[weekday]:
                status = "low_volume"
                note = (f"{total} phiếu, dưới {rules.low_volume_share:.0%} trung vị các ngày {WEEKDAY_NAMES[weekday]} "
                        f"({median_total[weekday]:g})")
            elif gap and gap[2] >= rules.outage_expected:
                status = "outage"
                note = f"không có phiếu nào {hhmm(gap[0])}–{hhmm(gap[1])} (dự kiến {gap[2]:.0f} phiếu)"
        frozen = {slug: tuple(c) for slug, c in counts.items()}
        result.append(DayCounts(day, slots, frozen, total, status, note))
    return result


def _longest_gap(slots: tuple[Slot, ...], seconds: list[float], expected: list[float], min_s: float):
    """(start, end, expected tickets) of the stretch of at least ``min_s`` without tickets where most
    were expected; None when there is no such stretch."""
    best = None
    for session in sorted({s.session for s in slots}):
        mine = [s for s in slots if s.session == session]
        lo, hi = mine[0].start_s, mine[-1].end_s
        inside = [t for t in seconds if lo <= t < hi]
        for start, end in zip([lo, *inside], [*inside, hi]):
            if end - start < min_s:
                continue
            mass = sum(expected[s.index] * max(0.0, min(end, s.end_s) - max(start, s.start_s)) / s.length_s
                       for s in mine)
            if best is None or mass > best[2]:
                best = (start, end, mass)
    return best


def _nearest_rank(ordered: list[float], p: float) -> float:
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def _fit(values: list[float]) -> tuple[float, float, float]:
    """(mean, mu, sigma) with sigma the sample standard deviation of the logs."""
    logs = [math.log(v) for v in values]
    mu = statistics.fmean(logs)
    sigma = statistics.stdev(logs) if len(logs) > 1 else 0.55
    return statistics.fmean(values), mu, sigma


def _services(site: Site, tickets: list[Mapping[str, Any]], rules: CleaningRules) -> dict[str, ServiceStats]:
    served: dict[str, list[float]] = {a.slug: [] for a in site.agencies}
    no_show: dict[str, list[float]] = {a.slug: [] for a in site.agencies}
    for t in tickets:
        agency, called, done = t.get("agency"), t.get("called_at"), t.get("done_at")
        if agency not in served or called is None or done is None:
            continue
        seconds = (done - called) / 1000
        if t.get("status") == "done" and rules.min_service_s <= seconds <= rules.max_service_s:
            served[agency].append(seconds)
        elif t.get("status") == "no_show" and 0 <= seconds <= 3600:
            no_show[agency].append(seconds)
    everything = [v for values in served.values() for v in values]
    all_no_show = [v for values in no_show.values() for v in values]
    if everything:
        site_mean, site_mu, site_sigma = _fit(everything)
    else:
        site_mean, site_sigma = DEFAULT_SERVICE_S, 0.55
        site_mu = math.log(site_mean) - site_sigma ** 2 / 2
    site_ns_share = len(all_no_show) / (len(all_no_show) + len(everything)) if everything or all_no_show else 0.05
    site_ns_s = statistics.fmean(all_no_show) if all_no_show else 110.0
    k = rules.service_prior_n
    result = {}
    for slug, values in served.items():
        n = len(values)
        mean, mu, sigma = _fit(values) if n else (site_mean, site_mu, site_sigma)
        w = n / (n + k) if n >= 2 else 0.0
        ordered = sorted(values)
        quantiles = {f"p{p}": _nearest_rank(ordered, p) for p in (10, 25, 50, 75, 90)} if ordered else {}
        shows = len(no_show[slug])
        share = (shows + k * site_ns_share) / (shows + n + k)
        result[slug] = ServiceStats(
            slug, n, w * mean + (1 - w) * site_mean, quantiles, w * mu + (1 - w) * site_mu,
            w * sigma + (1 - w) * site_sigma, share,
            statistics.fmean(no_show[slug]) if shows else site_ns_s, pooled=n < k)
    return result
