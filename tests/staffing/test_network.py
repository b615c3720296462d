"""Many centers: the city console's ranking of which will miss their target tomorrow."""

from __future__ import annotations

import config
from qserver.staffing import PlanSettings, build_profiles, outlook, rank_sites
from qserver.staffing.synthetic import history, make_truth

from .conftest import COMMUNE_SERVICE_S, COMMUNE_TOML, FIRST, LAST, NEXT_WEEK


def commune_named(slug: str):
    return config.parse_site(COMMUNE_TOML.replace('slug = "phuong-tan-an"', f'slug = "{slug}"'), f"{slug}.toml")


def test_ranking_puts_the_overloaded_commune_first(cantho, cantho_history, commune, commune_history):
    """A commune with more citizens than counters and one with too few officers on duty come first and will
    miss; the ordinary ones will not; a site without history is listed last, saying so."""
    busy = commune_named("xa-phong-dien")
    crowded = build_profiles(busy, history(make_truth(busy, 400, COMMUNE_SERVICE_S), FIRST, LAST, "busy"))
    thin = commune_named("xa-thoi-lai")
    new = commune_named("phuong-moi")
    entries = [(cantho, build_profiles(cantho, cantho_history)), (commune, build_profiles(commune, commune_history)),
               (busy, crowded), (thin, build_profiles(thin, commune_history)), (new, build_profiles(new, []))]
    settings = {"xa-thoi-lai": PlanSettings(officers=3)}
    ranking = rank_sites(entries, NEXT_WEEK[1], settings=settings)
    first = {row["site"]: row for row in ranking[:2]}
    assert set(first) == {"xa-phong-dien", "xa-thoi-lai"}
    assert ranking[0]["plan_share"] <= ranking[1]["plan_share"]
    assert first["xa-phong-dien"]["will_miss"] and first["xa-phong-dien"]["short"]
    assert first["xa-phong-dien"]["peak_counters"] == len(busy.counters)
    assert first["xa-thoi-lai"]["will_miss"] and first["xa-thoi-lai"]["peak_counters"] <= 3
    ordinary = {row["site"]: row for row in ranking[2:4]}
    assert set(ordinary) == {"cantho", "phuong-tan-an"}
    assert not any(row["will_miss"] for row in ordinary.values())
    assert ordinary["cantho"]["plan_counter_hours"] < ordinary["cantho"]["config_counter_hours"]
    assert ranking[-1]["site"] == "phuong-moi" and ranking[-1]["status"] == "no_history"
    assert "Chưa có ngày làm việc bình thường" in ranking[-1]["message"]


def test_outlook_of_a_closed_day(commune, commune_history):
    """A holiday: the site is closed and will not miss anything."""
    row = outlook(commune, build_profiles(commune, commune_history), NEXT_WEEK[0].replace(month=9, day=2))
    assert row["status"] == "closed" and row["will_miss"] is False
