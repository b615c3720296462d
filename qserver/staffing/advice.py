"""Advice during the day: the single counter move that helps the waiting citizens most.

The projection is deterministic (the same state gives the same answer, and a move can be compared with any
other exactly): the citizens waiting now keep their place; the forecast's expected arrivals over the
``horizon_s`` come at evenly spread moments (the k-th when the expected count reaches k − ½); every ticket
takes its agency's mean counter time; a counter serving someone is busy for the expected rest of that
service (lognormal, given how long it has lasted); paused and closed counters stay so. The engine's rules
decide who is called (:func:`.simulate.run_day`).

The objective is the total waiting beyond ``target_wait_s`` of those tickets (whole milliseconds); among
equally good moves a counter on the agency's own floor comes first, then the smaller total waiting. A *move* gives one open counter a single other agency (what
``PUT /api/v1/sites/{site}/counters/{counter}/agencies`` does). Agencies linked by no counter do not
affect each other, so a move is scored by re-projecting only the groups of agencies it touches; the
result equals a full projection per move (the tests check it against that brute force).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config import Site

from .exceptions import InvalidState
from .forecast import DayForecast
from .queueing import lognormal_params, mean_remaining
from .simulate import ServiceModel, SimTicket, run_day

__all__ = ["LiveCounter", "Waiting", "LiveState", "Projection", "Move", "Advice", "project", "objective", "moves",
           "advise"]

EXTRA_S = 4 * 3600  # counters keep calling this long after the horizon; still waiting then = unserved


@dataclass(frozen=True)
class LiveCounter:
    id: str
    agencies: tuple[str, ...]
    status: str = "open"
    serving_s: float | None = None
    serving_agency: str | None = None


@dataclass(frozen=True)
class Waiting:
    agency: str
    waited_s: float
    priority: bool = False


@dataclass(frozen=True)
class LiveState:
    """The hall now: ``now_s`` in local seconds of ``day``, the counters and every waiting ticket."""

    day: dt.date
    now_s: float
    counters: tuple[LiveCounter, ...]
    waiting: tuple[Waiting, ...]

    def layout(self) -> dict[str, tuple[str, ...]]:
        return {c.id: tuple(c.agencies) for c in self.counters if c.status == "open" and c.agencies}

    @classmethod
    def from_console(cls, site: Site, console: Mapping[str, Any]) -> "LiveState":
        """From ``manager.console_state``'s answer. It lists at most 60 tickets an agency (the first to be
        called); the rest of ``waiting`` are spread evenly between the last listed one and now."""
        try:
            now_ms = int(console["now_ms"])
            moment = dt.datetime.fromtimestamp(now_ms / 1000, tz=site.tz)
            midnight = dt.datetime.combine(moment.date(), dt.time(), tzinfo=site.tz)
            now_s = (moment - midnight).total_seconds()
            counters = []
            for c in console["counters"]:
                current = c.get("current") or None
                counters.append(LiveCounter(str(c["id"]), tuple(c.get("agencies") or ()), c.get("status", "open"),
                                            c.get("serving_s") if current else None,
                                            current.get("agency") if current else None))
            waiting = []
            for agency in console["agencies"]:
                listed = agency.get("tickets") or []
                times = [(dt.datetime.fromisoformat(t["issued_at"]) - midnight).total_seconds() for t in listed]
                for t, at in zip(listed, times):
                    waiting.append(Waiting(agency["slug"], max(now_s - at, 0.0), bool(t.get("priority"))))
                missing = int(agency.get("waiting") or 0) - len(listed)
                last = max(times, default=now_s)
                for k in range(max(missing, 0)):
                    at = last + (now_s - last) * (k + 1) / (missing + 1)
                    waiting.append(Waiting(agency["slug"], max(now_s - at, 0.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidState(f"Không đọc được trạng thái quầy: {exc!r}. / cannot read the console state: {exc!r}") from exc
        return cls(moment.date(), now_s, tuple(counters), tuple(waiting))


@dataclass(frozen=True)
class Projection:
    tickets: int
    excess_ms: int
    wait_ms: int
    longest_s: float


def _arrivals(forecast: DayForecast, agency: str, start: float, end: float) -> list[float]:
    """Evenly spread expected arrivals of ``agency`` in [start, end)."""
    times, mass, k = [], 0.0, 0
    for slot, expected in zip(forecast.slots, forecast.expected.get(agency, ())):
        lo, hi = max(slot.start_s, start), min(slot.end_s, end)
        if hi <= lo or expected <= 0:
            continue
        rate = expected / slot.length_s
        after = mass + rate * (hi - lo)
        while k + 0.5 <= after:
            times.append(lo + (k + 0.5 - mass) / rate)
            k += 1
        mass = after
    return times


def project(state: LiveState, forecast: DayForecast, services: Mapping[str, ServiceModel], target_wait_s: int,
            layout: Mapping[str, tuple[str, ...]], agencies: Sequence[str], *, horizon_s: float = 3600) -> dict[str, Projection]:
    """Projected waits of the tickets of ``agencies`` (waiting now or coming within the horizon) when the
    open counters serve ``layout``; only counters serving one of ``agencies`` take part."""
    chosen = set(agencies)
    now = state.now_s
    tickets = []
    for w in state.waiting:
        if w.agency in chosen:
            tickets.append(SimTicket(w.agency, now - w.waited_s, services[w.agency].effective_mean_s, False, w.priority))
    for agency in agencies:
        mean = services[agency].effective_mean_s
        tickets.extend(SimTicket(agency, at, mean) for at in _arrivals(forecast, agency, now, now + horizon_s))
    tickets.sort(key=lambda t: t.issued_s)
    mine = {c: a for c, a in layout.items() if chosen.intersection(a)}
    busy = {}
    for c in state.counters:
        if c.id in mine and c.serving_s is not None:
            model = services.get(c.serving_agency or "") or next((services[a] for a in mine[c.id] if a in services), None)
            if model is None:
                continue
            mu, sigma = lognormal_params(model.effective_mean_s, model.effective_cv2)
            busy[c.id] = now + mean_remaining(c.serving_s, mu, sigma)
    stop = now + horizon_s + EXTRA_S
    run_day(tickets, [(now, mine)], stop_s=stop, busy_until=busy)
    result = {a: [0, 0, 0, 0.0] for a in agencies}
    for t in tickets:
        wait = t.wait_s if t.called_s is not None else stop - t.issued_s
        row = result[t.agency]
        row[0] += 1
        row[1] += max(0, round((wait - target_wait_s) * 1000))
        row[2] += round(wait * 1000)
        row[3] = max(row[3], wait)
    return {a: Projection(*row) for a, row in result.items()}


def objective(projections: Mapping[str, Projection]) -> tuple[int, int]:
    return sum(p.excess_ms for p in projections.values()), sum(p.wait_ms for p in projections.values())


def _groups(layout: Mapping[str, tuple[str, ...]], agencies: Sequence[str]) -> dict[str, frozenset[str]]:
    """agency → the set of agencies linked to it through counters that serve several."""
    parent = {a: a for a in agencies}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for served in layout.values():
        known = [a for a in served if a in parent]
        for other in known[1:]:
            parent[find(other)] = find(known[0])
    members: dict[str, set[str]] = {}
    for a in agencies:
        members.setdefault(find(a), set()).add(a)
    return {a: frozenset(members[find(a)]) for a in agencies}


@dataclass(frozen=True)
class Move:
    counter: str
    before: tuple[str, ...]
    after: tuple[str, ...]


def moves(state: LiveState, site: Site, eligibility: Mapping[str, Sequence[str]] | None = None) -> list[Move]:
    """Every single move: an open counter given one other agency (``eligibility``: counter → agencies it
    may serve; default any agency, as the reassignment endpoint allows)."""
    result = []
    for counter in state.counters:
        if counter.status != "open" or not counter.agencies:
            continue
        allowed = eligibility.get(counter.id, ()) if eligibility is not None else [a.slug for a in site.agencies]
        for agency in site.agencies:
            if agency.slug in allowed and tuple(counter.agencies) != (agency.slug,):
                result.append(Move(counter.id, tuple(counter.agencies), (agency.slug,)))
    return result


@dataclass(frozen=True)
class Advice:
    move: Move
    baseline: tuple[int, int]
    result: tuple[int, int]
    effect: Mapping[str, Mapping[str, float]]
    message: str

    @property
    def gain_s(self) -> float:
        return (self.baseline[0] - self.result[0]) / 1000


def advise(site: Site, state: LiveState, forecast: DayForecast, services: Mapping[str, ServiceModel], *,
           horizon_s: float = 3600, eligibility: Mapping[str, Sequence[str]] | None = None,
           min_gain_s: float = 300, limit: int = 1, target_wait_s: int | None = None) -> list[Advice]:
    """The best moves (at most ``limit``, best first) that cut the projected waiting beyond target by at
    least ``min_gain_s``. Moves are ranked by waiting beyond target, then a counter on the agency's own
    floor (citizens need not change floors), then total waiting, then counter and agency order."""
    target = site.target_wait_s if target_wait_s is None else target_wait_s
    slugs = [a.slug for a in site.agencies]
    unknown = {w.agency for w in state.waiting} - set(slugs)
    if unknown:
        raise InvalidState(f"Cơ quan không có trong cấu hình: {', '.join(sorted(unknown))}. / unknown agency")
    layout = state.layout()
    groups = _groups(layout, slugs)
    base: dict[frozenset[str], dict[str, Projection]] = {}
    for group in set(groups.values()):
        base[group] = project(state, forecast, services, target, layout, sorted(group), horizon_s=horizon_s)
    baseline = objective({a: p for g in base.values() for a, p in g.items()})
    scored = []
    for index, move in enumerate(moves(state, site, eligibility)):
        touched = set(groups[move.after[0]]).union(*(groups[a] for a in move.before if a in groups))
        before = [g for g in base if g <= touched]
        changed = {**layout, move.counter: move.after}
        after = project(state, forecast, services, target, changed, sorted(touched), horizon_s=horizon_s)
        old = objective({a: p for g in before for a, p in base[g].items()})
        new = objective(after)
        total = (baseline[0] - old[0] + new[0], baseline[1] - old[1] + new[1])
        other_floor = site.counter_by_id[move.counter].floor != site.agency_by_slug[move.after[0]].floor \
            if move.counter in site.counter_by_id else True
        scored.append(((total[0], other_floor, total[1]), index, move, after, total))
    scored.sort(key=lambda item: (item[0], item[1]))
    current = {a: p for g in base.values() for a, p in g.items()}
    result = []
    for _, _, move, after, total in scored:
        if len(result) >= limit or baseline[0] - total[0] < min_gain_s * 1000:
            break
        effect = {a: {"longest_wait_s": (round(current[a].longest_s), round(after[a].longest_s)),
                      "mean_wait_s": (_mean(current[a]), _mean(after[a])), "tickets": current[a].tickets}
                  for a in after if after[a].tickets}
        result.append(Advice(move, baseline, total, effect, _message(site, move, effect)))
    return result


def _mean(p: Projection) -> int:
    return round(p.wait_ms / p.tickets / 1000) if p.tickets else 0


def _minutes(seconds: float) -> int:
    return int(math.floor(seconds / 60 + 0.5))


def _message(site: Site, move: Move, effect: Mapping[str, Mapping[str, Any]]) -> str:
    names = site.agency_by_slug
    target = move.after[0]
    source = ", ".join(names[a].name for a in move.before)
    before, after = effect.get(target, {}).get("longest_wait_s", (0, 0))
    text = (f"Chuyển quầy {move.counter} từ {source} sang {names[target].name}: chờ lâu nhất dự kiến "
            f"giảm từ {_minutes(before)} xuống {_minutes(after)} phút")
    for agency in move.before:
        if agency in effect and agency != target:
            was, will = effect[agency]["longest_wait_s"]
            if _minutes(will) > _minutes(was):
                text += f"; {names[agency].name}: từ {_minutes(was)} lên {_minutes(will)} phút"
    return text
