"""The JSON behind the heat map "Kế hoạch bố trí quầy" and its CSV export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from qserver.staffing import build_profiles, config_plan, forecast_days, plan_csv, plan_day, plan_grid

from .conftest import NEXT_WEEK


@pytest.fixture(scope="module")
def week(commune, commune_history):
    profiles = build_profiles(commune, commune_history)
    forecasts = forecast_days(profiles, NEXT_WEEK[0], 2)
    return forecasts, [plan_day(commune, f, profiles.models()) for f in forecasts], profiles


def test_plan_grid_shape(commune, week):
    """One row per agency with a cell per slot, counters by slot, totals that add up, JSON-serialisable."""
    forecasts, plans, profiles = week
    current = config_plan(commune, forecasts[0], profiles.models())
    grid = plan_grid(plans[0], forecasts[0], compare=[current])
    json.dumps(grid)
    assert grid["title"] == "Kế hoạch bố trí quầy" and grid["day"] == NEXT_WEEK[0].isoformat()
    assert [s["key"] for s in grid["slots"]][:2] == ["07:00", "07:30"] and grid["slots"][0]["label"] == "07:00–07:30"
    assert [a["slug"] for a in grid["agencies"]] == [a.slug for a in commune.agencies]
    row = grid["agencies"][0]
    assert len(row["cells"]) == len(plans[0].slots)
    assert {"counters", "counter_ids", "need", "expected", "service_level", "short", "rate_per_h"} <= set(row["cells"][0])
    for i, slot in enumerate(grid["slots"]):
        open_ids = {c["id"] for c in grid["counters"] if c["cells"][i] is not None}
        assert slot["open_counters"] == len(open_ids) == len(plans[0].slots[i].layout)
        assert slot["expected"] == pytest.approx(sum(a["cells"][i]["expected"] for a in grid["agencies"]), abs=0.06)
    assert grid["counter_hours"] == round(plans[0].counter_hours, 1)
    assert grid["compare"] == [{"kind": "config", "title": "Bố trí hiện tại", "counter_hours": 64.0}]
    assert grid["max_counters"] == max(c["counters"] for a in grid["agencies"] for c in a["cells"])


def test_plan_csv(commune, week):
    """UTF-8 with a BOM, Vietnamese headers, one row per day × slot × agency; Excel-Vietnamese variant."""
    forecasts, plans, _ = week
    data = plan_csv(plans, forecasts)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Ngày", "Khung giờ", "Mã cơ quan", "Cơ quan"] and "Tỷ lệ dự kiến gọi trong 15 phút (%)" in rows[0]
    assert len(rows) == 1 + sum(len(p.slots) for p in plans) * len(commune.agencies)
    first = rows[1]
    assert first[0] == f"{NEXT_WEEK[0]:%d/%m/%Y}" and first[1] == "07:00–07:30" and first[3] == "Tư pháp - Hộ tịch"
    assert int(first[6]) == len(first[7].split()) if first[7] else int(first[6]) == 0
    vietnamese = plan_csv(plans, forecasts, delimiter=";", decimal=",")
    line = vietnamese.decode("utf-8-sig").splitlines()[1].split(";")
    assert "," in line[4] and "." not in line[4]
