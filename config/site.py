"""Site layouts: TOML files under ``config/sites/`` turned into frozen, validated objects.

Validation collects every problem with its place in the file (``line 212, [[counters]] #12 (id
"12"): unknown agency 'so-xyz'``) so ``qserver check-config`` can explain them all at once.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Agency", "Announce", "ConfigError", "Counter", "Floor", "Site", "load_site", "parse_site",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
COUNTER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")
SESSION_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class ConfigError(ValueError):
    """A site file that cannot be used; ``problems`` lists every error with its place."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


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

    def number(self, seq: int) -> str:
        """The ticket number shown and read aloud for the agency's ``seq``-th ticket of the day."""
        return self.number_format.format(prefix=self.prefix, seq=seq)


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


def load_site(path: str | Path) -> Site:
    """Read and validate one site file; raises :class:`ConfigError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    return parse_site(text, source=str(path))


def parse_site(text: str, source: str = "<string>") -> Site:
    """Validate the TOML text of one site."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from exc
    return _Validator(raw, text, source).site()


class _Validator:
    """Walks the raw TOML once, recording problems instead of stopping at the first."""

    def __init__(self, raw: dict[str, Any], text: str, source: str):
        self.raw, self.source = raw, source
        self.lines = text.splitlines()
        self.problems: list[str] = []

    # -- places -----------------------------------------------------------------------------------
    def _line_of_table(self, header: str, index: int) -> int | None:
        """Line number (1-based) of the ``index``-th ``[[header]]`` or ``[header]``."""
        seen = -1
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(header)}\s*\]\]?\s*(#.*)?$")
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                seen += 1
                if seen == index:
                    return number
        return None

    def _place(self, header: str, index: int = 0, label: str = "") -> str:
        line = self._line_of_table(header, index)
        where = f"line {line}, " if line else ""
        many = header in ("floors", "agencies", "counters")
        table = f"[[{header}]] #{index + 1}" if many else f"[{header}]"
        return f"{where}{table}{f' ({label})' if label else ''}"

    def problem(self, place: str, message: str) -> None:
        self.problems.append(f"{place}: {message}")

    # -- typed reads ------------------------------------------------------------------------------
    def get(self, table: dict, key: str, kind: type | tuple, place: str, default: Any = ..., *,
            check=None, hint: str = "") -> Any:
        if key not in table:
            if default is ...:
                self.problem(place, f"'{key}' is missing")
                return None
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if ok and check is not None and not check(value):
            ok = False
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            self.problem(place, f"'{key}' = {value!r} is not {hint or 'a ' + names}")
            return None if default is ... else default
        return value

    # -- sections ---------------------------------------------------------------------------------
    def site(self) -> Site:
        raw = self.raw
        head = raw.get("site")
        if not isinstance(head, dict):
            self.problem("[site]", "the [site] table is missing")
            head = {}
        place = self._place("site")
        slug = self.get(head, "slug", str, place, check=SLUG_RE.match, hint="a slug (a-z, 0-9, -)")
        name = self.get(head, "name", str, place, check=str.strip, hint="a non-empty name")
        timezone = self.get(head, "timezone", str, place, "Asia/Ho_Chi_Minh")
        try:
            ZoneInfo(timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(place, f"unknown time zone {timezone!r}")
        end_of_day = self.get(head, "end_of_day", str, place, "expire",
                              check=lambda v: v in ("expire", "carry_over"), hint="'expire' or 'carry_over'")
        positive = lambda v: v >= 0  # noqa: E731
        floors = self.floors()
        floor_numbers = {f.number for f in floors}
        agencies = self.agencies(floor_numbers)
        counters = self.counters(floor_numbers, {a.slug for a in agencies})
        site = Site(
            slug=slug or "", name=name or "", timezone=timezone or "Asia/Ho_Chi_Minh",
            short_name=self.get(head, "short_name", str, place, ""),
            address=self.get(head, "address", str, place, ""),
            priority_age=self.get(head, "priority_age", int, place, 60, check=lambda v: 0 < v < 150,
                                  hint="an age between 1 and 149"),
            no_show_return_after=self.get(head, "no_show_return_after", int, place, 0, check=positive,
                                          hint="a whole number ≥ 0"),
            end_of_day=end_of_day,
            wait_alert_s=self.get(head, "wait_alert_s", int, place, 1800, check=positive, hint="seconds ≥ 0"),
            target_wait_s=self.get(head, "target_wait_s", int, place, 900, check=positive, hint="seconds ≥ 0"),
            rating_levels=self.get(head, "rating_levels", int, place, 3, check=lambda v: v in (3, 5),
                                   hint="3 or 5"),
            floors=floors, agencies=agencies, counters=counters,
            hours=self.hours(), holidays=self.holidays(), announce=self.announce(), source=self.source,
        )
        if self.problems:
            raise ConfigError(self.source, self.problems)
        return site

    def floors(self) -> tuple[Floor, ...]:
        items = self.raw.get("floors", [])
        if not isinstance(items, list) or not items:
            self.problem("[[floors]]", "at least one floor is needed")
            return ()
        result, seen = [], set()
        for index, item in enumerate(items):
            place = self._place("floors", index)
            number = self.get(item, "number", int, place)
            name = self.get(item, "name", str, place)
            if number in seen:
                self.problem(place, f"floor {number} is listed twice")
            seen.add(number)
            if number is not None and name is not None:
                result.append(Floor(number, name, self.get(item, "name_en", str, place, "")))
        return tuple(result)

    def agencies(self, floors: set[int]) -> tuple[Agency, ...]:
        items = self.raw.get("agencies", [])
        if not isinstance(items, list) or not items:
            self.problem("[[agencies]]", "at least one agency is needed")
            return ()
        result, slugs, prefixes = [], {}, {}
        for index, item in enumerate(items):
            slug = item.get("slug") if isinstance(item.get("slug"), str) else None
            place = self._place("agencies", index, f'slug "{slug}"' if slug else "")
            slug = self.get(item, "slug", str, place, check=SLUG_RE.match, hint="a slug (a-z, 0-9, -)")
            name = self.get(item, "name", str, place, check=str.strip, hint="a non-empty name")
            floor = self.get(item, "floor", int, place)
            prefix = self.get(item, "prefix", str, place, check=lambda v: 0 < len(v) <= 4 and v.isalnum(),
                              hint="1 to 4 letters or digits")
            number_format = self.get(item, "number_format", str, place, "{prefix}{seq:03d}")
            if floor is not None and floor not in floors:
                self.problem(place, f"floor {floor} is not one of the [[floors]]")
            if slug in slugs:
                self.problem(place, f"agency '{slug}' is already defined at {slugs[slug]}")
            if prefix is not None and prefix in prefixes:
                self.problem(place, f"prefix '{prefix}' is already used by agency '{prefixes[prefix]}'"
                                    " (ticket numbers must be unique in a day)")
            try:
                number_format.format(prefix="A", seq=1)
            except (KeyError, ValueError, IndexError) as exc:
                self.problem(place, f"number_format {number_format!r} does not format: {exc}")
            if None in (slug, name, floor, prefix):
                continue
            slugs[slug], prefixes[prefix] = place, slug
            result.append(Agency(slug, name, floor, prefix,
                                 self.get(item, "procedures", int, place, 0), number_format))
        return tuple(result)

    def counters(self, floors: set[int], agencies: set[str]) -> tuple[Counter, ...]:
        items = self.raw.get("counters", [])
        if not isinstance(items, list) or not items:
            self.problem("[[counters]]", "at least one counter is needed")
            return ()
        result, ids = [], {}
        for index, item in enumerate(items):
            cid = item.get("id")
            place = self._place("counters", index, f'id "{cid}"' if cid is not None else "")
            cid = self.get(item, "id", str, place, check=COUNTER_ID_RE.match,
                           hint='a short id such as "12" (a string)')
            floor = self.get(item, "floor", int, place)
            served = self.get(item, "agencies", list, place)
            if floor is not None and floor not in floors:
                self.problem(place, f"floor {floor} is not one of the [[floors]]")
            if cid in ids:
                self.problem(place, f"counter '{cid}' is already defined at {ids[cid]}")
            for slug in served or []:
                if slug not in agencies:
                    self.problem(place, f"unknown agency '{slug}' on counter {cid}")
            if served is not None and len(set(served)) != len(served):
                self.problem(place, f"counter {cid} lists an agency twice")
            if None in (cid, floor, served):
                continue
            ids[cid] = place
            result.append(Counter(cid, floor, tuple(served), self.get(item, "name", str, place, "")))
        return tuple(result)

    def hours(self) -> dict[str, tuple[tuple[dt.time, dt.time], ...]]:
        table = self.raw.get("hours", {})
        place = self._place("hours")
        result: dict[str, tuple[tuple[dt.time, dt.time], ...]] = {}
        for key in table:
            if key not in WEEKDAYS and key != "holidays":
                self.problem(place, f"'{key}' is not a weekday (use {', '.join(WEEKDAYS)})")
        for day in WEEKDAYS:
            sessions = []
            for text in table.get(day, []):
                match = SESSION_RE.match(text) if isinstance(text, str) else None
                if not match:
                    self.problem(place, f"{day}: {text!r} is not a session like \"07:00-10:30\"")
                    continue
                h1, m1, h2, m2 = map(int, match.groups())
                try:
                    start, end = dt.time(h1, m1), dt.time(h2, m2)
                except ValueError:
                    self.problem(place, f"{day}: {text!r} has an impossible time")
                    continue
                if start >= end:
                    self.problem(place, f"{day}: session {text!r} ends before it starts")
                    continue
                sessions.append((start, end))
            sessions.sort()
            for (s1, e1), (s2, e2) in zip(sessions, sessions[1:]):
                if s2 < e1:
                    self.problem(place, f"{day}: sessions {s1:%H:%M}-{e1:%H:%M} and {s2:%H:%M}-{e2:%H:%M} overlap")
            result[day] = tuple(sessions)
        return result

    def holidays(self) -> frozenset[dt.date]:
        days = set()
        for text in self.raw.get("hours", {}).get("holidays", []):
            try:
                days.add(dt.date.fromisoformat(text))
            except (TypeError, ValueError):
                self.problem(self._place("hours"), f"holiday {text!r} is not a date like \"2026-09-02\"")
        return frozenset(days)

    def announce(self) -> Announce:
        table = self.raw.get("announce", {})
        place = self._place("announce")
        base = Announce()
        announce = Announce(
            template=self.get(table, "template", str, place, base.template),
            template_other_floor=self.get(table, "template_other_floor", str, place, base.template_other_floor),
            number_reading=self.get(table, "number_reading", str, place, base.number_reading,
                                    check=lambda v: v in ("digits", "words"), hint="'digits' or 'words'"),
            dialect=self.get(table, "dialect", str, place, base.dialect,
                             check=lambda v: v in ("south", "north"), hint="'south' or 'north'"),
            voice=self.get(table, "voice", str, place, base.voice),
            rate=self.get(table, "rate", int, place, base.rate, check=lambda v: 50 <= v <= 400,
                          hint="words per minute between 50 and 400"),
            volume=float(self.get(table, "volume", (int, float), place, base.volume,
                                  check=lambda v: 0 <= v <= 1, hint="a number between 0 and 1")),
            repeat=self.get(table, "repeat", int, place, base.repeat, check=lambda v: 1 <= v <= 5,
                            hint="1 to 5"),
            chime=self.get(table, "chime", bool, place, base.chime),
            stale_after_s=float(self.get(table, "stale_after_s", (int, float), place, base.stale_after_s,
                                         check=lambda v: v > 0, hint="seconds > 0")),
        )
        for key in ("template", "template_other_floor"):
            try:
                getattr(announce, key).format(number="A001", counter="1", floor="Tầng 1")
            except (KeyError, ValueError, IndexError) as exc:
                self.problem(place, f"{key} uses an unknown placeholder {exc} "
                                    "(use {number}, {counter}, {floor})")
        return announce
