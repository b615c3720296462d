"""The simulator's side of the public HTTP API: one pooled ``httpx.AsyncClient``, retries on connection
errors (and 503) that reuse the request's idempotency key, and a :class:`Report` of everything done:
counts, errors by code, and latency per operation."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["ApiClient", "Answer", "Report"]

logger = logging.getLogger(__name__)

#: What the report counts, in the order it prints them.
COUNTS = ("issued", "called", "served", "no_shows", "returned", "transfers", "recalls", "ratings", "pauses",
          "moves", "online", "booked", "checked_in")


@dataclass(frozen=True)
class Answer:
    """The final answer to one operation: ``status`` 0 when no HTTP answer came at all."""

    status: int
    body: Any = None
    code: str | None = None   # the error code of a 4xx/5xx body, or the transport error's name

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Report:
    """What a simulation did; latencies are kept per operation in seconds."""

    counts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)
    latencies: dict[str, array] = field(default_factory=dict)
    elapsed_s: float = 0.0
    simulated_s: float = 0.0

    def observe(self, operation: str, seconds: float) -> None:
        self.latencies.setdefault(operation, array("d")).append(seconds)

    def percentile(self, operation: str, q: float) -> float | None:
        """The nearest-rank ``q`` quantile (0..1) of an operation's latency, in seconds."""
        values = sorted(self.latencies.get(operation, ()))
        if not values:
            return None
        return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]

    def summary(self) -> dict[str, Any]:
        return {
            "counts": {name: self.counts.get(name, 0) for name in COUNTS},
            "errors": dict(sorted(self.errors.items())),
            "retried": dict(sorted(self.retried.items())),
            "latency_ms": {op: {"n": len(values), "p50": round(self.percentile(op, 0.5) * 1000, 2),
                                "p99": round(self.percentile(op, 0.99) * 1000, 2)}
                           for op, values in sorted(self.latencies.items())},
            "elapsed_s": round(self.elapsed_s, 2),
            "simulated_s": round(self.simulated_s),
        }

    def format(self) -> str:
        """The report as the ``qserver simulate`` command prints it."""
        summary = self.summary()
        counts = summary["counts"]
        lines = ["tickets   " + "  ".join(f"{name.replace('_', '-')} {counts[name]}" for name in COUNTS)]
        errors = summary["errors"]
        lines.append("errors    " + ("  ".join(f"{code} {n}" for code, n in errors.items()) if errors else "none"))
        if summary["retried"]:
            lines.append("retried   " + "  ".join(f"{code} {n}" for code, n in summary["retried"].items()))
        lines.append(f"latency   {'operation':<11} {'n':>7} {'p50 ms':>9} {'p99 ms':>9}")
        for op, row in summary["latency_ms"].items():
            lines.append(f"          {op:<11} {row['n']:>7} {row['p50']:>9.1f} {row['p99']:>9.1f}")
        issued = counts["issued"]
        rate = issued / self.elapsed_s if self.elapsed_s else 0.0
        lines.append(f"took      {self.elapsed_s:.1f} s real for {self.simulated_s / 3600:.1f} h simulated; "
                     f"{rate:.1f} tickets/s issued")
        return "\n".join(lines)


class ApiClient:
    """Operations of the public API, each timed and counted in ``report``.

    ``manager_token`` acts on counters and moves them; ``kiosk_token`` (the manager's when not given)
    issues tickets and sends ratings. Every write carries an idempotency key where the API takes one,
    and a retry after a connection error or a 503 sends the same key again: a lost answer never calls
    or issues twice.
    """

    def __init__(self, base_url: str, site: str, *, manager_token: str, kiosk_token: str | None = None,
                 report: Report | None = None, retries: int = 4, timeout_s: float = 10.0,
                 max_connections: int = 100, backoff_s: float = 0.05,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.site = site
        self.manager_token = manager_token
        self.kiosk_token = kiosk_token or manager_token
        self.report = report or Report()
        self.retries = retries
        self.backoff_s = backoff_s
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout_s, pool=None),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport)
        self.prefix = f"/api/v1/sites/{site}"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, operation: str, method: str, path: str, *, token: str | None = None,
                      json: Any = None) -> Answer:
        """One operation, retried with the same body (and so the same key) on transport errors and 503."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                response = await self.http.request(method, path, headers=headers, json=json)
            except httpx.TransportError as exc:
                name = type(exc).__name__
                if attempt < self.retries:
                    self.report.retried[name] += 1
                    attempt += 1
                    await asyncio.sleep(min(self.backoff_s * 2 ** attempt, 1.0))
                    continue
                self.report.errors[name] += 1
                logger.debug("%s %s failed: %r", method, path, exc)
                return Answer(0, None, name)
            self.report.observe(operation, time.perf_counter() - started)
            body = _json(response)
            if response.status_code < 400:
                return Answer(response.status_code, body)
            code = _error_code(response, body)
            if response.status_code == 503 and attempt < self.retries:
                self.report.retried[code] += 1
                attempt += 1
                await asyncio.sleep(min(self.backoff_s * 2 ** attempt, 1.0))
                continue
            if attempt and operation == "rating" and code == "already_rated":
                return Answer(200, body)  # the first attempt landed; its answer was lost
            self.report.errors[code] += 1
            return Answer(response.status_code, body, code)

    # -- reads ------------------------------------------------------------------------------------
    async def layout(self) -> Answer:
        return await self.request("layout", "GET", self.prefix)

    async def state(self) -> Answer:
        return await self.request("state", "GET", self.prefix + "/state")

    # -- kiosk ------------------------------------------------------------------------------------
    async def issue(self, agency: str, priority: str | None, key: str) -> Answer:
        body = {"agency": agency, "priority": priority, "key": key}
        answer = await self.request("issue", "POST", self.prefix + "/tickets", token=self.kiosk_token, json=body)
        if answer.ok:
            self.report.counts["issued"] += 1
        return answer

    async def rate(self, ticket_id: str, score: int) -> Answer:
        answer = await self.request("rating", "POST", f"{self.prefix}/tickets/{ticket_id}/rating",
                                    token=self.kiosk_token, json={"score": score})
        if answer.ok:
            self.report.counts["ratings"] += 1
        return answer

    # -- from home: a phone taking a number, booking, the kiosk checking the booking in ------------
    async def online_issue(self, agency: str, cccd: str, phone: str, key: str) -> Answer:
        body = {"agency": agency, "cccd": cccd, "phone": phone, "key": key}
        answer = await self.request("online", "POST", self.prefix + "/online-tickets", json=body)
        if answer.ok:
            self.report.counts["issued"] += 1
            self.report.counts["online"] += 1
        return answer

    async def appointment_options(self) -> Answer:
        return await self.request("appointments", "GET", self.prefix + "/appointments")

    async def slots(self, agency: str, day: str) -> Answer:
        return await self.request("slots", "GET", f"{self.prefix}/slots?agency={agency}&date={day}")

    async def book(self, agency: str, day: str, time: str, cccd: str, phone: str, key: str) -> Answer:
        body = {"agency": agency, "date": day, "time": time, "cccd": cccd, "phone": phone, "key": key}
        answer = await self.request("book", "POST", self.prefix + "/bookings", json=body)
        if answer.ok:
            self.report.counts["booked"] += 1
        return answer

    async def check_in(self, code: str, key: str) -> Answer:
        answer = await self.request("check-in", "POST", self.prefix + "/check-in", token=self.kiosk_token,
                                    json={"code": code, "key": key})
        if answer.ok:
            self.report.counts["issued"] += 1
            self.report.counts["checked_in"] += 1
        return answer

    # -- officers ---------------------------------------------------------------------------------
    async def counter_action(self, counter: str, action: str, key: str, **fields: Any) -> Answer:
        """call-next, recall, no-show, complete, transfer, pause, resume on one counter."""
        answer = await self.request(action, "POST", f"{self.prefix}/counters/{counter}/{action}",
                                    token=self.manager_token, json={"key": key, **fields})
        if answer.ok:
            name = {"call-next": "called", "complete": "served", "no-show": "no_shows", "transfer": "transfers",
                    "recall": "recalls", "pause": "pauses"}.get(action)
            if name and answer.status != 204:
                self.report.counts[name] += 1
            if action == "no-show" and isinstance(answer.body, dict) and answer.body.get("status") == "waiting":
                self.report.counts["returned"] += 1
        return answer

    # -- manager ----------------------------------------------------------------------------------
    async def reassign(self, counter: str, agencies: list[str]) -> Answer:
        answer = await self.request("reassign", "PUT", f"{self.prefix}/counters/{counter}/agencies",
                                    token=self.manager_token, json={"agencies": agencies})
        if answer.ok:
            self.report.counts["moves"] += 1
        return answer


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(response: httpx.Response, body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("code"):
        return str(body["error"]["code"])
    return f"http_{response.status_code}"
