"""City-wide reports: each center's report (:func:`qserver.managers.reports.compute`) and the city's
rows built from them, per day and per center; the same as one CSV table. Pure functions.

A city row adds up its centers' rows: counts, ``within_target`` (each center against its own
``target_wait_s``), ratings and the satisfied (top two levels of each center's scale). Its waiting and
service times are summarised again from the tickets themselves (percentiles cannot be added up), with
the definitions of :mod:`.reports`: wait = ``called_at - issued_at`` of every called ticket, service =
``done_at - called_at`` of every served one, a ticket belonging to the local day it was issued.
Per-level ``ratings`` are kept only when every center uses the same scale (3 or 5 levels).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from config import Site

from ..labels import RATING_LABELS
from .reports import CALLED, summarize

__all__ = ["CenterPart", "center_part", "merge_rows", "city_report", "city_csv"]

COUNTS = ("issued", "served", "no_show", "transferred", "received", "expired", "waiting", "in_service")


@dataclass
class CenterPart:
    """One center's share of a city report: its report and the durations of its tickets by day."""

    site: Site
    report: dict[str, Any]
    waits: dict[str, list[int]] = field(default_factory=dict)     # ISO day → waits (s)
    services: dict[str, list[int]] = field(default_factory=dict)  # ISO day → services (s)


def center_part(site: Site, report: dict[str, Any], tickets: Iterable[dict[str, Any]]) -> CenterPart:
    """The center's report with its tickets' durations by issue day (the tickets are not kept)."""
    part = CenterPart(site, report)
    for ticket in tickets:
        day = dt.datetime.fromtimestamp(ticket["issued_at"] / 1000, tz=site.tz).date().isoformat()
        status = ticket.get("status")
        if status in CALLED and ticket.get("called_at") is not None:
            part.waits.setdefault(day, []).append(round((ticket["called_at"] - ticket["issued_at"]) / 1000))
        if status == "done" and ticket.get("called_at") is not None and ticket.get("done_at") is not None:
            part.services.setdefault(day, []).append(round((ticket["done_at"] - ticket["called_at"]) / 1000))
    return part


def merge_rows(key: str, name: str, rows: list[tuple[dict[str, Any], int]], waits: list[int],
               services: list[int]) -> dict[str, Any]:
    """A row over several centers' ``(row, rating_levels)``, with durations summarised from ``waits``
    and ``services`` (the same tickets' durations)."""
    counts = {k: sum(row[k] or 0 for row, _ in rows) for k in COUNTS}
    called = sum(row["wait_s"]["count"] for row, _ in rows)
    within = sum(row["within_target"] for row, _ in rows)
    rated = sum(row["rated"] for row, _ in rows)
    satisfied = sum(row["ratings"].get(str(s), 0) for row, levels in rows for s in (levels, levels - 1))
    very = sum(row["ratings"].get(str(levels), 0) for row, levels in rows)
    scales = {levels for _, levels in rows}
    ratings = None
    if len(scales) == 1:
        (levels,) = scales
        ratings = {str(s): sum(row["ratings"].get(str(s), 0) for row, _ in rows) for s in range(levels, 0, -1)}
    return {
        "key": key, "name": name, **counts, "wait_s": summarize(waits), "service_s": summarize(services),
        "within_target": within, "within_target_share": round(within / called, 4) if called else None,
        "ratings": ratings, "rated": rated,
        "satisfied_share": round(satisfied / rated, 4) if rated else None,
        "very_satisfied_share": round(very / rated, 4) if rated else None,
    }


def _center_row(part: CenterPart, row: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    site = part.site
    return {**row, "key": key, "name": name, "slug": site.slug, "short_name": site.short_name or site.name,
            "groups": list(site.groups), "target_wait_s": site.target_wait_s, "rating_levels": site.rating_levels}


def city_report(parts: list[CenterPart], first: dt.date, last: dt.date, *, group: str | None,
                groups: list[str], center_days: bool = False) -> dict[str, Any]:
    """The city's report of ``first``..``last``: ``total``, ``daily`` (the city per day), ``centers``
    (each center's total; with ``center_days`` each also carries its ``daily`` rows)."""
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    scales = {part.site.rating_levels for part in parts}
    levels = scales.pop() if len(scales) == 1 else None
    everything = [(p.report["total"], p.site.rating_levels) for p in parts]
    all_waits = [w for p in parts for values in p.waits.values() for w in values]
    all_services = [s for p in parts for values in p.services.values() for s in values]
    title = f"Nhóm {group}" if group else "Toàn thành phố"
    daily = []
    for index, day in enumerate(days):
        rows = [(p.report["daily"][index], p.site.rating_levels) for p in parts]
        daily.append(merge_rows(day, f"{dt.date.fromisoformat(day):%d/%m/%Y}", rows,
                                [w for p in parts for w in p.waits.get(day, ())],
                                [s for p in parts for s in p.services.get(day, ())]))
    centers = []
    for part in parts:
        row = _center_row(part, part.report["total"], part.site.slug, part.site.name)
        if center_days:
            row["daily"] = [_center_row(part, d, d["key"], d["name"]) for d in part.report["daily"]]
        centers.append(row)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "days": len(days), "group": group, "groups": groups,
        "sites": len(parts), "rating_levels": levels,
        "rating_labels": {str(k): v for k, v in RATING_LABELS[levels].items()} if levels else None,
        "total": merge_rows("all", title, everything, all_waits, all_services),
        "daily": daily, "centers": centers,
    }


# -- CSV --------------------------------------------------------------------------------------------
GROUP_NAMES = {"total": "Toàn bộ", "daily": "Ngày", "centers": "Trung tâm", "center_days": "Trung tâm theo ngày"}


def _percent(share: float | None, decimal: str) -> str:
    return "" if share is None else f"{share * 100:.1f}".replace(".", decimal)


def city_csv(report: dict[str, Any], *, delimiter: str = ",", decimal: str = ".") -> bytes:
    """The city report as one CSV table, UTF-8 with a BOM (Excel shows Vietnamese): the total, the city
    per day, each center, then each center per day (the report made with ``center_days``). The "Nhóm"
    column says which; durations in whole seconds; ``;`` and ``,`` suit an Excel set to Vietnamese."""
    labels = report["rating_labels"] or {}
    levels = sorted((int(k) for k in labels), reverse=True)
    header = ["Nhóm", "Mã", "Tên", "Từ ngày", "Đến ngày", "Số phiếu phát", "Đã phục vụ", "Vắng mặt",
              "Chuyển lĩnh vực", "Hết hạn", "Còn chờ", "Đang phục vụ",
              "Chờ trung vị (giây)", "Chờ p90 (giây)", "Chờ tối đa (giây)", "Chờ trung bình (giây)",
              "Phục vụ trung vị (giây)", "Phục vụ p90 (giây)", "Phục vụ tối đa (giây)",
              "Mục tiêu chờ (phút)", "Được gọi trong mục tiêu", "Tỷ lệ gọi trong mục tiêu (%)",
              *(labels[str(level)] for level in levels), "Lượt đánh giá", "Tỷ lệ hài lòng (%)"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)

    def blank(value: Any) -> Any:
        return "" if value is None else value

    def mean(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}".replace(".", decimal)

    def write(group: str, row: dict[str, Any], start: str, end: str, target_s: int | None) -> None:
        ratings = row["ratings"] or {}
        writer.writerow([
            GROUP_NAMES[group], row["key"], row["name"], start, end,
            *(blank(row[k]) for k in ("issued", "served", "no_show", "transferred", "expired", "waiting", "in_service")),
            *(blank(row["wait_s"][k]) for k in ("p50", "p90", "max")), mean(row["wait_s"]["mean"]),
            *(blank(row["service_s"][k]) for k in ("p50", "p90", "max")),
            "" if target_s is None else target_s // 60, row["within_target"],
            _percent(row["within_target_share"], decimal),
            *(ratings.get(str(level), "") for level in levels), row["rated"], _percent(row["satisfied_share"], decimal),
        ])

    write("total", report["total"], report["from"], report["to"], None)
    for row in report["daily"]:
        write("daily", row, row["key"], row["key"], None)
    for row in report["centers"]:
        write("centers", row, report["from"], report["to"], row["target_wait_s"])
    for row in report["centers"]:
        for day in row.get("daily", ()):
            write("center_days", {**day, "key": row["slug"], "name": row["name"]}, day["key"], day["key"],
                  row["target_wait_s"])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
