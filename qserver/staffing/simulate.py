"""A small discrete-event simulator of one service day: the check on every plan, and the what-if engine.

It plays the engine's rules without Redis: each agency has a queue, priority tickets first and then by
issue time; a free counter calls the oldest head among the agencies it serves (``call_next``); a counter
taken off the schedule finishes its ticket and stops; counters keep calling after a session closes until
their queues are empty (the lunch break drains the morning), and nobody is called after ``stop_s``.

Service times are drawn per ticket when the arrivals are drawn, so two runs with the same seed see the
same citizens with the same needs whatever the counters do (common random numbers: what-if differences
are the change, not the noise).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .slots import Slot

__all__ = ["ServiceModel", "SimTicket", "Schedule", "run_day", "draw_arrivals", "schedule_of", "stream"]

#: Clipping of service times as multiples of the median, as in ``qserver.simulation.model``.
CLIP = (0.2, 4.0)


def stream(seed: object, *parts: object) -> random.Random:
    """An independent, reproducible random stream for one actor of one run."""
    return random.Random(":".join(map(str, ("staffing", seed, *parts))))


@dataclass(frozen=True)
class ServiceModel:
    """Counter time of one called ticket of an agency: a lognormal service (``mean_s``, ``sigma``) for
    those who come, and ``no_show_s`` (uniform ±50 %) of recalls for the ``no_show_share`` who do not."""

    mean_s: float
    sigma: float = 0.55
    no_show_share: float = 0.0
    no_show_s: float = 110.0

    @property
    def mu(self) -> float:
        return math.log(self.mean_s) - self.sigma ** 2 / 2

    @property
    def effective_mean_s(self) -> float:
        """Mean counter time per called ticket, no-shows included."""
        p = self.no_show_share
        return (1 - p) * self.mean_s + p * self.no_show_s

    @property
    def effective_cv2(self) -> float:
        """Squared coefficient of variation of the counter time per called ticket."""
        p = self.no_show_share
        served_m2 = self.mean_s ** 2 * math.exp(self.sigma ** 2)
        no_show_m2 = self.no_show_s ** 2 * (1 + 1 / 12)
        mean = self.effective_mean_s
        return ((1 - p) * served_m2 + p * no_show_m2) / (mean * mean) - 1.0

    def draw(self, rng: random.Random) -> tuple[float, bool]:
        """(counter seconds, no-show?) of one called ticket."""
        if rng.random() < self.no_show_share:
            return self.no_show_s * (0.5 + rng.random()), True
        median = math.exp(self.mu)
        value = median * math.exp(rng.gauss(0.0, self.sigma))
        return min(max(value, CLIP[0] * median), CLIP[1] * median), False


class SimTicket:
    """A citizen in the simulation; ``called_s`` is filled in by :func:`run_day` (None: never called)."""

    __slots__ = ("agency", "issued_s", "service_s", "no_show", "priority", "called_s", "counter", "slot", "seq")

    def __init__(self, agency: str, issued_s: float, service_s: float, no_show: bool = False,
                 priority: bool = False, slot: int = -1):
        self.agency, self.issued_s, self.service_s = agency, issued_s, service_s
        self.no_show, self.priority, self.slot = no_show, priority, slot
        self.called_s: float | None = None
        self.counter: str | None = None
        self.seq = 0

    @property
    def wait_s(self) -> float | None:
        return None if self.called_s is None else self.called_s - self.issued_s


#: (from this second, the open counters and the agencies each serves, in preference order)
Schedule = Sequence[tuple[float, Mapping[str, tuple[str, ...]]]]


def draw_arrivals(slots: Sequence[Slot], expected: Mapping[str, Sequence[float]], services: Mapping[str, ServiceModel],
                  seed: object, *, priority_share: float = 0.0) -> list[SimTicket]:
    """Poisson arrivals with ``expected[agency][slot]`` tickets per slot (constant rate inside a slot)."""
    tickets: list[SimTicket] = []
    for agency, counts in expected.items():
        rng = stream(seed, "arrivals", agency)
        model = services[agency]
        for slot, mean in zip(slots, counts):
            if mean <= 0:
                continue
            rate = mean / slot.length_s
            at = slot.start_s + rng.expovariate(rate)
            while at < slot.end_s:
                service, no_show = model.draw(rng)
                tickets.append(SimTicket(agency, at, service, no_show, rng.random() < priority_share, slot.index))
                at += rng.expovariate(rate)
    tickets.sort(key=lambda t: t.issued_s)
    return tickets


def run_day(tickets: Sequence[SimTicket], schedule: Schedule, *, stop_s: float,
            busy_until: Mapping[str, float] | None = None) -> Sequence[SimTicket]:
    """Play the day: ``tickets`` sorted by issue time get ``called_s`` and ``counter``. ``busy_until``
    says which counters are still serving someone at the first schedule time, and until when."""
    for seq, ticket in enumerate(tickets):
        ticket.seq, ticket.called_s, ticket.counter = seq, None, None
    queues: dict[str, tuple[deque, deque]] = {}
    assigned: dict[str, tuple[str, ...]] = {}
    closing: set[str] = set()
    busy: set[str] = set()
    serving: dict[str, list[str]] = {}
    events: list[tuple[float, int, int, object]] = []  # (time, order, kind, payload); kinds below
    DONE, CHANGE = 0, 1
    order = 0
    for at, layout in schedule:
        events.append((at, order, CHANGE, layout))
        order += 1
    for counter, until in (busy_until or {}).items():
        busy.add(counter)
        events.append((until, order, DONE, counter))
        order += 1
    heapq.heapify(events)

    def queue(agency: str) -> tuple[deque, deque]:
        if agency not in queues:
            queues[agency] = (deque(), deque())
        return queues[agency]

    def call(counter: str, now: float) -> None:
        nonlocal order
        if now > stop_s:
            return
        best, best_key = None, None
        for agency in assigned[counter]:
            pair = queues.get(agency)
            if not pair:
                continue
            head = pair[0][0] if pair[0] else pair[1][0] if pair[1] else None
            if head is not None:
                key = (0 if head.priority else 1, head.seq)
                if best_key is None or key < best_key:
                    best, best_key = head, key
        if best is None:
            return
        pair = queues[best.agency]
        (pair[0] if pair[0] and pair[0][0] is best else pair[1]).popleft()
        best.called_s, best.counter = now, counter
        busy.add(counter)
        heapq.heappush(events, (now + best.service_s, order, DONE, counter))
        order += 1

    def apply(layout: Mapping[str, tuple[str, ...]], now: float) -> None:
        for counter in list(assigned):
            if counter not in layout:
                del assigned[counter]
                if counter in busy:
                    closing.add(counter)
        for counter, agencies in layout.items():
            assigned[counter] = tuple(agencies)
            closing.discard(counter)
        serving.clear()
        for counter, agencies in assigned.items():
            for agency in agencies:
                serving.setdefault(agency, []).append(counter)
        for counter in assigned:
            if counter not in busy:
                call(counter, now)

    index, count = 0, len(tickets)
    while index < count or events:
        if events and (index >= count or events[0][0] <= tickets[index].issued_s):
            now, _, kind, payload = heapq.heappop(events)
            if kind == CHANGE:
                apply(payload, now)
            else:
                counter = payload
                busy.discard(counter)
                if counter in closing:
                    closing.discard(counter)
                elif counter in assigned:
                    call(counter, now)
            continue
        ticket = tickets[index]
        index += 1
        pair = queue(ticket.agency)
        (pair[0] if ticket.priority else pair[1]).append(ticket)
        for counter in serving.get(ticket.agency, ()):
            if counter not in busy:
                call(counter, ticket.issued_s)
                break
    return tickets


def schedule_of(slots: Sequence[Slot], layouts: Iterable[Mapping[str, tuple[str, ...]]]) -> list:
    """A schedule from one layout per slot (a change only where the layout changes)."""
    result: list[tuple[float, Mapping[str, tuple[str, ...]]]] = []
    previous = None
    for slot, layout in zip(slots, layouts):
        if layout != previous:
            result.append((float(slot.start_s), dict(layout)))
            previous = layout
    return result
