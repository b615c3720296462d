"""What a site is once its file is read: frozen objects the rest of qserver uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

__all__ = ["Agency", "Announce", "Appointments", "Counter", "Floor", "Online", "Site", "Webhook", "WEBHOOK_EVENTS"]


@dataclass(frozen=True)
class Floor:
    number: int
    name: str
    name_en: str = ""


@dataclass(frozen=True)
class Agency:
    slug: str
    name: str
    floor: int
    prefix: str
    procedures: int = 0
    number_format: str = "{prefix}{seq:03d}"


@dataclass(frozen=True)
class Counter:
    id: str
    floor: int
    agencies: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True)
class Announce:
    template: str = "Mời công dân có số thứ tự {number} đến quầy số {counter}"
    template_other_floor: str = "Mời công dân có số thứ tự {number} đến quầy số {counter}, {floor}"
    number_reading: str = "digits"
    dialect: str = "south"
    voice: str = "vi"
    rate: int = 150
    volume: float = 1.0
    repeat: int = 1
    chime: bool = True
    stale_after_s: float = 60.0


@dataclass(frozen=True)
class Online:
    """Numbers taken from a phone (``/s/{site}``): when, how many, and who must come in person."""

    enabled: bool = True
    start: dt.time | None = None     # from this local hour on a receiving day (None: only while receiving)
    max_per_person: int = 2          # active online numbers per person per day
    no_show_limit: int = 2           # unanswered online numbers (or missed bookings) ...
    no_show_days: int = 30           # ... within this many days bar the person from taking one online
    near_ahead: int = 3              # the ticket page and ticket-near webhook alert at this many ahead


@dataclass(frozen=True)
class Appointments:
    """Booked visits (``/s/{site}/hen``): slots per agency per session, check-in at the kiosk, blending."""

    enabled: bool = True
    agencies: tuple[str, ...] = ()   # agencies taking bookings (empty: every agency)
    share: float = 0.25              # share of each agency's counters reserved for appointments
    slot_minutes: int = 30
    service_minutes: int = 15        # planned handling time of one booked visit (sizes the slots)
    days_ahead: int = 14             # how far ahead one may book
    min_notice_minutes: int = 60     # a slot can be booked until this long before it starts
    max_per_person: int = 2          # standing (not yet checked-in) bookings per person
    checkin_before_minutes: int = 30  # the kiosk checks a booking in from this long before its time ...
    grace_minutes: int = 15          # ... until this long after it; later, the citizen takes a normal number
    reminder_minutes: int = 120      # booking-reminder webhook this long before the time (0: none)
    streak_max: int = 3              # at most this many appointment calls in a row at an agency ...
    walk_in_guard_s: int = 900       # ... while one of its walk-ins has waited longer than this


#: Webhook events a site may subscribe to (docs/webhooks.md).
WEBHOOK_EVENTS = ("ticket-near", "ticket-called", "booking-confirmed", "booking-reminder", "booking-cancelled")


@dataclass(frozen=True)
class Webhook:
    """Where the SMS / Zalo OA gateway listens (``qserver webhook set`` overrides these in Redis)."""

    url: str = ""
    secret: str = ""
    events: tuple[str, ...] = WEBHOOK_EVENTS
    give_up_after_s: int = 3600      # a delivery still failing this long after its first try is dropped


@dataclass(frozen=True)
class Site:
    slug: str
    name: str
    timezone: str
    floors: tuple[Floor, ...]
    agencies: tuple[Agency, ...]
    counters: tuple[Counter, ...]
    hours: dict[str, tuple[tuple[dt.time, dt.time], ...]]
    holidays: frozenset[dt.date]
    announce: Announce
    short_name: str = ""
    address: str = ""
    priority_age: int = 60
    no_show_return_after: int = 0
    end_of_day: str = "expire"
    wait_alert_s: int = 1800
    target_wait_s: int = 900
    rating_levels: int = 3
    groups: tuple[str, ...] = ()  # ("Sóc Trăng cũ", "Khu vực Vĩnh Châu"): what the city console and reports pick by
    online: Online = field(default_factory=Online)
    appointments: Appointments = field(default_factory=Appointments)
    webhook: Webhook = field(default_factory=Webhook)
    template: str = ""  # the template the file names ("commune"); "" for a file that stands alone
    source: str = ""
    agency_by_slug: dict[str, Agency] = field(default_factory=dict, compare=False, repr=False)
    counter_by_id: dict[str, Counter] = field(default_factory=dict, compare=False, repr=False)
    floor_by_number: dict[int, Floor] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.agency_by_slug.update({a.slug: a for a in self.agencies})
        self.counter_by_id.update({c.id: c for c in self.counters})
        self.floor_by_number.update({f.number: f for f in self.floors})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
