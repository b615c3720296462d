"""Appointments in the reports: per agency, the bookings made for the report's days, cancelled, checked in,
served (their tickets served), booking no-shows — from the engine's booking counts (kept 400 days) and
the report's own tickets."""

from __future__ import annotations

from typing import Any

from config import Site

from ..engine import slots as slotting

__all__ = ["appointment_rows", "APPOINTMENT_COLUMNS"]

APPOINTMENT_COLUMNS = ("booked", "cancelled", "checked_in", "served", "no_show")


def appointment_rows(site: Site, tickets: list[dict[str, Any]], stats: dict[str, dict[str, int]]) -> dict[str, Any]:
    """``{"agencies": [...], "total": {...}}``: per agency taking bookings (or with any in the period)."""
    served: dict[str, int] = {}
    for ticket in tickets:
        if ticket.get("channel") == "appointment" and ticket.get("status") == "done":
            served[ticket["agency"]] = served.get(ticket["agency"], 0) + 1
    rows = []
    for agency in site.agencies:
        counts = stats.get(agency.slug, {})
        if not (slotting.takes_bookings(site, agency.slug) or counts or served.get(agency.slug)):
            continue
        rows.append({"key": agency.slug, "name": agency.name,
                     **{column: counts.get(column, 0) for column in ("booked", "cancelled", "checked_in", "no_show")},
                     "served": served.get(agency.slug, 0)})
    total = {column: sum(row[column] for row in rows) for column in APPOINTMENT_COLUMNS}
    return {"agencies": rows, "total": total}
