"""The announcer's loop: frames in, one announcement at a time out, an ``ack`` after each.

:class:`Announcer` glues the pure queue to the speaker and an output. It never speaks two
announcements at once because it has a single loop that asks for the next one only after the
previous one was delivered. A failed synthesis or playback is logged and skipped (no ack, so the
manager console sees the silent speaker); only ``max_failures`` failures in a row stop it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .calls import event_order
from .exc import SpeechError
from .queue import Announcement, AnnouncementQueue

__all__ = ["Announcer", "Output", "Spoken"]

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Output(Protocol):
    def prepare(self, announcement: Announcement) -> Path: ...
    async def deliver(self, path: Path, announcement: Announcement, duration_s: float,
                      on_start: Callable[[float], None] | None = None) -> None: ...


@dataclass(frozen=True)
class Spoken:
    """What happened to one announcement (monotonic times), for logs, tests and the benchmark."""

    announcement: Announcement
    started: float
    wav_ready: float | None
    play_start: float | None
    finished: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Announcer:
    """Feeds a floor's frames to its :class:`AnnouncementQueue` and speaks what comes out."""

    def __init__(self, queue: AnnouncementQueue, speaker: Any, output: Output, *, send: Send | None = None,
                 max_failures: int = 5, clock: Callable[[], float] = time.monotonic,
                 on_spoken: Callable[[Spoken], None] | None = None):
        self.queue, self.speaker, self.output = queue, speaker, output
        self.send, self.max_failures, self.clock, self.on_spoken = send, max_failures, clock, on_spoken
        self.failures_in_a_row = 0
        self.spoken: deque[Spoken] = deque(maxlen=200)
        self._pending_acks: deque[str] = deque(maxlen=500)
        self._last_event_id: str | None = None
        self._wake = asyncio.Event()

    # -- input -------------------------------------------------------------------------------------
    async def on_frame(self, frame: dict[str, Any]) -> None:
        """Handle one frame from the link (never raises: a bad frame must not drop the link)."""
        try:
            await self._flush_acks()
            kind = frame.get("type")
            if kind == "snapshot":
                self._offer_snapshot_calls(frame)
            elif self.queue.offer(frame):
                self._wake.set()
            event_id = frame.get("event_id")
            if isinstance(event_id, str) and kind not in ("heartbeat", "result"):
                if self._last_event_id is None or event_order(event_id) > event_order(self._last_event_id):
                    self._last_event_id = event_id
        except Exception:
            logger.exception("could not handle a %r frame", frame.get("type"))

    def _offer_snapshot_calls(self, frame: dict[str, Any]) -> None:
        """After a reconnect whose ``since`` was no longer retained the server sends a snapshot:
        speak its calls made after the last event seen (the queue still drops stale ones).
        A first snapshot (fresh start) is the current state, not news: nothing is spoken."""
        if self._last_event_id is None:
            return
        last = event_order(self._last_event_id)
        state = frame.get("state")
        calls = state.get("calls") if isinstance(state, dict) else None
        for call in reversed(calls if isinstance(calls, list) else []):  # newest first → oldest first
            if not isinstance(call, dict):
                continue
            event_id = call.get("event_id")  # every call entry carries its call's event id
            if (isinstance(event_id, str) and event_order(event_id) > last
                    and self.queue.offer({**call, "type": "called", "event_id": event_id})):
                self._wake.set()

    # -- output ------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Speak announcements one after the other, forever (until cancelled or too many failures)."""
        while True:
            announcement = self.queue.next()
            if announcement is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self.speak(announcement)

    async def speak(self, announcement: Announcement) -> Spoken:
        """Render and deliver one announcement, then acknowledge its events."""
        started = self.clock()
        wav_ready = play_start = None
        error = None
        path = None

        def playing(at: float) -> None:
            nonlocal play_start
            play_start = at

        logger.info("announcing %s: %s", ", ".join(announcement.numbers), announcement.text)
        try:
            try:
                path = self.output.prepare(announcement)
            except OSError as exc:  # a full disk or a vanished --wav-dir
                raise SpeechError(f"cannot prepare the announcement's file: {exc}") from exc
            duration = await self.speaker.render(announcement.text, announcement.repeat, path)
            wav_ready = self.clock()
            await self.output.deliver(path, announcement, duration, on_start=playing)
        except SpeechError as exc:
            error = str(exc)
            self.failures_in_a_row += 1
            logger.error("announcement of %s failed (%d in a row): %s", ", ".join(announcement.numbers),
                         self.failures_in_a_row, exc)
            discard = getattr(self.output, "discard", None)
            if discard is not None and path is not None:
                discard(path)
        else:
            self.failures_in_a_row = 0
            await self._ack(announcement.event_ids)
        record = Spoken(announcement, started, wav_ready, play_start, self.clock(), error)
        self.spoken.append(record)
        if self.on_spoken is not None:
            self.on_spoken(record)
        if error is not None and self.failures_in_a_row >= self.max_failures:
            raise SpeechError(f"{self.failures_in_a_row} announcements failed in a row; last: {error}")
        return record

    # -- acks --------------------------------------------------------------------------------------
    async def _ack(self, event_ids: tuple[str, ...]) -> None:
        self._pending_acks.extend(e for e in event_ids if e)
        await self._flush_acks()

    async def _flush_acks(self) -> None:
        if self.send is None:
            self._pending_acks.clear()
            return
        while self._pending_acks:
            event_id = self._pending_acks[0]
            try:
                await self.send({"type": "ack", "event_id": event_id})
            except ConnectionError:  # qserver.protocol.client.NotConnected: retried on the next frame
                logger.debug("ack for %s kept until the link is back", event_id)
                return
            self._pending_acks.popleft()
