"""A chaos run against real processes: kiosks and officers over HTTP, hall and counter displays over
websockets, while the ``qserver run`` server is killed (-9) and restarted and Redis is restarted from
its append-only file; then the invariants. ``tests/qserver/test_chaos.py`` runs it for ~20 s,
``bench/chaos.py`` for minutes.

The load acts like the real pages and pads: every write carries an idempotency key and is retried with
the same key after a connection error, a 503 or a 429 (after its ``Retry-After``). Displays resume with
``since`` like ``displays/static/qs.js`` (the last event id of any frame, a heartbeat's ``up_to``) or
through :class:`qserver.protocol.client.Link` (the pads' and announcers' link); they are cut at random,
cleanly or by dropping the TCP connection.

The invariants (:meth:`Chaos.check`): every acknowledged ticket is in Redis and done after the drain;
no ticket called twice (a recall aside); no number given twice; every display received every event of
its topics after its first frame, once; a resume is answered by a snapshot only when its events are gone.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis as sync_redis
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, WebSocketException

import config
from qserver.engine import SiteKeys
from qserver.present import present_event
from qserver.protocol import SUBPROTOCOL_JSON, next_since, parse_stream_id, topics_for_event
from qserver.protocol.client import Link

from . import TIMEOUT

SITE = "cantho"
PREFIX = f"/api/v1/sites/{SITE}"
#: The agencies the kiosks issue for, and the counters whose officers call them.
BUSY_AGENCIES = ("so-noi-vu", "so-tu-phap", "so-giao-thong-van-tai", "so-ngoai-vu")
OFFICER_COUNTERS = ("12", "13", "6", "32", "33", "34")
#: (name, topics, client): hall displays of both floors, busy and quiet agencies, busy and quiet counters.
DISPLAYS = (
    ("floor-0", ("floor:0",), "qs"), ("floor-1", ("floor:1",), "qs"), ("floor-1-pad", ("floor:1",), "link"),
    ("noi-vu", ("agency:so-noi-vu",), "qs"), ("tu-phap", ("agency:so-tu-phap",), "qs"),
    ("y-te", ("agency:so-y-te",), "qs"),                 # no ticket: a quiet display
    ("counter-12", ("counter:12",), "link"), ("counter-33", ("counter:33",), "qs"),
    ("counter-9", ("counter:9",), "link"),              # a quiet counter
    ("both-floors", ("floor:0", "floor:1"), "qs"), ("site", ("site",), "qs"),
    ("counter-32", ("counter:32", "agency:so-ngoai-vu"), "link"),
)


@dataclass
class Plan:
    seconds: float = 20.0
    kiosks: int = 3
    kiosk_pause_s: tuple[float, float] = (0.05, 0.3)
    officer_pause_s: tuple[float, float] = (0.1, 0.6)
    server_kills: int = 1
    redis_restarts: int = 1
    #: server killed while Redis is down, Redis back while the new server waits for it
    combined_faults: int = 1
    displays: int = len(DISPLAYS)          # more than DISPLAYS repeats them
    connection_s: tuple[float, float] = (0.3, 3.0)   # how long a display keeps one connection
    seed: int = 0


@dataclass
class Report:
    tickets: int = 0
    lost: list[str] = field(default_factory=list)
    not_final: list[str] = field(default_factory=list)
    called_twice: list[str] = field(default_factory=list)
    duplicate_numbers: list[str] = field(default_factory=list)
    displays: int = 0
    connections: int = 0
    events: int = 0
    missed: dict[str, list[str]] = field(default_factory=dict)          # display → event ids never received
    duplicates: dict[str, list[str]] = field(default_factory=dict)      # display → event ids received twice
    replays: int = 0
    snapshots: int = 0                                                  # resumes answered by a snapshot
    #: (display, since, snapshot id, events of the site in between)
    needless_snapshots: list[tuple[str, str, str, int]] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def missed_count(self) -> int:
        return sum(len(ids) for ids in self.missed.values())

    def problems(self) -> list[str]:
        """Every broken invariant, as sentences (empty when the run was clean)."""
        out = []
        if self.lost:
            out.append(f"{len(self.lost)} acknowledged tickets lost: {self.lost[:5]}")
        if self.not_final:
            out.append(f"{len(self.not_final)} tickets not done after the drain: {self.not_final[:5]}")
        if self.called_twice:
            out.append(f"{len(self.called_twice)} tickets called twice: {self.called_twice[:5]}")
        if self.duplicate_numbers:
            out.append(f"numbers given twice: {self.duplicate_numbers[:5]}")
        for name, ids in self.missed.items():
            out.append(f"display {name} missed {len(ids)} events of its topics: {ids[:5]}")
        for name, ids in self.duplicates.items():
            out.append(f"display {name} received {len(ids)} events twice: {ids[:5]}")
        for name, since, snapshot, between in self.needless_snapshots[:10]:
            out.append(f"display {name} resumed since {since} got a snapshot ({snapshot}, {between} events "
                       "later) though the events were kept")
        return out

    def format(self) -> str:
        return "\n".join([
            f"tickets {self.tickets}  lost {len(self.lost)}  not done {len(self.not_final)}  "
            f"called twice {len(self.called_twice)}  duplicate numbers {len(self.duplicate_numbers)}",
            f"displays {self.displays}  connections {self.connections}  events delivered {self.events}  "
            f"missed {self.missed_count}  received twice {sum(len(v) for v in self.duplicates.values())}",
            f"resumes: replays {self.replays}  snapshots {self.snapshots} "
            f"(needless {len(self.needless_snapshots)})",
            "faults  " + "  ".join(f"{k} {v}" for k, v in sorted(self.faults.items())),
            "retried " + ("  ".join(f"{k} {v}" for k, v in sorted(self.retried.items())) or "nothing"),
            f"took {self.seconds:.1f} s",
        ])


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if parse_stream_id(a) >= parse_stream_id(b) else b


class Display:
    """One display's view of the run: what each connection started with, every event id received."""

    def __init__(self, name: str, topics: tuple[str, ...]):
        self.name, self.topics = name, frozenset(topics)
        self.first_id: str | None = None         # the first snapshot's event id: events after it are owed
        self.received: list[str] = []
        self.newest: str | None = None           # newest event id seen (events and snapshots)
        self.resumes: list[tuple[str, str, str | None]] = []   # (since, "snapshot"|"replay", snapshot id)
        self.connections = 0
        self.connected = False
        self._opened_with: str | None | bool = False   # False: no connection waits for its first frame

    def opened(self, since: str | None) -> None:
        self.connections += 1
        self._opened_with = since

    def frame(self, frame: dict[str, Any]) -> None:
        kind, event_id = frame.get("type"), frame.get("event_id")
        if kind in ("heartbeat", "result", "pong"):
            return
        if self._opened_with is not False:
            since, self._opened_with = self._opened_with, False
            if since is None:
                if kind != "snapshot":
                    raise AssertionError(f"{self.name}: a first connection began with {kind}")
                self.first_id = self.first_id or event_id
            else:
                self.resumes.append((since, "snapshot" if kind == "snapshot" else "replay", event_id))
        if kind != "snapshot" and event_id:
            self.received.append(event_id)
        if event_id:
            self.newest = _later(self.newest, event_id)


class QsDisplay(Display):
    """A display that speaks like ``qs.js``: JSON frames, ``since`` from every event and snapshot, and
    from a heartbeat's ``up_to`` when it is later."""

    def __init__(self, name: str, topics, ws_url: str, rng: random.Random, plan: Plan):
        super().__init__(name, topics)
        self.ws_url, self.rng, self.plan = ws_url, rng, plan
        self.last: str | None = None

    def url(self) -> str:
        since = f"&since={self.last}" if self.last else ""
        return f"{self.ws_url}?site={SITE}&topics={','.join(sorted(self.topics))}{since}&device={self.name}"

    async def run(self, calm: asyncio.Event) -> None:
        failures = 0
        while True:
            try:
                async with connect(self.url(), subprotocols=[SUBPROTOCOL_JSON], open_timeout=TIMEOUT,
                                   ping_interval=None, max_size=2**22) as ws:
                    self.opened(self.last)
                    self.connected, failures = True, 0
                    lifetime = self.rng.uniform(*self.plan.connection_s)
                    deadline = time.monotonic() + lifetime
                    while calm.is_set() or time.monotonic() < deadline:
                        timeout = None if calm.is_set() else max(0.0, deadline - time.monotonic())
                        try:
                            data = await asyncio.wait_for(ws.recv(), timeout)
                        except asyncio.TimeoutError:
                            break
                        frame = json.loads(data)
                        self.frame(frame)
                        self.last = next_since(self.last, frame)   # what qs.js does (QS.nextSince)
                    self.connected = False
                    if self.rng.random() < 0.5:
                        ws.transport.abort()     # the network drops: no close frame
                    else:
                        await ws.close()
            except (OSError, WebSocketException, InvalidHandshake, asyncio.TimeoutError):
                failures += 1                   # the server is down or restarting, or the socket was cut
            self.connected = False
            await asyncio.sleep(min(1.0, 0.05 * 1.8 ** failures) * self.rng.uniform(0.7, 1.0))


class LinkDisplay(Display):
    """A device on :class:`Link` (msgpack, its own ``since``), its socket dropped at random."""

    def __init__(self, name: str, topics, base_url: str, rng: random.Random, plan: Plan):
        super().__init__(name, topics)
        self.rng, self.plan = rng, plan
        self.link = Link(base_url, site=SITE, topics=sorted(self.topics), device=name,
                         backoff=lambda: (min(1.0, 0.05 * 1.8 ** n) for n in range(10**9)),
                         on_state=self._state, open_timeout_s=TIMEOUT)

    def _state(self, up: bool) -> None:
        self.connected = up
        if up:
            self.opened(self.link.last_event_id)

    async def _frame(self, frame: dict[str, Any]) -> None:
        self.frame(frame)

    async def run(self, calm: asyncio.Event) -> None:
        runner = asyncio.create_task(self.link.run(self._frame))
        try:
            while True:
                await asyncio.sleep(self.rng.uniform(*self.plan.connection_s))
                ws = self.link._ws
                if ws is not None and not calm.is_set():
                    ws.transport.abort()
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)


class Chaos:
    """Runs the load, the faults and the displays against ``server`` (a ServerProcess) and ``redis``
    (a RedisServer), then checks the invariants."""

    def __init__(self, server, redis_server, plan: Plan):
        self.server, self.redis_server, self.plan = server, redis_server, plan
        self.rng = random.Random(plan.seed)
        self.site = config.load_sites()[SITE]
        self.report = Report()
        self.acked: dict[str, str] = {}                       # ticket id → number
        self.calls: dict[str, set[str]] = defaultdict(set)    # ticket id → keys of the call-nexts that got it
        self.stop = asyncio.Event()
        self.calm = asyncio.Event()
        self.displays: list[Display] = []

    # -- HTTP like the pages and pads ------------------------------------------------------------
    async def request(self, http: httpx.AsyncClient, method: str, path: str, token: str,
                      body: dict[str, Any], give_up_at: float) -> httpx.Response | None:
        """Send until an answer that is not 503/429 comes, with the same body (and key); None when
        ``give_up_at`` passes first."""
        delay = 0.05
        while time.monotonic() < give_up_at:
            try:
                response = await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError as exc:
                self.report.retried[type(exc).__name__] += 1
            else:
                if response.status_code not in (429, 503):
                    return response
                self.report.retried[str(response.status_code)] += 1
                if response.status_code == 429:
                    delay = float(response.headers.get("retry-after", "1"))
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2) if delay < 1.0 else delay
        return None

    async def kiosk(self, http: httpx.AsyncClient, token: str) -> None:
        while not self.stop.is_set():
            key = uuid.uuid4().hex
            body = {"agency": self.rng.choice(BUSY_AGENCIES), "key": key}
            answer = await self.request(http, "POST", f"{PREFIX}/tickets", token, body, time.monotonic() + 30 * TIMEOUT)
            if answer is not None and answer.status_code == 201:
                ticket = answer.json()
                self.acked[ticket["id"]] = ticket["number"]
            elif answer is not None:
                raise AssertionError(f"issue answered {answer.status_code}: {answer.text}")
            await asyncio.sleep(self.rng.uniform(*self.plan.kiosk_pause_s))

    async def officer(self, http: httpx.AsyncClient, token: str, counter: str, drain: bool = False) -> None:
        """call-next (and now and then a recall or an explicit complete) until stopped; with ``drain``
        until nothing waits, then complete the current ticket."""
        while drain or not self.stop.is_set():
            key = uuid.uuid4().hex
            action = "call-next"
            if not drain:
                action = self.rng.choices(["call-next", "recall", "complete"], [8, 1, 1])[0]
            answer = await self.request(http, "POST", f"{PREFIX}/counters/{counter}/{action}", token, {"key": key},
                                        time.monotonic() + 30 * TIMEOUT)
            if answer is None:
                if drain:
                    raise AssertionError(f"{action} on {counter} got no answer while draining")
                continue
            if action == "call-next" and answer.status_code == 200:
                self.calls[answer.json()["id"]].add(key)
            elif answer.status_code == 204 and drain:
                break
            elif answer.status_code not in (200, 204, 409):
                raise AssertionError(f"{action} on {counter} answered {answer.status_code}: {answer.text}")
            if not drain:
                await asyncio.sleep(self.rng.uniform(*self.plan.officer_pause_s))
        if drain:
            await self.request(http, "POST", f"{PREFIX}/counters/{counter}/complete", token,
                               {"key": uuid.uuid4().hex}, time.monotonic() + 30 * TIMEOUT)

    # -- faults -------------------------------------------------------------------------------------
    async def faults(self) -> None:
        kinds = (["kill"] * self.plan.server_kills + ["redis"] * self.plan.redis_restarts
                 + ["both"] * self.plan.combined_faults)
        self.rng.shuffle(kinds)
        step = self.plan.seconds / (len(kinds) + 1)
        started = time.monotonic()
        for n, kind in enumerate(kinds, 1):
            await asyncio.sleep(max(0.0, started + n * step - time.monotonic()))
            if kind == "kill":
                self.server.kill()
                await asyncio.to_thread(self.server.start)
            elif kind == "redis":
                await asyncio.to_thread(self.redis_server.restart)
            else:
                await asyncio.to_thread(self.redis_server.stop)
                self.server.kill()
                starting = asyncio.create_task(asyncio.to_thread(self.server.start))
                await asyncio.sleep(self.rng.uniform(0.5, 1.5))   # the new server waits for its Redis
                await asyncio.to_thread(self.redis_server.start)
                await starting
            self.report.faults[kind] += 1

    # -- the run ------------------------------------------------------------------------------------
    async def run(self) -> Report:
        started = time.monotonic()
        tokens_kiosk = [self.server.token("kiosk", name=f"kiosk-{n}") for n in range(self.plan.kiosks)]
        officer = self.server.token("officer", OFFICER_COUNTERS, name="officer")
        for n in range(self.plan.displays):
            name, topics, kind = DISPLAYS[n % len(DISPLAYS)]
            name = name if n < len(DISPLAYS) else f"{name}-{n}"
            cls = QsDisplay if kind == "qs" else LinkDisplay
            url = self.server.ws_url if kind == "qs" else self.server.base_url
            self.displays.append(cls(name, topics, url, random.Random(self.rng.random()), self.plan))
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=TIMEOUT, limits=limits) as http:
            viewers = [asyncio.create_task(d.run(self.calm)) for d in self.displays]
            try:
                await self._until(lambda: all(d.first_id for d in self.displays), "every display's first snapshot")
                load = [asyncio.create_task(self.kiosk(http, t)) for t in tokens_kiosk]
                load += [asyncio.create_task(self.officer(http, officer, c)) for c in OFFICER_COUNTERS]
                await self.faults()
                await asyncio.sleep(max(0.0, started + self.plan.seconds - time.monotonic()))
                self.stop.set()
                await asyncio.gather(*load)
                # No more cuts; every display connected and caught up before the drain's burst of calls
                # (a display resuming in it would rightly get a snapshot: more events than a replay holds).
                self.calm.set()
                await self._until(lambda: all(d.connected for d in self.displays), "every display to reconnect")
                await self._until(self._displays_caught_up, "every display to catch up before the drain")
                await asyncio.gather(*(self.officer(http, officer, c, drain=True) for c in OFFICER_COUNTERS))
                await self._until(self._displays_caught_up, "every display to receive the last event of its topics")
            finally:
                for task in viewers:
                    task.cancel()
                ended = await asyncio.gather(*viewers, return_exceptions=True)
        for display, result in zip(self.displays, ended):
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                raise AssertionError(f"display {display.name} failed") from result
        self.report.seconds = time.monotonic() - started
        self.check()
        return self.report

    async def _until(self, predicate, what: str, timeout: float = 3 * TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"chaos: timed out waiting for {what}")
            await asyncio.sleep(0.05)

    # -- the invariants -----------------------------------------------------------------------------
    def _stream(self) -> list[tuple[str, dict[str, Any], set[str]]]:
        client = sync_redis.Redis.from_url(self.redis_server.url)
        try:
            entries = client.xrange(SiteKeys(SITE).events)
            self._tickets = {k.decode(): json.loads(v) for k, v in client.hgetall(SiteKeys(SITE).tickets).items()}
        finally:
            client.close()
        out = []
        for raw_id, fields in entries:
            event_id = raw_id.decode()
            frame = present_event(self.site, event_id, fields[b"e"])
            out.append((event_id, frame, topics_for_event(frame)))
        return out

    def _displays_caught_up(self) -> bool:
        stream = self._stream()
        for display in self.displays:
            owed = [eid for eid, _frame, topics in stream if topics & display.topics]
            if owed and (display.newest is None or parse_stream_id(display.newest) < parse_stream_id(owed[-1])):
                return False
        return True

    def check(self) -> None:
        report, stream = self.report, self._stream()
        tickets = self._tickets
        report.tickets = len(self.acked)
        report.lost = sorted(tid for tid in self.acked if tid not in tickets)
        report.not_final = sorted(tid for tid in self.acked if tid in tickets and tickets[tid]["status"] != "done")
        # called twice: two call-nexts (different keys) got it, or two first calls of it in the stream
        first_calls = Counter(frame["ticket"]["id"] for _eid, frame, _t in stream
                              if frame["type"] == "called" and not frame.get("recall"))
        report.called_twice = sorted({tid for tid, keys in self.calls.items() if len(keys) > 1}
                                     | {tid for tid, n in first_calls.items() if n > 1})
        numbers = Counter(t["number"] for t in tickets.values())
        report.duplicate_numbers = sorted(n for n, count in numbers.items() if count > 1)
        report.displays = len(self.displays)
        first_id = parse_stream_id(stream[0][0]) if stream else (0, 0)
        for display in self.displays:
            report.connections += display.connections
            report.events += len(display.received)
            start = parse_stream_id(display.first_id)
            owed = [eid for eid, _f, topics in stream if topics & display.topics and parse_stream_id(eid) > start]
            got = Counter(display.received)
            # a snapshot answering a since whose events were really gone (trimmed) covers them
            gone = [(parse_stream_id(since), parse_stream_id(snapshot_id)) for since, kind, snapshot_id
                    in display.resumes if kind == "snapshot" and parse_stream_id(since) < first_id]
            missed = [eid for eid in owed if eid not in got
                      and not any(low < parse_stream_id(eid) <= high for low, high in gone)]
            if missed:
                report.missed[display.name] = missed
            twice = [eid for eid, n in got.items() if n > 1]
            if twice:
                report.duplicates[display.name] = twice
            for since, kind, snapshot_id in display.resumes:
                if kind == "replay":
                    report.replays += 1
                    continue
                report.snapshots += 1
                if parse_stream_id(since) >= first_id:     # its events were still in the stream
                    low, high = parse_stream_id(since), parse_stream_id(snapshot_id)
                    between = sum(1 for eid, _f, _t in stream if low < parse_stream_id(eid) <= high)
                    report.needless_snapshots.append((display.name, since, snapshot_id, between))
