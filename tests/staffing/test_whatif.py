"""What-if: closing a counter, adding an officer and a rush change the simulated waits the expected way;
bad changes are refused naming the value."""

from __future__ import annotations

import pytest

from qserver.staffing import InvalidChange, UnknownAgency, UnknownCounter, build_profiles, forecast_days, plan_day, what_if
from qserver.staffing.whatif import apply_changes

from .conftest import NEXT_WEEK


@pytest.fixture(scope="module")
def day(commune, commune_history):
    profiles = build_profiles(commune, commune_history)
    forecast = forecast_days(profiles, NEXT_WEEK[0], 1)[0]
    services = profiles.models()
    return forecast, services, plan_day(commune, forecast, services)


def agency(result, side, slug):
    return next(a for a in result[side]["agencies"] if a["slug"] == slug)


def test_no_change_changes_nothing(commune, day):
    """Same citizens, same plan: identical before and after (common random numbers)."""
    forecast, services, plan = day
    result = what_if(commune, forecast, services, plan, [], replications=10)
    assert result["before"] == result["after"]
    assert result["before"]["counter_hours"] == round(plan.counter_hours, 1)
    assert [s["slot"] for s in result["before"]["slots"]] == [s.slot.key for s in plan.slots]


def test_closing_the_counters_of_an_agency_makes_it_wait(commune, day):
    """Closing every counter that serves Tư pháp - Hộ tịch from 08:00 to 10:00 lengthens its waits,
    uses fewer counter-hours, and leaves the other agencies' waits as they were."""
    forecast, services, plan = day
    busy = {c for s in plan.slots if "08:00" <= s.slot.key < "10:00" for c in s.counters_of("tu-phap-ho-tich")}
    changes = [{"kind": "close_counter", "counter": c, "from": "08:00", "to": "10:00"} for c in sorted(busy)]
    result = what_if(commune, forecast, services, plan, changes, replications=15)
    before, after = agency(result, "before", "tu-phap-ho-tich"), agency(result, "after", "tu-phap-ho-tich")
    assert after["mean_wait_s"] > before["mean_wait_s"] + 300
    assert after["within_target_share"] < before["within_target_share"]
    assert result["after"]["counter_hours"] < result["before"]["counter_hours"]
    linked = {"tu-phap-ho-tich"}
    for _ in commune.agencies:  # agencies linked to it by a shared counter in any slot, transitively
        linked |= {a for s in plan.slots for served in s.layout.values() if linked & set(served) for a in served}
    solo = [a for a in commune.agencies if a.slug not in linked]
    assert solo
    for other in solo:
        assert agency(result, "after", other.slug) == agency(result, "before", other.slug)


def test_an_extra_officer_and_a_rush(commune, day):
    """An afternoon rush ×1.6 at Đất đai lengthens its waits; one more officer for it then shortens them."""
    forecast, services, plan = day
    rush = {"kind": "volume", "multiplier": 1.6, "agency": "dat-dai", "from": "13:30", "to": "17:00"}
    crowded = what_if(commune, forecast, services, plan, [rush], replications=20)
    helped = what_if(commune, forecast, services, plan,
                     [rush, {"kind": "add_officer", "agency": "dat-dai", "from": "13:30", "to": "17:00"}], replications=20)
    base = agency(crowded, "before", "dat-dai")
    assert agency(crowded, "after", "dat-dai")["tickets_per_day"] > 1.15 * base["tickets_per_day"]
    assert agency(crowded, "after", "dat-dai")["mean_wait_s"] > base["mean_wait_s"]
    assert agency(helped, "after", "dat-dai")["mean_wait_s"] < agency(crowded, "after", "dat-dai")["mean_wait_s"]
    assert helped["after"]["counter_hours"] > crowded["after"]["counter_hours"]


def test_assign_puts_a_counter_on_an_agency(commune, day):
    """``assign`` makes a counter serve only the agency in the given slots."""
    forecast, _, plan = day
    layouts, _ = apply_changes(commune, plan, forecast, [{"kind": "assign", "counter": "8", "agency": "kinh-te",
                                                          "from": "13:30"}])
    for layout, slot_plan in zip(layouts, plan.slots):
        if slot_plan.slot.key >= "13:30":
            assert layout["8"] == ("kinh-te",)
        else:
            assert layout.get("8") == slot_plan.layout.get("8")


@pytest.mark.parametrize("change, error, text", [
    ({"kind": "close_counter", "counter": "99"}, UnknownCounter, "'99'"),
    ({"kind": "add_officer", "agency": "so-xyz"}, UnknownAgency, "'so-xyz'"),
    ({"kind": "volume", "multiplier": "nhiều"}, InvalidChange, "'nhiều'"),
    ({"kind": "close_counter", "counter": "1", "from": "10:00", "to": "09:00"}, InvalidChange, "'to'"),
    ({"kind": "close_counter", "counter": "1", "from": "9h"}, InvalidChange, "'9h'"),
    ({"kind": "teleport"}, InvalidChange, "'teleport'"),
])
def test_bad_changes_name_the_value(commune, day, change, error, text):
    """Each refusal names the offending value and the change's position."""
    forecast, services, plan = day
    with pytest.raises(error) as caught:
        apply_changes(commune, plan, forecast, [{"kind": "volume", "multiplier": 1.0}, change])
    assert text in caught.value.message and "#2" in caught.value.message
