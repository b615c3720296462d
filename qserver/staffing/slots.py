"""Slots of a service day: the receiving sessions of a site cut into 30-minute pieces.

Times inside a day are seconds after local midnight (``25200`` is 07:00); tickets carry ms since the
epoch and are placed with :func:`DayClock.seconds`. A session whose length is not a multiple of the slot
ends with a shorter slot (07:00–11:45 gives ..., 11:00–11:30, 11:30–11:45).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from config import Site

__all__ = ["SLOT_S", "WEEKDAYS", "WEEKDAY_NAMES", "Slot", "DayClock", "day_slots", "receiving_day", "weekday_key", "hhmm",
           "parse_hhmm", "open_seconds", "after_holiday"]

SLOT_S = 1800
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {"mon": "thứ Hai", "tue": "thứ Ba", "wed": "thứ Tư", "thu": "thứ Năm", "fri": "thứ Sáu",
                 "sat": "thứ Bảy", "sun": "Chủ nhật"}


def hhmm(seconds: float) -> str:
    """``25200`` → ``"07:00"``."""
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def parse_hhmm(text: str) -> int:
    """``"07:30"`` → ``27000``; ValueError naming the text otherwise."""
    try:
        hours, minutes = str(text).strip().split(":")
        value = int(hours) * 3600 + int(minutes) * 60
    except ValueError:
        raise ValueError(f"{text!r} is not a time like \"07:30\"") from None
    if not 0 <= value <= 24 * 3600 or not 0 <= int(minutes) < 60:
        raise ValueError(f"{text!r} is not a time like \"07:30\"")
    return value


@dataclass(frozen=True)
class Slot:
    """One planning slot of a day: ``index`` counts the day's slots, ``session`` the receiving session."""

    index: int
    session: int
    start_s: int
    end_s: int

    @property
    def key(self) -> str:
        return hhmm(self.start_s)

    @property
    def label(self) -> str:
        return f"{hhmm(self.start_s)}–{hhmm(self.end_s)}"

    @property
    def length_s(self) -> int:
        return self.end_s - self.start_s

    @property
    def hours(self) -> float:
        return self.length_s / 3600


def weekday_key(day: dt.date) -> str:
    return WEEKDAYS[day.weekday()]


def receiving_day(site: Site, day: dt.date) -> bool:
    """True when the site receives citizens that day (it has hours and it is not a holiday)."""
    return day not in site.holidays and bool(site.hours.get(weekday_key(day)))


def day_slots(site: Site, day: dt.date, slot_s: int = SLOT_S, *, ignore_holiday: bool = False) -> tuple[Slot, ...]:
    """The slots of ``day`` (empty on a holiday or a day without hours)."""
    if day in site.holidays and not ignore_holiday:
        return ()
    slots: list[Slot] = []
    for session, (start, end) in enumerate(site.hours.get(weekday_key(day), ())):
        lo = start.hour * 3600 + start.minute * 60
        hi = end.hour * 3600 + end.minute * 60
        while lo < hi:
            slots.append(Slot(len(slots), session, lo, min(lo + slot_s, hi)))
            lo += slot_s
    return tuple(slots)


def after_holiday(site: Site, day: dt.date, limit: int = 14) -> bool:
    """True for the first receiving day after a holiday that fell on a day with receiving hours."""
    for back in range(1, limit + 1):
        other = day - dt.timedelta(days=back)
        if receiving_day(site, other):
            return False
        if other in site.holidays and site.hours.get(weekday_key(other)):
            return True
    return False


def open_seconds(slots: tuple[Slot, ...]) -> int:
    return sum(slot.length_s for slot in slots)


class DayClock:
    """Converts between a day's local seconds and epoch ms, and finds the slot of a moment."""

    def __init__(self, site: Site, day: dt.date, slots: tuple[Slot, ...]):
        self.day, self.slots = day, slots
        self.midnight_ms = int(dt.datetime.combine(day, dt.time(), tzinfo=site.tz).timestamp() * 1000)

    def seconds(self, ms: float) -> float:
        return (ms - self.midnight_ms) / 1000

    def ms(self, seconds: float) -> int:
        return int(round(self.midnight_ms + seconds * 1000))

    def slot_of(self, seconds: float) -> int | None:
        """Index of the slot holding ``seconds``: before opening → the first slot, in a break → the
        next session's first slot, after closing → the last slot; None when the day has no slots."""
        if not self.slots:
            return None
        for slot in self.slots:
            if seconds < slot.end_s:
                return slot.index
        return self.slots[-1].index
