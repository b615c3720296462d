"""Sites and synthetic histories with known truth for the staffing tests (built once per session)."""

from __future__ import annotations

import datetime as dt

import pytest

import config
from qserver.staffing.synthetic import CANTHO_SERVICE_S, history, make_truth

#: A ward center after 1-7-2025: desks by field (CENTER.md), one field sharing a desk with another.
COMMUNE_TOML = """
[site]
slug = "phuong-tan-an"
name = "Trung tâm Phục vụ hành chính công phường Tân An"
target_wait_s = 900

[[floors]]
number = 0
name = "Tầng trệt"

[hours]
mon = ["07:00-11:30", "13:30-17:00"]
tue = ["07:00-11:30", "13:30-17:00"]
wed = ["07:00-11:30", "13:30-17:00"]
thu = ["07:00-11:30", "13:30-17:00"]
fri = ["07:00-11:30", "13:30-17:00"]
holidays = ["2026-04-27", "2026-04-30", "2026-05-01", "2026-09-01", "2026-09-02"]

[[agencies]]
slug = "tu-phap-ho-tich"
name = "Tư pháp - Hộ tịch"
floor = 0
prefix = "A"
procedures = 40

[[agencies]]
slug = "dat-dai"
name = "Đất đai - Tài nguyên"
floor = 0
prefix = "B"
procedures = 30

[[agencies]]
slug = "xay-dung-giao-thong"
name = "Xây dựng - Giao thông"
floor = 0
prefix = "C"
procedures = 12

[[agencies]]
slug = "lao-dong-xa-hoi"
name = "Lao động - Thương binh và Xã hội"
floor = 0
prefix = "D"
procedures = 15

[[agencies]]
slug = "kinh-te"
name = "Kinh tế (hộ kinh doanh)"
floor = 0
prefix = "E"
procedures = 8

[[counters]]
id = "1"
floor = 0
agencies = ["tu-phap-ho-tich"]

[[counters]]
id = "2"
floor = 0
agencies = ["tu-phap-ho-tich"]

[[counters]]
id = "3"
floor = 0
agencies = ["tu-phap-ho-tich", "lao-dong-xa-hoi"]

[[counters]]
id = "4"
floor = 0
agencies = ["dat-dai"]

[[counters]]
id = "5"
floor = 0
agencies = ["dat-dai", "xay-dung-giao-thong"]

[[counters]]
id = "6"
floor = 0
agencies = ["xay-dung-giao-thong", "dat-dai"]

[[counters]]
id = "7"
floor = 0
agencies = ["lao-dong-xa-hoi", "kinh-te"]

[[counters]]
id = "8"
floor = 0
agencies = ["kinh-te", "tu-phap-ho-tich"]
"""

COMMUNE_SERVICE_S = {"tu-phap-ho-tich": 420, "dat-dai": 600, "xay-dung-giao-thong": 600, "lao-dong-xa-hoi": 480,
                     "kinh-te": 540}
#: Five weeks of history ending on a Friday; the week after is forecast and planned.
FIRST, LAST = dt.date(2026, 3, 30), dt.date(2026, 5, 8)
NEXT_WEEK = [dt.date(2026, 5, 11) + dt.timedelta(days=i) for i in range(5)]
OUTAGE_DAY, QUIET_DAY = dt.date(2026, 4, 15), dt.date(2026, 4, 22)


@pytest.fixture(scope="session")
def cantho():
    return config.load_sites()["cantho"]


@pytest.fixture(scope="session")
def commune():
    return config.parse_site(COMMUNE_TOML, "phuong-tan-an.toml")


@pytest.fixture(scope="session")
def cantho_truth(cantho):
    return make_truth(cantho, 500, CANTHO_SERVICE_S, weekday_factor={"mon": 1.12, "fri": 0.9},
                      weekly_growth=0.005, after_holiday=1.4)


@pytest.fixture(scope="session")
def commune_truth(commune):
    return make_truth(commune, 160, COMMUNE_SERVICE_S, weekday_factor={"mon": 1.15, "fri": 0.9},
                      after_holiday=1.4)


@pytest.fixture(scope="session")
def cantho_history(cantho_truth):
    return history(cantho_truth, FIRST, LAST, "cantho-history",
                   outages={OUTAGE_DAY: (8 * 3600, 9 * 3600 + 1800)}, quiet={QUIET_DAY: 0.3})


@pytest.fixture(scope="session")
def commune_history(commune_truth):
    return history(commune_truth, FIRST, LAST, "commune-history", outages={OUTAGE_DAY: (13 * 3600 + 1800, 16 * 3600)})
