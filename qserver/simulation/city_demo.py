"""``qserver demo --city``: the whole city of Cần Thơ, alive — the city center and 103 commune centers
(``config/cities/cantho``) on one server, each with its own simulated day, and the city console.

The city center is busy (about 900 tickets a day on every counter, like ``make demo``); the communes
are quiet (80–260 tickets a day each, their officers often idle), except a few, chosen by the seed,
that are short of staff: their officers cannot keep up, and the only counter of one field is closed
(an officer off sick), so citizens of that field wait with nobody to call them. Those centers rise
to the top of the city console ("Cần xử lý ngay") until their simulated floor manager moves another
counter to that field. (The server's clock is real time while the days run ×``--speed``, so waits
seldom pass the minutes-long alert thresholds: the closed counters are what shows trouble.)
Everything goes through the public HTTP API with each center's own kiosk and manager tokens, as in a
real city. The hall voice is not started (``make demo`` has it for the center).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import config

from ..settings import Settings

__all__ = ["cmd_city_demo", "commune_plan", "CITY_DIR"]

logger = logging.getLogger(__name__)

CITY_DIR = config.CITIES_DIR / "cantho"
CENTER = "cantho"
CENTER_TICKETS_PER_DAY = 900
COMMUNE_TICKETS = (80, 260)           # a commune center's visitors a day (CENTER.md: 80–400)
COMMUNE_UTILISATION = (0.3, 0.65)     # how busy its officers are
SHORT_OF_STAFF = 3                    # communes whose officers cannot keep up (utilisation 1.25)
COMMUNE_IDLE_POLL_S = 600.0           # an idle commune officer looks at the queue every 10 simulated minutes
COMMUNE_MAX_POLL_REAL_S = 15.0
CREDENTIALS_TTL_S = 24 * 3600
CITY_USER = "thanhpho"


@dataclass(frozen=True)
class CommunePlan:
    expected: float
    utilisation: float
    closed_counter: str | None = None     # short of staff: this counter stays closed (its field unserved)

    @property
    def short_of_staff(self) -> bool:
        return self.closed_counter is not None


def _lone_counter(site: config.Site) -> str | None:
    """A counter that alone serves the field it serves first (closing it leaves that field unserved)."""
    for counter in site.counters:
        field_ = counter.agencies[0] if counter.agencies else None
        if field_ and sum(1 for c in site.counters if field_ in c.agencies) == 1:
            return counter.id
    return None


def commune_plan(sites: dict[str, config.Site], seed: int) -> dict[str, CommunePlan]:
    """Each commune's day (same for the same seed and sites): its visitors, how busy, short of staff."""
    chooser = random.Random(f"city-demo:{seed}")
    candidates = sorted(slug for slug, site in sites.items() if _lone_counter(site))
    short = set(chooser.sample(candidates, min(SHORT_OF_STAFF, len(candidates))))
    plans = {}
    for slug, site in sites.items():
        rng = random.Random(f"city-demo:{seed}:{slug}")
        expected = rng.randint(*COMMUNE_TICKETS)
        if slug in short:
            plans[slug] = CommunePlan(expected, 1.25, _lone_counter(site))
        else:
            plans[slug] = CommunePlan(expected, round(rng.uniform(*COMMUNE_UTILISATION), 2))
    return plans


@dataclass
class CityCredentials:
    city_token: str
    city_password: str
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)   # slug → (manager, kiosk) of the simulator


async def _create_credentials(redis_url: str, slugs: list[str]) -> CityCredentials:
    from ..connection import connect_redis

    from ..auth import Auth

    client = connect_redis(redis_url)
    try:
        auth = Auth(client, cache_s=0)
        password = secrets.token_urlsafe(6)
        await auth.add_user(CITY_USER, password, "manager", "*")
        creds = CityCredentials(await auth.create_token("manager", "*", name="demo-thanh-pho",
                                                        ttl_s=CREDENTIALS_TTL_S), password)
        for slug in slugs:
            creds.tokens[slug] = (
                await auth.create_token("manager", slug, name="mo-phong", ttl_s=CREDENTIALS_TTL_S),
                await auth.create_token("kiosk", slug, name="mo-phong-kiosk", ttl_s=CREDENTIALS_TTL_S))
        return creds
    finally:
        await client.aclose()


class CityDemo:
    """The background half: credentials, the printed pages, one simulation per center."""

    def __init__(self, args: argparse.Namespace, sites: dict[str, config.Site]):
        self.args, self.sites, self.slugs = args, sites, list(sites)
        self.plans = commune_plan({slug: site for slug, site in sites.items() if slug != CENTER}, args.seed)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def before_serving(self, settings: Settings, server) -> None:
        self.settings, self.server = settings, server
        host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        self.base = f"http://{host}:{settings.port}"
        self.credentials = asyncio.run(_create_credentials(settings.redis_url, self.slugs))
        self.thread = threading.Thread(target=lambda: asyncio.run(self._drive()), name="city-demo", daemon=True)
        self.thread.start()

    def shutdown(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def configure(self, slug: str):
        from . import SimulationConfig

        def build(layout):
            counters = tuple(c.id for c in layout.counters)
            common = dict(counters=counters, seed=self.args.seed, speed=self.args.speed, days=None,
                          reset_counters=True, restore_moves=False, grace_s=1.0)
            if slug == CENTER or slug not in self.plans:
                return SimulationConfig(expected=CENTER_TICKETS_PER_DAY, utilisation=0.8, **common)
            plan = self.plans[slug]
            common["counters"] = tuple(c for c in counters if c != plan.closed_counter)
            return SimulationConfig(expected=plan.expected, utilisation=plan.utilisation,
                                    agencies=tuple(a.slug for a in layout.agencies),
                                    idle_poll_s=COMMUNE_IDLE_POLL_S, max_poll_real_s=COMMUNE_MAX_POLL_REAL_S, **common)
        return build

    async def _drive(self) -> None:
        from . import run_simulation

        while not self.server.started:
            if self.server.should_exit or self.stopping.is_set():
                return
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{self.settings.port}"
        await self._close_counters(url)
        self._print_pages()
        running: list = []
        tasks = [asyncio.create_task(run_simulation(
            url, slug, self.configure(slug), manager_token=self.credentials.tokens[slug][0],
            kiosk_token=self.credentials.tokens[slug][1], started=running.append, max_connections=4))
            for slug in self.slugs]
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        hour = None
        while not (self.server.should_exit or self.stopping.is_set() or all(t.done() for t in tasks)
                   or (deadline and time.monotonic() >= deadline)):
            center = next((s for s in running if s.layout.slug == CENTER), None)
            if center is not None:
                clock = center.layout.clock_of(center.now())
                if clock[:2] != hour:
                    hour = clock[:2]
                    issued = sum(s.report.counts["issued"] for s in running)
                    served = sum(s.report.counts["served"] for s in running)
                    logger.info("simulated %s at the center: %d centers running, %d tickets issued, %d served",
                                clock, len(running), issued, served)
            await asyncio.sleep(0.2)
        for simulation in running:
            simulation.stop()
        done, pending = await asyncio.wait(tasks, timeout=5)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.error("a center's simulation failed: %s", task.exception())
        if deadline and time.monotonic() >= deadline:
            logger.info("--duration %gs reached; stopping", self.args.duration)
            self.server.should_exit = True

    async def _close_counters(self, url: str) -> None:
        """Close the lone counter of each short-of-staff commune (already closed by a previous run: fine)."""
        import httpx

        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            for slug, plan in self.plans.items():
                if plan.closed_counter is None:
                    continue
                answer = await http.post(f"/api/v1/sites/{slug}/counters/{plan.closed_counter}/close",
                                         json={"reason": "Cán bộ nghỉ ốm"},
                                         headers={"Authorization": f"Bearer {self.credentials.tokens[slug][0]}"})
                if answer.status_code not in (200, 409):
                    logger.warning("cannot close counter %s of %s: %s", plan.closed_counter, slug, answer.text)

    def _print_pages(self) -> None:
        creds, base = self.credentials, self.base
        short = []
        for slug, plan in sorted(self.plans.items()):
            if plan.short_of_staff:
                site = self.sites[slug]
                agency = site.agency_by_slug[site.counter_by_id[plan.closed_counter].agencies[0]]
                short.append(f"    {slug}: counter {plan.closed_counter} closed, nobody calls {agency.name}")
        commune = next((s for s in self.slugs if s != CENTER), CENTER)
        lines = [f"qserver demo --city — {len(self.slugs)} centers of Cần Thơ, simulated days at ×{self.args.speed:g} "
                 f"(seed {self.args.seed}): the city center busy, the communes quiet", "",
                 f"  City console                {base}/m?token={creds.city_token}",
                 f"  City reports                {base}/m#bao-cao",
                 "  City console (JSON)         "
                 f"curl -H 'Authorization: Bearer {creds.city_token}' {base}/api/v1/city/console",
                 f"  The city center's console   {base}/m/{CENTER}  (from the city console: click its name)",
                 f"  A commune's hall display    {base}/d/{commune}/floor/0", "",
                 f"  Web login (every center)    {CITY_USER} / {creds.city_password}",
                 f"  Token (every center, 24 h)  {creds.city_token}", "",
                 "  Short of staff today (they rise to the top of the city console until their floor manager",
                 "  moves a counter):", *short, "",
                 "Ctrl-C stops the demo.", ""]
        print("\n".join(lines), flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def cmd_city_demo(args: argparse.Namespace) -> int:
    from ..server import serve

    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.speed <= 0:
        print("error: --speed must be positive", file=sys.stderr)
        return 2
    paths = (str(CITY_DIR), *(args.config or ()))
    # The simulated days run ×60: the per-kiosk ticket limit (a real-time bound) is off, as in `qserver demo`.
    settings = Settings.from_env(host=args.host, port=args.port, config=paths, always_open=True,
                                 limit_issue_per_kiosk="")
    sites = config.load_sites(*settings.config)
    demo = CityDemo(args, sites)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(settings, before_serving=demo.before_serving)
    except KeyboardInterrupt:
        pass
    finally:
        demo.shutdown()
        logger.info("city demo stopped")
    return 0
