"""The from-home tables of a site file: defaults, every mistake with its line, templates giving them to
every commune."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import config
from tests.config.test_templates import COMMUNE, TEMPLATE

CANTHO = Path(config.BUILTIN_SITES_DIR) / "cantho.toml"


def test_the_defaults_when_a_site_says_nothing():
    """Cần Thơ's file has no [online], [appointments] or [webhook]: the documented defaults apply."""
    site = config.load_sites()["cantho"]
    assert (site.online.enabled, site.online.start, site.online.max_per_person, site.online.no_show_limit,
            site.online.no_show_days, site.online.near_ahead) == (True, None, 2, 2, 30, 3)
    a = site.appointments
    assert (a.share, a.slot_minutes, a.service_minutes, a.days_ahead, a.checkin_before_minutes, a.grace_minutes,
            a.streak_max, a.walk_in_guard_s, a.agencies) == (0.25, 30, 15, 14, 30, 15, 3, 900, ())
    assert site.webhook.url == "" and site.webhook.events == config.WEBHOOK_EVENTS


def test_the_tables_are_read():
    """Values given in the file reach the site."""
    text = CANTHO.read_text(encoding="utf-8") + """
[online]
from = "06:00"
near_ahead = 5

[appointments]
agencies = ["so-tu-phap", "so-y-te"]
share = 0.5
streak_max = 0

[webhook]
url = "https://sms.cantho.gov.vn/qserver"
secret = "bi-mat"
events = ["ticket-called"]
"""
    site = config.parse_site(text, "cantho.toml")
    assert site.online.start == dt.time(6, 0) and site.online.near_ahead == 5
    assert site.appointments.agencies == ("so-tu-phap", "so-y-te") and site.appointments.share == 0.5
    assert site.appointments.streak_max == 0
    assert (site.webhook.url, site.webhook.secret, site.webhook.events) == (
        "https://sms.cantho.gov.vn/qserver", "bi-mat", ("ticket-called",))


def test_every_mistake_is_explained_with_its_line():
    """A bad hour, share, agency, URL, event and a misspelt key: all reported, each at its line; a URL
    without a secret is refused too."""
    base = CANTHO.read_text(encoding="utf-8")
    text = base + """
[online]
from = "6h"
max_per_persn = 3

[appointments]
share = 1.5
agencies = ["so-xyz"]

[webhook]
url = "ftp://sms"
events = ["ticket-gone"]
"""
    with pytest.raises(config.ConfigError) as error:
        config.parse_site(text, "cantho.toml")
    problems = error.value.problems
    first = len(base.splitlines())
    expected = [
        (first + 3, "[online]", "'from' = '6h' is not a local time like \"06:00\""),
        (first + 4, "[online]", "unknown key 'max_per_persn' (did you mean 'max_per_person'?)"),
        (first + 7, "[appointments]", "'share' = 1.5 is not a share between 0 and 1"),
        (first + 8, "[appointments]", "unknown agency 'so-xyz' in agencies"),
        (first + 11, "[webhook]", "'url' = 'ftp://sms' is not an http:// or https:// address"),
        (first + 12, "[webhook]", "unknown webhook event 'ticket-gone'"),
    ]
    for line, where, message in expected:
        hits = [p for p in problems if where in p and message in p]
        assert hits, (message, problems)
        assert hits[0].startswith(f"line {line}, "), hits[0]
    with pytest.raises(config.ConfigError) as unsigned:
        config.parse_site(base + '\n[webhook]\nurl = "https://sms.cantho.gov.vn/hook"\n', "cantho.toml")
    assert any("a webhook url needs a secret" in p for p in unsigned.value.problems)


def test_a_template_gives_the_tables_to_every_commune(tmp_path):
    """The commune template's [appointments] and [online] apply to a commune file; the file overrides keys."""
    (tmp_path / "_templates").mkdir()
    template = TEMPLATE.read_text(encoding="utf-8") + "\n[appointments]\nshare = 0.4\nslot_minutes = 20\n" \
        "\n[online]\nfrom = \"06:30\"\n"
    (tmp_path / "_templates" / "commune.toml").write_text(template, encoding="utf-8")
    (tmp_path / "xa-an-binh.toml").write_text(COMMUNE + "\n[appointments]\nslot_minutes = 15\n", encoding="utf-8")
    site = config.load_folder(tmp_path)["xa-an-binh"]
    assert (site.appointments.share, site.appointments.slot_minutes) == (0.4, 15)
    assert site.online.start == dt.time(6, 30)
