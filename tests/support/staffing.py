"""Synthetic history put into the real SQLite archive, for the staffing API and page tests.

Eight weeks of Cần Thơ (known arrival rates and service times, :mod:`qserver.staffing.synthetic`) up to the
day before the suite's MORNING (Tuesday 24-11-2026): every counter open as configured, except the last
day (Monday 23-11) when Sở Tư pháp's counters 33 and 34 were not staffed; a kiosk outage on 11-11.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from config import Site
from qserver.managers.archive import Archive
from qserver.staffing.synthetic import CANTHO_SERVICE_S, Truth, config_layout, history, make_truth

FIRST, LAST = dt.date(2026, 9, 28), dt.date(2026, 11, 20)
SHORT_DAY = dt.date(2026, 11, 23)       # Monday: counters 33 and 34 (Sở Tư pháp) unstaffed
OUTAGE_DAY = dt.date(2026, 11, 11)
TODAY = dt.date(2026, 11, 24)
TU_PHAP = "so-tu-phap"
UNSTAFFED = ("33", "34")


def cantho_truth(site: Site) -> Truth:
    return make_truth(site, 500, CANTHO_SERVICE_S, weekday_factor={"mon": 1.12, "fri": 0.9}, epoch=FIRST)


def cantho_tickets(site: Site) -> list[dict[str, Any]]:
    """The stored tickets of FIRST..SHORT_DAY (issue order)."""
    truth = cantho_truth(site)
    tickets = history(truth, FIRST, LAST, "api-history", outages={OUTAGE_DAY: (8 * 3600, 9 * 3600 + 1800)})
    layout = {c: a for c, a in config_layout(site).items() if c not in UNSTAFFED}
    short = history(truth, SHORT_DAY, SHORT_DAY, "api-short-day", layout=layout)
    return tickets + short


def store(path: Path, site_slug: str, tickets: Iterable[Mapping[str, Any]], tz) -> Archive:
    """Every day of ``tickets`` written into the archive at ``path`` as the real archiving does (one
    ``store_day`` per closed day; synthetic days carry no events)."""
    archive = Archive(path)
    by_day: dict[str, list[dict[str, Any]]] = {}
    for ticket in tickets:
        day = dt.datetime.fromtimestamp(ticket["issued_at"] / 1000, tz=tz).date().isoformat()
        by_day.setdefault(day, []).append(dict(ticket))
    for day, rows in sorted(by_day.items()):
        assert archive.store_day(site_slug, day, rows, [])
    return archive


def install(template: Path, data_dir: Path) -> Path:
    """Copy a prepared archive into an app's data directory (before its first request reads it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "archive.sqlite"
    shutil.copyfile(template, target)
    return target


def commune_tickets(site: Site, daily: float, seed: str, weeks: int = 4) -> list[dict[str, Any]]:
    """``weeks`` of a commune center up to the Friday before TODAY, ``daily`` tickets on an ordinary day."""
    truth = make_truth(site, daily, 540, epoch=FIRST)
    last = dt.date(2026, 11, 20)
    return history(truth, last - dt.timedelta(days=7 * weeks - 3), last, seed)


def local(site: Site, hour: int, minute: int = 0, day: dt.date = TODAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=site.tz).astimezone(dt.timezone.utc)


async def scripted_morning(engine, clock) -> dict[str, int]:
    """Tuesday 24-11 from 07:00 to 08:45 through the real engine: 45 citizens for Sở Tư pháp (a rush, about
    four times its usual morning), 6 for Sở Nội vụ; counter 35 (Tư pháp) paused since 07:05; counters 33 and
    34 call a Tư pháp citizen every 12 minutes, 12 serves Nội vụ at once. Leaves the clock at 08:45."""
    site = engine.site
    start = local(site, 7)
    events: list[tuple[float, str, str]] = [(k * 140.0, "issue", TU_PHAP) for k in range(45)]
    events += [(600.0 + k * 900, "issue", "so-noi-vu") for k in range(6)]
    events += [(600.0 + k * 900 + 60, "call", "12") for k in range(6)]
    events += [(600.0 + k * 720, "call", counter) for k in range(9) for counter in ("33", "34")]
    events.append((300.0, "pause", "35"))
    for seconds, kind, what in sorted(events):
        clock.set(start + dt.timedelta(seconds=seconds))
        if kind == "issue":
            await engine.issue(what)
        elif kind == "call":
            await engine.call_next(what, actor=f"officer:quay-{what}")
        else:
            await engine.set_status(what, "pause", "họp giao ban", actor="manager:hoa")
    clock.set(local(site, 8, 45))
    return {"tu_phap": 45, "noi_vu": 6}
