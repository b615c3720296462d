"""Turn a site's tables (its own file, with its template applied) into a :class:`Site`, recording every
problem at the file and line it comes from instead of stopping at the first."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .exceptions import ConfigError, Problem
from .inherit import Layout
from .model import WEBHOOK_EVENTS, Agency, Announce, Appointments, Counter, Floor, Online, Site, Webhook
from .source import Node

__all__ = ["Validator", "WEEKDAYS"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
COUNTER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")
SESSION_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
HOUR_RE = re.compile(r"^(\d{2}):(\d{2})$")
URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_positive = lambda v: v >= 0  # noqa: E731


class Validator:
    """Walks a :class:`Layout` once. ``partial`` checks a template on its own: nothing is required."""

    def __init__(self, layout: Layout, *, partial: bool = False):
        self.layout, self.partial = layout, partial
        self.problems: list[Problem] = list(layout.problems)

    def problem(self, node: Node, message: str, key: str | None = None) -> None:
        self.problems.append(node.problem(message, key))

    def required(self, where: str, message: str) -> None:
        if not self.partial:
            self.problems.append(Problem(self.layout.doc.path, None, where, message))

    def get(self, node: Node, key: str, kind: type | tuple, default: Any = ..., *, check=None, hint: str = "") -> Any:
        """``node[key]`` when it is of ``kind`` (and passes ``check``); else a problem and ``default``."""
        node.used.add(key)
        if key not in node.data:
            if default is ...:
                if not self.partial:
                    self.problem(node, f"'{key}' is missing")
                return None
            return default
        value = node.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = (bool in kinds) if isinstance(value, bool) else isinstance(value, kinds)
        if ok and check is not None and not check(value):
            ok = False
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            self.problem(node, f"'{key}' = {value!r} is not {hint or 'a ' + names}", key)
            return None if default is ... else default
        return value

    # -- the whole site ---------------------------------------------------------------------------
    def site(self) -> Site:
        """The site, or :class:`ConfigError` with every problem."""
        site = self._site() if self.layout.usable else None
        if self.problems or site is None:
            raise ConfigError(self.layout.doc.path, self.problems)
        return site

    def check(self) -> list[Problem]:
        """Every problem, without building a site (templates, ``partial``)."""
        if self.layout.usable:
            self._site()
        return self.problems

    def _site(self) -> Site | None:
        layout = self.layout
        head = layout.tables["site"]
        if "site" not in layout.doc.raw and (layout.template is None or "site" not in layout.template.raw):
            self.required("[site]", "the [site] table is missing")
        slug = self.get(head, "slug", str, check=SLUG_RE.match, hint="a slug (a-z, 0-9, -)")
        name = self.get(head, "name", str, check=str.strip, hint="a non-empty name")
        timezone = self.get(head, "timezone", str, "Asia/Ho_Chi_Minh")
        try:
            ZoneInfo(timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(head, f"unknown time zone {timezone!r}", "timezone")
        fields = dict(
            short_name=self.get(head, "short_name", str, ""),
            address=self.get(head, "address", str, ""),
            priority_age=self.get(head, "priority_age", int, 60, check=lambda v: 0 < v < 150,
                                  hint="an age between 1 and 149"),
            no_show_return_after=self.get(head, "no_show_return_after", int, 0, check=_positive,
                                          hint="a whole number ≥ 0"),
            end_of_day=self.get(head, "end_of_day", str, "expire", check=lambda v: v in ("expire", "carry_over"),
                                hint="'expire' or 'carry_over'"),
            wait_alert_s=self.get(head, "wait_alert_s", int, 1800, check=_positive, hint="seconds ≥ 0"),
            target_wait_s=self.get(head, "target_wait_s", int, 900, check=_positive, hint="seconds ≥ 0"),
            rating_levels=self.get(head, "rating_levels", int, 3, check=lambda v: v in (3, 5), hint="3 or 5"),
            groups=tuple(self.get(head, "groups", list, [], check=_names, hint="a list of group names")),
        )
        if len(set(fields["groups"])) != len(fields["groups"]):
            self.problem(head, f"groups {list(fields['groups'])} name a group twice", "groups")
        floors = self.floors()
        floor_numbers = {f.number for f in floors} if layout.arrays["floors"] is not None or not self.partial else None
        agencies = self.agencies(floor_numbers)
        agency_slugs = {a.slug for a in agencies} if layout.arrays["agencies"] is not None or not self.partial else None
        counters = self.counters(floor_numbers, agency_slugs)
        hours, holidays, announce = self.hours(), self.holidays(), self.announce()
        home = dict(online=self.online(), appointments=self.appointments(agency_slugs), webhook=self.webhook())
        self.served(agencies, counters)
        self.unknown_keys()
        if self.partial:
            return None
        return Site(slug=slug or "", name=name or "", timezone=timezone or "Asia/Ho_Chi_Minh",
                    floors=floors, agencies=agencies, counters=counters, hours=hours, holidays=holidays,
                    announce=announce, template=layout.template_name, source=layout.doc.path, **fields, **home)

    def served(self, agencies: tuple[Agency, ...], counters: tuple[Counter, ...]) -> None:
        """With a template, an agency nobody serves is a mistake (a kiosk would hand out its tickets)."""
        if self.partial or self.layout.template is None or not counters:
            return
        served = {slug for counter in counters for slug in counter.agencies}
        for agency in agencies:
            if agency.slug not in served:
                self.problem(self.layout.tables["site"],
                             f"agency '{agency.slug}' is served by no counter: add it to a counter's agencies, "
                             "or to drop_agencies", "template")

    def unknown_keys(self) -> None:
        for node in self.layout.nodes():
            if node.section == "hours":
                continue
            for key in node.data:
                if key not in node.used:
                    close = difflib.get_close_matches(key, node.used, n=1)
                    hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(sorted(node.used))}"
                    self.problem(node, f"unknown key '{key}' ({hint})", key)

    # -- the lists --------------------------------------------------------------------------------
    def floors(self) -> tuple[Floor, ...]:
        items = self.layout.arrays["floors"]
        if not items:
            self.required("[[floors]]", "at least one floor is needed")
            return ()
        result, seen = [], set()
        for node in items:
            number = self.get(node, "number", int)
            name = self.get(node, "name", str)
            name_en = self.get(node, "name_en", str, "")
            if number in seen:
                self.problem(node, f"floor {number} is listed twice", "number")
            seen.add(number)
            if number is not None and name is not None:
                result.append(Floor(number, name, name_en))
        return tuple(result)

    def agencies(self, floors: set[int] | None) -> tuple[Agency, ...]:
        items = self.layout.arrays["agencies"]
        if not items:
            self.required("[[agencies]]", "at least one agency is needed")
            return ()
        result, slugs, prefixes = [], {}, {}
        for node in items:
            slug = node.data.get("slug")
            node.label = f'slug "{slug}"' if isinstance(slug, str) else ""
            slug = self.get(node, "slug", str, check=SLUG_RE.match, hint="a slug (a-z, 0-9, -)")
            name = self.get(node, "name", str, check=str.strip, hint="a non-empty name")
            floor = self.get(node, "floor", int)
            prefix = self.get(node, "prefix", str, check=lambda v: 0 < len(v) <= 4 and v.isalnum(),
                              hint="1 to 4 letters or digits")
            number_format = self.get(node, "number_format", str, "{prefix}{seq:03d}")
            procedures = self.get(node, "procedures", int, 0)
            if floor is not None and floors is not None and floor not in floors:
                self.problem(node, f"floor {floor} is not one of the [[floors]]", "floor")
            if slug in slugs:
                self.problem(node, f"agency '{slug}' is already defined at {slugs[slug]}", "slug")
            if prefix is not None and prefix in prefixes:
                self.problem(node, f"prefix '{prefix}' is already used by agency '{prefixes[prefix]}'"
                                   " (ticket numbers must be unique in a day)", "prefix")
            try:
                number_format.format(prefix="A", seq=1)
            except (KeyError, ValueError, IndexError) as exc:
                self.problem(node, f"number_format {number_format!r} does not format: {exc}", "number_format")
            if None in (slug, name, floor, prefix):
                continue
            slugs[slug] = node.problem("").text(relative_to=self.layout.doc.path)
            prefixes[prefix] = slug
            result.append(Agency(slug, name, floor, prefix, procedures, number_format))
        return tuple(result)

    def counters(self, floors: set[int] | None, agencies: set[str] | None) -> tuple[Counter, ...]:
        items = self.layout.arrays["counters"]
        if not items:
            self.required("[[counters]]", "at least one counter is needed")
            return ()
        result, ids = [], {}
        for node in items:
            cid = node.data.get("id")
            node.label = f'id "{cid}"' if cid is not None else ""
            cid = self.get(node, "id", str, check=COUNTER_ID_RE.match, hint='a short id such as "12" (a string)')
            floor = self.get(node, "floor", int)
            served = self.get(node, "agencies", list)
            name = self.get(node, "name", str, "")
            if floor is not None and floors is not None and floor not in floors:
                self.problem(node, f"floor {floor} is not one of the [[floors]]", "floor")
            if cid in ids:
                self.problem(node, f"counter '{cid}' is already defined at {ids[cid]}", "id")
            for slug in served or []:
                if agencies is not None and slug not in agencies:
                    self.problem(node, f"unknown agency '{slug}' on counter {cid}", "agencies")
            if served is not None and len(set(map(str, served))) != len(served):
                self.problem(node, f"counter {cid} lists an agency twice", "agencies")
            if None in (cid, floor, served):
                continue
            ids[cid] = node.problem("").text(relative_to=self.layout.doc.path)
            result.append(Counter(cid, floor, tuple(served), name))
        return tuple(result)

    # -- hours and voice --------------------------------------------------------------------------
    def hours(self) -> dict[str, tuple[tuple[dt.time, dt.time], ...]]:
        node = self.layout.tables["hours"]
        result: dict[str, tuple[tuple[dt.time, dt.time], ...]] = {}
        for key in node.data:
            if key not in WEEKDAYS and key != "holidays":
                self.problem(node, f"'{key}' is not a weekday (use {', '.join(WEEKDAYS)})", key)
        for day in WEEKDAYS:
            texts = node.data.get(day, [])
            if not isinstance(texts, list):
                self.problem(node, f"{day}: {texts!r} is not a list of sessions like [\"07:00-10:30\"]", day)
                texts = []
            sessions = []
            for text in texts:
                match = SESSION_RE.match(text) if isinstance(text, str) else None
                if not match:
                    self.problem(node, f"{day}: {text!r} is not a session like \"07:00-10:30\"", day)
                    continue
                h1, m1, h2, m2 = map(int, match.groups())
                try:
                    start, end = dt.time(h1, m1), dt.time(h2, m2)
                except ValueError:
                    self.problem(node, f"{day}: {text!r} has an impossible time", day)
                    continue
                if start >= end:
                    self.problem(node, f"{day}: session {text!r} ends before it starts", day)
                    continue
                sessions.append((start, end))
            sessions.sort()
            for (s1, e1), (s2, e2) in zip(sessions, sessions[1:]):
                if s2 < e1:
                    self.problem(node, f"{day}: sessions {s1:%H:%M}-{e1:%H:%M} and {s2:%H:%M}-{e2:%H:%M} overlap", day)
            result[day] = tuple(sessions)
        return result

    def holidays(self) -> frozenset[dt.date]:
        node = self.layout.tables["hours"]
        texts = node.data.get("holidays", [])
        if not isinstance(texts, list):
            self.problem(node, f"holidays {texts!r} is not a list of dates", "holidays")
            return frozenset()
        days = set()
        for text in texts:
            try:
                days.add(dt.date.fromisoformat(text))
            except (TypeError, ValueError):
                self.problem(node, f"holiday {text!r} is not a date like \"2026-09-02\"", "holidays")
        return frozenset(days)

    def announce(self) -> Announce:
        node, base = self.layout.tables["announce"], Announce()
        announce = Announce(
            template=self.get(node, "template", str, base.template),
            template_other_floor=self.get(node, "template_other_floor", str, base.template_other_floor),
            number_reading=self.get(node, "number_reading", str, base.number_reading,
                                    check=lambda v: v in ("digits", "words"), hint="'digits' or 'words'"),
            dialect=self.get(node, "dialect", str, base.dialect, check=lambda v: v in ("south", "north"),
                             hint="'south' or 'north'"),
            voice=self.get(node, "voice", str, base.voice),
            rate=self.get(node, "rate", int, base.rate, check=lambda v: 50 <= v <= 400,
                          hint="words per minute between 50 and 400"),
            volume=float(self.get(node, "volume", (int, float), base.volume, check=lambda v: 0 <= v <= 1,
                                  hint="a number between 0 and 1")),
            repeat=self.get(node, "repeat", int, base.repeat, check=lambda v: 1 <= v <= 5, hint="1 to 5"),
            chime=self.get(node, "chime", bool, base.chime),
            stale_after_s=float(self.get(node, "stale_after_s", (int, float), base.stale_after_s,
                                         check=lambda v: v > 0, hint="seconds > 0")),
        )
        for key in ("template", "template_other_floor"):
            try:
                getattr(announce, key).format(number="A001", counter="1", floor="Tầng 1")
            except (KeyError, ValueError, IndexError) as exc:
                self.problem(node, f"{key} uses an unknown placeholder {exc} (use {{number}}, {{counter}}, {{floor}})",
                             key)
        return announce


    # -- from home: online numbers, appointments, webhooks (docs/webhooks.md, README) ------------------
    def online(self) -> Online:
        node, base = self.layout.tables["online"], Online()
        start = self.get(node, "from", str, "", check=lambda v: v == "" or _hour(v) is not None,
                         hint='a local time like "06:00" (or "" for "only while receiving")')
        return Online(
            enabled=self.get(node, "enabled", bool, base.enabled),
            start=_hour(start) if start else None,
            max_per_person=self.get(node, "max_per_person", int, base.max_per_person, check=lambda v: 1 <= v <= 20,
                                    hint="1 to 20"),
            no_show_limit=self.get(node, "no_show_limit", int, base.no_show_limit, check=_positive,
                                   hint="a whole number ≥ 0 (0: never bar anyone)"),
            no_show_days=self.get(node, "no_show_days", int, base.no_show_days, check=lambda v: 1 <= v <= 40,
                                  hint="1 to 40 days (tickets are kept 45 days)"),
            near_ahead=self.get(node, "near_ahead", int, base.near_ahead, check=lambda v: 1 <= v <= 50,
                                hint="1 to 50 people ahead"),
        )

    def appointments(self, agency_slugs: set[str] | None) -> Appointments:
        node, base = self.layout.tables["appointments"], Appointments()
        minutes = lambda low, high: (lambda v: low <= v <= high)  # noqa: E731
        agencies = tuple(self.get(node, "agencies", list, [], check=_names, hint="a list of agency slugs"))
        for slug in agencies:
            if agency_slugs is not None and slug not in agency_slugs:
                self.problem(node, f"unknown agency '{slug}' in agencies", "agencies")
        result = Appointments(
            enabled=self.get(node, "enabled", bool, base.enabled),
            agencies=agencies,
            share=float(self.get(node, "share", (int, float), base.share, check=lambda v: 0 <= v <= 1,
                                 hint="a share between 0 and 1")),
            slot_minutes=self.get(node, "slot_minutes", int, base.slot_minutes, check=minutes(5, 240),
                                  hint="5 to 240 minutes"),
            service_minutes=self.get(node, "service_minutes", int, base.service_minutes, check=minutes(1, 240),
                                     hint="1 to 240 minutes"),
            days_ahead=self.get(node, "days_ahead", int, base.days_ahead, check=minutes(0, 60), hint="0 to 60 days"),
            min_notice_minutes=self.get(node, "min_notice_minutes", int, base.min_notice_minutes,
                                        check=minutes(0, 7 * 24 * 60), hint="0 to 10080 minutes"),
            max_per_person=self.get(node, "max_per_person", int, base.max_per_person, check=minutes(1, 20),
                                    hint="1 to 20"),
            checkin_before_minutes=self.get(node, "checkin_before_minutes", int, base.checkin_before_minutes,
                                            check=minutes(0, 240), hint="0 to 240 minutes"),
            grace_minutes=self.get(node, "grace_minutes", int, base.grace_minutes, check=minutes(0, 240),
                                   hint="0 to 240 minutes"),
            reminder_minutes=self.get(node, "reminder_minutes", int, base.reminder_minutes,
                                      check=minutes(0, 7 * 24 * 60), hint="0 to 10080 minutes"),
            streak_max=self.get(node, "streak_max", int, base.streak_max, check=minutes(0, 50),
                                hint="0 (no limit) to 50 calls"),
            walk_in_guard_s=self.get(node, "walk_in_guard_s", int, base.walk_in_guard_s, check=_positive,
                                     hint="seconds ≥ 0"),
        )
        return result

    def webhook(self) -> Webhook:
        node, base = self.layout.tables["webhook"], Webhook()
        url = self.get(node, "url", str, "", check=lambda v: v == "" or URL_RE.match(v),
                       hint="an http:// or https:// address (or \"\")")
        events = self.get(node, "events", list, list(base.events), check=_names, hint="a list of event names")
        for name in events:
            if name not in WEBHOOK_EVENTS:
                self.problem(node, f"unknown webhook event '{name}' (known: {', '.join(WEBHOOK_EVENTS)})", "events")
        secret = self.get(node, "secret", str, "")
        if url and not secret:
            self.problem(node, "a webhook url needs a secret to sign its messages with", "secret")
        return Webhook(url=url or "", secret=secret or "",
                       events=tuple(e for e in events if e in WEBHOOK_EVENTS),
                       give_up_after_s=self.get(node, "give_up_after_s", int, base.give_up_after_s,
                                                check=lambda v: 60 <= v <= 7 * 86400, hint="60 to 604800 seconds"))


def _hour(text: str) -> dt.time | None:
    match = HOUR_RE.match(text)
    if not match:
        return None
    try:
        return dt.time(int(match.group(1)), int(match.group(2)))
    except ValueError:
        return None


def _names(value: list) -> bool:
    return all(isinstance(name, str) and name.strip() for name in value)
