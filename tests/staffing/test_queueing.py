"""The queueing model: Erlang B/C against textbook values and exact sums, stable for large counts, and the
M/G/c service level against the package's own simulator."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from qserver.staffing import queueing as q
from qserver.staffing.simulate import ServiceModel, SimTicket, run_day


def exact_erlang_c(servers: int, load: Fraction) -> Fraction:
    """The textbook sum, in exact rationals."""
    head = sum(load ** k / math.factorial(k) for k in range(servers))
    tail = load ** servers / math.factorial(servers) * servers / (servers - load)
    return tail / (head + tail)


def test_textbook_values():
    """B(3, 2) = 4/19 and C(3, 2) = 4/9; M/M/1 waits with probability ρ, M/M/2 with a²/(2 + a)."""
    assert q.erlang_b(3, 2.0) == pytest.approx(4 / 19, rel=1e-12)
    assert q.erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    assert q.erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)
    for load in (0.1, 0.5, 0.93):
        assert q.erlang_c(1, load) == pytest.approx(load, rel=1e-12)
    for load in (0.4, 1.0, 1.7):
        assert q.erlang_c(2, load) == pytest.approx(load ** 2 / (2 + load), rel=1e-12)


@pytest.mark.parametrize("servers, load", [(1, "1/3"), (4, "7/2"), (12, "10"), (25, "49/2"), (40, "30")])
def test_erlang_c_equals_the_exact_sum(servers, load):
    """The recursion gives the exact textbook sum to 1e-12."""
    assert q.erlang_c(servers, float(Fraction(load))) == pytest.approx(float(exact_erlang_c(servers, Fraction(load))),
                                                                       rel=1e-12)


def test_mm1_mean_wait_and_service_level():
    """M/M/1: Wq = ρ/(μ − λ); P(W ≤ t) = 1 − ρ e^{−(μ − λ) t}."""
    rate, mean = 1 / 400, 300.0
    rho, mu = rate * mean, 1 / mean
    assert q.expected_wait_s(1, rate, mean) == pytest.approx(rho / (mu - rate), rel=1e-12)
    assert q.service_level(1, rate, mean, 600) == pytest.approx(1 - rho * math.exp(-(mu - rate) * 600), rel=1e-12)


def test_large_counts_do_not_overflow():
    """Thousands of servers: finite, and equal to a log-space evaluation of the same sum."""
    servers, load = 3000, 2950.0
    logs = [k * math.log(load) - math.lgamma(k + 1) for k in range(servers)]
    log_tail = servers * math.log(load) - math.lgamma(servers + 1) + math.log(servers / (servers - load))
    top = max(*logs, log_tail)
    head = sum(math.exp(v - top) for v in logs)
    tail = math.exp(log_tail - top)
    assert q.erlang_c(servers, load) == pytest.approx(tail / (head + tail), rel=1e-9)
    assert 0 < q.erlang_b(10_000, 1.0) < 1e-300 or q.erlang_b(10_000, 1.0) == 0.0
    assert q.servers_needed(2950 / 600, 600, 20, 0.8) > 2950


def test_unstable_and_empty_queues():
    """No load: everyone within target and no counter needed; load ≥ servers: level 0, infinite wait."""
    assert q.service_level(0, 0.0, 300, 900) == 1.0 and q.servers_needed(0.0, 300, 900, 0.8) == 0
    assert q.service_level(2, 2 / 300, 300, 900) == 0.0 and q.expected_wait_s(2, 3 / 300, 300) == math.inf
    with pytest.raises(ValueError, match="1.5"):
        q.servers_needed(0.01, 300, 900, 1.5)


def test_servers_needed_is_the_fewest():
    """The answer meets the target and one counter fewer does not."""
    for rate, mean, cv2 in ((0.004, 600, 0.35), (0.02, 480, 1.0), (0.0005, 840, 0.35), (0.1, 300, 0.2)):
        n = q.servers_needed(rate, mean, 900, 0.8, cv2)
        assert q.service_level(n, rate, mean, 900, cv2) >= 0.8
        assert n == 1 or q.service_level(n - 1, rate, mean, 900, cv2) < 0.8


def test_lognormal_helpers_match_numeric_integrals():
    """E[min(S, x)] and the expected rest of a service against a fine numeric integral of the survival."""
    mu, sigma = q.lognormal_params(600, 0.35)
    assert math.exp(mu + sigma ** 2 / 2) == pytest.approx(600)
    step = 0.5
    grid = [i * step for i in range(1, 40_000)]
    survival = [1 - q.lognormal_cdf(x, mu, sigma) for x in grid]
    capped = sum(s for x, s in zip(grid, survival) if x <= 900) * step
    assert q.mean_capped(900, mu, sigma) == pytest.approx(capped, rel=2e-3)
    rest = sum(s for x, s in zip(grid, survival) if x > 400) * step / (1 - q.lognormal_cdf(400, mu, sigma))
    assert q.mean_remaining(400, mu, sigma) == pytest.approx(rest, rel=5e-3)


@pytest.mark.parametrize("servers, load", [(1, 0.5), (3, 2.2), (8, 6.5)])
def test_model_agrees_with_the_simulator(servers, load):
    """Long stationary runs of the package's simulator: lognormal service, service level within 0.025."""
    mean, target = 600.0, 900
    model = ServiceModel(mean, 0.55, 0.05, 110.0)
    rate = load / model.effective_mean_s
    rng, at, tickets = random.Random(7), 0.0, []
    while at < 4e6:
        at += rng.expovariate(rate)
        service, no_show = model.draw(rng)
        tickets.append(SimTicket("x", at, service, no_show))
    run_day(tickets, [(0.0, {str(i): ("x",) for i in range(servers)})], stop_s=1e12)
    waits = [t.wait_s for t in tickets[500:]]
    simulated = sum(1 for w in waits if w <= target) / len(waits)
    predicted = q.service_level(servers, rate, model.effective_mean_s, target, model.effective_cv2)
    assert predicted == pytest.approx(simulated, abs=0.025)
    assert predicted <= simulated + 0.01, "the correction errs on the safe side"


def test_a_rider_waits_longer_than_the_pool():
    """A rider also waits for its one counter: its level is below the pool's, and equal with no residual."""
    rate, mean, cv2 = 3 / 600, 600.0, 0.35
    pool = q.service_level(4, rate, mean, 900, cv2)
    assert q.rider_level(4, rate, mean, 900, cv2, 400.0) < pool
    assert q.rider_level(4, rate, mean, 900, cv2, 1e-6) == pytest.approx(pool, abs=1e-6)
