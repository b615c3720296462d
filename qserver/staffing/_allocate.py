"""Allocation of one slot's counters: riders, the matching of units to counters, the greedy under limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from config import Site

from .queueing import rider_level, service_level
from .simulate import ServiceModel

__all__ = ["allocate", "pooled"]

Layout = Mapping[str, tuple[str, ...]]


def _residual(model: ServiceModel) -> float:
    """Mean rest of a service in progress seen at a random moment: E[S^2] / (2 E[S])."""
    return model.effective_mean_s * (1 + model.effective_cv2) / 2


def pooled(agencies: Sequence[str], rates: Mapping[str, float], services: Mapping[str, ServiceModel]):
    """(rate, mean, cv2) of one FCFS queue fed by several agencies."""
    rate = sum(rates[a] for a in agencies)
    if rate <= 0:
        m = services[agencies[0]]
        return 0.0, m.effective_mean_s, m.effective_cv2
    mean = sum(rates[a] * services[a].effective_mean_s for a in agencies) / rate
    second = sum(rates[a] * services[a].effective_mean_s ** 2 * (1 + services[a].effective_cv2) for a in agencies) / rate
    return rate, mean, second / mean ** 2 - 1


class _Matcher:
    """Units (tuples of agencies) matched to counters that may serve all their agencies."""

    def __init__(self, eligibility: Mapping[str, tuple[str, ...]], preference):
        self.eligible = {c: set(agencies) for c, agencies in eligibility.items()}
        self.preference = preference
        self.units: list[tuple[str, ...]] = []
        self.owner: dict[str, int] = {}  # counter → unit index

    def _candidates(self, unit: tuple[str, ...]) -> list[str]:
        return sorted((c for c, allowed in self.eligible.items() if allowed.issuperset(unit)),
                      key=lambda c: self.preference(c, unit))

    def _augment(self, index: int, seen: set[str]) -> bool:
        for counter in self._candidates(self.units[index]):
            if counter in seen:
                continue
            seen.add(counter)
            holder = self.owner.get(counter)
            if holder is None or self._augment(holder, seen):
                self.owner[counter] = index
                return True
        return False

    def add(self, unit: tuple[str, ...]) -> bool:
        """Place one more unit (moving earlier ones if needed); False, and nothing changed, if impossible."""
        self.units.append(unit)
        saved = dict(self.owner)
        if self._augment(len(self.units) - 1, set()):
            return True
        self.owner = saved
        self.units.pop()
        return False

    def replace(self, index: int, unit: tuple[str, ...]) -> bool:
        """Give placed unit ``index`` more agencies (a rider); False, and nothing changed, if impossible."""
        saved_owner, saved_unit = dict(self.owner), self.units[index]
        self.units[index] = unit
        self.owner = {c: i for c, i in self.owner.items() if i != index}
        if self._augment(index, set()):
            return True
        self.owner, self.units[index] = saved_owner, saved_unit
        return False

    def layout(self, order: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {c: self.units[self.owner[c]] for c in order if c in self.owner}


def allocate(site: Site, rates: Mapping[str, float], needs: Mapping[str, int], services: Mapping[str, ServiceModel],
             *, wait_s: int, share: float, riders: bool, eligibility: Mapping[str, tuple[str, ...]], officers: int,
             previous: Layout) -> tuple[dict[str, tuple[str, ...]], dict[str, float], dict[str, int]]:
    """One slot: (counter → agencies, model service level per agency, counters short per agency), from
    the arrival ``rates`` (per s) and the counters each agency ``needs`` (see ``plan.py``'s docstring)."""
    config_first = {c.id: (c.agencies[0] if c.agencies else "", len(c.agencies), i) for i, c in enumerate(site.counters)}

    def preference(counter: str, unit: tuple[str, ...]):
        first, size, index = config_first.get(counter, ("", 99, 99))
        before = previous.get(counter)
        return (0 if before == unit else 1 if before and before[0] == unit[0] else 2, first != unit[0], size, index)

    hosts: dict[str, list[str]] = {}
    rider_of: dict[str, str] = {}
    need = dict(needs)
    if riders:
        for slug in sorted((a for a, n in need.items() if n == 1), key=lambda a: rates[a]):
            if hosts.get(slug):
                continue  # a host keeps its own counter
            options = []
            for host, n_host in need.items():
                if host == slug or n_host < 1 or host in rider_of or len(hosts.get(host, [])) >= n_host:
                    continue
                if not any(host in allowed and slug in allowed for allowed in eligibility.values()):
                    continue
                group = [host, *hosts.get(host, []), slug]
                rate, mean, cv2 = pooled(group, rates, services)
                if (service_level(n_host, rate, mean, wait_s, cv2) >= share
                        and rider_level(n_host, rate, mean, wait_s, cv2, _residual(services[host])) >= share):
                    options.append((rates[host], host))
            if options:
                host = max(options)[1]
                hosts.setdefault(host, []).append(slug)
                rider_of[slug] = host
                need[slug] = 0

    def unit(slug: str, k: int) -> tuple[str, ...]:
        riders = hosts.get(slug, [])
        return (slug, riders[k]) if k < len(riders) else (slug,)

    matcher = _Matcher(eligibility, preference)
    got = dict.fromkeys(need, 0)
    order = sorted(need, key=lambda a: (sum(1 for allowed in eligibility.values() if a in allowed), a))
    if sum(need.values()) <= officers:
        pending = list(order)
        while pending:
            slug = pending.pop(0)
            while got[slug] < need[slug]:
                placed = unit(slug, got[slug])
                if matcher.add(placed):
                    got[slug] += 1
                elif len(placed) > 1:  # no counter left that serves both: the rider gets its own
                    hosts[slug].remove(placed[1])
                    del rider_of[placed[1]]
                    need[placed[1]] = 1
                    pending.append(placed[1])
                else:
                    break
    if any(got[a] < need[a] for a in need) or sum(got.values()) > officers:
        matcher, got = _Matcher(eligibility, preference), dict.fromkeys(need, 0)
        need = {a: max(n, needs[a]) for a, n in need.items()}
        rider_of = _greedy(matcher, got, need, rates, services, wait_s, officers)
        hosts = {}
        for rider, host in rider_of.items():
            hosts.setdefault(host, []).append(rider)
        chosen_riders: set[str] = set()  # riding for lack of a counter is being short
    else:
        chosen_riders = set(rider_of)
    layout = matcher.layout([c.id for c in site.counters])
    short = {a: needs[a] - got[a] for a in needs if a not in chosen_riders and got[a] < needs[a]}
    for slug in sorted(short, key=lambda a: -short[a]):
        # Share when short: every open counter that may serve the agency also serves it (after its own).
        for counter, agencies in layout.items():
            if slug in eligibility.get(counter, ()) and slug not in agencies:
                layout[counter] = (*agencies, slug)
    levels = {}
    for slug in need:
        host = rider_of.get(slug)
        if host:
            group = [host, *hosts[host]]
            rate, mean, cv2 = pooled(group, rates, services)
            levels[slug] = rider_level(got[host], rate, mean, wait_s, cv2, _residual(services[host]))
        else:
            group = [slug, *hosts.get(slug, [])]
            rate, mean, cv2 = pooled(group, rates, services)
            levels[slug] = service_level(got[slug], rate, mean, wait_s, cv2)
    return layout, levels, short


def _greedy(matcher: _Matcher, got: dict[str, int], need: Mapping[str, int], rates: Mapping[str, float],
            services: Mapping[str, ServiceModel], wait_s: int, officers: int) -> dict[str, str]:
    """Hand out counters one at a time where they add the most tickets served within target. First every
    agency with citizens gets a counter of its own, or rides on another agency's counter that may serve
    both when no counter or officer is left; returns rider → host."""
    def served(slug: str, n: int) -> float:
        model = services[slug]
        return rates[slug] * service_level(n, rates[slug], model.effective_mean_s, wait_s, model.effective_cv2)

    riders: dict[str, str] = {}
    blocked: set[str] = set()
    for slug in sorted((a for a, n in need.items() if n > 0), key=lambda a: -served(a, 1)):
        if sum(got.values()) < officers and matcher.add((slug,)):
            got[slug] = 1
            continue
        blocked.add(slug)
        for index, placed in enumerate(matcher.units):
            if len(placed) == 1 and matcher.replace(index, (placed[0], slug)):
                riders[slug] = placed[0]
                break
    while sum(got.values()) < officers:
        best = None
        for slug, n_need in need.items():
            if slug in blocked or got[slug] >= n_need:
                continue
            base = served(slug, got[slug])
            for step in range(1, n_need - got[slug] + 1):
                gain = (served(slug, got[slug] + step) - base) / step
                if best is None or gain > best[0] + 1e-12:
                    best = (gain, slug)
        if best is None:
            break
        slug = best[1]
        if matcher.add((slug,)):
            got[slug] += 1
        else:
            blocked.add(slug)
    return riders
