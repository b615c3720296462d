"""What a site is once its file is read: frozen objects the rest of qserver uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

__all__ = ["Agency", "Announce", "Counter", "Floor", "Site"]


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
