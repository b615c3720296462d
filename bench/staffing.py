"""Staffing benchmark: a simulated month of the Cần Thơ center, then forecast and plan for the next week.

    python bench/staffing.py [--tickets 500] [--replications 60] [--seed 1]

1. History: 6-4-2026 to 8-5-2026 (the holidays of 27-4, 30-4 and 1-5 inside) from the load simulator's
   arrival model (``qserver.simulation.model.iter_arrivals``: its morning and afternoon curves), Mondays
   ×1.12, Fridays ×0.9, +0.5 % a week, ×1.4 on the first day after a holiday, lognormal service per agency
   (``synthetic.CANTHO_SERVICE_S``), served by today's fixed layout (every counter open as configured);
   one day with a 90-minute kiosk outage and one storm day at 30 % of the usual volume.
2. Profiles (which days were left out and why) and the backtest over the month.
3. Forecast of 11–15 May against the known truth, and the time to compute profiles + forecasts + plans.
4. The same week's plan the way the API computes it on the first request of a day: 16 weeks of history
   (``qserver.managers.planning.HISTORY_DAYS``) read back from a SQLite archive, profiles, five forecasts,
   five plans and the CSV.
5. Each day checked in the simulator on the *true* arrivals (``--replications`` days each): the share of
   agency-slot cells and of slots meeting 80 % called within 15 minutes, with the plan, with the cheapest
   all-day layout reaching the same level and with today's fixed layout, and the counter-hours of each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import config  # noqa: E402
from qserver.managers.archive import Archive  # noqa: E402
from qserver.managers.planning import HISTORY_DAYS  # noqa: E402
from qserver.staffing import (backtest, build_profiles, config_plan, evaluate, fixed_plan, forecast_days,  # noqa: E402
                              plan_csv, plan_day)
from qserver.staffing.synthetic import CANTHO_SERVICE_S, history, make_truth  # noqa: E402

FIRST, LAST = dt.date(2026, 4, 6), dt.date(2026, 5, 8)
NEXT = dt.date(2026, 5, 11)
OUTAGE, STORM = dt.date(2026, 4, 15), dt.date(2026, 4, 22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=float, default=500, help="tickets on an ordinary day (default 500)")
    parser.add_argument("--replications", type=int, default=60, help="simulated days per check (default 60)")
    parser.add_argument("--seed", default="1")
    args = parser.parse_args()

    site = config.load_sites()["cantho"]
    truth = make_truth(site, args.tickets, CANTHO_SERVICE_S, weekday_factor={"mon": 1.12, "fri": 0.9},
                       weekly_growth=0.005, after_holiday=1.4, epoch=FIRST)
    started = time.perf_counter()
    tickets = history(truth, FIRST, LAST, args.seed, outages={OUTAGE: (8 * 3600, 9 * 3600 + 1800)}, quiet={STORM: 0.3})
    print(f"history: {len(tickets):,} tickets {FIRST:%d/%m}–{LAST:%d/%m/%Y} simulated in "
          f"{time.perf_counter() - started:.2f} s")

    profiles = build_profiles(site, tickets)
    left_out = [d for d in profiles.days if d.status not in ("normal", "closed")]
    print("days not ordinary: " + "; ".join(f"{d.day:%d/%m} {d.status}" + (f" ({d.note})" if d.note else "")
                                            for d in left_out))

    report = backtest(profiles)["overall"]
    print(f"\nbacktest over {report['days']} past days (each forecast from the days before it):")
    print(f"  cells (agency × slot) WAPE {report['wape']:.1%}  (Poisson floor {report['floor_wape']:.1%})")
    print(f"  slot totals WAPE {report['slot_wape']:.1%}  (floor {report['slot_floor_wape']:.1%})   "
          f"daily totals MAPE {report['total_mape']:.1%} (ordinary days {report['total_mape_ordinary']:.1%})")

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        fresh = build_profiles(site, tickets)
        forecasts = forecast_days(fresh, NEXT, 5)
        services = fresh.models()
        plans = [plan_day(site, f, services) for f in forecasts]
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        [plan_day(site, f, services) for f in forecasts]
        plan_only = time.perf_counter() - started
    print(f"\nweek plan (profiles + 5 forecasts + 5 plans): best {min(timings):.3f} s, worst {max(timings):.3f} s; "
          f"the 5 plans alone {plan_only:.3f} s  (target < 2 s)")

    archive_timing(site, truth, args.seed)

    print(f"\n{'day':<10} {'fc err':>7} | {'plan: cells':>11} {'slots':>6} {'in 15′':>6} {'c-h':>6} | "
          f"{'fixed min':>9} {'slots':>6} {'c-h':>6} | {'today':>6} {'slots':>6} {'c-h':>6}  short (plan)")
    totals = {"plan": 0.0, "fixed": 0.0, "config": 0.0}
    met = {"plan": [], "fixed": [], "config": []}
    for forecast, plan in zip(forecasts, plans):
        expected = truth.expected_slots(forecast.day, forecast.slots)
        err = sum(abs(forecast.expected[a][i] - row[i]) for a, row in expected.items() for i in range(len(row)))
        err /= sum(map(sum, expected.values()))
        row = [f"{forecast.day:%a %d/%m}", f"{err:7.1%}"]
        for kind, candidate in (("plan", plan), ("fixed", fixed_plan(site, forecast, services)),
                                ("config", config_plan(site, forecast, services))):
            check = evaluate(forecast.slots, candidate.schedule(),
                             lambda r: truth.arrivals(forecast.day, ("check", r)),
                             replications=args.replications, target_wait_s=site.target_wait_s)
            totals[kind] += candidate.counter_hours
            met[kind].append(check.met_share())
            cells = f"{check.met_share():.1%}"
            row.append(f"| {cells:>11} {check.slots_met_share():6.0%}" +
                       (f" {check.overall_level():6.1%}" if kind == "plan" else "") + f" {candidate.counter_hours:6.1f}")
        short = sorted({f"{slug}@{s.slot.key}" for s in plan.slots for slug in s.short})
        print(" ".join(row) + "  " + (", ".join(short) or "—"))
    print(f"\ncounter-hours over the week: plan {totals['plan']:.1f}, cheapest fixed layout {totals['fixed']:.1f}, "
          f"today's layout {totals['config']:.1f} "
          f"(plan saves {1 - totals['plan'] / totals['config']:.0%} of today's, "
          f"{1 - totals['plan'] / totals['fixed']:.0%} of the cheapest fixed)")
    print("cells meeting the target (mean of days): " +
          ", ".join(f"{kind} {sum(v) / len(v):.1%}" for kind, v in met.items()))


def archive_timing(site, truth, seed: str) -> None:
    """A week's plan from the archive, as ``GET .../plan.csv`` computes it when a day's cache is cold."""
    first = NEXT - dt.timedelta(days=HISTORY_DAYS)
    tickets = history(truth, first, LAST, f"{seed}-archive", outages={OUTAGE: (8 * 3600, 9 * 3600 + 1800)},
                      quiet={STORM: 0.3})
    with tempfile.TemporaryDirectory() as folder:
        archive = Archive(Path(folder) / "archive.sqlite")
        by_day: dict[str, list] = {}
        for ticket in tickets:
            day = dt.datetime.fromtimestamp(ticket["issued_at"] / 1000, tz=site.tz).date().isoformat()
            by_day.setdefault(day, []).append(ticket)
        for day, rows in sorted(by_day.items()):
            archive.store_day(site.slug, day, rows, [])
        timings, read = [], []
        for _ in range(3):
            started = time.perf_counter()
            stored = archive.tickets(site.slug, first.isoformat(), (NEXT - dt.timedelta(days=1)).isoformat())
            read.append(time.perf_counter() - started)
            profiles = build_profiles(site, stored, today=NEXT)
            forecasts = forecast_days(profiles, NEXT, 5)
            plan_csv([plan_day(site, f, profiles.models()) for f in forecasts], forecasts)
            timings.append(time.perf_counter() - started)
    print(f"week plan from the archive ({HISTORY_DAYS} days, {len(stored):,} tickets read from SQLite + profiles + "
          f"5 forecasts + 5 plans + CSV): best {min(timings):.3f} s, worst {max(timings):.3f} s "
          f"(of which the SQLite read {min(read):.3f} s)  (target < 2 s)")


if __name__ == "__main__":
    main()
