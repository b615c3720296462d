"""Time comes from an injected clock, so rollover needs no cron and tests can jump days."""

from __future__ import annotations

import abc
import datetime as dt

__all__ = ["Clock", "SystemClock", "FakeClock"]


class Clock(abc.ABC):
    """The source of 'now' (timezone-aware, UTC)."""

    @abc.abstractmethod
    def now(self) -> dt.datetime:
        """The current moment."""


class SystemClock(Clock):
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class FakeClock(Clock):
    """A clock tests set and move by hand."""

    def __init__(self, start: dt.datetime):
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware datetime")
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current
