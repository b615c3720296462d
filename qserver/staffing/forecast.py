"""Forecast of a coming day: expected tickets per agency per slot.

Method (``docs/staffing.md`` says the same for managers). From the usable days before the forecast's
origin (``profiles``: ordinary days, at most ``window_days`` back, each weighted ``0.5 ** (age / half_life)``):

    expected(agency, slot) = level(agency) × weekday(day) × trend(day) × after_holiday(day) × shape(agency, slot)

- ``weekday``: the site's mean daily tickets on that weekday over its mean on all days, shrunk toward the
  weekday's share of opening hours with the weight of ``weekday_prior_days`` days.
- ``level``: the weighted mean of the agency's daily tickets divided by their weekday factor.
- ``trend``: a weighted least-squares line through log(site tickets / weekday factor) against the date,
  read at the forecast day relative to the window's weighted mean date; capped at ±``trend_cap``, and 1
  with fewer than ``trend_min_days`` days.
- ``after_holiday``: on the first receiving day after a holiday, the geometric mean of past such days'
  actual / predicted-without-it, shrunk toward ``after_holiday_prior`` with weight ``after_holiday_weight``.
- ``shape``: the agency's share of its day in each slot over the days with the same slots, shrunk toward
  the whole site's shape with the weight of ``shape_prior_tickets`` tickets (a small agency borrows the
  site's curve; a big one keeps its own).

:func:`backtest` replays this over past days (each forecast made only from the days before it) and reports
WAPE = Σ|forecast − actual| / Σ actual per day, per slot and overall, the daily total's absolute percentage
error, and the Poisson floor: the WAPE a forecast equal to the true mean would still have, since counts of a
Poisson process scatter around their mean (E|X − λ| = 2 e^-λ λ^(⌊λ⌋+1) / ⌊λ⌋!).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .exceptions import NoHistory
from .profiles import DayCounts, Profiles
from .slots import Slot, after_holiday, day_slots, open_seconds, weekday_key

__all__ = ["ForecastSettings", "DayForecast", "forecast_day", "forecast_days", "backtest", "poisson_mad", "nowcast"]


@dataclass(frozen=True)
class ForecastSettings:
    window_days: int = 56
    half_life_days: float = 28.0
    weekday_prior_days: float = 2.0
    shape_prior_tickets: float = 150.0
    trend_min_days: int = 10
    trend_cap: float = 0.3
    after_holiday_prior: float = 1.0
    after_holiday_weight: float = 0.5
    after_holiday_window_days: int = 365


@dataclass(frozen=True)
class DayForecast:
    """Expected tickets per agency per slot of one day (``expected[agency][slot index]``)."""

    site: str
    day: dt.date
    slots: tuple[Slot, ...]
    expected: Mapping[str, tuple[float, ...]]
    factors: Mapping[str, float] = field(default_factory=dict)
    after_holiday: bool = False

    @property
    def total(self) -> float:
        return sum(map(sum, self.expected.values()))

    def slot_total(self, index: int) -> float:
        return sum(row[index] for row in self.expected.values())

    def scaled(self, multiplier: float, agencies: Sequence[str] | None = None,
               slots: Sequence[int] | None = None) -> "DayForecast":
        """The forecast with some agencies' (default all) slots (default all) multiplied (a rush)."""
        chosen = set(agencies) if agencies is not None else None
        picked = set(slots) if slots is not None else None
        expected = {slug: tuple(v * multiplier if (chosen is None or slug in chosen)
                                and (picked is None or i in picked) else v for i, v in enumerate(row))
                    for slug, row in self.expected.items()}
        return replace(self, expected=expected)

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "day": self.day.isoformat(), "after_holiday": self.after_holiday,
                "slots": [s.key for s in self.slots],
                "factors": {k: round(v, 4) for k, v in self.factors.items()},
                "total": round(self.total, 1),
                "agencies": {slug: [round(v, 2) for v in row] for slug, row in self.expected.items()}}


def _weights(days: list[DayCounts], origin: dt.date, half_life: float) -> list[float]:
    return [0.5 ** ((origin - d.day).days / half_life) for d in days]


def _weekday_factors(days: list[DayCounts], weights: list[float], prior_days: float) -> tuple[dict[str, float], float]:
    """weekday → factor, and the mean opening seconds the prior compares with."""
    overall = sum(w * d.total for d, w in zip(days, weights)) / sum(weights)
    mean_open = sum(w * open_seconds(d.slots) for d, w in zip(days, weights)) / sum(weights)
    sums: dict[str, list[float]] = {}
    for d, w in zip(days, weights):
        entry = sums.setdefault(weekday_key(d.day), [0.0, 0.0, 0.0, 0.0])
        entry[0] += w * d.total
        entry[1] += w
        entry[2] += 1
        entry[3] += w * open_seconds(d.slots)
    factors = {}
    for weekday, (total, weight, n, seconds) in sums.items():
        raw = total / weight / overall if overall > 0 else 1.0
        prior = (seconds / weight) / mean_open if mean_open else 1.0
        factors[weekday] = (n * raw + prior_days * prior) / (n + prior_days)
    return factors, mean_open


def _fit(profiles: Profiles, origin: dt.date, settings: ForecastSettings):
    """Everything that does not depend on the forecast day, from the usable days before ``origin``."""
    start = origin - dt.timedelta(days=settings.window_days)
    days = [d for d in profiles.usable_days(before=origin) if d.status == "normal" and d.day >= start]
    if not days:
        raise NoHistory(f"Chưa có ngày làm việc bình thường nào trước {origin:%d/%m/%Y} để dự báo. "
                        f"/ no ordinary day before {origin.isoformat()} to forecast from")
    weights = _weights(days, origin, settings.half_life_days)
    weekday, mean_open = _weekday_factors(days, weights, settings.weekday_prior_days)
    total_w = sum(weights)
    levels = {slug: sum(w * sum(d.counts[slug]) / weekday[weekday_key(d.day)] for d, w in zip(days, weights)) / total_w
              for slug in profiles.site.agency_by_slug}
    x_mean = sum(w * d.day.toordinal() for d, w in zip(days, weights)) / total_w
    slope = 0.0
    if len(days) >= settings.trend_min_days:
        points = [(d.day.toordinal() - x_mean, math.log(d.total / weekday[weekday_key(d.day)]), w)
                  for d, w in zip(days, weights) if d.total > 0]
        y_mean = sum(y * w for _, y, w in points) / sum(w for *_, w in points)
        sxx = sum(w * x * x for x, _, w in points)
        slope = sum(w * x * (y - y_mean) for x, y, w in points) / sxx if sxx > 0 else 0.0
    return days, weights, weekday, mean_open, levels, x_mean, slope


def _trend(settings: ForecastSettings, slope: float, x_mean: float, day: dt.date) -> float:
    cap = math.log1p(settings.trend_cap)
    return math.exp(max(-cap, min(cap, slope * (day.toordinal() - x_mean))))


def _after_holiday_factor(profiles: Profiles, origin: dt.date, settings: ForecastSettings, fitted) -> float:
    days, _, weekday, mean_open, levels, x_mean, slope = fitted
    level = sum(levels.values())
    start = origin - dt.timedelta(days=settings.after_holiday_window_days)
    logs = []
    for d in profiles.usable_days(before=origin):
        if d.status == "after_holiday" and d.day >= start and d.total > 0:
            factor = weekday.get(weekday_key(d.day), open_seconds(d.slots) / mean_open)
            predicted = level * factor * _trend(settings, slope, x_mean, d.day)
            if predicted > 0:
                logs.append(math.log(d.total / predicted))
    weight = settings.after_holiday_weight
    prior = math.log(settings.after_holiday_prior)
    return math.exp((sum(logs) + weight * prior) / (len(logs) + weight))


def forecast_day(profiles: Profiles, day: dt.date, settings: ForecastSettings = ForecastSettings(), *,
                 origin: dt.date | None = None, _fitted=None) -> DayForecast:
    """The forecast of ``day`` from the days before ``origin`` (default: ``day``); no slots on a closed day."""
    site = profiles.site
    slots = day_slots(site, day)
    if not slots:
        return DayForecast(site.slug, day, (), {a.slug: () for a in site.agencies})
    origin = origin or day
    fitted = _fitted or _fit(profiles, origin, settings)
    days, weights, weekday, mean_open, levels, x_mean, slope = fitted
    keys = tuple(s.key for s in slots)
    w_day = weekday.get(weekday_key(day), open_seconds(slots) / mean_open)
    trend = _trend(settings, slope, x_mean, day)
    holiday = after_holiday(site, day)
    h_factor = _after_holiday_factor(profiles, origin, settings, fitted) if holiday else 1.0
    same = [(d, w) for d, w in zip(days, weights) if d.keys == keys] or list(zip(days, weights))
    site_shape = dict.fromkeys(keys, 0.0)
    agency_shape = {slug: dict.fromkeys(keys, 0.0) for slug in levels}
    for d, w in same:
        for slug, counts in d.counts.items():
            row = agency_shape[slug]
            for slot, n in zip(d.slots, counts):
                if slot.key in row:
                    row[slot.key] += w * n
                    site_shape[slot.key] += w * n
    site_sum = sum(site_shape.values())
    if site_sum > 0:
        site_share = {k: v / site_sum for k, v in site_shape.items()}
    else:
        site_share = {s.key: s.length_s / open_seconds(slots) for s in slots}
    k = settings.shape_prior_tickets
    expected = {}
    for slug, row in agency_shape.items():
        mass = sum(row.values())
        day_level = levels[slug] * w_day * trend * h_factor
        expected[slug] = tuple(day_level * (row[key] + k * site_share[key]) / (mass + k) for key in keys)
    factors = {"weekday": w_day, "trend": trend, "after_holiday": h_factor, "level": sum(levels.values()),
               "days_used": float(len(days))}
    return DayForecast(site.slug, day, slots, expected, factors, holiday)


def forecast_days(profiles: Profiles, first: dt.date, count: int, settings: ForecastSettings = ForecastSettings(),
                  *, origin: dt.date | None = None) -> list[DayForecast]:
    """Forecasts of the ``count`` receiving days from ``first`` on, all from the same origin (default ``first``)."""
    origin = origin or first
    fitted = _fit(profiles, origin, settings)
    result, day = [], first
    while len(result) < count:
        forecast = forecast_day(profiles, day, settings, origin=origin, _fitted=fitted)
        if forecast.slots:
            result.append(forecast)
        day += dt.timedelta(days=1)
        if (day - first).days > 7 * count + 30:
            break
    return result


def nowcast(forecast: DayForecast, issued_so_far: Mapping[str, int], now_s: float, *,
            prior_tickets: float = 20.0, limits: tuple[float, float] = (0.5, 2.0)) -> DayForecast:
    """The rest of today scaled by how today is going: the site's tickets so far over the forecast's
    expectation so far, both with ``prior_tickets`` added (one busy half-hour does not double the
    afternoon), clipped to ``limits``. Slots already over are left as they were."""
    expected = 0.0
    for slug, row in forecast.expected.items():
        for slot, n in zip(forecast.slots, row):
            if slot.end_s <= now_s:
                expected += n
            elif slot.start_s < now_s:
                expected += n * (now_s - slot.start_s) / slot.length_s
    actual = sum(issued_so_far.values())
    ratio = min(max((actual + prior_tickets) / (expected + prior_tickets), limits[0]), limits[1])
    future = [s.index for s in forecast.slots if s.end_s > now_s]
    scaled = forecast.scaled(ratio, slots=future)
    return replace(scaled, factors={**forecast.factors, "today": ratio})


def poisson_mad(mean: float) -> float:
    """E|X − mean| for X ~ Poisson(mean)."""
    if mean <= 0:
        return 0.0
    k = math.floor(mean)
    return math.exp(math.log(2) - mean + (k + 1) * math.log(mean) - math.lgamma(k + 1))


def backtest(profiles: Profiles, settings: ForecastSettings = ForecastSettings(), *, first: dt.date | None = None,
             last: dt.date | None = None, min_days: int = 10) -> dict[str, Any]:
    """Forecast every usable past day from the days before it (once ``min_days`` ordinary days exist)."""
    days = [d for d in profiles.usable_days() if (first is None or d.day >= first) and (last is None or d.day <= last)]
    rows, per_slot = [], {}
    sums = {"abs": 0.0, "actual": 0.0, "floor": 0.0, "slot_abs": 0.0, "slot_floor": 0.0, "ape": [], "ape_normal": []}
    for d in days:
        if len([x for x in profiles.usable_days(before=d.day) if x.status == "normal"]) < min_days:
            continue
        f = forecast_day(profiles, d.day, settings)
        if tuple(s.key for s in f.slots) != d.keys:
            continue
        err = floor = 0.0
        slot_abs = 0.0
        for i, slot in enumerate(d.slots):
            slot_f = slot_a = 0.0
            for slug, counts in d.counts.items():
                value = f.expected[slug][i]
                err += abs(value - counts[i])
                floor += poisson_mad(value)
                slot_f += value
                slot_a += counts[i]
            entry = per_slot.setdefault(slot.key, [0.0, 0.0, 0.0, 0.0])
            entry[0] += abs(slot_f - slot_a)
            entry[1] += slot_a
            entry[2] += poisson_mad(slot_f)
            entry[3] += 1
            slot_abs += abs(slot_f - slot_a)
            sums["slot_floor"] += poisson_mad(slot_f)
        actual = d.total
        ape = abs(f.total - actual) / actual if actual else 0.0
        rows.append({"day": d.day.isoformat(), "status": d.status, "actual": actual, "forecast": round(f.total, 1),
                     "total_ape": round(ape, 4), "wape": round(err / actual, 4) if actual else None,
                     "slot_wape": round(slot_abs / actual, 4) if actual else None,
                     "floor_wape": round(floor / actual, 4) if actual else None})
        sums["abs"] += err
        sums["actual"] += actual
        sums["floor"] += floor
        sums["slot_abs"] += slot_abs
        sums["ape"].append(ape)
        if d.status == "normal":
            sums["ape_normal"].append(ape)
    actual = sums["actual"]
    return {
        "site": profiles.site.slug, "days": rows,
        "slots": [{"slot": key, "actual": a, "wape": round(e / a, 4) if a else None,
                   "floor_wape": round(fl / a, 4) if a else None} for key, (e, a, fl, _) in sorted(per_slot.items())],
        "overall": {"days": len(rows),
                    "wape": round(sums["abs"] / actual, 4) if actual else None,
                    "floor_wape": round(sums["floor"] / actual, 4) if actual else None,
                    "slot_wape": round(sums["slot_abs"] / actual, 4) if actual else None,
                    "slot_floor_wape": round(sums["slot_floor"] / actual, 4) if actual else None,
                    "total_mape": round(sum(sums["ape"]) / len(sums["ape"]), 4) if sums["ape"] else None,
                    "total_mape_ordinary": round(sum(sums["ape_normal"]) / len(sums["ape_normal"]), 4)
                    if sums["ape_normal"] else None},
    }
