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
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Iterable
from html import escape
from typing import Any

from config import Site

__all__ = [
    "RATING_LABELS", "day_bounds_ms", "percentile", "summarize", "annotate", "officer_name", "compute",
    "report_csv", "hourly_svg", "daily_svg", "ratings_svg", "format_table", "cmd_stats",
]

#: Rating levels shown to citizens, best first.
RATING_LABELS = {
    3: {3: "Rất hài lòng", 2: "Hài lòng", 1: "Không hài lòng"},
    5: {5: "Rất hài lòng", 4: "Hài lòng", 3: "Bình thường", 2: "Không hài lòng", 1: "Rất không hài lòng"},
}
CALLED = ("called", "done", "no_show")


def day_bounds_ms(site: Site, day: dt.date) -> tuple[int, int]:
    """[start, end) of a local calendar day in ms since the epoch."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=site.tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=site.tz)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


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
    counters = {c.id: _Row(c.id, c.name or f"Quầy {c.id}", levels, False) for c in site.counters}
    officers: dict[str, _Row] = {}
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
                row.counts["issued"] += 1
                row.counts["transferred"] += 1 if moved else 0
                row.add(ticket)
        if first in agencies:
            agencies[first].counts["issued"] += 1
            agencies[first].counts["transferred"] += 1 if moved else 0
        if agency in agencies:
            agencies[agency].counts["received"] += 1 if moved else 0
            agencies[agency].add(ticket)
        called = ticket.get("status") in CALLED and ticket.get("called_at") is not None
        if called and ticket.get("counter") is not None:
            counter = str(ticket["counter"])
            if counter not in counters:
                counters[counter] = _Row(counter, f"Quầy {counter}", levels, False)
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
        "daily": [{**row.finish(target), "key": day.isoformat(), "name": f"{day:%d/%m/%Y}"}
                  for day, row in days.items()],
        "hourly": [{"hour": hour, "issued": n} for hour, n in enumerate(hourly)],
    }


# -- CSV --------------------------------------------------------------------------------------------
GROUP_NAMES = {"total": "Toàn trung tâm", "agencies": "Cơ quan", "counters": "Quầy", "officers": "Cán bộ",
               "daily": "Ngày", "hourly": "Khung giờ"}


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
              *(report["rating_labels"][str(level)] for level in levels), "Lượt đánh giá", "Tỷ lệ hài lòng (%)"]
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
        ])

    write("total", report["total"])
    for group in ("agencies", "counters", "officers", "daily"):
        for row in report[group]:
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


# -- charts (server-side SVG) -----------------------------------------------------------------------
def _bars_svg(labels: list[str], values: list[int], title: str, *, width: int = 900, height: int = 260) -> str:
    """A plain bar chart: bars, values above them, labels below. Colours follow ``currentColor``."""
    left, right, top, bottom = 36, 10, 28, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(values) if values and max(values) > 0 else 1
    step = 10 ** max(0, len(str(peak)) - 1)
    peak = math.ceil(peak / step) * step
    slot = plot_w / max(len(values), 1)
    bar_w = max(2.0, slot * 0.7)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>']
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">'
                     f'{int(peak * fraction)}</text>')
    for index, (label, value) in enumerate(zip(labels, values)):
        x = left + slot * index + (slot - bar_w) / 2
        h = plot_h * value / peak
        y = top + plot_h - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" class="chart-bar">'
                     f'<title>{escape(label)}: {value}</title></rect>')
        if value:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                         f'class="chart-value">{value}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                     f'class="chart-axis">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def hourly_svg(report: dict[str, Any]) -> str:
    """Tickets issued per hour of the day (6 h to 18 h at least, wider when people came earlier/later)."""
    counts = [h["issued"] for h in report["hourly"]]
    busy = [h for h, n in enumerate(counts) if n]
    first, last = min([6, *busy]), max([17, *busy])
    hours = list(range(first, last + 1))
    return _bars_svg([f"{h}h" for h in hours], [counts[h] for h in hours], "Số phiếu phát theo giờ", width=1200)


def ratings_svg(report: dict[str, Any], *, width: int = 560, height: int = 260) -> str:
    """Horizontal bars: how many ratings of each level, with their share, best level first."""
    total = report["total"]
    labels = report["rating_labels"]
    levels = sorted((int(k) for k in labels), reverse=True)
    counts = [total["ratings"][str(level)] for level in levels]
    rated = sum(counts)
    title = f"Mức độ hài lòng ({rated} lượt đánh giá)"
    left, right, top = 150, 120, 34
    row = (height - top - 10) / max(len(levels), 1)
    peak = max(counts) if counts and max(counts) else 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<text x="10" y="16" class="chart-title">{escape(title)}</text>']
    for index, (level, count) in enumerate(zip(levels, counts)):
        y = top + row * index
        bar = (width - left - right) * count / peak
        share = f"{count / rated * 100:.1f}%".replace(".", ",") if rated else "—"
        parts.append(f'<text x="{left - 8}" y="{y + row / 2 + 5:.1f}" text-anchor="end" class="chart-label">'
                     f'{escape(labels[str(level)])}</text>')
        parts.append(f'<rect x="{left}" y="{y + row * 0.18:.1f}" width="{bar:.1f}" height="{row * 0.64:.1f}" '
                     f'class="chart-bar rating-{index + 1}-of-{len(levels)}"/>')
        parts.append(f'<text x="{left + bar + 8:.1f}" y="{y + row / 2 + 5:.1f}" class="chart-value">'
                     f'{count} ({share})</text>')
    parts.append("</svg>")
    return "".join(parts)


def daily_svg(report: dict[str, Any]) -> str:
    """Tickets issued per day of the range."""
    rows = report["daily"]
    labels = [row["name"][:5] for row in rows]
    return _bars_svg(labels, [row["issued"] or 0 for row in rows], "Số phiếu phát theo ngày", width=1400)


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
                        ("Cán bộ", [r for r in report["officers"] if _has_activity(r)])):
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


def cmd_stats(args: Any) -> int:
    """``qserver stats [--site] [--date] [--csv]``: a day's report (past days come from the archive)."""
    import asyncio
    import sys

    from .archive import report_for_cli

    text_or_bytes = asyncio.run(report_for_cli(args))
    if isinstance(text_or_bytes, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(text_or_bytes)
        sys.stdout.buffer.flush()
    else:
        print(text_or_bytes)
    return 0
