"""The simulator: a deterministic plan, and a short accelerated day against a real server whose stream
and API must show a consistent day."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import httpx
import pytest
import redis as sync_redis

import config
from qserver import cli
from qserver.engine import SiteKeys
from tests.support import ServerProcess
from qserver.simulation import (ApiClient, Layout, OfficerPlan, SimulationConfig, build_plan, load_config,
                                mean_service_s, model, pick_counters, plan_arrivals, run_simulation,
                                served_agencies)

EVENTS = SiteKeys("cantho").events


@pytest.fixture(scope="module")
def layout() -> Layout:
    return Layout.from_site(config.load_sites()["cantho"])


def test_same_seed_same_plan(layout):
    """The same seed gives the same arrivals and officer decisions; another seed gives others."""
    counters = pick_counters(layout, 12)
    first = build_plan(layout, counters, seed=11, expected=400, decisions=60)
    again = build_plan(layout, counters, seed=11, expected=400, decisions=60)
    other = build_plan(layout, counters, seed=12, expected=400, decisions=60)
    assert first == again
    assert len(first.arrivals) > 300 and first.arrivals != other.arrivals and first.officers != other.officers


def test_each_actor_has_its_own_stream(layout):
    """A counter's decisions come from its own stream: other counters and their order do not change them."""
    crowded = build_plan(layout, ("3", "4", "5", "9"), seed=5, expected=400, decisions=40)
    reordered = build_plan(layout, ("9", "5", "4", "3"), seed=5, expected=400, decisions=40)
    alone = OfficerPlan(5, "3", mean_service_s(layout, 4, 400)).first(40)
    assert crowded.officers["3"] == reordered.officers["3"] == alone != crowded.officers["4"]


def test_arrivals_follow_procedures_and_peak_in_the_morning(layout):
    """Arrivals split by the agencies' procedures, peak around 08:00–09:00 and stay inside the hours."""
    agencies = [a.slug for a in layout.agencies]
    arrivals = plan_arrivals(layout, agencies, seed=3, expected=30_000)
    per_agency = Counter(a.agency for a in arrivals)
    total_procedures = sum(a.procedures for a in layout.agencies)
    for agency in layout.agencies:
        if agency.procedures >= 50:
            share = per_agency[agency.slug] / len(arrivals)
            assert share == pytest.approx(agency.procedures / total_procedures, rel=0.15), agency.slug
    per_hour = Counter(layout.clock_of(a.at)[:2] for a in arrivals)
    assert set(per_hour) == {"07", "08", "09", "10", "13", "14", "15", "16"}
    assert per_hour["08"] == max(per_hour.values())
    assert per_hour["07"] + per_hour["08"] + per_hour["09"] > per_hour["13"] + per_hour["14"] + per_hour["15"]
    assert all(0 <= a.at < layout.open_s for a in arrivals) and list(arrivals) == sorted(arrivals, key=lambda a: a.at)
    assert Counter(a.priority for a in arrivals)["elderly"] > 0


def test_counters_are_spread_over_agencies(layout):
    """N counters cover N agencies before any agency gets a second one; excluded counters are skipped."""
    chosen = pick_counters(layout, 16, exclude=("12",))
    assert "12" not in chosen and len(chosen) == 16
    assert len({layout.counter(c).agencies[0] for c in chosen}) == 16
    assert set(served_agencies(layout, pick_counters(layout, 35))) == {a.slug for a in layout.agencies}


def replay(events: list[dict]) -> tuple[dict, dict, Counter]:
    """Every ticket's state after the stream's events, checking each transition is allowed; numbers
    issued per agency; completed tickets per counter."""
    status: dict[str, str] = {}
    numbers: dict[str, list[str]] = defaultdict(list)
    completed: Counter = Counter()
    for event in events:
        kind, ticket = event["type"], event.get("ticket") or {}
        tid = ticket.get("id")
        if kind == "issued":
            assert tid not in status, f"{tid} issued twice"
            status[tid] = "waiting"
            numbers[ticket["agency"]].append(ticket["number"])
        elif kind == "called" and event["recall"]:
            assert status[tid] == "called", f"recall of {tid} while {status[tid]}"
        elif kind == "called":
            assert status[tid] == "waiting", f"{tid} called by call-next while {status[tid]}"
            status[tid] = "called"
        elif kind == "completed":
            assert status[tid] == "called", f"{tid} completed while {status[tid]}"
            status[tid] = "done"
            completed[event["counter"]] += 1
        elif kind == "no_show":
            assert status[tid] == "called", f"{tid} no-show while {status[tid]}"
            status[tid] = "waiting" if event.get("returned") else "no_show"
        elif kind == "transferred":
            assert status[tid] == ("called" if event.get("counter") else "waiting")
            status[tid] = "waiting"
        elif kind == "rated":
            assert status[tid] == "done", f"{tid} rated while {status[tid]}"
    return status, numbers, completed


@pytest.fixture
def server(redis_server, flushed, tmp_path):
    """``qserver run`` for an accelerated day: one kiosk token issues 20 tickets a second, so the
    per-kiosk limit (60 a minute, a real kiosk's bound) is off."""
    process = ServerProcess(redis_server.url, tmp_path, extra_env={"QSERVER_LIMIT_ISSUE_PER_KIOSK": ""})
    process.start()
    yield process
    process.close()


async def test_simulated_day_keeps_the_invariants(server, redis_server, layout, monkeypatch):
    """A short accelerated day: every ticket in one state, contiguous numbers, no double call, counts agree."""
    # More of the rare paths than a real day, so the check sees recalls, no-shows, transfers and breaks.
    monkeypatch.setattr(model, "P_NO_SHOW", 0.15)
    monkeypatch.setattr(model, "P_TRANSFER", 0.15)
    monkeypatch.setattr(model, "P_BREAK", 0.05)
    token = server.token("manager", name="sim")
    report = await run_simulation(
        server.base_url, "cantho",
        lambda lay: load_config(lay, counters=8, rate=20, duration_s=5, seed=4),
        manager_token=token, kiosk_token=server.token("kiosk"))

    client = sync_redis.Redis.from_url(redis_server.url)
    events = [json.loads(fields[b"e"]) for _, fields in client.xrange(EVENTS)]
    client.close()
    status, numbers, completed = replay(events)
    kinds = Counter(e["type"] for e in events)
    recalls = sum(1 for e in events if e["type"] == "called" and e["recall"])

    assert report.errors == {}
    assert report.counts["issued"] == kinds["issued"] == len(status) > 50
    assert report.counts["called"] == kinds["called"] - recalls and report.counts["recalls"] == recalls > 0
    assert report.counts["served"] == kinds["completed"] and report.counts["ratings"] == kinds["rated"] > 0
    assert report.counts["no_shows"] == kinds["no_show"] > 0 and report.counts["transfers"] == kinds["transferred"] > 0
    prefixes = {a.slug: a.prefix for a in config.load_sites()["cantho"].agencies}
    for agency, issued in numbers.items():
        assert sorted(issued) == [f"{prefixes[agency]}{n:03d}" for n in range(1, len(issued) + 1)], agency

    async with httpx.AsyncClient(base_url=server.base_url) as http:
        state = (await http.get("/api/v1/sites/cantho/state")).json()
        for tid, expected in status.items():
            ticket = (await http.get(f"/api/v1/sites/cantho/tickets/{tid}")).json()
            assert ticket["status"] == expected, tid
    assert {c["id"]: c["served"] for c in state["counters"] if c["served"]} == dict(completed)
    assert {c["id"]: c["agencies"] for c in state["counters"]} == {c.id: list(c.agencies) for c in layout.counters}
    assert set(status.values()) <= {"waiting", "called", "done", "no_show"}
    assert report.percentile("call-next", 0.5) is not None and report.percentile("issue", 0.99) is not None


class LoseFirstAnswer(httpx.AsyncHTTPTransport):
    """Delivers each request, but loses the answer of the first attempt of every path."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and request.url.path not in self.seen:
            self.seen.add(request.url.path)
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("answer lost", request=request)
        return response


async def test_retry_after_a_lost_answer_reuses_the_key(live):
    """A retried issue or call-next (same key) acts once: no number skipped, no ticket called twice."""
    client = ApiClient(live.base_url, "cantho", manager_token=live.token("manager"), transport=LoseFirstAnswer(),
                       backoff_s=0)
    try:
        first = await client.issue("so-noi-vu", None, key="k1")
        second = await client.issue("so-noi-vu", None, key="k2")
        called = await client.counter_action("13", "call-next", "c1")
        again = await client.counter_action("13", "call-next", "c2")
    finally:
        await client.aclose()
    assert (first.body["number"], second.body["number"]) == ("E001", "E002")
    assert (called.body["number"], again.body["number"]) == ("E001", "E002")
    assert client.report.retried == {"ReadError": 2} and client.report.errors == {}
    assert client.report.counts["issued"] == 2 and client.report.counts["called"] == 2


def test_simulate_command_prints_its_report(server, redis_server, monkeypatch, capsys):
    """`qserver simulate` without a token makes one in QSERVER_REDIS_URL and prints counts and latencies."""
    monkeypatch.setenv("QSERVER_REDIS_URL", redis_server.url)
    status = cli.main(["simulate", "--url", server.base_url, "--counters", "4", "--rate", "10",
                       "--duration", "3", "--seed", "2"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "4 counters (1, 3, 6, 9)" in out and "errors    none" in out
    issued = int(out.split("tickets   issued ")[1].split()[0])
    assert issued > 10
    assert "call-next" in out and "p99 ms" in out


def test_simulate_command_needs_a_reachable_server(monkeypatch, capsys, tmp_path):
    """With nothing listening, the command says so and exits 2 instead of printing an empty report."""
    from tests.support import free_port

    monkeypatch.setenv("QSERVER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QSERVER_REDIS_URL", raising=False)
    assert cli.main(["simulate", "--url", f"http://127.0.0.1:{free_port()}", "--duration", "1"]) == 2
    assert "--manager-token" in capsys.readouterr().err
    assert cli.main(["simulate", "--url", f"http://127.0.0.1:{free_port()}", "--duration", "1",
                     "--manager-token", "x"]) == 2
    assert "cannot read the layout" in capsys.readouterr().err


def test_config_of_a_load_run(layout):
    """--rate and --duration become a day compressed into the duration, on counters spread over agencies."""
    run = load_config(layout, counters=5, rate=4, duration_s=20, seed=9)
    assert run == SimulationConfig(counters=("1", "3", "6", "9", "12"), seed=9, expected=80,
                                   speed=layout.open_s / 20, days=1)
