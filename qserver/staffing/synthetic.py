"""Synthetic history with known truth: the simulator's arrival model, known service times, a layout.

:class:`Truth` says how many tickets each agency gets on an ordinary day, how that moves with the weekday,
a weekly growth and the first day after a holiday, and each agency's service time. Arrivals are drawn with
``qserver.simulation.model.iter_arrivals`` (its non-homogeneous Poisson process over the morning and
afternoon curves), so the tests and ``bench/staffing.py`` plan against the same model the load simulator
plays. :func:`history` serves those arrivals with a fixed layout (what was open) and returns stored-ticket
dicts like the archive's, outages and quiet days included when asked.

The model's curve spans the site's first configured weekday's sessions; a truth is only meant for sites
whose receiving days all have those sessions (Cần Thơ and the commune fixtures do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from config import Site

from ..simulation.model import P_NO_SHOW, SERVICE_SIGMA, Curve, Layout, iter_arrivals
from .simulate import ServiceModel, SimTicket, run_day, stream
from .slots import DayClock, Slot, after_holiday, day_slots, receiving_day, weekday_key

__all__ = ["Truth", "make_truth", "history", "config_layout", "curve_shares", "CANTHO_SERVICE_S"]

#: Counter time per called ticket of Cần Thơ's agencies (s): land and construction are the slow ones.
CANTHO_SERVICE_S = {
    "so-xay-dung": 840, "so-van-hoa-the-thao-du-lich": 480, "so-giao-thong-van-tai": 540, "so-y-te": 540,
    "so-noi-vu": 480, "so-ke-hoach-dau-tu": 600, "so-tai-nguyen-moi-truong": 600,
    "so-thong-tin-truyen-thong": 420, "so-cong-thuong": 480, "ban-quan-ly-kcx-kcn": 600,
    "so-nong-nghiep-ptnt": 540, "so-khoa-hoc-cong-nghe": 480, "so-lao-dong-tbxh": 540,
    "so-giao-duc-dao-tao": 420, "so-ngoai-vu": 600, "so-tu-phap": 600,
}
PRIORITY_SHARE = 0.092  # the simulator's PRIORITIES: elderly 6 %, disabled, pregnant, merit


@dataclass(frozen=True)
class Truth:
    """The known arrival rates and service times behind a synthetic history."""

    site: Site
    volume: Mapping[str, float]
    services: Mapping[str, ServiceModel]
    weekday_factor: Mapping[str, float] = field(default_factory=dict)
    weekly_growth: float = 0.0
    epoch: dt.date = dt.date(2026, 1, 5)
    after_holiday: float = 1.0
    priority_share: float = PRIORITY_SHARE

    @property
    def layout(self) -> Layout:
        return Layout.from_site(self.site)

    def day_factor(self, day: dt.date) -> float:
        if not receiving_day(self.site, day):
            return 0.0
        factor = self.weekday_factor.get(weekday_key(day), 1.0)
        factor *= (1 + self.weekly_growth) ** ((day - self.epoch).days / 7)
        if after_holiday(self.site, day):
            factor *= self.after_holiday
        return factor

    def expected_day(self, day: dt.date) -> dict[str, float]:
        factor = self.day_factor(day)
        return {slug: volume * factor for slug, volume in self.volume.items()}

    def expected_slots(self, day: dt.date, slots: tuple[Slot, ...] | None = None) -> dict[str, list[float]]:
        """Expected tickets per agency per slot: the day's volume times the curve's share of each slot."""
        slots = day_slots(self.site, day) if slots is None else slots
        shares = curve_shares(self.layout, slots)
        return {slug: [n * share for share in shares] for slug, n in self.expected_day(day).items()}

    def arrivals(self, day: dt.date, seed: object, *, multiplier: float = 1.0,
                 drop: tuple[int, int] | None = None, keep: float = 1.0) -> list[SimTicket]:
        """The day's citizens (service drawn per ticket); ``drop`` removes a span of local seconds (an
        outage), ``keep`` thins every arrival (a storm)."""
        layout, slots = self.layout, day_slots(self.site, day)
        ordinal = day.toordinal()
        clock = DayClock(self.site, day, slots)
        tickets: list[SimTicket] = []
        for slug, expected in self.expected_day(day).items():
            if expected <= 0:
                continue
            rng = stream(seed, "service", day.isoformat(), slug)
            model = self.services[slug]
            for arrival in iter_arrivals(layout, [slug], seed, expected * multiplier, ordinal):
                at = _clock_seconds(layout, arrival.at - ordinal * layout.open_s)
                service, no_show = model.draw(rng)
                thinned = rng.random() >= keep
                if thinned or (drop and drop[0] <= at < drop[1]):
                    continue
                tickets.append(SimTicket(slug, at, service, no_show, arrival.priority is not None,
                                         clock.slot_of(at)))
        tickets.sort(key=lambda t: t.issued_s)
        return tickets


def _clock_seconds(layout: Layout, tau: float) -> float:
    for start, end in layout.sessions:
        if tau < end - start:
            return start + tau
        tau -= end - start
    return float(layout.sessions[-1][1])


def curve_shares(layout: Layout, slots: Iterable[Slot], steps: int = 60) -> list[float]:
    """Share of a day's arrivals that falls in each slot under the model's curve (midpoint rule)."""
    curve = Curve.of(layout)
    offsets, tau = [], 0.0
    for start, end in layout.sessions:
        offsets.append((start, end, tau))
        tau += end - start
    shares = []
    for slot in slots:
        start, end, base = next(((s, e, b) for s, e, b in offsets if s <= slot.start_s < e), (0, 0, None))
        if base is None:
            shares.append(0.0)
            continue
        lo, hi = base + slot.start_s - start, base + min(slot.end_s, end) - start
        width = (hi - lo) / steps
        shares.append(sum(curve(lo + (i + 0.5) * width) for i in range(steps)) * width / layout.open_s)
    return shares


def make_truth(site: Site, daily_tickets: float, service_s: Mapping[str, float] | float, **options: Any) -> Truth:
    """A truth sharing ``daily_tickets`` between agencies by their number of procedures (as the load
    simulator does), with lognormal service (the simulator's sigma) and its no-show share."""
    weights = {a.slug: a.procedures or 1 for a in site.agencies}
    total = sum(weights.values())
    means = service_s if isinstance(service_s, Mapping) else {slug: float(service_s) for slug in weights}
    services = {slug: ServiceModel(float(means[slug]), SERVICE_SIGMA, P_NO_SHOW, 110.0) for slug in weights}
    return Truth(site, {slug: daily_tickets * w / total for slug, w in weights.items()}, services, **options)


def config_layout(site: Site) -> dict[str, tuple[str, ...]]:
    """Every configured counter open, serving its configured agencies (the fixed layout)."""
    return {c.id: tuple(c.agencies) for c in site.counters}


def history(truth: Truth, first: dt.date, last: dt.date, seed: object, *,
            layout: Mapping[str, tuple[str, ...]] | None = None,
            outages: Mapping[dt.date, tuple[int, int]] | None = None,
            quiet: Mapping[dt.date, float] | None = None) -> list[dict[str, Any]]:
    """Stored tickets of ``first``..``last`` served by ``layout`` (default: every counter as configured)."""
    site = truth.site
    layout = config_layout(site) if layout is None else layout
    agencies = site.agency_by_slug
    result: list[dict[str, Any]] = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        slots = day_slots(site, day)
        if not slots:
            continue
        tickets = truth.arrivals(day, seed, drop=(outages or {}).get(day), keep=(quiet or {}).get(day, 1.0))
        clock = DayClock(site, day, slots)
        run_day(tickets, [(float(slots[0].start_s), layout)], stop_s=slots[-1].end_s + 3 * 3600)
        seq: dict[str, int] = {}
        for ticket in tickets:
            seq[ticket.agency] = seq.get(ticket.agency, 0) + 1
            agency = agencies[ticket.agency]
            stored: dict[str, Any] = {
                "id": f"{site.slug}-{day:%Y%m%d}-{len(result) + 1}",
                "number": agency.number_format.format(prefix=agency.prefix, seq=seq[ticket.agency]),
                "agency": ticket.agency, "issued_agency": ticket.agency,
                "issued_at": clock.ms(ticket.issued_s), "priority": "elderly" if ticket.priority else None,
            }
            if ticket.called_s is None:
                stored.update(status="expired")
            else:
                stored.update(status="no_show" if ticket.no_show else "done", counter=ticket.counter,
                              called_at=clock.ms(ticket.called_s),
                              done_at=clock.ms(ticket.called_s + ticket.service_s),
                              outcome=None if ticket.no_show else "received")
            result.append(stored)
    result.sort(key=lambda t: t["issued_at"])
    return result
