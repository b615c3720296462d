"""The actors of a simulated day, as asyncio tasks over :class:`~.client.ApiClient`: a kiosk issuing the
planned arrivals, one officer per counter following its plan, citizens rating afterwards, and a floor
manager who moves a counter when a queue grows.

Simulated time runs ``speed`` times faster than real time. Only the manager reacts to what it sees (the
queues); what the kiosk and the officers do comes from the plan (``model.py``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from .client import ApiClient, Report
from .home import Booker, person_numbers
from .model import (Arrival, Layout, OfficerPlan, actor_rng, iter_arrivals, mean_service_s, served_agencies,
                    transfer_target)

__all__ = ["Simulation", "SimulationConfig"]

logger = logging.getLogger(__name__)

IDLE_POLL_S = 45.0           # simulated seconds an idle officer waits before pressing call-next again
MIN_POLL_REAL_S = 0.1        # ... but never more often than this in real seconds (load tests)
MAX_POLL_REAL_S = 2.0
MANAGER_EVERY_S = 600.0      # the floor manager looks at the queues every 10 simulated minutes
MOVE_WHEN_WAITING = 6        # ... moves a counter to an agency with this many waiting per serving counter
RESTORE_WHEN_WAITING = 1     # ... and gives it back when that agency is down to this
MAX_MOVED = 3
BREAK_REASON = "Nghỉ giải lao"
CHECK_IN_EVERY_REAL_S = 5.0  # the booked citizens look whether their check-in window is open


@dataclass(frozen=True)
class SimulationConfig:
    """``expected`` tickets per simulated day of receiving time; ``days`` None runs until stopped."""

    counters: tuple[str, ...]
    seed: int = 1
    expected: float = 900.0
    speed: float = 60.0
    days: int | None = 1
    utilisation: float = 0.85
    manager: bool = True
    reset_counters: bool = False     # give the simulated counters their configured agencies first (demo)
    restore_moves: bool = True       # give moved counters back when the simulation ends
    grace_s: float = 2.0             # how long actors may finish what they do when stopped
    idle_poll_s: float = IDLE_POLL_S         # simulated s an idle officer waits before call-next again
    max_poll_real_s: float = MAX_POLL_REAL_S  # ... at most this in real seconds (a city of quiet halls: more)
    agencies: tuple[str, ...] | None = None  # tickets go to these (default: the ones the counters serve)
    online_share: float = 0.0        # share of arrivals (not priority ones) that take their number on a phone
    bookings_per_agency: int = 0     # visits booked per agency at the start (checked in in real time)
    booking_no_show: float = 0.15    # share of booked visits that never come


class Simulation:
    """``await Simulation(config, layout, client).run()`` runs the day(s) and returns the report."""

    def __init__(self, config: SimulationConfig, layout: Layout, client: ApiClient):
        self.config, self.layout, self.client = config, layout, client
        self.report: Report = client.report
        self.run_id = secrets.token_hex(4)  # keys differ between runs; not part of the plan
        self.agencies = config.agencies or served_agencies(layout, config.counters)
        mean = mean_service_s(layout, len(config.counters), config.expected, config.utilisation)
        self.plans = {c: OfficerPlan(config.seed, c, mean) for c in config.counters}
        self._stop = asyncio.Event()
        self._started = time.monotonic()
        self._tasks: set[asyncio.Task] = set()
        self.moved: dict[str, list[str]] = {}   # counter → agencies it had before the manager moved it

    # -- time -------------------------------------------------------------------------------------
    def now(self) -> float:
        """Simulated seconds since the start."""
        return (time.monotonic() - self._started) * self.config.speed

    async def sleep(self, simulated_s: float, *, floor_s: float = 0.0, cap_s: float | None = None) -> bool:
        """Wait ``simulated_s``; False when the simulation is stopping."""
        real = max(simulated_s / self.config.speed, floor_s)
        if cap_s is not None:
            real = min(real, cap_s)
        if self._stop.is_set():
            return False
        try:
            await asyncio.wait_for(self._stop.wait(), real)
        except asyncio.TimeoutError:
            return True
        return False

    async def sleep_until(self, tau: float) -> bool:
        return await self.sleep(tau - self.now())

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the run ----------------------------------------------------------------------------------
    async def run(self, duration_s: float | None = None) -> Report:
        """Run until ``duration_s`` real seconds, the configured days, or :meth:`stop`."""
        if duration_s is None and self.config.days is not None:
            duration_s = self.config.days * self.layout.open_s / self.config.speed
        if self.config.reset_counters:
            await self._reset_counters()
        self._started = time.monotonic()
        actors = [asyncio.create_task(self._kiosk(), name="kiosk")]
        if self.config.bookings_per_agency:
            actors.append(asyncio.create_task(self._bookings(), name="bookings"))
        actors += [asyncio.create_task(self._officer(c), name=f"officer:{c}") for c in self.config.counters]
        if self.config.manager:
            actors.append(asyncio.create_task(self._manager(), name="manager"))
        try:
            await asyncio.wait_for(self._stop.wait(), duration_s)
        except asyncio.TimeoutError:
            pass
        finally:
            self._stop.set()
            self.report.simulated_s = self.now()
            _, pending = await asyncio.wait(actors + list(self._tasks), timeout=self.config.grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in actors:
                if task.done() and not task.cancelled() and task.exception():
                    logger.error("simulated %s failed", task.get_name(), exc_info=task.exception())
            self.report.elapsed_s = time.monotonic() - self._started
        if self.config.restore_moves:
            await self._restore_all()
        return self.report

    # -- kiosk ------------------------------------------------------------------------------------
    async def _kiosk(self) -> None:
        day = 0
        while self.config.days is None or day < self.config.days:
            arrivals = iter_arrivals(self.layout, self.agencies, self.config.seed, self.config.expected, day)
            phones = actor_rng(self.config.seed, f"online:{day}")  # its own draws: the plan stays the same
            for i, arrival in enumerate(arrivals):
                if not await self.sleep_until(arrival.at):
                    return
                online = phones.random() < self.config.online_share and arrival.priority is None
                cccd, phone = person_numbers(phones)
                key = f"sim-{self.run_id}-d{day}-{i}"
                self._spawn(self._issue_online(arrival, cccd, phone, key) if online else self._issue(arrival, key))
            day += 1
            if not await self.sleep_until(day * self.layout.open_s):
                return
            logger.log(logging.INFO if self.config.days is None else logging.DEBUG,
                       "simulated day %d done: %s", day, dict(self.report.counts))

    async def _issue(self, arrival: Arrival, key: str) -> None:
        await self.client.issue(arrival.agency, arrival.priority, key)

    async def _issue_online(self, arrival: Arrival, cccd: str, phone: str, key: str) -> None:
        await self.client.online_issue(arrival.agency, cccd, phone, key)

    # -- from home: booked visits ------------------------------------------------------------------
    async def _bookings(self) -> None:
        booker = Booker(self.client, self.agencies, per_agency=self.config.bookings_per_agency,
                        no_show=self.config.booking_no_show, seed=self.config.seed, run_id=self.run_id)
        await booker.book()
        while not self.stopping:
            await booker.check_in_due()
            try:
                await asyncio.wait_for(self._stop.wait(), CHECK_IN_EVERY_REAL_S)
            except asyncio.TimeoutError:
                pass

    # -- officers ---------------------------------------------------------------------------------
    async def _officer(self, counter: str) -> None:
        plan, presses, k = self.plans[counter], 0, 0

        async def press(action: str, **fields: Any):
            nonlocal presses
            presses += 1
            return await self.client.counter_action(counter, action, f"sim-{self.run_id}-{counter}-{presses}",
                                                    **fields)

        idle = dict(floor_s=MIN_POLL_REAL_S, cap_s=self.config.max_poll_real_s)
        while not self.stopping:
            answer = await press("call-next")
            if answer.code == "counter_paused":   # left paused (by an earlier run, or a human): come back
                if (await press("resume")).ok:
                    continue
            if answer.status != 200:              # nobody waiting, counter closed, server down: wait
                if not await self.sleep(self.config.idle_poll_s, **idle):
                    return
                continue
            ticket, decision = answer.body, plan.decision(k)
            k += 1
            if decision.no_show:
                for _ in range(decision.recalls):
                    if not await self.sleep(decision.recall_gap_s):
                        return
                    await press("recall")
                if not await self.sleep(decision.recall_gap_s):
                    return
                await press("no-show")
            elif decision.transfer is not None and (target := transfer_target(
                    decision.transfer, self.agencies, ticket["agency"])):
                if not await self.sleep(decision.service_s * 0.35):
                    return
                await press("transfer", agency=target)
            else:
                if not await self.sleep(decision.service_s):
                    return
                done = await press("complete", outcome=decision.outcome)
                if done.ok and decision.rating is not None:
                    self._spawn(self._rate(ticket["id"], decision.rating, decision.rating_after_s))
            if decision.break_s:
                if (await press("pause", reason=BREAK_REASON)).ok:
                    await self.sleep(decision.break_s)
                    await press("resume")  # also when stopping: leave the counter open

    async def _rate(self, ticket_id: str, score: int, after_s: float) -> None:
        if await self.sleep(after_s):
            await self.client.rate(ticket_id, score)

    # -- floor manager ----------------------------------------------------------------------------
    async def _manager(self) -> None:
        rng = actor_rng(self.config.seed, "manager")
        while await self.sleep(MANAGER_EVERY_S, floor_s=0.5):
            answer = await self.client.state()
            if answer.ok:
                await self._balance(answer.body, rng)

    async def _balance(self, state: dict[str, Any], rng) -> None:
        """Move one counter towards the longest queue per serving counter, or give one back."""
        waiting: dict[str, int] = state.get("waiting") or {}
        counters = {c["id"]: c for c in state.get("counters", [])}
        serving = {slug: sum(1 for c in counters.values()
                             if c.get("status") == "open" and slug in c.get("agencies", []))
                   for slug in waiting}

        def load(slug: str) -> float:
            return waiting.get(slug, 0) / max(serving.get(slug, 0), 0.5)

        for cid, before in list(self.moved.items()):
            added = [slug for slug in counters.get(cid, {}).get("agencies", []) if slug not in before]
            calm = max((load(slug) for slug in added), default=0.0)
            own = max((load(slug) for slug in before), default=0.0)
            if calm <= RESTORE_WHEN_WAITING or (own >= MOVE_WHEN_WAITING and own > calm):
                if (await self.client.reassign(cid, before)).ok:
                    logger.info("manager gives counter %s back to %s", cid, ", ".join(before))
                    del self.moved[cid]
        if len(self.moved) >= MAX_MOVED or not waiting:
            return
        busiest = max(waiting, key=lambda slug: (load(slug), slug))
        if load(busiest) < MOVE_WHEN_WAITING:
            return
        floor = next((a.floor for a in self.layout.agencies if a.slug == busiest), None)
        candidates = []
        for cid in self.config.counters:
            counter = counters.get(cid)
            if (not counter or cid in self.moved or counter.get("floor") != floor or counter.get("status") != "open"
                    or busiest in counter.get("agencies", [])):
                continue
            own = counter.get("agencies", [])
            quiet = max((load(slug) for slug in own), default=0.0)
            if quiet <= 1.0:
                candidates.append((quiet, rng.random(), cid, own))
        if candidates:
            _, _, cid, own = min(candidates)
            if (await self.client.reassign(cid, [busiest, *own])).ok:
                logger.info("manager moves counter %s to %s (%d waiting)", cid, busiest, waiting[busiest])
                self.moved[cid] = list(own)

    async def _reset_counters(self) -> None:
        answer = await self.client.state()
        if not answer.ok:
            return
        live = {c["id"]: c.get("agencies", []) for c in answer.body.get("counters", [])}
        for cid in self.config.counters:
            configured = list(self.layout.counter(cid).agencies)
            if cid in live and live[cid] != configured:
                await self.client.reassign(cid, configured)

    async def _restore_all(self) -> None:
        for cid, before in list(self.moved.items()):
            if (await self.client.reassign(cid, before)).ok:
                del self.moved[cid]
