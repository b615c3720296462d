"""The pure core of the simulator: the site as the public API describes it, the day's arrival curve,
and the plan of what every actor does. No I/O and no clock here, so a plan can be compared in tests.

Determinism: every actor has its own ``random.Random`` derived from the seed and the actor's name
(``arrivals:<day>:<agency>``, ``officer:<counter>``, ``manager``). The k-th ticket a counter calls gets the
k-th decision of that counter's plan whatever ticket it turns out to be, so timing changes which citizen
meets which decision but never the decisions themselves.

Simulated time ``tau`` counts seconds of *receiving* time from the first session's opening: the lunch
break is skipped, so 07:00–10:30 and 13:00–16:30 make a 7-hour (25,200 s) day.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Layout", "AgencyInfo", "CounterInfo", "Arrival", "Decision", "OfficerPlan", "Plan",
    "Curve", "actor_rng", "intensity", "iter_arrivals", "plan_arrivals", "pick_counters", "served_agencies",
    "mean_service_s", "transfer_target", "build_plan", "DEFAULT_SESSIONS", "OUTCOMES", "PRIORITIES",
]

#: Receiving hours when the site publishes none: Cần Thơ's 07:00–10:30 and 13:00–16:30 (CENTER.md).
DEFAULT_SESSIONS = ((7 * 3600, 10 * 3600 + 1800), (13 * 3600, 16 * 3600 + 1800))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Relative arrival intensity over one session, as (position 0..1 in the session, weight). People queue
#: before opening and the morning peaks around 08:15–08:45; afternoons are quieter and fade before closing.
MORNING_PROFILE = ((0.0, 0.8), (0.12, 1.3), (0.3, 1.65), (0.45, 1.6), (0.65, 1.25), (0.85, 0.85), (1.0, 0.5))
AFTERNOON_PROFILE = ((0.0, 0.55), (0.15, 0.9), (0.35, 1.0), (0.6, 0.85), (0.85, 0.55), (1.0, 0.3))

PRIORITIES = (("elderly", 0.06), ("disabled", 0.012), ("pregnant", 0.012), ("merit", 0.008))
OUTCOMES = (("received", 0.62), ("resolved", 0.2), ("returned", 0.08), ("guided", 0.1))
RATINGS = ((3, 0.78), (2, 0.17), (1, 0.05))

#: Officer behaviour: shares of called tickets, and durations in simulated seconds.
P_NO_SHOW = 0.05          # the citizen does not come (recalled first, usually once)
P_TRANSFER = 0.03         # sent to another agency ("một cửa liên thông")
P_RATED = 0.55            # the citizen rates the service on the tablet afterwards
P_BREAK = 0.025           # the officer pauses the counter after this ticket
SERVICE_SIGMA = 0.55      # lognormal spread of service times (median × e^N(0, σ))
BREAK_S = (300.0, 900.0)
RECALL_GAP_S = (30.0, 75.0)
RATING_AFTER_S = (20.0, 120.0)
TRANSFER_SHARE = 0.35     # a transfer takes this share of a normal service (checking, explaining)


@dataclass(frozen=True)
class AgencyInfo:
    slug: str
    floor: int
    procedures: int


@dataclass(frozen=True)
class CounterInfo:
    id: str
    floor: int
    agencies: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """A site as ``GET /api/v1/sites/{site}`` describes it; sessions in seconds after midnight."""

    slug: str
    agencies: tuple[AgencyInfo, ...]
    counters: tuple[CounterInfo, ...]
    sessions: tuple[tuple[int, int], ...] = DEFAULT_SESSIONS
    name: str = ""

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "Layout":
        agencies = tuple(AgencyInfo(a["slug"], int(a.get("floor", 0)), int(a.get("procedures") or 0))
                         for a in data["agencies"])
        counters = tuple(CounterInfo(str(c["id"]), int(c.get("floor", 0)), tuple(c.get("agencies") or ()))
                         for c in data["counters"])
        return cls(data["slug"], agencies, counters, _sessions(data.get("hours") or {}), data.get("name", ""))

    @classmethod
    def from_site(cls, site: Any) -> "Layout":
        """The same from a loaded ``config.Site`` (tests, and the demo before its server answers)."""
        hours = {day: [f"{s:%H:%M}-{e:%H:%M}" for s, e in spans] for day, spans in site.hours.items()}
        return cls.from_api({
            "slug": site.slug, "name": site.name, "hours": hours,
            "agencies": [{"slug": a.slug, "floor": a.floor, "procedures": a.procedures} for a in site.agencies],
            "counters": [{"id": c.id, "floor": c.floor, "agencies": list(c.agencies)} for c in site.counters]})

    @property
    def open_s(self) -> int:
        """Receiving seconds in a day (the lunch break left out)."""
        return sum(end - start for start, end in self.sessions)

    def clock_of(self, tau: float) -> str:
        """The time of day ``HH:MM`` that simulated receiving time ``tau`` stands for (days wrap)."""
        tau = tau % self.open_s
        for start, end in self.sessions:
            if tau < end - start:
                seconds = int(start + tau)
                return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
            tau -= end - start
        end = self.sessions[-1][1]  # pragma: no cover - tau < open_s
        return f"{end // 3600:02d}:{end % 3600 // 60:02d}"

    def counter(self, counter_id: str) -> CounterInfo:
        for counter in self.counters:
            if counter.id == counter_id:
                return counter
        raise KeyError(f"counter '{counter_id}' is not configured for site '{self.slug}'")


def _sessions(hours: Mapping[str, Iterable[str]]) -> tuple[tuple[int, int], ...]:
    """The first configured weekday's sessions (``"07:00-10:30"``), or the default ones."""
    for day in WEEKDAYS:
        spans = list(hours.get(day) or ())
        if spans:
            sessions = []
            for span in spans:
                start, end = (_seconds(part) for part in span.replace("–", "-").split("-"))
                sessions.append((start, end))
            return tuple(sessions)
    return DEFAULT_SESSIONS


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60


def actor_rng(seed: int, actor: str) -> random.Random:
    """The random stream of one actor: the same for the same seed and name, in any process."""
    return random.Random(f"qserver-sim:{seed}:{actor}")


def _interp(profile: tuple[tuple[float, float], ...], x: float) -> float:
    for (x0, y0), (x1, y1) in zip(profile, profile[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return profile[-1][1]


def _area(profile: tuple[tuple[float, float], ...]) -> float:
    return sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(profile, profile[1:]))


def _profile(index: int) -> tuple[tuple[float, float], ...]:
    return MORNING_PROFILE if index == 0 else AFTERNOON_PROFILE


@dataclass(frozen=True)
class Curve:
    """The day's arrival intensity relative to its mean (which is 1), over receiving time."""

    sessions: tuple[tuple[int, int], ...]
    norm: float
    peak: float

    @classmethod
    def of(cls, layout: Layout) -> "Curve":
        sessions = tuple((end - start, i) for i, (start, end) in enumerate(layout.sessions))
        norm = sum(length * _area(_profile(i)) for length, i in sessions) / layout.open_s
        peak = max(y for _, i in sessions for _, y in _profile(i)) / norm
        return cls(sessions, norm, peak)

    def __call__(self, tau: float) -> float:
        for length, i in self.sessions:
            if tau < length:
                return _interp(_profile(i), max(tau, 0.0) / length) / self.norm
            tau -= length
        return 0.0


def intensity(layout: Layout, tau: float) -> float:
    """Arrival intensity at receiving time ``tau`` of a day, relative to the day's mean (which is 1)."""
    return Curve.of(layout)(tau)


@dataclass(frozen=True)
class Arrival:
    """A citizen who takes a ticket at simulated time ``at`` (seconds, counted over every simulated day)."""

    at: float
    agency: str
    priority: str | None = None


def _weighted(choices: tuple[tuple[Any, float], ...], u: float) -> Any:
    for value, weight in choices:
        if u < weight:
            return value
        u -= weight
    return choices[-1][0]


def _agency_arrivals(layout: Layout, slug: str, rate_per_s: float, seed: int, day: int) -> Iterator[Arrival]:
    """One agency's arrivals over a day: a non-homogeneous Poisson process drawn by thinning."""
    if rate_per_s <= 0:
        return
    rng = actor_rng(seed, f"arrivals:{day}:{slug}")
    curve = Curve.of(layout)
    peak = curve.peak
    offset = day * layout.open_s
    tau = 0.0
    while True:
        tau += rng.expovariate(rate_per_s * peak)
        if tau >= layout.open_s:
            return
        keep, u_priority = rng.random(), rng.random()
        if keep * peak < curve(tau):
            priority = _weighted((*PRIORITIES, (None, 1.0)), u_priority)
            yield Arrival(round(offset + tau, 3), slug, priority)


def iter_arrivals(layout: Layout, agencies: Iterable[str], seed: int, expected: float,
                  day: int = 0) -> Iterator[Arrival]:
    """Every arrival of simulated day ``day`` in time order. ``expected`` tickets a day are shared
    between ``agencies`` in proportion to their number of procedures."""
    chosen = [a for a in layout.agencies if a.slug in set(agencies)]
    weights = {a.slug: a.procedures for a in chosen}
    if chosen and not any(weights.values()):
        weights = {slug: 1 for slug in weights}
    total = sum(weights.values())
    streams = [_agency_arrivals(layout, slug, expected * w / total / layout.open_s, seed, day)
               for slug, w in weights.items() if w > 0]
    return heapq.merge(*streams, key=lambda a: (a.at, a.agency))


def plan_arrivals(layout: Layout, agencies: Iterable[str], seed: int, expected: float,
                  day: int = 0) -> tuple[Arrival, ...]:
    return tuple(iter_arrivals(layout, agencies, seed, expected, day))


@dataclass(frozen=True)
class Decision:
    """What an officer does with one called ticket (durations in simulated seconds)."""

    service_s: float
    outcome: str
    no_show: bool = False
    recalls: int = 0
    recall_gap_s: float = 45.0
    transfer: float | None = None     # a number in [0, 1) that picks the target agency (transfer_target)
    rating: int | None = None
    rating_after_s: float = 60.0
    break_s: float = 0.0


@dataclass
class OfficerPlan:
    """The decisions of one counter's officer, drawn lazily in order from the counter's own stream."""

    seed: int
    counter: str
    mean_service_s: float
    _rng: random.Random = field(init=False, repr=False)
    _drawn: list[Decision] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = actor_rng(self.seed, f"officer:{self.counter}")

    def decision(self, k: int) -> Decision:
        """The decision for the k-th ticket this counter calls (from 0)."""
        while len(self._drawn) <= k:
            self._drawn.append(self._draw())
        return self._drawn[k]

    def first(self, n: int) -> tuple[Decision, ...]:
        return tuple(self.decision(k) for k in range(n))

    def _draw(self) -> Decision:
        r = self._rng
        median = self.mean_service_s / math.exp(SERVICE_SIGMA ** 2 / 2)
        service = min(max(median * math.exp(r.gauss(0.0, SERVICE_SIGMA)), 0.2 * median), 4.0 * median)
        # Always draw the same values, whichever branch they feed, so the stream stays aligned.
        u_no_show, u_recalls, u_transfer, target, u_outcome, u_rated, u_score = (r.random() for _ in range(7))
        recall_gap, rating_after = r.uniform(*RECALL_GAP_S), r.uniform(*RATING_AFTER_S)
        u_break, break_s = r.random(), r.uniform(*BREAK_S)
        no_show = u_no_show < P_NO_SHOW
        transfer = target if not no_show and u_transfer < P_TRANSFER else None
        served = not no_show and transfer is None
        return Decision(
            service_s=round(service, 1), outcome=_weighted(OUTCOMES, u_outcome), no_show=no_show,
            recalls=(0 if u_recalls < 0.1 else 1 if u_recalls < 0.8 else 2) if no_show else 0,
            recall_gap_s=round(recall_gap, 1), transfer=transfer,
            rating=_weighted(RATINGS, u_score) if served and u_rated < P_RATED else None,
            rating_after_s=round(rating_after, 1), break_s=round(break_s, 1) if u_break < P_BREAK else 0.0)


def transfer_target(u: float, agencies: Iterable[str], current: str) -> str | None:
    """The agency a transfer decision ``u`` sends a ticket of ``current`` to, among ``agencies``."""
    others = [slug for slug in agencies if slug != current]
    return others[int(u * len(others))] if others else None


def pick_counters(layout: Layout, n: int, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """``n`` counters spread over agencies: the first counter of every agency, then the second ones ..."""
    excluded = set(exclude)
    groups: dict[str, list[str]] = {}
    for counter in layout.counters:
        if counter.id not in excluded and counter.agencies:
            groups.setdefault(counter.agencies[0], []).append(counter.id)
    order = [ids[rank] for rank in range(max(map(len, groups.values()), default=0))
             for ids in groups.values() if rank < len(ids)]
    return tuple(order[:max(n, 0)])


def served_agencies(layout: Layout, counters: Iterable[str]) -> tuple[str, ...]:
    """The agencies (in layout order) that at least one of ``counters`` serves by configuration."""
    served = {slug for cid in counters for slug in layout.counter(cid).agencies}
    return tuple(a.slug for a in layout.agencies if a.slug in served)


def mean_service_s(layout: Layout, counters: int, expected: float, utilisation: float = 0.85) -> float:
    """The mean service time (simulated s) that keeps ``counters`` busy ``utilisation`` of the day when
    ``expected`` tickets come; a real center's ~13 min for 900 tickets at 34 counters."""
    return utilisation * max(counters, 1) * layout.open_s / max(expected, 1.0)


@dataclass(frozen=True)
class Plan:
    """What the actors of a simulation will do: the arrivals of its first days and each officer's
    first decisions. Equal for equal seeds and parameters."""

    arrivals: tuple[Arrival, ...]
    officers: dict[str, tuple[Decision, ...]]


def build_plan(layout: Layout, counters: Iterable[str], seed: int, expected: float, *, days: int = 1,
               decisions: int = 50, utilisation: float = 0.85) -> Plan:
    counters = tuple(counters)
    agencies = served_agencies(layout, counters)
    mean = mean_service_s(layout, len(counters), expected, utilisation)
    arrivals = tuple(a for day in range(days) for a in iter_arrivals(layout, agencies, seed, expected, day))
    return Plan(arrivals, {c: OfficerPlan(seed, c, mean).first(decisions) for c in counters})
