"""Transitions go to Redis on the batcher's pipe, written as they come, or, while it is down, a loop
turn's calls share a pipeline (qserver.engine.batching, qserver.redis_pipe), on a real Redis: each is
still answered, refused or failed on its own, none lost or run twice."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from qserver.engine import ScriptBatcher, SiteEngine
from qserver.exceptions import Conflict, Unavailable
from tests.support import free_port

NOI_VU = "so-noi-vu"


def count_pipelines(batcher: ScriptBatcher) -> list[int]:
    """Wrap the batcher so every batch it writes to Redis at once is counted (the list grows by its size)."""
    opened: list[int] = []
    real = batcher._exchange

    async def exchange(commands):
        opened.append(len(commands))
        return await real(commands)

    batcher._exchange = exchange
    return opened


async def test_concurrent_transitions_share_the_pipe_and_get_their_own_answers(engine):
    """Sixty issues started together go on the pipe, none batched (the first while its connection is
    made, the script loaded on the way); every ticket gets its own number, once, in the order the calls
    were made."""
    opened = count_pipelines(engine._batcher)
    answers = await asyncio.gather(*(engine.issue(NOI_VU) for _ in range(60)))
    assert [a["ticket"]["number"] for a in answers] == [f"E{n:03d}" for n in range(1, 61)]
    assert opened == [] and engine._batcher._pipe.connected
    assert (await engine.state())["waiting"][NOI_VU] == 60


async def test_without_the_pipe_a_loop_turns_calls_share_pipelines(engine):
    """With the pipe down, sixty issues started together go to Redis in far fewer pipelines, every
    ticket numbered once, in the order the calls were made."""
    await engine.issue(NOI_VU)  # the script loaded
    engine._batcher._pipe.submit = lambda command: None
    opened = count_pipelines(engine._batcher)
    answers = await asyncio.gather(*(engine.issue(NOI_VU) for _ in range(60)))
    assert [a["ticket"]["number"] for a in answers] == [f"E{n:03d}" for n in range(2, 62)]
    assert 1 <= len(opened) < 10, f"{len(opened)} pipelines for 60 calls"


async def test_calls_in_flight_when_the_pipe_is_cut_are_run_once_the_other_way(engine, redis):
    """Redis paused, twenty issues written on the pipe, its connection killed: each is run again on a
    pooled connection and answered, every number once, in the order the calls were made; the pipe is
    made again for the calls after."""
    await engine.issue(NOI_VU)
    pipe = engine._batcher._pipe
    assert pipe.connected
    opened = count_pipelines(engine._batcher)
    await redis.execute_command("CLIENT", "PAUSE", 1500, "WRITE")  # the scripts wait, unrun
    calls = [asyncio.ensure_future(engine.issue(NOI_VU)) for _ in range(20)]
    for _ in range(1000):  # a few loop turns
        if len(pipe._link.in_flight) == 20:
            break
        await asyncio.sleep(0)
    assert len(pipe._link.in_flight) == 20
    await redis.execute_command("CLIENT", "KILL", "TYPE", "normal")  # every connection but this one
    answers = await asyncio.gather(*calls)
    assert [a["ticket"]["number"] for a in answers] == [f"E{n:03d}" for n in range(2, 22)]
    assert sum(opened) == 20  # all of them the other way
    issued = 21
    while not pipe.connected and issued < 60:  # made again after its pause (RECONNECT_S)
        await engine.issue(NOI_VU)
        issued += 1
        await asyncio.sleep(0.05)
    assert pipe.connected
    assert (await engine.state())["waiting"][NOI_VU] == issued


async def test_a_refusal_fails_only_its_own_call(engine):
    """A transition the script refuses (complete with no current ticket) raises its Conflict, while
    the calls batched with it succeed."""
    results = await asyncio.gather(engine.issue(NOI_VU), engine.complete("12"), engine.issue(NOI_VU),
                                   return_exceptions=True)
    assert [r["ticket"]["number"] for r in (results[0], results[2])] == ["E001", "E002"]
    assert isinstance(results[1], Conflict) and results[1].code == "nothing_current", results[1]


async def test_scripts_forgotten_by_redis_are_loaded_again(engine, redis):
    """After SCRIPT FLUSH (a restarted Redis) a batch of transitions loads the scripts and runs them."""
    await engine.issue(NOI_VU)
    await redis.script_flush()
    answers = await asyncio.gather(*(engine.issue(NOI_VU) for _ in range(5)))
    assert [a["ticket"]["number"] for a in answers] == ["E002", "E003", "E004", "E005", "E006"]


async def test_a_cancelled_caller_leaves_the_others_answered(engine):
    """A caller cancelled while its batch is in flight does not disturb the calls batched with it."""
    tasks = [asyncio.ensure_future(engine.issue(NOI_VU)) for _ in range(4)]
    await asyncio.sleep(0)
    tasks[1].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert all(r["ticket"]["agency"] == NOI_VU for i, r in enumerate(results) if i != 1)
    assert (await engine.state())["waiting"][NOI_VU] in (3, 4)  # the cancelled one may have run


async def test_redis_unreachable_fails_every_call_of_the_batch(site, clock):
    """With Redis gone, every transition of a batch answers Unavailable (503), none hangs."""
    client = Redis(port=free_port(), socket_connect_timeout=1)
    engine = SiteEngine(client, site, clock, secret=b"test", batcher=ScriptBatcher(client))
    try:
        results = await asyncio.gather(*(engine.issue(NOI_VU) for _ in range(3)), return_exceptions=True)
    finally:
        await client.aclose()
    assert all(isinstance(r, Unavailable) for r in results), results


@pytest.mark.parametrize("calls", [1, 130])
async def test_a_lone_call_and_a_batch_over_the_limit(engine, calls):
    """One call alone is sent directly; more calls than one pipeline takes are split, all answered."""
    answers = await asyncio.gather(*(engine.issue(NOI_VU) for _ in range(calls)))
    assert sorted(a["ticket"]["number"] for a in answers) == [f"E{n:03d}" for n in range(1, calls + 1)]
