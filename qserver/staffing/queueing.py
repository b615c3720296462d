"""The queueing model: Erlang C with a correction for non-exponential service, and lognormal helpers.

A queue of one agency (or of several agencies served by the same counters, first come first served) is
an M/G/c queue: Poisson arrivals at ``rate`` per second, ``servers`` counters, service times of mean
``mean_s`` and squared coefficient of variation ``cv2`` (1 for exponential; about 0.35 for the
lognormal service of a one-stop counter).

- Probability of waiting: Erlang C, C(c, a) with offered load ``a = rate * mean_s`` (exact for M/M/c,
  and a good approximation for M/G/c).
- Waiting time of those who wait: exponential with mean ``mean_s / (c - a)`` scaled by ``(1 + cv2) / 2``
  (the Allen–Cunneen / Kingman correction), so ``P(W > t) = C * exp(-(c - a) t / mean_s * 2 / (1 + cv2))``.
- Erlang B is computed by the recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, which never overflows
  (terms only shrink), and C from B: ``C = c B / (c - a (1 - B))``. Large counts (thousands of servers)
  are fine; an unstable queue (``a >= c``) has C = 1 and a service level of 0.
"""

from __future__ import annotations

import math

__all__ = [
    "erlang_b", "erlang_c", "service_level", "expected_wait_s", "servers_needed", "rider_level",
    "lognormal_params", "lognormal_cdf", "mean_capped", "mean_remaining",
]


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with ``load`` erlangs on ``servers`` servers."""
    if servers < 0 or load < 0:
        raise ValueError(f"servers ({servers}) and load ({load}) must be ≥ 0")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def _c_from_b(servers: int, load: float, b: float) -> float:
    if load >= servers:
        return 1.0
    return servers * b / (servers - load * (1.0 - b))


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c with ``load`` erlangs (1 when ``load >= servers``)."""
    if servers <= 0:
        return 1.0
    return _c_from_b(servers, load, erlang_b(servers, load))


def _level(servers: int, load: float, c: float, mean_s: float, wait_s: float, cv2: float) -> float:
    if load <= 0:
        return 1.0
    if servers <= 0 or load >= servers:
        return 0.0
    decay = (servers - load) * wait_s / mean_s * 2.0 / (1.0 + cv2)
    return 1.0 - c * math.exp(-decay)


def service_level(servers: int, rate: float, mean_s: float, wait_s: float, cv2: float = 1.0) -> float:
    """P(wait <= ``wait_s``) for M/G/c (see the module docstring)."""
    load = rate * mean_s
    return _level(servers, load, erlang_c(servers, load) if servers > 0 else 1.0, mean_s, wait_s, cv2)


def expected_wait_s(servers: int, rate: float, mean_s: float, cv2: float = 1.0) -> float:
    """Mean wait in seconds (``inf`` for an unstable queue)."""
    load = rate * mean_s
    if load <= 0:
        return 0.0
    if servers <= 0 or load >= servers:
        return math.inf
    return erlang_c(servers, load) * mean_s / (servers - load) * (1.0 + cv2) / 2.0


def servers_needed(rate: float, mean_s: float, wait_s: float, target: float, cv2: float = 1.0,
                   limit: int = 100_000) -> int:
    """The fewest servers with ``service_level >= target`` (0 when nobody comes); ``limit`` if none does."""
    if not 0 < target < 1:
        raise ValueError(f"target {target!r} must be a share between 0 and 1")
    load = rate * mean_s
    if load <= 0:
        return 0
    start = max(1, math.floor(load) + 1)
    b = erlang_b(start - 1, load)
    for servers in range(start, limit + 1):
        b = load * b / (servers + load * b)
        if _level(servers, load, _c_from_b(servers, load, b), mean_s, wait_s, cv2) >= target:
            return servers
    return limit


def rider_level(servers: int, rate: float, mean_s: float, wait_s: float, cv2: float, host_residual_s: float) -> float:
    """P(wait <= ``wait_s``) of a *rider*: an agency served by one counter of another agency's pool of
    ``servers`` (the pool's rate, mean and cv2 include both). Its ticket first waits like anyone in the
    pool (no wait with probability 1 - C, else exponential of rate ``theta``) and then, when that one
    counter is busy (probability = the pool's utilisation), for the rest of its service, taken as
    exponential with mean ``host_residual_s``. The sum of the two exponentials is hypoexponential."""
    load = rate * mean_s
    if load <= 0:
        return 1.0
    if servers <= 0 or load >= servers:
        return 0.0
    c = erlang_c(servers, load)
    theta = (servers - load) / mean_s * 2.0 / (1.0 + cv2)
    nu = 1.0 / max(host_residual_s, 1e-9)
    if abs(nu - theta) < 1e-12:
        both = (1 + theta * wait_s) * math.exp(-theta * wait_s)
    else:
        both = (nu * math.exp(-theta * wait_s) - theta * math.exp(-nu * wait_s)) / (nu - theta)
    free = 1.0 - c * math.exp(-theta * wait_s)
    busy = 1.0 - ((1 - c) * math.exp(-nu * wait_s) + c * both)
    utilisation = load / servers
    return (1 - utilisation) * free + utilisation * busy


# -- lognormal service times ----------------------------------------------------------------------
def lognormal_params(mean: float, cv2: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and squared coefficient of variation."""
    sigma2 = math.log1p(max(cv2, 0.0))
    return math.log(max(mean, 1e-9)) - sigma2 / 2, math.sqrt(sigma2)


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def lognormal_cdf(x: float, mu: float, sigma: float) -> float:
    if x <= 0:
        return 0.0
    if sigma <= 0:
        return 1.0 if math.log(x) >= mu else 0.0
    return _phi((math.log(x) - mu) / sigma)


def mean_capped(x: float, mu: float, sigma: float) -> float:
    """E[min(S, x)] for a lognormal S: the integral of the survival function from 0 to x."""
    if x <= 0:
        return 0.0
    mean = math.exp(mu + sigma * sigma / 2)
    if sigma <= 0:
        return min(mean, x)
    z = (math.log(x) - mu) / sigma
    return mean * _phi(z - sigma) + x * (1.0 - _phi(z))


def mean_remaining(elapsed: float, mu: float, sigma: float) -> float:
    """E[S - e | S > e]: the expected rest of a service already ``elapsed`` seconds long."""
    mean = math.exp(mu + sigma * sigma / 2)
    if elapsed <= 0:
        return mean
    survive = 1.0 - lognormal_cdf(elapsed, mu, sigma)
    if survive < 1e-9:
        return max(0.05 * mean, 30.0)  # far in the tail: it will end soon (someone forgot to press done)
    return (mean - mean_capped(elapsed, mu, sigma)) / survive
