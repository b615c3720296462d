"""Site files: the Cần Thơ hall loads; every kind of mistake is explained with its place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import config

CANTHO = Path(config.BUILTIN_SITES_DIR) / "cantho.toml"


def test_cantho_is_the_hall_of_center_md():
    """16 agencies on 2 floors, 35 counters, 07:00–10:30 and 13:00–16:30 on weekdays."""
    site = config.load_sites()["cantho"]
    assert (len(site.agencies), len(site.counters), len(site.floors)) == (16, 35, 2)
    assert sum(a.procedures for a in site.agencies) == 1430
    assert [a.floor for a in site.agencies].count(1) == 6
    assert site.agency_by_slug["so-tu-phap"].name == "Sở Tư pháp"
    assert [f"{s:%H:%M}-{e:%H:%M}" for s, e in site.hours["mon"]] == ["07:00-10:30", "13:00-16:30"]
    assert site.hours["sat"] == () and site.timezone == "Asia/Ho_Chi_Minh"
    assert len({a.prefix for a in site.agencies}) == 16
    served = {slug for c in site.counters for slug in c.agencies}
    assert served == set(site.agency_by_slug), "every agency has a counter"


def broken(replacements: list[tuple[str, str]]) -> list[str]:
    text = CANTHO.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    with pytest.raises(config.ConfigError) as error:
        config.parse_site(text, "cantho.toml")
    return error.value.problems


def test_every_problem_is_listed_with_its_line():
    """Unknown agency on a counter, duplicate prefix, overlapping hours: all reported at once, with lines."""
    problems = broken([('id = "12"\nfloor = 0\nagencies = ["so-noi-vu"]', 'id = "12"\nfloor = 0\nagencies = ["so-xyz"]'),
                       ('prefix = "B"', 'prefix = "A"'),
                       ('tue = ["07:00-10:30", "13:00-16:30"]', 'tue = ["07:00-10:30", "10:00-16:30"]')])
    assert len(problems) == 3
    assert any(p.startswith("line ") and '[[counters]] #12 (id "12")' in p and "unknown agency 'so-xyz'" in p
               for p in problems)
    assert any("prefix 'A' is already used by agency 'so-xay-dung'" in p for p in problems)
    assert any("tue: sessions 07:00-10:30 and 10:00-16:30 overlap" in p for p in problems)


@pytest.mark.parametrize("old, new, message", [
    ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Sai_Gon_X"', "unknown time zone"),
    ('id = "7"', 'id = "6"', "counter '6' is already defined"),
    ('floor = 1\nprefix = "V"', 'floor = 3\nprefix = "V"', "floor 3 is not one of the [[floors]]"),
    ('mon = ["07:00-10:30"', 'mon = ["10:30-07:00"', "ends before it starts"),
    ('"2026-01-01", "2026-02-16"', '"2026-13-01", "2026-02-16"', "is not a date"),
    ('number_reading = "digits"', 'number_reading = "roman"', "'digits' or 'words'"),
    ('template = "Mời công dân có số thứ tự {number} đến quầy số {counter}"',
     'template = "Mời {so} đến quầy {counter}"', "unknown placeholder"),
    ('no_show_return_after = 5', 'no_show_return_after = "năm"', "is not a whole number"),
])
def test_single_mistakes_are_named(old, new, message):
    """Each kind of mistake is one clear sentence naming the offending value."""
    problems = broken([(old, new)])
    assert any(message in p for p in problems), problems


def test_not_toml_at_all():
    """A file that is not TOML says so."""
    with pytest.raises(config.ConfigError) as error:
        config.parse_site("[site\nslug=", "bad.toml")
    assert "not valid TOML" in error.value.problems[0]


def test_check_config_command(tmp_path):
    """`qserver check-config` prints ok for the hall, and every problem with exit 1 for a broken file."""
    ok = subprocess.run([sys.executable, "-m", "qserver", "check-config", str(CANTHO)], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok — site 'cantho', 2 floors, 16 agencies, 35 counters" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(CANTHO.read_text(encoding="utf-8").replace('prefix = "B"', 'prefix = "A"'), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "qserver", "check-config", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and "1 problem(s)" in result.stdout and "prefix 'A'" in result.stdout
