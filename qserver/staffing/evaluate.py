"""Checking a plan in the simulator: replicate a day, then read service levels per agency and slot.

A *cell* is one agency in one slot, judged on the citizens who took a ticket in that slot: its service
level is the share of them called within ``target_wait_s`` (a citizen never called counts as missed),
pooled over the replications, i.e. the expected service level of that cell. A cell *meets the target* when
that share reaches ``target_share``. A *slot* meets it when all its tickets together do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .simulate import Schedule, ServiceModel, SimTicket, draw_arrivals, run_day
from .slots import Slot

if TYPE_CHECKING:
    from .forecast import DayForecast
    from .plan import DayPlan

__all__ = ["Evaluation", "evaluate", "check_plan", "STOP_AFTER_S"]

#: Counters keep calling this long after the last session closes; citizens still waiting then are missed.
STOP_AFTER_S = 3 * 3600


@dataclass
class Evaluation:
    slots: tuple[Slot, ...]
    target_wait_s: int
    target_share: float
    replications: int
    #: (agency, slot index) → [tickets, within target, sum of waits, longest wait seen]
    cells: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    waits: dict[str, list[float]] = field(default_factory=dict)
    longest: dict[str, list[float]] = field(default_factory=dict)

    def add(self, tickets: Sequence[SimTicket], horizon_s: float) -> None:
        longest: dict[str, float] = {}
        for t in tickets:
            cell = self.cells.setdefault((t.agency, t.slot), [0, 0, 0.0, 0.0])
            wait = t.wait_s if t.called_s is not None else horizon_s - t.issued_s
            cell[0] += 1
            cell[1] += 1 if t.called_s is not None and wait <= self.target_wait_s else 0
            cell[2] += wait
            cell[3] = max(cell[3], wait)
            self.waits.setdefault(t.agency, []).append(wait)
            longest[t.agency] = max(longest.get(t.agency, 0.0), wait)
        for agency, value in longest.items():
            self.longest.setdefault(agency, []).append(value)

    def cell_level(self, agency: str, slot: int) -> float | None:
        cell = self.cells.get((agency, slot))
        return cell[1] / cell[0] if cell and cell[0] else None

    def met_share(self) -> float:
        """Share of cells (with at least one ticket) that meet the target."""
        judged = [c for c in self.cells.values() if c[0]]
        return sum(1 for c in judged if c[1] / c[0] >= self.target_share) / len(judged) if judged else 1.0

    def slot_levels(self) -> list[float | None]:
        result = []
        for slot in self.slots:
            cells = [c for (_, i), c in self.cells.items() if i == slot.index]
            n = sum(c[0] for c in cells)
            result.append(sum(c[1] for c in cells) / n if n else None)
        return result

    def slots_met_share(self) -> float:
        levels = [v for v in self.slot_levels() if v is not None]
        return sum(1 for v in levels if v >= self.target_share) / len(levels) if levels else 1.0

    def overall_level(self) -> float:
        n = sum(c[0] for c in self.cells.values())
        return sum(c[1] for c in self.cells.values()) / n if n else 1.0

    def missed_cells(self) -> list[tuple[str, int, float]]:
        return sorted((a, i, c[1] / c[0]) for (a, i), c in self.cells.items() if c[0] and c[1] / c[0] < self.target_share)

    def agency_summary(self) -> dict[str, dict[str, Any]]:
        """Per agency: mean and p90 wait (s), the mean over replications of the day's longest wait, level."""
        result = {}
        for agency, waits in self.waits.items():
            ordered = sorted(waits)
            cells = [c for (a, _), c in self.cells.items() if a == agency]
            n = sum(c[0] for c in cells)
            result[agency] = {
                "tickets_per_day": round(n / self.replications, 1),
                "mean_wait_s": round(sum(ordered) / len(ordered)),
                "p90_wait_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]),
                "longest_wait_s": round(sum(self.longest[agency]) / len(self.longest[agency])),
                "within_target_share": round(sum(c[1] for c in cells) / n, 4) if n else None,
            }
        return result


def evaluate(slots: Sequence[Slot], schedule: Schedule, arrivals: Callable[[int], list[SimTicket]], *,
             replications: int, target_wait_s: int, target_share: float = 0.8,
             busy_until: Mapping[str, float] | None = None) -> Evaluation:
    """Run ``replications`` days (``arrivals(r)`` draws replication r's citizens) under ``schedule``."""
    slots = tuple(slots)
    stop = slots[-1].end_s + STOP_AFTER_S if slots else 0
    result = Evaluation(slots, target_wait_s, target_share, replications)
    for r in range(replications):
        tickets = arrivals(r)
        run_day(tickets, schedule, stop_s=stop, busy_until=busy_until)
        result.add(tickets, stop)
    return result


def check_plan(plan: "DayPlan", forecast: "DayForecast", services: Mapping[str, ServiceModel], *,
               replications: int = 30, seed: object = 0, priority_share: float = 0.0) -> Evaluation:
    """Simulate a :class:`.plan.DayPlan` on Poisson arrivals drawn from its own forecast."""
    slots = tuple(s.slot for s in plan.slots)
    return evaluate(slots, plan.schedule(),
                    lambda r: draw_arrivals(slots, forecast.expected, services, (seed, r), priority_share=priority_share),
                    replications=replications, target_wait_s=plan.target_wait_s, target_share=plan.target_share)
