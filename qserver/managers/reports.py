"""Reports a center is judged by: pure functions of a list of stored tickets (times in ms) and the site.

Definitions (docs/managers.md repeats them for supervisors):

- A ticket counts for the agency where it *ended* (who served it, or where it still waits), except
  ``issued`` and ``transferred``, which count for the agency it was *taken for* at the kiosk
  (``issued_agency``); ``received`` counts tickets that were moved into an agency.
- waiting time = ``called_at - issued_at`` of every ticket that was called (served or no-show);
  service time = ``done_at - called_at`` of every served ticket. Durations are whole seconds.
- p50/p90 are nearest-rank percentiles: the value at rank ``ceil(p/100 * n)`` of the sorted list,
  always a time that really happened.
- "within target" = called tickets whose wait was at most ``site.target_wait_s``, over called tickets.
- satisfaction share = ratings in the top two levels over ratings (Rất hài lòng + Hài lòng for 3 levels).
- the officer of a ticket is the ``actor`` of the call that last called it (see :func:`annotate`).
- a ticket counts for the procedure it carries at the end (the one chosen at the kiosk, or the officer's
  correction; a transfer to another agency leaves it without one); tickets without a procedure share
  one row, "Không chọn thủ tục", listed last.
- channels: how the tickets issued came (``kiosk``, ``online`` from a phone, ``appointment`` checked in
  at the kiosk), per row that counts issued tickets; ``appointments`` (:mod:`.home_reports`): per agency,
  bookings made for the days, cancelled, checked in, served (appointment tickets served), no-shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from config import Site

from ..labels import CHANNEL_NAMES, NO_PROCEDURE, RATING_LABELS, counter_name
from ..present import CHANNELS

__all__ = ["percentile", "summarize", "annotate", "officer_name", "compute", "report_csv", "format_table"]

CALLED = ("called", "done", "no_show")


def percentile(sorted_values: list[int], p: float) -> int | None:
    """Nearest-rank percentile of an already sorted list; None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(values: Iterable[int]) -> dict[str, Any]:
    """count, p50, p90, max and mean (one decimal) of durations in seconds."""
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "max": ordered[-1] if ordered else None,
        "mean": round(sum(ordered) / len(ordered), 1) if ordered else None,
    }


def officer_name(actor: str | None) -> str:
    """``"officer:lan"`` → ``"lan"``; other roles keep their prefix (``"manager:hoa"``)."""
    if not actor:
        return "—"
    role, _, name = actor.partition(":")
    return name if role == "officer" and name else actor


def annotate(tickets: Iterable[dict[str, Any]], events: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Tickets with ``officer`` (the actor of their last call), ``issued_agency`` (before any transfer)
    and ``transfers_by`` ([[counter, actor], ...] of officers' transfers), read from the day's events
    in stream order. Values already on a ticket (an archived one) are kept."""
    info: dict[str, dict[str, Any]] = defaultdict(dict)
    for _event_id, event in events:
        ticket = event.get("ticket")
        if not isinstance(ticket, dict) or "id" not in ticket:
            continue
        known = info[ticket["id"]]
        if event.get("type") == "called" and not event.get("recall"):
            known["officer"] = event.get("actor") or None
        elif event.get("type") == "transferred":
            known.setdefault("issued_agency", event.get("from_agency"))
            if event.get("counter") is not None:
                known.setdefault("transfers_by", []).append([str(event["counter"]), event.get("actor") or ""])
    result = []
    for ticket in tickets:
        known = info.get(ticket["id"], {})
        result.append({
            **ticket,
            "officer": ticket.get("officer") or known.get("officer"),
            "issued_agency": ticket.get("issued_agency") or known.get("issued_agency") or ticket.get("agency"),
            "transfers_by": ticket.get("transfers_by") or known.get("transfers_by") or [],
        })
    return result


class _Row:
    """Accumulates one report row (an agency, a counter, an officer, a day, the whole site)."""

    def __init__(self, key: str, name: str, levels: int, count_issued: bool):
        self.key, self.name, self.levels, self.count_issued = key, name, levels, count_issued
        self.counts = dict.fromkeys(("issued", "served", "no_show", "transferred", "received", "expired",
                                     "waiting", "in_service"), 0)
        self.waits: list[int] = []
        self.services: list[int] = []
        self.ratings = dict.fromkeys(range(levels, 0, -1), 0)
        self.channels = dict.fromkeys(CHANNELS, 0)

    def issued(self, ticket: dict[str, Any], moved: bool) -> None:
        """Count a ticket taken for this row (its channel too)."""
        self.counts["issued"] += 1
        self.counts["transferred"] += 1 if moved else 0
        channel = ticket.get("channel") or "kiosk"
        self.channels[channel] = self.channels.get(channel, 0) + 1

    def add(self, ticket: dict[str, Any]) -> None:
        """The ticket's outcome, times and rating (not ``issued``/``transferred``: see :func:`compute`)."""
        status = ticket.get("status")
        if status == "done":
            self.counts["served"] += 1
        elif status == "no_show":
            self.counts["no_show"] += 1
        elif status == "expired":
            self.counts["expired"] += 1
        elif status == "waiting":
            self.counts["waiting"] += 1
        elif status == "called":
            self.counts["in_service"] += 1
        if status in CALLED and ticket.get("called_at") is not None:
            self.waits.append(round((ticket["called_at"] - ticket["issued_at"]) / 1000))
        if status == "done" and ticket.get("called_at") is not None and ticket.get("done_at") is not None:
            self.services.append(round((ticket["done_at"] - ticket["called_at"]) / 1000))
        score = ticket.get("rating")
        if isinstance(score, int) and score in self.ratings:
            self.ratings[score] += 1

    def finish(self, target_wait_s: int) -> dict[str, Any]:
        rated = sum(self.ratings.values())
        top_two = sum(n for score, n in self.ratings.items() if score >= self.levels - 1)
        within = sum(1 for w in self.waits if w <= target_wait_s)
        counts = dict(self.counts)
        if not self.count_issued:
            counts["issued"] = None
        return {
            "key": self.key, "name": self.name, **counts,
            "channels": dict(self.channels) if self.count_issued else None,
            "wait_s": summarize(self.waits), "service_s": summarize(self.services),
            "within_target": within,
            "within_target_share": round(within / len(self.waits), 4) if self.waits else None,
            "ratings": {str(score): n for score, n in self.ratings.items()},
            "rated": rated,
            "satisfied_share": round(top_two / rated, 4) if rated else None,
            "very_satisfied_share": round(self.ratings[self.levels] / rated, 4) if rated else None,
        }


def compute(site: Site, tickets: Iterable[dict[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    """The report of ``start``..``end`` (inclusive) from annotated tickets issued in those days."""
    levels = site.rating_levels
    total = _Row("all", "Toàn trung tâm", levels, True)
    agencies = {a.slug: _Row(a.slug, a.name, levels, True) for a in site.agencies}
    counters = {c.id: _Row(c.id, counter_name(c.id, c.name), levels, False) for c in site.counters}
    officers: dict[str, _Row] = {}
    procedures: dict[str, _Row] = {}
    days = {start + dt.timedelta(days=i): _Row("", "", levels, True) for i in range((end - start).days + 1)}
    hourly = [0] * 24

    def officer_row(actor: str) -> _Row:
        if actor not in officers:
            officers[actor] = _Row(actor, officer_name(actor), levels, False)
        return officers[actor]

    for ticket in tickets:
        issued_local = dt.datetime.fromtimestamp(ticket["issued_at"] / 1000, tz=site.tz)
        hourly[issued_local.hour] += 1
        agency = ticket.get("agency")
        first = ticket.get("issued_agency") or agency
        moved = first != agency
        day_row = days.get(issued_local.date())
        for row in (total, day_row):
            if row is not None:
                row.issued(ticket, moved)
                row.add(ticket)
        code = ticket.get("procedure") or ""
        if code not in procedures:
            procedures[code] = _Row(code, (ticket.get("procedure_name") or code) if code else NO_PROCEDURE, levels, True)
        procedures[code].counts["issued"] += 1
        procedures[code].add(ticket)
        if first in agencies:
            agencies[first].issued(ticket, moved)
        if agency in agencies:
            agencies[agency].counts["received"] += 1 if moved else 0
            agencies[agency].add(ticket)
        called = ticket.get("status") in CALLED and ticket.get("called_at") is not None
        if called and ticket.get("counter") is not None:
            counter = str(ticket["counter"])
            if counter not in counters:
                counters[counter] = _Row(counter, counter_name(counter), levels, False)
            counters[counter].add(ticket)
        if called and ticket.get("officer"):
            officer_row(ticket["officer"]).add(ticket)
        for counter, actor in ticket.get("transfers_by") or ():
            if counter in counters:
                counters[counter].counts["transferred"] += 1
            if actor:
                officer_row(actor).counts["transferred"] += 1

    target = site.target_wait_s
    return {
        "site": site.slug, "from": start.isoformat(), "to": end.isoformat(), "days": len(days),
        "target_wait_s": target, "rating_levels": levels,
        "rating_labels": {str(k): v for k, v in RATING_LABELS[levels].items()},
        "total": total.finish(target),
        "agencies": [row.finish(target) for row in agencies.values()],
        "counters": [row.finish(target) for row in counters.values()],
        "officers": [row.finish(target) for row in sorted(officers.values(), key=lambda r: r.name)],
        "procedures": [row.finish(target) for row in sorted(
            procedures.values(), key=lambda r: (r.key == "", -r.counts["issued"], r.name))],
        "daily": [{**row.finish(target), "key": day.isoformat(), "name": f"{day:%d/%m/%Y}"}
                  for day, row in days.items()],
        "hourly": [{"hour": hour, "issued": n} for hour, n in enumerate(hourly)],
    }


# -- CSV --------------------------------------------------------------------------------------------
GROUP_NAMES = {"total": "Toàn trung tâm", "agencies": "Cơ quan", "counters": "Quầy", "officers": "Cán bộ",
               "procedures": "Thủ tục", "daily": "Ngày", "hourly": "Khung giờ"}


def _percent(share: float | None, decimal: str) -> str:
    return "" if share is None else f"{share * 100:.1f}".replace(".", decimal)


def report_csv(report: dict[str, Any], *, delimiter: str = ",", decimal: str = ".") -> bytes:
    """The report as one CSV table (a "Nhóm" column says agency/counter/officer/day/hour), UTF-8 with a
    BOM so Excel shows Vietnamese. Durations in whole seconds. ``delimiter=";", decimal=","`` suits an
    Excel set to Vietnamese number formats."""
    levels = sorted((int(k) for k in report["rating_labels"]), reverse=True)
    target_min = report["target_wait_s"] // 60
    header = ["Nhóm", "Mã", "Tên", "Số phiếu phát", "Đã phục vụ", "Vắng mặt", "Chuyển đi", "Nhận chuyển đến",
              "Hết hạn", "Còn chờ", "Đang phục vụ",
              "Chờ trung vị (giây)", "Chờ p90 (giây)", "Chờ tối đa (giây)",
              "Phục vụ trung vị (giây)", "Phục vụ p90 (giây)", "Phục vụ tối đa (giây)",
              f"Được gọi trong {target_min} phút", f"Tỷ lệ gọi trong {target_min} phút (%)",
              *(report["rating_labels"][str(level)] for level in levels), "Lượt đánh giá", "Tỷ lệ hài lòng (%)",
              *(f"Phiếu: {CHANNEL_NAMES[channel].lower()}" for channel in CHANNELS)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)

    def blank(value: Any) -> Any:
        return "" if value is None else value

    def write(group: str, row: dict[str, Any]) -> None:
        writer.writerow([
            GROUP_NAMES[group], row["key"], row["name"],
            *(blank(row[k]) for k in ("issued", "served", "no_show", "transferred", "received", "expired",
                                      "waiting", "in_service")),
            *(blank(row["wait_s"][k]) for k in ("p50", "p90", "max")),
            *(blank(row["service_s"][k]) for k in ("p50", "p90", "max")),
            row["within_target"], _percent(row["within_target_share"], decimal),
            *(row["ratings"][str(level)] for level in levels), row["rated"],
            _percent(row["satisfied_share"], decimal),
            *((row["channels"] or {}).get(channel, "") for channel in CHANNELS),
        ])

    write("total", report["total"])
    for group in ("agencies", "counters", "officers", "procedures", "daily"):
        for row in report.get(group, ()):
            if group in ("counters", "officers") and not _has_activity(row):
                continue
            write(group, row)
    for hour in report["hourly"]:
        if hour["issued"]:
            writer.writerow([GROUP_NAMES["hourly"], f"{hour['hour']:02d}", f"{hour['hour']:02d}:00–{hour['hour']:02d}:59",
                             hour["issued"], *([""] * (len(header) - 4))])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _has_activity(row: dict[str, Any]) -> bool:
    return bool(row["served"] or row["no_show"] or row["transferred"] or row["in_service"] or row["rated"])


# -- text table for ``qserver stats`` ----------------------------------------------------------------
def _mmss(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds // 60}:{seconds % 60:02d}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table per agency, counter and officer (durations as m:ss)."""
    columns = ("Phát", "Phục vụ", "Vắng", "Chuyển", "Chờ p50", "Chờ p90", "Chờ max", "PV p50", "PV p90",
               "Đạt", "Hài lòng")
    lines = [f"Báo cáo {report['site']} từ {report['from']} đến {report['to']} "
             f"(đạt = được gọi trong {report['target_wait_s'] // 60} phút)"]
    for title, rows in (("Cơ quan", [report["total"], *report["agencies"]]),
                        ("Quầy", [r for r in report["counters"] if _has_activity(r)]),
                        ("Cán bộ", [r for r in report["officers"] if _has_activity(r)]),
                        ("Thủ tục", report.get("procedures", []))):
        if not rows:
            continue
        width = max(len(title), *(len(r["name"]) for r in rows))
        width = min(width, 44)
        lines.append("")
        lines.append(f"{title:<{width}} " + " ".join(f"{c:>8}" for c in columns))
        for r in rows:
            cells = ["—" if r["issued"] is None else str(r["issued"]), str(r["served"]), str(r["no_show"]),
                     str(r["transferred"]), _mmss(r["wait_s"]["p50"]), _mmss(r["wait_s"]["p90"]),
                     _mmss(r["wait_s"]["max"]), _mmss(r["service_s"]["p50"]), _mmss(r["service_s"]["p90"]),
                     _share(r["within_target_share"]), _share(r["satisfied_share"])]
            name = r["name"] if len(r["name"]) <= width else r["name"][:width - 1] + "…"
            lines.append(f"{name:<{width}} " + " ".join(f"{c:>8}" for c in cells))
    return "\n".join(lines)
