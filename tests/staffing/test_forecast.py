"""Forecasts on synthetic history with known rates: within the stated error of the truth, a backtest near
the Poisson floor, the weekday, the trend and the day after a holiday."""

from __future__ import annotations

import datetime as dt

import pytest

from qserver.staffing import NoHistory, backtest, build_profiles, forecast_day, forecast_days, nowcast
from qserver.staffing.forecast import poisson_mad
from qserver.staffing.slots import day_slots
from qserver.staffing.synthetic import history, make_truth

from .conftest import COMMUNE_SERVICE_S, FIRST, LAST, NEXT_WEEK


@pytest.fixture(scope="module", params=["cantho", "commune"])
def case(request):
    site = request.getfixturevalue(request.param)
    truth = request.getfixturevalue(f"{request.param}_truth")
    return site, truth, build_profiles(site, request.getfixturevalue(f"{request.param}_history"))


def errors(forecast, truth):
    expected = truth.expected_slots(forecast.day, forecast.slots)
    total = sum(map(sum, expected.values()))
    cells = sum(abs(forecast.expected[a][i] - row[i]) for a, row in expected.items() for i in range(len(row)))
    slots = sum(abs(forecast.slot_total(i) - sum(row[i] for row in expected.values())) for i in range(len(forecast.slots)))
    return cells / total, slots / total, forecast.total / total - 1


def test_next_week_is_within_the_stated_error_of_the_truth(case):
    """Against the true expected counts: cells (agency × slot) WAPE ≤ 15 %, slot totals ≤ 10 %, day ≤ 10 %."""
    site, truth, profiles = case
    forecasts = forecast_days(profiles, NEXT_WEEK[0], 5)
    assert [f.day for f in forecasts] == NEXT_WEEK
    for forecast in forecasts:
        cell, slot, day = errors(forecast, truth)
        assert cell <= 0.15, (forecast.day, cell)
        assert slot <= 0.10, (forecast.day, slot)
        assert abs(day) <= 0.10, (forecast.day, day)


def test_backtest_is_near_the_poisson_floor(case):
    """Each past day forecast from the days before it: cell WAPE within 0.05 of what a perfect forecast
    would still show; daily totals within 8 % on ordinary days, 12 % with the days after a holiday."""
    site, truth, profiles = case
    report = backtest(profiles)
    overall = report["overall"]
    assert overall["days"] >= 14
    assert overall["wape"] <= overall["floor_wape"] + 0.05
    assert overall["total_mape_ordinary"] <= 0.08
    assert overall["total_mape"] <= 0.12
    assert {row["day"] for row in report["days"]} <= {d.day.isoformat() for d in profiles.days if d.usable}
    assert [row["slot"] for row in report["slots"]] == [slot.key for slot in day_slots(site, NEXT_WEEK[0])]


def test_weekday_and_after_holiday_factors(cantho, cantho_truth, cantho_history):
    """Mondays come out higher than Fridays, and a day after a holiday higher than the same weekday
    without one (the truth: ×1.12 vs ×0.9, and ×1.4 after a holiday)."""
    profiles = build_profiles(cantho, cantho_history)
    monday, friday = forecast_day(profiles, NEXT_WEEK[0]), forecast_day(profiles, NEXT_WEEK[4])
    assert 1.1 < monday.total / friday.total < 1.4
    origin = dt.date(2026, 5, 11)
    after = forecast_day(profiles, dt.date(2026, 9, 3), origin=origin)      # after 1-2 September
    ordinary = forecast_day(profiles, dt.date(2026, 9, 10), origin=origin)  # the Thursday after
    assert after.after_holiday and not ordinary.after_holiday
    ratio = after.total / ordinary.total
    assert 1.15 < ratio < 1.5, ratio
    assert after.factors["after_holiday"] == pytest.approx(ratio, rel=0.01)


def test_trend_follows_growth(commune):
    """A center growing 4 % a week is forecast above its window's mean level, by about the growth."""
    truth = make_truth(commune, 150, COMMUNE_SERVICE_S, weekly_growth=0.04, epoch=FIRST)
    profiles = build_profiles(commune, history(truth, FIRST, LAST, "trend"))
    forecast = forecast_day(profiles, NEXT_WEEK[1])
    assert 1.05 < forecast.factors["trend"] < 1.25
    _, _, day = errors(forecast, truth)
    assert abs(day) < 0.08


def test_closed_days_and_missing_history(cantho, cantho_history):
    """A holiday has no slots; a forecast with no ordinary day before it says so, naming the date."""
    profiles = build_profiles(cantho, cantho_history)
    assert forecast_day(profiles, dt.date(2026, 9, 2)).slots == ()
    with pytest.raises(NoHistory, match="2026-03-30"):
        forecast_day(profiles, FIRST)


def test_poisson_mean_absolute_deviation():
    """E|X − λ| of a Poisson: exact small values and √(2λ/π) for large λ."""
    assert poisson_mad(1.0) == pytest.approx(2 / 2.718281828459045)
    assert poisson_mad(0.5) == pytest.approx(2 * 0.5 * 2.718281828459045 ** -0.5)
    assert poisson_mad(400.0) == pytest.approx((2 * 400 / 3.141592653589793) ** 0.5, rel=0.01)


def test_nowcast_scales_the_rest_of_a_busy_day(cantho, cantho_history):
    """Half again as many tickets as expected by 09:00: the slots after are raised (not fully: a prior of
    20 tickets tempers it), the slots before are kept."""
    profiles = build_profiles(cantho, cantho_history)
    forecast = forecast_day(profiles, NEXT_WEEK[1])
    now = 9 * 3600
    so_far = sum(row[i] for row in forecast.expected.values() for i, s in enumerate(forecast.slots) if s.end_s <= now)
    busier = nowcast(forecast, {"so-tu-phap": round(1.5 * so_far)}, now)
    ratio = busier.factors["today"]
    assert 1.35 < ratio < 1.5
    assert busier.expected["so-y-te"][0] == forecast.expected["so-y-te"][0]
    assert busier.expected["so-y-te"][5] == pytest.approx(forecast.expected["so-y-te"][5] * ratio)
    assert nowcast(forecast, {}, now).factors["today"] == 0.5
