"""One lookup in flight per key: callers that need the same value meanwhile wait for that one.

A value cached for a second (a token's grant, a site's wait factors) expires for every request at
once; under load the fifty requests of that moment would each read Redis and parse the same answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[T]] = {}

    async def run(self, key: Hashable, lookup: Callable[[], Awaitable[T]]) -> T:
        """``await lookup()``, or the result of the same key's lookup already running (its error too).
        A caller cancelled while it waits does not cancel the lookup the others wait for."""
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = asyncio.ensure_future(lookup())
            running.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(running)

    def _finished(self, key: Hashable, done: asyncio.Future[T]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have been cancelled meanwhile
