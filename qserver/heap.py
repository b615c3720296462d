"""Short full garbage collections in a process that holds thousands of display sockets.

CPython collects its oldest generation whenever a quarter more objects have survived since the last
full collection, and each full collection walks every object alive: with 10,000 display sockets some
300,000. Measured with a ``gc.callbacks`` hook under ``bench/floor.py --parts fanout --sockets 10000``:
while the 10,000 displays connect, 12–13 full collections growing to 0.44–0.54 s each (2.6–3.3 s in
all); a call that arrives during one reaches no screen until it ends (earlier runs: calls delayed
190–530 ms, traced to such collections).

So what has survived is moved out of the collector's sight every second (a young collection, then
``gc.freeze()``, which only splices lists): a full collection walks only what is new. Measured the same
way: 11–12 full collections of at most 0.07 s (0.38–0.46 s in all), and the displays connected in
8.5 s instead of 10–12. The HTTP p99 gains as much: a full collection of a freshly started process
(~75,000 objects, 25–50 ms) holds every request in flight; with the keeper the p99 under 50 clients went
from 1.4–2.3× the floor's to 0.8–1.2× (docs/performance.md). Frozen objects are still freed the moment nothing refers to them; only garbage in
reference cycles among them (a closed socket's objects) waits for the next sweep: ``gc.unfreeze()`` and
one full collection, made once the process has read no event for ``quiet_s`` (the night), at most every
``sweep_every_s``, and at the latest after ``sweep_latest_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

__all__ = ["HeapKeeper"]

logger = logging.getLogger(__name__)


class HeapKeeper:
    def __init__(self, freeze_every_s: float, idle_s: Callable[[], float], *, quiet_s: float = 60.0,
                 sweep_every_s: float = 3600.0, sweep_latest_s: float = 86_400.0,
                 now: Callable[[], float] = time.monotonic):
        self.freeze_every_s, self.idle_s, self.quiet_s = freeze_every_s, idle_s, quiet_s
        self.sweep_every_s, self.sweep_latest_s, self.now = sweep_every_s, sweep_latest_s, now
        self.last_sweep = now()
        self.sweeps = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.freeze_every_s > 0:
            self._task = asyncio.create_task(self._run(), name="heap-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        gc.unfreeze()  # the process goes back to the collector's own policy

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.freeze_every_s)
            self.tick()

    def tick(self) -> None:
        """Sweep when it is time, else freeze what has survived so far."""
        since = self.now() - self.last_sweep
        if since >= self.sweep_latest_s or (since >= self.sweep_every_s and self.idle_s() >= self.quiet_s):
            self.sweep()
        else:
            gc.collect(1)  # the young garbage first (cheap), so little of it is frozen
            gc.freeze()

    def sweep(self) -> int:
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        self.last_sweep, self.sweeps = self.now(), self.sweeps + 1
        logger.info("heap swept: %d unreachable objects freed in %.0f ms", collected,
                    (time.perf_counter() - started) * 1000)
        return collected
