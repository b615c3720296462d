"""The heap keeper: survivors are hidden from full collections; cyclic garbage among them is freed at the
sweep, which waits for a quiet moment (or its latest time)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from qserver.heap import HeapKeeper


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_frozen_cycles_wait_for_the_quiet_sweep(unfrozen):
    clock, idle = Clock(), {"s": 0.0}
    keeper = HeapKeeper(10, lambda: idle["s"], quiet_s=60, sweep_every_s=3600, sweep_latest_s=86_400, now=clock)
    node = Node()
    gone = weakref.ref(node)
    gc.collect()  # the node survives a full collection: it is old, as a closed socket's objects are
    keeper.tick()
    assert gc.get_freeze_count() > 0
    del node
    gc.collect()
    assert gone() is not None, "a frozen cycle is not walked by a full collection"

    clock.t += 3600  # time for a sweep, but the city is busy: freeze again
    keeper.tick()
    assert keeper.sweeps == 0 and gone() is not None

    idle["s"] = 61  # quiet for a minute: swept
    keeper.tick()
    assert keeper.sweeps == 1 and gone() is None
    assert gc.get_freeze_count() == 0


def test_a_busy_city_is_swept_at_the_latest_time(unfrozen):
    clock = Clock()
    keeper = HeapKeeper(10, lambda: 0.0, sweep_every_s=3600, sweep_latest_s=86_400, now=clock)
    gone = weakref.ref(Node())
    keeper.tick()
    clock.t += 86_400
    keeper.tick()
    assert keeper.sweeps == 1 and gone() is None


def test_young_garbage_is_collected_before_a_freeze(unfrozen):
    keeper = HeapKeeper(10, lambda: 0.0)
    gone = weakref.ref(Node())  # garbage already, never collected
    keeper.tick()
    assert gone() is None, "freed by the young collection, not frozen"


def test_stopping_gives_the_heap_back_to_the_collector(unfrozen):
    async def main():
        keeper = HeapKeeper(0.01, lambda: 0.0)
        keeper.start()
        while not gc.get_freeze_count():
            await asyncio.sleep(0.01)
        await keeper.stop()
    asyncio.run(asyncio.wait_for(main(), 10))
    assert gc.get_freeze_count() == 0
