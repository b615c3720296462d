"""A past day against the plan: where the target was missed, and why."""

from __future__ import annotations

import datetime as dt

from qserver.staffing import build_profiles
from qserver.staffing.review import review_day
from qserver.staffing.synthetic import config_layout, history

DAY = dt.date(2026, 5, 12)


def test_two_closed_counters_show_as_short(cantho, cantho_truth, cantho_history):
    """Sở Tư pháp with two of its four counters closed all day: its busy slots are missed, for lack of
    counters, while the agencies that had their counters mostly meet the target."""
    layout = {c: a for c, a in config_layout(cantho).items() if c not in ("33", "34")}
    day = history(cantho_truth, DAY, DAY, "review", layout=layout)
    profiles = build_profiles(cantho, cantho_history + day)
    review = review_day(cantho, profiles, day, DAY)
    rows = {row["slug"]: row for row in review["agencies"]}
    justice = rows["so-tu-phap"]["cells"]
    missed = [c for c in justice if c["missed"]]
    assert len(missed) >= 3
    assert all(any(r["code"] in ("short", "backlog") for r in c["reasons"]) for c in missed)
    assert any(r["code"] == "short" and "cần" in r["text"] for c in missed for r in c["reasons"])
    assert max(c["counters_open"] for c in justice) <= 2 and set().union(*(c["counters"] for c in justice)) <= {"32", "35"}
    others = [c for slug, row in rows.items() if slug != "so-tu-phap" for c in row["cells"] if c["tickets"] >= 3]
    assert sum(c["missed"] for c in others) <= 0.1 * len(others)
    assert review["cells_missed"] == sum(c["missed"] for row in rows.values() for c in row["cells"])


def test_an_ordinary_day_is_mostly_met(cantho, cantho_history):
    """A day of the history, every counter open: few missed cells; each cell knows its forecast and need."""
    profiles = build_profiles(cantho, cantho_history)
    day = dt.date(2026, 5, 6)
    review = review_day(cantho, profiles, cantho_history, day)
    assert review["cells_judged"] > 60 and review["cells_missed"] <= 0.1 * review["cells_judged"]
    cell = review["agencies"][0]["cells"][2]
    assert cell["forecast"] > 0 and cell["counters_needed"] >= 1 and cell["slot"] == "08:00"
    assert review_day(cantho, profiles, cantho_history, dt.date(2026, 5, 1))["status"] == "closed"
