"""Staffing to the load: profiles from the archive, forecasts, counter plans, advice and what-if.

A pure core (no Redis, no clock, no I/O): every function takes a ``config.Site`` and stored-ticket dicts
(or what was computed from them) and returns plain objects or JSON-ready dicts. The method, its rules
and the JSON shapes are in ``docs/staffing.md``.

    profiles = build_profiles(site, tickets, today=today)          # arrivals, services, days left out
    forecast = forecast_day(profiles, day)                           # expected tickets per agency per slot
    plan = plan_day(site, forecast, profiles.models())               # counters per agency per slot
    check_plan(plan, forecast, profiles.models())                    # the simulator's verdict
    advise(site, LiveState.from_console(site, console), forecast, profiles.models())
    what_if(site, forecast, profiles.models(), plan, [{"kind": "close_counter", "counter": "13"}])
    review_day(site, profiles, tickets_of_day, day)                  # a past day: missed where, and why
    rank_sites([(site, profiles), ...], tomorrow)                    # which centers will miss tomorrow
"""

from .advice import Advice, LiveCounter, LiveState, Move, Waiting, advise, moves, objective, project
from .evaluate import Evaluation, check_plan, evaluate
from .exceptions import InvalidChange, InvalidState, NoHistory, StaffingError, UnknownAgency, UnknownCounter
from .forecast import DayForecast, ForecastSettings, backtest, forecast_day, forecast_days, nowcast
from .network import outlook, rank_sites
from .plan import (DayPlan, PlanSettings, SlotPlan, any_eligibility, config_plan, configured_eligibility, fixed_plan,
                   plan_day, plan_days)
from .profiles import CleaningRules, Profiles, ServiceStats, build_profiles
from .review import review_day
from .queueing import erlang_b, erlang_c, expected_wait_s, servers_needed, service_level
from .simulate import ServiceModel
from .slots import Slot, day_slots
from .views import advice_json, plan_csv, plan_grid
from .whatif import what_if

__all__ = [
    "Advice", "LiveCounter", "LiveState", "Move", "Waiting", "advise", "moves", "objective", "project",
    "Evaluation", "check_plan", "evaluate",
    "InvalidChange", "InvalidState", "NoHistory", "StaffingError", "UnknownAgency", "UnknownCounter",
    "DayForecast", "ForecastSettings", "backtest", "forecast_day", "forecast_days", "nowcast",
    "outlook", "rank_sites",
    "DayPlan", "PlanSettings", "SlotPlan", "any_eligibility", "config_plan", "configured_eligibility", "fixed_plan",
    "plan_day", "plan_days",
    "CleaningRules", "Profiles", "ServiceStats", "build_profiles",
    "review_day",
    "erlang_b", "erlang_c", "expected_wait_s", "servers_needed", "service_level",
    "ServiceModel", "Slot", "day_slots",
    "advice_json", "plan_csv", "plan_grid", "what_if",
]
