"""The from-home worker of a process: per site a lease in Redis, and for the sites it holds, the booking
sweeps (no-shows at the end of their grace, reminders), the marking of near turns, and the webhooks.

Why a lease per site rather than a Redis consumer group: order. A consumer group hands the events of one
stream to several consumers, so a ticket's ticket-near could leave one process after its ticket-called
left another. One holder per site delivers that site's events one after the other, in stream order, so
every ticket's and booking's messages arrive in order; any number of ``qserver run`` processes may run a
worker, and when the holder dies another takes the site over once the lease expires (three
``worker_interval_s``). At least once: the holder stores a cursor (the last event handled) after each
event; a new holder resumes after it, so an event whose delivery was not yet recorded is sent again,
with the same ``id`` for the receiver to drop.

Reading is bounded like the hub's: one blocking ``XREAD`` names every delivering site's stream; each site
has its own queue and delivery task, so a gateway that fails for one site (retried with backoff up to
``give_up_after_s``) holds up that site only. Nothing here runs on a request: a call-next never waits for
a webhook.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis

from ..engine import SiteEngine, read_streams
from ..exceptions import NotFound
from ..settings import Settings
from .payloads import build_payload, lookup_of, near_agencies, webhook_kind
from .signing import SIGNATURE_HEADER, sign

__all__ = ["HomeWorker", "Hook"]

logger = logging.getLogger(__name__)

#: Events read ahead of delivery per site (reading pauses for a site above this).
QUEUE_HIGH = 200
USER_AGENT = "qserver-webhook/1"


@dataclass(frozen=True)
class Hook:
    url: str
    secret: str
    events: tuple[str, ...]
    give_up_after_s: float


class LeaseLost(Exception):
    """The site's lease went to another process while delivering (it resumes from the cursor)."""


class HomeWorker:
    """Start with :meth:`start` (the app's lifespan does), stop with :meth:`stop`; :meth:`tick` is one
    round of leases, settings and sweeps (tests call it directly)."""

    def __init__(self, redis: Redis, engines: dict[str, SiteEngine], settings: Settings, metrics: Any = None, *,
                 owner: str | None = None, transport: httpx.AsyncBaseTransport | None = None):
        self.redis, self.engines, self.settings, self.metrics = redis, engines, settings, metrics
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.owned: set[str] = set()
        self.hooks: dict[str, Hook] = {}
        self.positions: dict[str, str] = {}
        self.generation: dict[str, int] = {}
        self.queues: dict[str, asyncio.Queue] = {}
        self.deliverers: dict[str, asyncio.Task] = {}
        self.http = httpx.AsyncClient(timeout=settings.webhook_timeout_s, transport=transport,
                                      headers={"User-Agent": USER_AGENT})
        self._tasks: list[asyncio.Task] = []
        self._wake = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._manage_forever(), name="home-worker"),
                       asyncio.create_task(self._read_forever(), name="home-worker-reader")]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self.deliverers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=2.0) if tasks else None
        self._tasks.clear()
        self.deliverers.clear()
        for slug in list(self.owned):
            try:
                await asyncio.wait_for(self.engines[slug].release_lease(self.owner), 1.0)
            except Exception:  # Redis gone on the way out: the lease expires by itself
                pass
        self.owned.clear()
        await self.http.aclose()

    async def _manage_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down or restarting: keep trying, never die
                logger.warning("from-home worker: %s; retrying", exc)
            await asyncio.sleep(self.settings.worker_interval_s)

    # -- one round --------------------------------------------------------------------------------
    async def _hook_of(self, engine: SiteEngine) -> Hook | None:
        stored = await engine.stored_webhook()
        config = engine.site.webhook
        if stored.get("url"):
            try:
                events = tuple(json.loads(stored.get("events") or "[]")) or config.events
            except ValueError:
                events = config.events
            return Hook(stored["url"], stored.get("secret", ""), events, config.give_up_after_s)
        if config.url:
            return Hook(config.url, config.secret, config.events, config.give_up_after_s)
        return None

    async def tick(self) -> None:
        """Take or keep the lease of every site with work (bookings to sweep, a webhook), give up the
        others, re-read webhook settings, sweep the bookings of the sites held."""
        ttl_ms = max(1000, int(self.settings.worker_interval_s * 3000))
        for slug, engine in self.engines.items():
            hook = await self._hook_of(engine)
            if hook is None and not engine.site.appointments.enabled:
                if slug in self.owned:
                    self._lose(slug)
                    await engine.release_lease(self.owner)
                continue
            if not await engine.take_lease(self.owner, ttl_ms):
                if slug in self.owned:
                    logger.info("site %s: its worker lease went to another process", slug)
                    self._lose(slug)
                continue
            if slug not in self.owned:
                logger.info("site %s: this process now sweeps bookings and delivers webhooks", slug)
                self.owned.add(slug)
            self.hooks[slug] = hook
            if hook is not None and slug not in self.deliverers:
                await self._start_delivering(slug)
            elif hook is None and slug in self.deliverers:
                self._stop_delivering(slug)
            if engine.site.appointments.enabled:
                await engine.remind_bookings()
                await engine.expire_bookings()
                await engine.forget_old_bookings()
        if self.metrics is not None:
            self.metrics.worker_sites.set(len(self.owned))

    def _lose(self, slug: str) -> None:
        self.owned.discard(slug)
        self.hooks.pop(slug, None)
        self._stop_delivering(slug)

    async def _start_delivering(self, slug: str) -> None:
        engine = self.engines[slug]
        cursor = await engine.webhook_cursor()
        if cursor is None:  # first delivery for this site: from now on, not the whole history
            cursor = await engine.last_event_id()
            await engine.save_webhook_cursor(cursor)
        self.generation[slug] = self.generation.get(slug, 0) + 1
        self.positions[slug] = cursor
        self.queues[slug] = asyncio.Queue()
        self.deliverers[slug] = asyncio.create_task(self._deliver_forever(slug), name=f"webhooks-{slug}")
        self._wake.set()

    def _stop_delivering(self, slug: str) -> None:
        task = self.deliverers.pop(slug, None)
        if task is not None:
            task.cancel()
        self.positions.pop(slug, None)
        self.queues.pop(slug, None)
        self.generation[slug] = self.generation.get(slug, 0) + 1

    # -- reading ----------------------------------------------------------------------------------
    async def _read_forever(self) -> None:
        delay = 0.2
        while True:
            ready = {slug: position for slug, position in self.positions.items()
                     if self.queues[slug].qsize() < QUEUE_HIGH}
            if not ready:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 0.5)
                except asyncio.TimeoutError:
                    pass
                continue
            generations = {slug: self.generation.get(slug) for slug in ready}
            try:
                batches = await read_streams(self.redis, ready, block_ms=1000, count=100)
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("webhook reader: %s; retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            for slug, entries in batches:
                if self.generation.get(slug) != generations.get(slug) or slug not in self.queues:
                    continue  # stopped or restarted meanwhile: it reads again from its cursor
                for entry in entries:
                    self.queues[slug].put_nowait(entry)
                self.positions[slug] = entries[-1][0]
                self._backlog(slug)

    def _backlog(self, slug: str) -> None:
        if self.metrics is not None and slug in self.queues:
            self.metrics.webhook_backlog.labels(slug).set(self.queues[slug].qsize())

    # -- delivering -------------------------------------------------------------------------------
    async def _deliver_forever(self, slug: str) -> None:
        engine, queue = self.engines[slug], self.queues[slug]
        while True:
            event_id, raw = await queue.get()
            delay = 0.5
            while True:
                try:
                    await self._handle(slug, engine, event_id, raw)
                    await engine.save_webhook_cursor(event_id)
                    break
                except asyncio.CancelledError:
                    raise
                except LeaseLost:
                    return
                except Exception as exc:  # Redis unreachable: the same event again, later
                    logger.warning("site %s: handling event %s failed (%s); retrying", slug, event_id, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
            self._backlog(slug)

    async def _handle(self, slug: str, engine: SiteEngine, event_id: str, raw: bytes) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            logger.warning("site %s: skipping undecodable event %s", slug, event_id)
            return
        hook = self.hooks.get(slug)
        if hook is None:
            return
        site = engine.site
        if "ticket-near" in hook.events:
            for agency in sorted(near_agencies(event)):
                if agency in site.agency_by_slug:
                    await engine.mark_near(agency, site.online.near_ahead)
        kind = webhook_kind(event)
        if kind is None or (kind != "test" and kind not in hook.events):
            return
        phone, booking = None, None
        lookup = lookup_of(event)
        if lookup is not None and lookup[0] == "ticket":
            phone = await engine.contact(lookup[1], lookup[2])
            if phone is None:
                return  # a kiosk ticket: nobody to send to
        elif lookup is not None:
            try:
                booking = await engine.booking(lookup[1])
            except NotFound:
                return
            phone = await engine.contact(f"b:{booking['id']}", booking["day"])
            if phone is None:
                return
        body = build_payload(site, kind, event_id, event, phone=phone, booking=booking,
                             base_url=self.settings.public_url)
        await self._send(slug, engine, hook, body)

    async def _send(self, slug: str, engine: SiteEngine, hook: Hook, body: dict[str, Any]) -> None:
        """POST until a 2xx, with backoff; after ``give_up_after_s`` the delivery is recorded as given up."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        started, first_ms, attempt = time.monotonic(), engine.now_ms(), 0
        while True:
            if slug not in self.owned:
                raise LeaseLost(slug)
            headers = {"Content-Type": "application/json; charset=utf-8", "X-QServer-Event": body["type"],
                       "X-QServer-Delivery": body["id"], SIGNATURE_HEADER: sign(hook.secret, data, int(time.time()))}
            try:
                response = await self.http.post(hook.url, content=data, headers=headers)
                ok, error = 200 <= response.status_code < 300, f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
            attempt += 1
            if ok:
                self._count(slug, "ok", failing=False)
                await engine.note_webhook(delivered=1, ok_at=engine.now_ms())
                return
            self._count(slug, "retry", failing=True)
            await engine.note_webhook(error=f"{body['type']} {body['id']}: {error}", failing_since=first_ms)
            spent = time.monotonic() - started
            if spent >= hook.give_up_after_s:
                logger.warning("site %s: giving up %s after %d attempts (%s)", slug, body["id"], attempt, error)
                self._count(slug, "given_up", failing=True)
                await engine.note_webhook(given_up=1, dead={"id": body["id"], "type": body["type"], "error": error,
                                                            "attempts": attempt, "at": engine.now_ms()})
                return
            delay = min(self.settings.webhook_backoff_max_s, self.settings.webhook_backoff_s * 2 ** (attempt - 1))
            delay *= 0.8 + 0.4 * random.random()
            await asyncio.sleep(max(0.0, min(delay, hook.give_up_after_s - spent)))

    def _count(self, slug: str, result: str, *, failing: bool) -> None:
        if self.metrics is not None:
            self.metrics.webhooks.labels(slug, result).inc()
            self.metrics.webhook_failing.labels(slug).set(1 if failing else 0)
