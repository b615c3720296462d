"""Receiving hours and service days: pure functions of a site's config and a moment in time."""

from __future__ import annotations

import datetime as dt

from config import Site

__all__ = ["service_day", "is_open", "next_opening", "local", "sessions_of"]

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def local(site: Site, when: dt.datetime) -> dt.datetime:
    """``when`` in the site's time zone."""
    return when.astimezone(site.tz)


def service_day(site: Site, when: dt.datetime) -> dt.date:
    """The service day ``when`` belongs to: the local calendar date (the hall is closed at midnight)."""
    return local(site, when).date()


def _sessions(site: Site, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
    if day in site.holidays:
        return ()
    return site.hours.get(WEEKDAY_KEYS[day.weekday()], ())


def sessions_of(site: Site, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
    """The receiving sessions of a local day (none on a holiday or a day not listed), in order."""
    return _sessions(site, day)


def is_open(site: Site, when: dt.datetime) -> bool:
    """True while a receiving session is running (start inclusive, end exclusive)."""
    moment = local(site, when)
    return any(start <= moment.time() < end for start, end in _sessions(site, moment.date()))


def next_opening(site: Site, when: dt.datetime, horizon_days: int = 30) -> dt.datetime | None:
    """The start of the next receiving session after ``when`` (local time), or None within the horizon."""
    moment = local(site, when)
    for offset in range(horizon_days + 1):
        day = moment.date() + dt.timedelta(days=offset)
        for start, _end in _sessions(site, day):
            opening = dt.datetime.combine(day, start, tzinfo=site.tz)
            if opening > moment:
                return opening
    return None
