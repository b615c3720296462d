"""Counter plans: for each slot, how many counters each agency needs and which concrete counters serve it.

1. **Load.** The load an agency puts on its counters lags its arrivals by the service time: the modified
   offered load ``m(t) = Σ_j rate_j · ∫ P(S > u) du`` over the part of each earlier slot ``j`` that is
   still being served at ``t`` (Jennings, Mandelbaum, Massey & Whitt, 1996), with S the agency's counter
   time (a lognormal with the effective mean and variation, no-shows included). The slot's load is the
   largest ``m(t)`` at ``points`` inside it, turned back into an arrival rate ``m / mean``. What a slot
   short of counters could not serve is carried to the next slot as a fluid backlog.
2. **Need.** The fewest counters whose M/G/c service level (:mod:`.queueing`) reaches ``target_share``
   within ``target_wait_s``; a single-slot dip between two higher needs is filled (``fill_dips``: an
   officer does not leave for 30 minutes).
3. **Riders.** An agency needing one counter may instead *ride* on a counter of another agency that may
   serve both (``site.counters[].agencies``), when the pooled queue still meets the target with the
   host's counters, for the host and for the rider (:func:`.queueing.rider_level`: the rider also waits
   for that one counter to finish): the counter serves ``(host, rider)`` like any multi-agency counter
   (oldest ticket first).
4. **Counters.** Each needed counter is a *unit* (an agency, maybe with a rider) matched to a concrete
   counter that may serve every agency of the unit (maximum bipartite matching by augmenting paths),
   preferring the counter that served the same unit in the previous slot, then counters whose own (first)
   agency it is, then counters with fewer agencies, then config order.
5. **Limits.** When the officers on duty or the eligible counters do not cover every need, every agency
   with citizens first gets one counter, then counters are handed out one at a time to the agency where
   they add the most expected tickets served within target (looking ahead over the counters an unstable
   queue needs before it gains); ``short`` says who lacks, and every open counter that may serve a short
   agency also serves it, after its own (pooling, as a configured shared desk does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from config import Site

from ._allocate import allocate
from .forecast import DayForecast
from .queueing import lognormal_params, mean_capped, servers_needed, service_level
from .simulate import ServiceModel, schedule_of
from .slots import Slot

__all__ = ["PlanSettings", "SlotPlan", "DayPlan", "plan_day", "plan_days", "fixed_plan", "config_plan",
           "critical_rates", "configured_eligibility", "any_eligibility"]

Layout = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class PlanSettings:
    target_share: float = 0.8
    target_wait_s: int | None = None
    officers: int | Sequence[int] | None = None
    eligibility: Mapping[str, tuple[str, ...]] | None = None
    riders: bool = True
    fill_dips: bool = True
    points: tuple[float, ...] = (1 / 6, 1 / 2, 5 / 6)
    margin: float = 0.0

    def wait_s(self, site: Site) -> int:
        return site.target_wait_s if self.target_wait_s is None else self.target_wait_s


@dataclass(frozen=True)
class SlotPlan:
    slot: Slot
    layout: Layout
    need: Mapping[str, int]
    service_level: Mapping[str, float]
    rate_per_h: Mapping[str, float]
    short: Mapping[str, int] = field(default_factory=dict)

    def counters_of(self, agency: str) -> list[str]:
        return [c for c, agencies in self.layout.items() if agency in agencies]


@dataclass(frozen=True)
class DayPlan:
    site: Site
    day: dt.date
    kind: str
    slots: tuple[SlotPlan, ...]
    target_wait_s: int
    target_share: float

    @property
    def counter_hours(self) -> float:
        return sum(len(s.layout) * s.slot.hours for s in self.slots)

    def layouts(self) -> list[Layout]:
        return [s.layout for s in self.slots]

    def schedule(self) -> list:
        return schedule_of([s.slot for s in self.slots], self.layouts())


def configured_eligibility(site: Site) -> dict[str, tuple[str, ...]]:
    return {c.id: tuple(c.agencies) for c in site.counters}


def any_eligibility(site: Site) -> dict[str, tuple[str, ...]]:
    """Every counter may serve every agency (cross-trained officers; what the reassignment allows)."""
    slugs = tuple(a.slug for a in site.agencies)
    return {c.id: tuple(dict.fromkeys((*c.agencies, *slugs))) for c in site.counters}


def critical_rates(forecast: DayForecast, services: Mapping[str, ServiceModel],
                   points: Sequence[float] = PlanSettings.points) -> dict[str, list[float]]:
    """Per agency and slot, the arrival rate (per s) whose stationary load equals the slot's peak
    modified offered load (see the module docstring)."""
    result = {}
    for slug, counts in forecast.expected.items():
        model = services[slug]
        mean = model.effective_mean_s
        mu, sigma = lognormal_params(mean, model.effective_cv2)
        rates = [n / s.length_s for n, s in zip(counts, forecast.slots)]
        row = []
        for slot in forecast.slots:
            best = 0.0
            for share in points:
                t = slot.start_s + share * slot.length_s
                load = 0.0
                for other, rate in zip(forecast.slots, rates):
                    if rate <= 0 or other.start_s >= t:
                        continue
                    load += rate * (mean_capped(t - other.start_s, mu, sigma) - mean_capped(t - other.end_s, mu, sigma))
                best = max(best, load)
            row.append(best / mean)
        result[slug] = row
    return result


def _fill_dips(needs: list[int], slots: Sequence[Slot]) -> list[int]:
    result = list(needs)
    for i in range(1, len(slots) - 1):
        if slots[i - 1].session == slots[i].session == slots[i + 1].session:
            low = min(result[i - 1], needs[i + 1])
            if low > result[i]:
                result[i] = low
    return result


def _capacity(layout: Layout, rates: Mapping[str, float], services: Mapping[str, ServiceModel],
              seconds: float) -> dict[str, float]:
    """Tickets each agency's counters can serve in ``seconds``; a shared counter's time is split by load."""
    result: dict[str, float] = {}
    for agencies in layout.values():
        loads = {a: rates.get(a, 0.0) * services[a].effective_mean_s for a in agencies}
        total = sum(loads.values())
        for a in agencies:
            share = loads[a] / total if total > 0 else 1 / len(agencies)
            result[a] = result.get(a, 0.0) + share * seconds / services[a].effective_mean_s
    return result


def _slot_plan(site: Site, slot: Slot, rates: Mapping[str, float], needs: Mapping[str, int],
               services: Mapping[str, ServiceModel], settings: PlanSettings, eligibility: Mapping[str, tuple[str, ...]],
               officers: int, previous: Layout) -> SlotPlan:
    layout, levels, short = allocate(
        site, rates, needs, services, wait_s=settings.wait_s(site),
        share=min(settings.target_share + settings.margin, 0.999), riders=settings.riders, eligibility=eligibility,
        officers=officers, previous=previous)
    return SlotPlan(slot, layout, dict(needs), levels, {a: r * 3600 for a, r in rates.items()}, short)


def _officers(settings: PlanSettings, site: Site, count: int) -> list[int]:
    value = settings.officers
    if value is None:
        return [len(site.counters)] * count
    if isinstance(value, int):
        return [value] * count
    if len(value) != count:
        raise ValueError(f"officers has {len(value)} values for {count} slots")
    return list(value)


def plan_day(site: Site, forecast: DayForecast, services: Mapping[str, ServiceModel],
             settings: PlanSettings = PlanSettings(), *, previous: Layout | None = None) -> DayPlan:
    """The counter plan of one forecast day."""
    eligibility = settings.eligibility or configured_eligibility(site)
    wait_s, share = settings.wait_s(site), min(settings.target_share + settings.margin, 0.999)
    rates = critical_rates(forecast, services, settings.points)
    needs = {}
    for slug, row in rates.items():
        model = services[slug]
        raw = [servers_needed(r, model.effective_mean_s, wait_s, share, model.effective_cv2) if r * 60 > 1e-4 else 0
               for r in row]
        needs[slug] = _fill_dips(raw, forecast.slots) if settings.fill_dips else raw
    officers = _officers(settings, site, len(forecast.slots))
    plans, layout = [], dict(previous or {})
    backlog = dict.fromkeys(rates, 0.0)
    slots = forecast.slots
    for i, slot in enumerate(slots):
        rate_now = {a: r[i] + backlog[a] / slot.length_s for a, r in rates.items()}
        need_now = {}
        for slug, row in needs.items():
            model = services[slug]
            extra = servers_needed(rate_now[slug], model.effective_mean_s, wait_s, share, model.effective_cv2) \
                if backlog[slug] > 0.5 else 0
            need_now[slug] = max(row[i], extra)
        plan = _slot_plan(site, slot, rate_now, need_now, services, settings, eligibility, officers[i], layout)
        plans.append(plan)
        layout = dict(plan.layout)
        # Fluid carry-over: what a short slot could not serve is still waiting at the next one (a lunch
        # break is served by the counters of the session's last slot).
        until = slots[i + 1].start_s if i + 1 < len(slots) else slot.end_s
        capacity = _capacity(plan.layout, rate_now, services, until - slot.start_s)
        backlog = {a: max(0.0, backlog[a] + forecast.expected[a][i] - capacity.get(a, 0.0)) for a in rates}
    return DayPlan(site, forecast.day, "plan", tuple(plans), wait_s, settings.target_share)


def plan_days(site: Site, forecasts: Sequence[DayForecast], services: Mapping[str, ServiceModel],
              settings: PlanSettings = PlanSettings()) -> list[DayPlan]:
    return [plan_day(site, f, services, settings) for f in forecasts]


def fixed_plan(site: Site, forecast: DayForecast, services: Mapping[str, ServiceModel],
               settings: PlanSettings = PlanSettings()) -> DayPlan:
    """The cheapest layout kept all day that meets the target in every slot by the model: each agency
    staffed for its own peak (riders allowed), the same counters from opening to closing."""
    eligibility = settings.eligibility or configured_eligibility(site)
    wait_s, share = settings.wait_s(site), min(settings.target_share + settings.margin, 0.999)
    rates = critical_rates(forecast, services, settings.points)
    peak = {slug: max(row, default=0.0) for slug, row in rates.items()}
    needs = {slug: servers_needed(r, services[slug].effective_mean_s, wait_s, share, services[slug].effective_cv2)
             if r * 60 > 1e-4 else 0 for slug, r in peak.items()}
    officers = min(_officers(settings, site, len(forecast.slots)), default=0)
    one = _slot_plan(site, forecast.slots[0], peak, needs, services, settings, eligibility, officers, {}) \
        if forecast.slots else None
    slots = tuple(SlotPlan(s, one.layout, one.need, one.service_level, one.rate_per_h, one.short)
                  for s in forecast.slots)
    return DayPlan(site, forecast.day, "fixed", slots, wait_s, settings.target_share)


def config_plan(site: Site, forecast: DayForecast, services: Mapping[str, ServiceModel],
                settings: PlanSettings = PlanSettings()) -> DayPlan:
    """Today's practice: every configured counter open all day with its configured agencies. Its model
    service level counts each counter for its first agency (the simulator plays the real sharing)."""
    wait_s = settings.wait_s(site)
    layout = configured_eligibility(site)
    rates = critical_rates(forecast, services, settings.points)
    own = {a.slug: sum(1 for c in site.counters if c.agencies and c.agencies[0] == a.slug) for a in site.agencies}
    slots = []
    for i, slot in enumerate(forecast.slots):
        levels = {slug: service_level(own.get(slug, 0), row[i], services[slug].effective_mean_s, wait_s,
                                      services[slug].effective_cv2) for slug, row in rates.items()}
        slots.append(SlotPlan(slot, layout, dict(own), levels, {a: r[i] * 3600 for a, r in rates.items()}))
    return DayPlan(site, forecast.day, "config", tuple(slots), wait_s, settings.target_share)
