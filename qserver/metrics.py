"""Prometheus metrics of one app: tickets issued/called, waiting per agency, websocket clients, latencies."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics"]


class Metrics:
    """A registry per app (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter("qserver_events_total", "Events read from the site streams", ["site", "type"],
                              registry=self.registry)
        self.waiting = Gauge("qserver_waiting", "Tickets waiting per agency", ["site", "agency"],
                             registry=self.registry)
        self.ws_clients = Gauge("qserver_ws_clients", "Open websocket clients", registry=self.registry)
        self.replication_unconfirmed = Counter(
            "qserver_replication_unconfirmed", "Writes answered before QSERVER_REDIS_WAIT_REPLICAS replicas "
            "confirmed them (within QSERVER_REDIS_WAIT_TIMEOUT_MS)", ["site", "operation"], registry=self.registry)
        self.webhooks = Counter("qserver_webhook_deliveries_total",
                                "Webhook delivery attempts by outcome (ok, retry, given_up) in this process",
                                ["site", "result"], registry=self.registry)
        self.webhook_failing = Gauge("qserver_webhook_failing", "1 while a site's webhook deliveries fail",
                                     ["site"], registry=self.registry)
        self.webhook_backlog = Gauge("qserver_webhook_backlog", "Events read but not yet delivered, per site",
                                     ["site"], registry=self.registry)
        self.worker_sites = Gauge("qserver_worker_sites", "Sites whose from-home worker lease this process holds",
                                  registry=self.registry)
        self.latency = Histogram("qserver_request_seconds", "Handling time of engine requests", ["operation"],
                                 buckets=(0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0),
                                 registry=self.registry)
        # The labelled children, looked up once: ``labels()`` checks and joins its values on every call,
        # which was most of what counting an event or timing a request cost.
        self._events: dict[tuple[str, str], Any] = {}
        self._waiting: dict[tuple[str, str], Any] = {}
        self._latency: dict[str, Any] = {}
        self.last_event_at = time.monotonic()

    def idle_s(self) -> float:
        """Seconds since the last event was read (the heap is swept when the city is quiet)."""
        return time.monotonic() - self.last_event_at

    def event(self, site: str, frame: dict[str, Any]) -> None:
        self.last_event_at = time.monotonic()
        kind = frame.get("type", "?")
        counter = self._events.get((site, kind))
        if counter is None:
            counter = self._events[(site, kind)] = self.events.labels(site, kind)
        counter.inc()
        if kind == "queue":
            for agency, count in frame.get("waiting", {}).items():
                gauge = self._waiting.get((site, agency))
                if gauge is None:
                    gauge = self._waiting[(site, agency)] = self.waiting.labels(site, agency)
                gauge.set(count)

    def unconfirmed(self, site: str, operation: str, _acknowledged: int) -> None:
        self.replication_unconfirmed.labels(site, operation).inc()

    def observe_request(self, operation: str, seconds: float) -> None:
        histogram = self._latency.get(operation)
        if histogram is None:
            histogram = self._latency[operation] = self.latency.labels(operation)
        histogram.observe(seconds)

    async def render(self, app: Any) -> tuple[bytes, str]:
        self.ws_clients.set(app.state.hub.client_count())
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
