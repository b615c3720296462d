"""Appointment slots: the grid of a day, each slot's capacity, when it may be booked and checked in, and
booking codes. Pure functions of a site's config and a moment (docs/webhooks.md and the README say the
same for people).

- A day's slots cut each receiving session into ``slot_minutes`` pieces (a last piece that does not fit
  whole is dropped): 07:00–10:30 with 30 minutes gives 07:00, 07:30 … 10:00.
- A slot's capacity is the agency's share of appointments: ``share`` × its configured counters ×
  ``slot_minutes`` ÷ ``service_minutes``, rounded, at least 1 when the share is not 0.
- A slot may be booked from ``days_ahead`` days before until ``min_notice_minutes`` before it starts.
- The kiosk checks a booking in from ``checkin_before_minutes`` before the slot's time (but not before
  midnight of the slot's day) until ``grace_minutes`` after it; after that the booking is a no-show and the citizen a walk-in.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from config import Site

from ..exceptions import Conflict, InvalidField, NotFound
from . import hours

__all__ = ["Slot", "takes_bookings", "check_takes_bookings", "capacity", "day_slots", "find_slot", "check_bookable",
           "bookable_days", "booking_problem", "checkin_window", "reminder_at", "new_code", "normalize_code",
           "show_code", "parse_day", "TIME_RE", "CODE_ALPHABET"]

#: Booking codes: no 0/O, 1/I/L to misread on a phone or type wrongly at the kiosk.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Slot:
    agency: str
    day: dt.date
    start: dt.time
    end: dt.time
    capacity: int
    tz: dt.tzinfo

    @property
    def field(self) -> str:
        """The slot's field in the day's slot hashes: ``so-tu-phap|07:30``."""
        return f"{self.agency}|{self.start:%H:%M}"

    @property
    def time(self) -> str:
        return f"{self.start:%H:%M}"

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.day, self.start, tzinfo=self.tz)

    @property
    def ends_at(self) -> dt.datetime:
        return dt.datetime.combine(self.day, self.end, tzinfo=self.tz)

    def ms(self, moment: dt.datetime) -> int:
        return int(moment.timestamp() * 1000)


def takes_bookings(site: Site, agency: str) -> bool:
    """Whether ``agency`` takes appointments at this site (and has a counter to serve them)."""
    config = site.appointments
    if not config.enabled or config.share <= 0:
        return False
    if config.agencies and agency not in config.agencies:
        return False
    return any(agency in counter.agencies for counter in site.counters)


def check_takes_bookings(site: Site, agency: str) -> None:
    """Conflict ``appointments_disabled`` unless ``agency`` takes bookings."""
    if not takes_bookings(site, agency):
        name = site.agency_by_slug[agency].name if agency in site.agency_by_slug else agency
        raise Conflict(f"{name} chưa nhận đặt lịch hẹn trực tuyến. / {agency!r} takes no appointments.",
                       code="appointments_disabled")


def capacity(site: Site, agency: str) -> int:
    """Bookings one slot of ``agency`` takes (0 when it takes none)."""
    if not takes_bookings(site, agency):
        return 0
    config = site.appointments
    counters = sum(1 for counter in site.counters if agency in counter.agencies)
    return max(1, round(config.share * counters * config.slot_minutes / config.service_minutes))


def day_slots(site: Site, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    """(start, end) of every slot of a day (none on a closed day or holiday)."""
    step = dt.timedelta(minutes=site.appointments.slot_minutes)
    result = []
    for start, end in hours.sessions_of(site, day):
        at = dt.datetime.combine(day, start)
        last = dt.datetime.combine(day, end)
        while at + step <= last:
            result.append((at.time(), (at + step).time()))
            at += step
    return result


def parse_day(text: object) -> dt.date:
    """An ISO date from a request; InvalidField naming the value otherwise."""
    if isinstance(text, str):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidField(f"'date' phải là ngày dạng YYYY-MM-DD, không phải {text!r}. / 'date' must be a date "
                       "like 2026-11-25.")


def find_slot(site: Site, agency: str, day: object, time: object) -> Slot:
    """The slot of ``agency`` at ``day`` (ISO date) ``time`` (``HH:MM``), or a refusal saying why not."""
    check_takes_bookings(site, agency)
    date = parse_day(day)
    if not isinstance(time, str) or not TIME_RE.match(time):
        raise InvalidField(f"'time' phải là giờ dạng HH:MM, không phải {time!r}. / 'time' must be like 07:30.")
    for start, end in day_slots(site, date):
        if f"{start:%H:%M}" == time:
            return Slot(agency, date, start, end, capacity(site, agency), site.tz)
    raise NotFound(f"Không có khung giờ {time} ngày {date:%d/%m/%Y}. / No slot at {time} on {date}.",
                   code="unknown_slot")


def bookable_days(site: Site, now: dt.datetime) -> list[dt.date]:
    """The days a slot may be booked on from ``now`` (receiving days, today through ``days_ahead``)."""
    today = hours.service_day(site, now)
    days = (today + dt.timedelta(days=i) for i in range(site.appointments.days_ahead + 1))
    return [day for day in days if day_slots(site, day)]


def booking_problem(site: Site, slot: Slot, now: dt.datetime) -> str | None:
    """Why ``slot`` cannot be booked at ``now`` (a Vietnamese sentence), or None when it can."""
    config = site.appointments
    today = hours.service_day(site, now)
    if slot.starts_at <= now:
        return f"Khung giờ {slot.time} ngày {slot.day:%d/%m/%Y} đã qua."
    if slot.starts_at - now < dt.timedelta(minutes=config.min_notice_minutes):
        return (f"Cần đặt trước ít nhất {config.min_notice_minutes} phút; khung giờ {slot.time} "
                f"ngày {slot.day:%d/%m/%Y} đã quá gần.")
    if (slot.day - today).days > config.days_ahead:
        return f"Chỉ đặt lịch trước tối đa {config.days_ahead} ngày."
    return None


def check_bookable(site: Site, slot: Slot, now: dt.datetime) -> None:
    """Conflict ``slot_unavailable`` unless ``slot`` may be booked at ``now``."""
    problem = booking_problem(site, slot, now)
    if problem:
        raise Conflict(f"{problem} / Slot {slot.day} {slot.time} cannot be booked now.", code="slot_unavailable")


def checkin_window(site: Site, starts_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[from, until] in which the kiosk checks in a booking whose slot starts at ``starts_at``; never before
    the slot's own service day begins (its ticket belongs to that day: the check-in script refuses earlier)."""
    config = site.appointments
    day_starts = dt.datetime.combine(hours.service_day(site, starts_at), dt.time(0), tzinfo=site.tz)
    return (max(starts_at - dt.timedelta(minutes=config.checkin_before_minutes), day_starts),
            starts_at + dt.timedelta(minutes=config.grace_minutes))


def reminder_at(site: Site, starts_at: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """When the booking-reminder goes out (None: no reminder, or its moment has passed already)."""
    minutes = site.appointments.reminder_minutes
    if not minutes:
        return None
    at = starts_at - dt.timedelta(minutes=minutes)
    return at if at > now else None


def new_code() -> str:
    """A fresh booking code: 8 characters of :data:`CODE_ALPHABET` (about 10^12 possibilities)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: object) -> str | None:
    """A typed or scanned code as stored (``k7pm-3qxr`` → ``K7PM3QXR``; a booking URL's last part), or
    None when it cannot be one."""
    if not isinstance(text, str) or len(text) > 300:
        return None
    candidate = text.strip().rstrip("/").rsplit("/", 1)[-1]
    candidate = re.sub(r"[\s\-]", "", candidate).upper()
    return candidate if _CODE_RE.match(candidate) else None


def show_code(code: str) -> str:
    """``K7PM3QXR`` → ``K7PM-3QXR`` (how pages and messages print it)."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code
