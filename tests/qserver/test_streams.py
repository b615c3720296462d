"""The stream reader every process fans out from (qserver.engine.streams), on a real Redis and a
client made as qserver makes its own (qserver.connection)."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from qserver.connection import connect_redis
from qserver.engine.keys import SiteKeys
from qserver.engine.streams import StreamReader
from tests.support import TIMEOUT


async def test_new_events_of_every_site_are_read_in_order(redis_server, flushed):
    client = connect_redis(redis_server.url)
    try:
        await client.xadd(SiteKeys("cantho").events, {"e": b'{"type": "old"}'})
        reader = StreamReader(client, ["cantho", "phuong-an-binh"])
        await reader.start()  # only what comes after this
        assert await reader.read(block_ms=10) == []
        reading = asyncio.ensure_future(reader.read(block_ms=int(TIMEOUT * 1000)))
        await asyncio.sleep(0.05)
        first = await client.xadd(SiteKeys("phuong-an-binh").events, {"e": b'{"type": "issued"}'})
        batches = await asyncio.wait_for(reading, TIMEOUT)
        assert batches == [("phuong-an-binh", [(first.decode(), b'{"type": "issued"}')])]
        ids = [await client.xadd(SiteKeys("cantho").events, {"e": f'{{"n": {n}}}'.encode(), "x": b"1"})
               for n in range(3)]
        batches = await reader.read(block_ms=10)
        assert batches == [("cantho", [(i.decode(), f'{{"n": {n}}}'.encode()) for n, i in enumerate(ids)])]
    finally:
        await client.aclose()


async def test_a_read_cancelled_while_it_waits_leaves_no_reply_behind(redis_server, flushed):
    """A blocked XREAD cancelled (the hub stopping) closes its socket: the next command on the pool
    gets its own reply, not the XREAD's."""
    client = Redis.from_url(redis_server.url, max_connections=1)
    try:
        reader = StreamReader(client, ["cantho"])
        await reader.start()
        reading = asyncio.ensure_future(reader.read(block_ms=int(TIMEOUT * 1000)))
        await asyncio.sleep(0.05)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        await client.xadd(SiteKeys("cantho").events, {"e": b"{}"})
        assert await client.set("k", "v") is True and await client.get("k") == b"v"
    finally:
        await client.aclose()
