"""History that outlives Redis's day keys: closed days archived append-only into SQLite.

``var/archive.sqlite`` (under the data directory) keeps, per site and closed service day, every ticket
(annotated with its officer and the agency it was taken for) and the day's events (the audit trail).
A day is written once, in one transaction, and then never changed: archiving it again is a no-op, so
two processes (or a retried request) may race safely (``BEGIN IMMEDIATE`` serialises the writers).

When is a day archived? Lazily, the first time anyone needs history after it closed: opening the
console, any report or audit request, or ``qserver stats``. :meth:`History.archive_closed_days` first
rolls the site over (so yesterday's unserved tickets are final: expired, or carried over), then
archives every day from the oldest ticket Redis still holds up to yesterday that is not archived yet.
Redis keeps a day's tickets for ``DAY_TTL_S`` (45 days), so one visit a month is enough.

Reports then read today from Redis and every earlier day from the archive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..engine import SiteEngine, day_bounds_ms
from ..exceptions import ArchiveUnavailable
from .reports import annotate

__all__ = ["Archive", "History"]

logger = logging.getLogger(__name__)
SCHEMA = """
CREATE TABLE IF NOT EXISTS days (
    site TEXT NOT NULL, day TEXT NOT NULL, archived_at TEXT NOT NULL, tickets INTEGER NOT NULL,
    events INTEGER NOT NULL, PRIMARY KEY (site, day));
CREATE TABLE IF NOT EXISTS tickets (
    site TEXT NOT NULL, day TEXT NOT NULL, id TEXT NOT NULL, agency TEXT, counter TEXT, officer TEXT,
    issued_at INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (site, id));
CREATE INDEX IF NOT EXISTS tickets_by_day ON tickets (site, day);
CREATE TABLE IF NOT EXISTS events (
    site TEXT NOT NULL, day TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL,
    at INTEGER, data TEXT NOT NULL, PRIMARY KEY (site, day, seq));
"""


#: Archive files whose journal mode and tables this process has set up (under the lock).
_PREPARED: set[Path] = set()
_PREPARING = threading.Lock()


class Archive:
    """The SQLite file. Methods are blocking; :class:`History` runs them in a worker thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        with _PREPARING:  # switching to WAL and creating the tables take locks SQLite does not wait for:
            #               the first connection to a file does it alone (a city report opens 104 at once)
            if self.path not in _PREPARED or not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                first = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                try:
                    first.execute("PRAGMA journal_mode=WAL")
                    first.executescript(SCHEMA)
                finally:
                    first.close()
                _PREPARED.add(self.path)
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def archived_days(self, site: str) -> set[str]:
        with _closing(self._connect()) as db:
            return {row[0] for row in db.execute("SELECT day FROM days WHERE site = ?", (site,))}

    def store_day(self, site: str, day: str, tickets: list[dict[str, Any]],
                  events: list[tuple[str, dict[str, Any]]]) -> bool:
        """Write one closed day; False (and nothing written) when it is archived already."""
        with _closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM days WHERE site = ? AND day = ?", (site, day)).fetchone():
                    db.execute("ROLLBACK")
                    return False
                db.executemany(
                    "INSERT OR IGNORE INTO tickets (site, day, id, agency, counter, officer, issued_at, data) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(site, day, t["id"], t.get("agency"), None if t.get("counter") is None else str(t["counter"]),
                      t.get("officer"), int(t["issued_at"]), json.dumps(t, ensure_ascii=False)) for t in tickets])
                db.executemany(
                    "INSERT OR IGNORE INTO events (site, day, seq, event_id, type, at, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(site, day, seq, event_id, e.get("type", ""), e.get("at"), json.dumps(e, ensure_ascii=False))
                     for seq, (event_id, e) in enumerate(events)])
                db.execute("INSERT INTO days (site, day, archived_at, tickets, events) VALUES (?, ?, ?, ?, ?)",
                           (site, day, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                            len(tickets), len(events)))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return True

    def tickets(self, site: str, first: str, last: str) -> list[dict[str, Any]]:
        """Archived tickets of the days ``first``..``last`` (ISO dates, inclusive), by issue time."""
        with _closing(self._connect()) as db:
            rows = db.execute("SELECT data FROM tickets WHERE site = ? AND day BETWEEN ? AND ? ORDER BY issued_at",
                              (site, first, last))
            return [json.loads(row[0]) for row in rows]

    def events(self, site: str, day: str) -> list[tuple[str, dict[str, Any]]]:
        with _closing(self._connect()) as db:
            rows = db.execute("SELECT event_id, data FROM events WHERE site = ? AND day = ? ORDER BY seq", (site, day))
            return [(row[0], json.loads(row[1])) for row in rows]

    def counts(self, site: str) -> dict[str, int]:
        """Rows per table for one site (tests and ``docs/managers.md`` checks)."""
        with _closing(self._connect()) as db:
            return {table: db.execute(f"SELECT COUNT(*) FROM {table} WHERE site = ?", (site,)).fetchone()[0]
                    for table in ("days", "tickets", "events")}


class _closing:
    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: Any) -> None:
        self.connection.close()


# -- today from Redis, the past from the archive -------------------------------------------------------
async def _db(function, *args: Any) -> Any:
    """Run a blocking archive call in a worker thread; SQLite failures become a JSON 500 answer."""
    try:
        return await asyncio.to_thread(function, *args)
    except (sqlite3.Error, OSError) as exc:
        logger.error("archive %s failed: %s", getattr(function, "__name__", function), exc)
        raise ArchiveUnavailable(f"Không đọc/ghi được kho lưu trữ báo cáo ({exc}). / The report archive failed: {exc}"
                                 ) from exc


class History:
    """Tickets and events of any day of one site: today live from Redis, closed days from the archive."""

    def __init__(self, engine: SiteEngine, archive: Archive):
        self.engine, self.archive = engine, archive
        self._archived: set[str] | None = None
        self._lock = asyncio.Lock()
        self._checked_day: str | None = None

    def today(self) -> dt.date:
        return dt.date.fromisoformat(self.engine.today())

    async def archive_closed_days(self, *, force: bool = False) -> list[str]:
        """Archive every closed day Redis still holds that the archive lacks; returns the days written.
        Runs its checks once per service day and process unless ``force``."""
        today = self.today()
        async with self._lock:
            if self._checked_day == today.isoformat() and not force:
                return []
            await self.engine.rollover()
            archived = await _db(self.archive.archived_days, self.engine.site.slug)
            first = await self.engine.oldest_ticket_day()
            written: list[str] = []
            if first is not None:
                pending = [first + dt.timedelta(days=i) for i in range((today - first).days)]
                pending = [day for day in pending if day.isoformat() not in archived]
                if pending:
                    written = await self._archive(pending)
            self._archived = archived | set(written)
            self._checked_day = today.isoformat()
            return written

    async def _archive(self, days: list[dt.date]) -> list[str]:
        site = self.engine.site
        start, _ = day_bounds_ms(site, days[0])
        _, end = day_bounds_ms(site, days[-1])
        events = await self.engine.events_between(start, end)
        tickets = await self.engine.tickets_issued(days[0], days[-1])
        written = []
        for day in days:
            lo, hi = day_bounds_ms(site, day)
            day_events = [(i, e) for i, e in events if lo <= (e.get("at") or 0) < hi]
            day_list = annotate([t for t in tickets if lo <= t["issued_at"] < hi], day_events)
            stored = await _db(self.archive.store_day, site.slug, day.isoformat(), day_list, day_events)
            if stored:
                written.append(day.isoformat())
                logger.info("archived %s %s: %d tickets, %d events", site.slug, day, len(day_list), len(day_events))
        return written

    async def tickets(self, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        """Annotated tickets issued on ``first``..``last``."""
        today = self.today()
        result: list[dict[str, Any]] = []
        if first < today:
            await self.archive_closed_days()
            result += await _db(self.archive.tickets, self.engine.site.slug, first.isoformat(),
                                min(last, today - dt.timedelta(days=1)).isoformat())
        if first <= today <= last:
            start, end = day_bounds_ms(self.engine.site, today)
            events = await self.engine.events_between(start, end)
            result += annotate(await self.engine.tickets_issued(today), events)
        return result

    async def events(self, day: dt.date) -> list[tuple[str, dict[str, Any]]]:
        """The day's events in stream order (the audit trail's source): a closed day's from the archive
        (every closed day Redis still knew was archived first), today's from the stream."""
        today = self.today()
        if day < today:
            await self.archive_closed_days()
            return await _db(self.archive.events, self.engine.site.slug, day.isoformat())
        if day > today:
            return []
        start, end = day_bounds_ms(self.engine.site, day)
        return await self.engine.events_between(start, end)
