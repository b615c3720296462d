"""The announcement queue: what to say next, given the calls that arrived — pure, clock injected.

Policy (docs/announcer.md explains it to a floor manager):

- **Own floor only**: a call is queued only if this floor announces it (``calls.announcing_floors``).
- **Once per event**: an event id already seen (a replay after a reconnect) is ignored.
- **Recalls are spoken again**, even if the same ticket was just spoken: a recall is its own event.
  A recall of a ticket whose call is still waiting unspoken joins that call (the number is not
  read twice in a row); both events are acknowledged when it is spoken.
- **In order**: calls are spoken in the order the server sent them.
- **Stale calls are dropped** with a log line, when their turn comes: a call made (server time
  ``at``, or arrival time when that is later or missing) more than ``stale_after_s`` ago.
- **Merged when several wait**: up to ``max_merge`` waiting calls become one sentence.
- **Repeat**: every announcement carries ``repeat`` (the speaker says it that many times).

Never two at once is the speaker loop's job: it asks for the next announcement only after the
previous one finished (``service.Announcer``).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .calls import CROSS_FLOOR_POLICIES, Call, announcing_floors, call_from_frame
from .sentence import Wording

__all__ = ["Announcement", "AnnouncementQueue", "Pending"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """A call waiting its turn, with the events it answers and when it counts from."""

    call: Call
    event_ids: tuple[str, ...]
    origin: float  # epoch seconds the staleness bound counts from


@dataclass(frozen=True)
class Announcement:
    """What the speaker says next: one sentence for one or more calls, ``repeat`` times."""

    calls: tuple[Call, ...]
    text: str
    repeat: int
    event_ids: tuple[str, ...]
    origins: tuple[float, ...] = field(default=(), compare=False)

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(call.number for call in self.calls)


class AnnouncementQueue:
    """Calls for one floor, waiting to be announced."""

    def __init__(self, wording: Wording, floor: int, *, stale_after_s: float = 60.0, repeat: int = 1,
                 max_merge: int = 3, cross_floor: str = "ticket",
                 counter_floors: Mapping[str, int] | None = None,
                 clock: Callable[[], float] = time.time, seen_limit: int = 2000):
        if max_merge < 1 or repeat < 1 or stale_after_s <= 0:
            raise ValueError("max_merge and repeat must be ≥ 1 and stale_after_s > 0")
        if cross_floor not in CROSS_FLOOR_POLICIES:
            raise ValueError(f"cross-floor policy {cross_floor!r} is not one of {', '.join(CROSS_FLOOR_POLICIES)}")
        self.wording, self.floor = wording, floor
        self.stale_after_s, self.repeat, self.max_merge = stale_after_s, repeat, max_merge
        self.cross_floor = cross_floor
        self.counter_floors = counter_floors
        self.clock = clock
        self._waiting: deque[Pending] = deque()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_limit = seen_limit
        self.dropped: list[Pending] = []  # stale calls dropped so far (the latest few hundred)

    def __len__(self) -> int:
        return len(self._waiting)

    def offer(self, frame: Mapping[str, Any]) -> bool:
        """Take one server frame; ``True`` when it queued (or joined) a call for this floor."""
        call = call_from_frame(frame, self.counter_floors)
        if call is None or self.floor not in announcing_floors(call, self.cross_floor):
            return False
        if call.event_id:
            if call.event_id in self._seen:
                logger.debug("event %s already handled; not announcing it twice", call.event_id)
                return False
            self._seen[call.event_id] = None
            while len(self._seen) > self._seen_limit:
                self._seen.popitem(last=False)
        now = self.clock()
        origin = min(call.at, now) if call.at is not None else now
        for index, pending in enumerate(self._waiting):
            if pending.call.ticket_id == call.ticket_id and pending.call.counter == call.counter:
                # A recall (or a second call) of a ticket still waiting: say it once, answer both.
                self._waiting[index] = Pending(replace(pending.call, recall=pending.call.recall or call.recall),
                                               pending.event_ids + (call.event_id,), max(pending.origin, origin))
                return True
        self._waiting.append(Pending(call, (call.event_id,), origin))
        return True

    def next(self) -> Announcement | None:
        """The next announcement (stale calls dropped, several merged), or ``None`` when none waits."""
        now = self.clock()
        batch: list[Pending] = []
        while self._waiting and len(batch) < self.max_merge:
            pending = self._waiting.popleft()
            age = now - pending.origin
            if age > self.stale_after_s:
                logger.warning("dropping stale call %s to counter %s (event %s): %.0f s old, bound %.0f s",
                               pending.call.number, pending.call.counter, ",".join(pending.event_ids),
                               age, self.stale_after_s)
                self.dropped.append(pending)
                del self.dropped[:-500]
                continue
            batch.append(pending)
        if not batch:
            return None
        calls = tuple(p.call for p in batch)
        return Announcement(
            calls=calls, text=self.wording.merged(calls, self.floor), repeat=self.repeat,
            event_ids=tuple(e for p in batch for e in p.event_ids if e),
            origins=tuple(p.origin for p in batch),
        )
