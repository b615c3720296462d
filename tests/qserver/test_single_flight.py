"""One lookup in flight per key (qserver.single_flight): a cached grant or wait estimate that expires
under load is read from Redis once, not once per request of that moment."""

from __future__ import annotations

import asyncio

import pytest

from qserver.auth import Auth
from qserver.exceptions import Unauthorized
from qserver.single_flight import SingleFlight


async def test_callers_of_one_key_share_one_lookup_and_later_ones_run_again():
    flights: SingleFlight[int] = SingleFlight()
    runs = []
    release = asyncio.Event()

    async def lookup() -> int:
        runs.append(1)
        mine = len(runs)
        await release.wait()
        return mine

    waiting = [asyncio.ensure_future(flights.run("k", lookup)) for _ in range(20)]
    while not runs:  # the lookup has started; the 19 others wait for it
        await asyncio.sleep(0)
    other = await asyncio.wait_for(_started(flights, "other", lookup, runs), 5)
    release.set()
    assert await asyncio.gather(*waiting) == [1] * 20  # one lookup for the 20 callers of "k"
    assert await other == 2 and len(runs) == 2  # another key: a lookup of its own
    assert await flights.run("k", lookup) == 3  # finished: the next caller looks up again


async def _started(flights, key, lookup, runs):
    before = len(runs)
    task = asyncio.ensure_future(flights.run(key, lookup))
    while len(runs) == before:
        await asyncio.sleep(0)
    return task


async def test_a_cancelled_caller_leaves_the_lookup_to_the_others_and_errors_reach_everyone():
    flights: SingleFlight[int] = SingleFlight()
    release = asyncio.Event()

    async def lookup() -> int:
        await release.wait()
        raise ConnectionError("Redis went away")

    first, second = (asyncio.ensure_future(flights.run("k", lookup)) for _ in range(2))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await first
    with pytest.raises(ConnectionError):
        await second


async def test_fifty_requests_of_one_token_read_its_grant_once(redis):
    auth = Auth(redis, cache_s=1.0)
    token = await auth.create_token("kiosk", "cantho", name="kiosk 1")
    reads = []
    real_get = redis.get

    async def counted_get(key):
        reads.append(key)
        return await real_get(key)

    redis.get = counted_get
    grants = await asyncio.gather(*(auth.grant(token) for _ in range(50)))
    assert {g.role for g in grants} == {"kiosk"} and len(reads) == 1
    with pytest.raises(Unauthorized):  # an unknown token shares its lookup too, and is refused
        await asyncio.gather(*(auth.grant("nope") for _ in range(5)))
    assert len(reads) == 2
