"""``qserver stats``: a day's table or CSV on the command line, past days through the archive."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from qserver.cli import cmd_stats, stats_report
from qserver.managers.archive import Archive
from qserver.clock import FakeClock

from tests.support.managers import run_scripted_day


def args(**overrides) -> argparse.Namespace:
    return argparse.Namespace(**{"site": "cantho", "date": None, "csv": False, "config": None, **overrides})


@pytest.fixture
def cli_env(monkeypatch, redis_url, tmp_path):
    monkeypatch.setenv("QSERVER_REDIS_URL", redis_url)
    monkeypatch.setenv("QSERVER_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


async def test_stats_table_of_yesterday_archives_it(day_engine, clock, site, cli_env):
    """The next morning, ``qserver stats --date`` of yesterday archives it and prints its table."""
    await run_scripted_day(day_engine, clock)
    next_morning = FakeClock(dt.datetime(2026, 11, 25, 7, 30, tzinfo=site.tz))
    text = await stats_report(args(date="2026-11-24"), clock=next_morning)
    lines = text.splitlines()
    assert lines[0].startswith("Báo cáo cantho từ 2026-11-24 đến 2026-11-24")
    tu_phap = next(line for line in lines if line.startswith("Sở Tư pháp"))
    assert tu_phap.split()[3:9] == ["11", "8", "1", "1", "16:00", "23:00"]
    assert any(line.startswith("lan ") for line in lines) and any(line.startswith("Quầy 33") for line in lines)
    assert Archive(cli_env / "archive.sqlite").counts("cantho")["days"] == 1


async def test_stats_csv_of_today(day_engine, clock, cli_env):
    """``--csv`` gives the CSV bytes with the BOM; a bad date or site is an error message."""
    await run_scripted_day(day_engine, clock)
    body = await stats_report(args(csv=True), clock=clock)
    assert body.startswith("\ufeffNhóm,Mã,Tên".encode())
    with pytest.raises(SystemExit, match="not a date"):
        await stats_report(args(date="24/11"), clock=clock)


def test_cmd_stats_prints_today_or_refuses_an_unknown_site(cli_env, flushed, capsys):
    """The ``stats`` subcommand prints a table (or CSV bytes) and exits 0; an unknown site is an error."""
    assert cmd_stats(args()) == 0
    assert capsys.readouterr().out.startswith("Báo cáo cantho từ ")
    with pytest.raises(SystemExit, match="site 'nowhere' is not configured"):
        cmd_stats(args(site="nowhere"))
