"""35 counters calling at once while kiosks issue, over several connections: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter, defaultdict

from redis.asyncio import Redis

from qserver.engine import SiteEngine

TICKETS_PER_KIOSK = 60
KIOSKS = 6


async def test_concurrent_issue_and_call_next(redis_server, redis, site, clock):
    """Every issued ticket is called exactly once, none is skipped, numbers per agency are contiguous."""
    clients = [Redis.from_url(redis_server.url) for _ in range(4)]
    engines = [SiteEngine(c, site, clock, secret=b"s") for c in clients]
    await engines[0].seed_counters()
    agencies = [a.slug for a in site.agencies]
    issued: list[dict] = []
    kiosks_done = asyncio.Event()

    async def kiosk(index: int) -> None:
        rng = random.Random(index)
        engine = engines[index % len(engines)]
        for _ in range(TICKETS_PER_KIOSK):
            issued.append((await engine.issue(rng.choice(agencies)))["ticket"])
            await asyncio.sleep(0)

    async def counter(counter_id: str, index: int) -> list[str]:
        engine = engines[index % len(engines)]
        called = []
        while True:
            answer = await engine.call_next(counter_id)
            if answer["status"] == 200:
                called.append(answer["ticket"]["id"])
            elif kiosks_done.is_set():
                return called
            else:
                await asyncio.sleep(0.001)

    async def issue_all() -> None:
        await asyncio.gather(*(kiosk(i) for i in range(KIOSKS)))
        kiosks_done.set()

    counters = [asyncio.create_task(counter(c.id, i)) for i, c in enumerate(site.counters)]
    await issue_all()
    results = await asyncio.gather(*counters)
    # Agencies nobody serves any more cannot exist here: every agency has a counter in cantho.toml.
    all_called = [tid for called in results for tid in called]
    assert len(issued) == KIOSKS * TICKETS_PER_KIOSK
    assert Counter(all_called) == Counter(t["id"] for t in issued), "each ticket called exactly once"
    by_agency = defaultdict(list)
    for ticket in issued:
        by_agency[ticket["agency"]].append(ticket["n"])
    for agency, numbers in by_agency.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"gap in {agency}"
    entries = await redis.xrange(f"qs:{{{site.slug}}}:events")
    calls = [json.loads(f[b"e"])["ticket"]["id"] for _i, f in entries if b'"type":"called"' in f[b"e"]]
    assert sorted(calls) == sorted(all_called)
    for client in clients:
        await client.aclose()
