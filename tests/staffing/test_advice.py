"""Advice during the day: on a scripted morning the proposed move is the one a brute force over every single
move finds, with its expected effect; a calm hall gets no advice."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from qserver.staffing import (DayForecast, InvalidState, LiveCounter, LiveState, Waiting, advice_json, advise,
                              configured_eligibility, moves, objective, project)
from qserver.staffing.simulate import run_day
from qserver.staffing.slots import DayClock, day_slots
from qserver.staffing.synthetic import config_layout

DAY = dt.date(2026, 5, 12)
NOW = 8 * 3600 + 45 * 60


@pytest.fixture(scope="module")
def morning(cantho, cantho_truth):
    """Cần Thơ at 08:45: the configured layout, a rush at Sở Tư pháp (four times its usual citizens) and
    one of its counters paused since opening."""
    slots = day_slots(cantho, DAY)
    tickets = [t for t in cantho_truth.arrivals(DAY, "morning") if t.issued_s < NOW]
    rush = [t for seed in ("rush-1", "rush-2", "rush-3") for t in cantho_truth.arrivals(DAY, seed)
            if t.agency == "so-tu-phap" and t.issued_s < NOW]
    tickets = sorted(tickets + rush, key=lambda t: t.issued_s)
    layout = {c: a for c, a in config_layout(cantho).items() if c != "35"}
    run_day(tickets, [(float(slots[0].start_s), layout)], stop_s=NOW)
    counters = []
    for c in cantho.counters:
        current = next((t for t in tickets if t.counter == c.id and t.called_s + t.service_s > NOW), None)
        counters.append(LiveCounter(c.id, tuple(c.agencies), "paused" if c.id == "35" else "open",
                                    NOW - current.called_s if current else None, current.agency if current else None))
    waiting = tuple(Waiting(t.agency, NOW - t.issued_s, t.priority) for t in tickets if t.called_s is None)
    state = LiveState(DAY, NOW, tuple(counters), waiting)
    expected = cantho_truth.expected_slots(DAY, slots)
    forecast = DayForecast(cantho.slug, DAY, slots, {a: tuple(v) for a, v in expected.items()})
    return state, forecast, dict(cantho_truth.services)


def brute_force(site, state, forecast, services, eligibility=None):
    """Every single move, each scored by projecting the whole hall; ranked by waiting beyond target, then
    a counter on the agency's floor, then total waiting (the first such move in counter/agency order)."""
    slugs = [a.slug for a in site.agencies]
    best = None
    for move in moves(state, site, eligibility):
        layout = {**state.layout(), move.counter: move.after}
        score = objective(project(state, forecast, services, site.target_wait_s, layout, slugs))
        other_floor = site.counter_by_id[move.counter].floor != site.agency_by_slug[move.after[0]].floor
        rank = (score[0], other_floor, score[1])
        if best is None or rank < best[0]:
            best = (rank, score, move)
    return best[1], best[2]


def test_advice_equals_the_brute_force(cantho, morning):
    """The advised move and its score are exactly the brute force's best over every single move."""
    state, forecast, services = morning
    assert sum(1 for w in state.waiting if w.agency == "so-tu-phap") >= 15
    advice = advise(cantho, state, forecast, services)
    score, move = brute_force(cantho, state, forecast, services)
    assert len(advice) == 1
    assert advice[0].move == move
    assert advice[0].result == score
    baseline = objective(project(state, forecast, services, cantho.target_wait_s, state.layout(),
                                 [a.slug for a in cantho.agencies]))
    assert advice[0].baseline == baseline and advice[0].gain_s > 300


def test_the_move_helps_the_rushed_agency(cantho, morning):
    """The counter goes to Sở Tư pháp, whose projected longest wait drops; the message says so in Vietnamese."""
    state, forecast, services = morning
    advice = advise(cantho, state, forecast, services, limit=3)[0]
    assert advice.move.after == ("so-tu-phap",) and advice.move.counter != "35"
    before, after = advice.effect["so-tu-phap"]["longest_wait_s"]
    assert after < before
    pattern = (rf"^Chuyển quầy {advice.move.counter} từ .+ sang Sở Tư pháp: chờ lâu nhất dự kiến giảm từ "
               rf"{round(before / 60)} xuống {round(after / 60)} phút")
    assert re.match(pattern, advice.message), advice.message
    data = advice_json(cantho, [advice])["advice"][0]
    assert data["apply"] == {"method": "PUT", "path": f"/api/v1/sites/cantho/counters/{advice.move.counter}/agencies",
                             "body": {"agencies": ["so-tu-phap"]}}
    assert data["to_names"] == ["Sở Tư pháp"] and data["gain_s"] == round(advice.gain_s)


def test_configured_moves_only(cantho, morning):
    """Limited to configured agencies, the only counter that may join Sở Tư pháp is 32; the brute force agrees."""
    state, forecast, services = morning
    eligibility = configured_eligibility(cantho)
    advice = advise(cantho, state, forecast, services, eligibility=eligibility, min_gain_s=0)
    score, move = brute_force(cantho, state, forecast, services, eligibility)
    assert advice[0].move == move and advice[0].result == score
    assert all(set(m.after) <= set(eligibility[m.counter]) for m in moves(state, cantho, eligibility))


def test_a_calm_hall_gets_no_advice(cantho, morning):
    """Nobody waiting and a quiet forecast: no move gains anything."""
    state, forecast, services = morning
    calm = LiveState(DAY, NOW, tuple(LiveCounter(c.id, c.agencies) for c in state.counters), ())
    quiet = forecast.scaled(0.1)
    assert advise(cantho, calm, quiet, services) == []


def test_state_from_the_console(cantho):
    """The console's answer: busy counters, the 60 listed tickets and the rest spread up to now."""
    clock = DayClock(cantho, DAY, day_slots(cantho, DAY))
    now_ms = clock.ms(NOW)
    iso = lambda seconds: dt.datetime.fromtimestamp(clock.ms(seconds) / 1000, tz=cantho.tz).isoformat()  # noqa: E731
    console = {
        "now_ms": now_ms,
        "counters": [{"id": "33", "status": "open", "agencies": ["so-tu-phap"], "serving_s": 240,
                      "current": {"agency": "so-tu-phap"}},
                     {"id": "34", "status": "paused", "agencies": ["so-tu-phap"], "serving_s": None, "current": None}],
        "agencies": [{"slug": "so-tu-phap", "waiting": 70,
                      "tickets": [{"issued_at": iso(NOW - 3000 + 10 * i), "priority": None} for i in range(60)]},
                     {"slug": "so-noi-vu", "waiting": 0, "tickets": []}],
    }
    state = LiveState.from_console(cantho, console)
    assert state.day == DAY and state.now_s == pytest.approx(NOW)
    assert state.counters[0].serving_s == 240 and state.counters[0].serving_agency == "so-tu-phap"
    assert state.layout() == {"33": ("so-tu-phap",)}
    waits = sorted((w.waited_s for w in state.waiting), reverse=True)
    assert len(waits) == 70 and waits[0] == pytest.approx(3000) and waits[59] == pytest.approx(3000 - 590)
    assert 0 < waits[-1] < waits[59]
    with pytest.raises(InvalidState, match="now_ms"):
        LiveState.from_console(cantho, {"counters": []})
