"""The report's charts, drawn on the server as SVG (no chart library in the pages): bars per hour, per
day, and the rating levels."""

from __future__ import annotations

import math
from html import escape
from typing import Any

__all__ = ["hourly_svg", "daily_svg", "ratings_svg"]


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
