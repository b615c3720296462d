"""The pad: button presses become ``command`` frames, server frames become lights and digits.

:class:`Pad` joins three things that know nothing of each other: the hardware
(:class:`~counter_pad.hardware.PadHardware`), the link to qserver
(:class:`qserver.protocol.client.Link`, or a fake with the same ``connected``/``send``/``run``/
``on_state``) and the pure rules in :mod:`counter_pad.commands` and :mod:`counter_pad.view`.
Everything runs on one asyncio loop; gpiozero's callbacks are handed over by the hardware layer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from qserver.protocol.client import NotConnected

from .commands import Command, CommandQueue, PressFilter, new_key
from .config import BUTTON_ACTIONS, BUTTONS
from .exceptions import BadToken, PadError, UnknownCounter
from .hardware import PadHardware
from .view import CounterView, apply_frame

__all__ = ["Pad"]

logger = logging.getLogger(__name__)

ALARM_S = 3.0          # how long the online LED blinks fast after a dropped press
BLINK_PERIOD_S = 0.25  # on and off times of the number blinking after a call


class Pad:
    """One counter's keypad: run it with :meth:`run` until a configuration error (raised) or cancel.

    ``clock`` must be the clock the hardware stamps button edges with (``time.monotonic``).
    """

    def __init__(self, counter: str, hardware: PadHardware, link: Any, *, grace_s: float = 10.0,
                 repeat_guard_s: float = 1.0, blink_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic, make_key: Callable[[], str] = new_key):
        self.counter = counter
        self.hardware = hardware
        self.link = link
        self.blink_s = blink_s
        self.alarm_s = ALARM_S
        self.clock = clock
        self.queue = CommandQueue(grace_s, make_key=make_key)
        self.presses = PressFilter(repeat_guard_s)
        self.view = CounterView()
        self.generation = 0  # bumped on every new connection
        self._kick = asyncio.Event()
        self._fatal: asyncio.Future[None] | None = None
        self._blink_task: asyncio.Task | None = None
        self._alarm_handle: asyncio.TimerHandle | None = None
        link.on_state = self._on_link_state

    # -- running ---------------------------------------------------------------------------------
    async def run(self, *checks: Awaitable[None]) -> None:
        """Run until cancelled; raise the first :class:`ConfigError` found by the pad or by ``checks``."""
        loop = asyncio.get_running_loop()
        self._fatal = loop.create_future()
        self.hardware.attach(loop, self.on_edge)
        self.hardware.set_online(self.link.connected.is_set())
        self._render()
        tasks = [loop.create_task(self.link.run(self.on_frame), name="pad-link"),
                 loop.create_task(self._sender(), name="pad-sender"),
                 *(loop.create_task(self._check(check), name="pad-check") for check in checks)]
        for task in tasks:
            task.add_done_callback(self._task_done)
        try:
            await self._fatal
        finally:
            self.hardware.detach()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._blink_task is not None:
                self._blink_task.cancel()
            if self._alarm_handle is not None:
                self._alarm_handle.cancel()

    async def _check(self, check: Awaitable[None]) -> None:
        try:
            await check
        except PadError as exc:
            self.fail(exc)

    def _task_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.fail(task.exception())

    def fail(self, exc: BaseException) -> None:
        """Stop the pad with ``exc`` (a configuration error a person must fix)."""
        if self._fatal is not None and not self._fatal.done():
            self._fatal.set_exception(exc)

    # -- buttons ---------------------------------------------------------------------------------
    def on_edge(self, button: str, pressed: bool, at: float) -> None:
        """A button went down (``pressed``) or up; only presses act, holding does nothing more."""
        if not pressed:
            return
        if not self.presses.accept(button, at):
            logger.debug("%s pressed again within the repeat guard: ignored", button)
            return
        action = BUTTON_ACTIONS.get(button) or ("resume" if self.view.paused else "pause")
        cmd = self.queue.press(button, action, at)
        if cmd is None:
            logger.info("%s (%s) pressed while its command is pending: acts once", button, BUTTONS[button])
            self.hardware.already_pending()  # never silent: the officer hears the press was taken
            return
        logger.info("%s pressed: %s, key %s%s", button, action, cmd.key,
                    "" if self.link.connected.is_set() else " (offline: queued)")
        self._kick.set()

    # -- link ------------------------------------------------------------------------------------
    def _on_link_state(self, up: bool) -> None:
        if up:
            self.generation += 1
        logger.info("qserver link %s", "up" if up else "down")
        self.hardware.set_online(up)
        self._kick.set()

    async def _sender(self) -> None:
        """Send the head of the queue on each connection; drop what waited past its grace."""
        while True:
            self._kick.clear()
            for cmd in self.queue.expire(self.clock()):
                self._dropped(cmd)
            cmd = self.queue.due(self.generation) if self.link.connected.is_set() else None
            if cmd is not None:
                await self._send(cmd)
                continue
            expiry = self.queue.next_expiry()
            timeout = None if expiry is None else max(0.0, expiry - self.clock())
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that arrives as the
            # kick is set, and the pad would never stop.
            try:
                async with asyncio.timeout(timeout):
                    await self._kick.wait()
            except TimeoutError:
                pass

    async def _send(self, cmd: Command) -> None:
        cmd.sent_on = self.generation  # sent (or lost) on this connection: resent on the next one
        try:
            await self.link.send(cmd.frame(self.counter))
            logger.debug("sent %s %s", cmd.action, cmd.key)
        except NotConnected as exc:
            logger.info("%s %s not sent (%s): will retry on reconnect", cmd.action, cmd.key, exc)

    def _dropped(self, cmd: Command) -> None:
        logger.warning("%s pressed %.0f s ago got no answer from qserver: dropped (key %s)",
                       cmd.action, self.queue.grace_s, cmd.key)
        self._alarm()

    def _alarm(self) -> None:
        """A press did not happen for a reason the officer cannot fix: long beep, fast blink."""
        self.hardware.alarm()
        if self._alarm_handle is not None:
            self._alarm_handle.cancel()
        self._alarm_handle = asyncio.get_running_loop().call_later(self.alarm_s, self._end_alarm)

    def _end_alarm(self) -> None:
        self._alarm_handle = None
        self.hardware.end_alarm()

    # -- frames ----------------------------------------------------------------------------------
    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "result":
            self._on_result(frame)
            return
        if kind == "heartbeat":
            return
        view, called = apply_frame(self.view, frame, self.counter)
        if view != self.view or called:
            self.view = view
            self._render(blink=called)
        if called and frame.get("event_id"):
            try:
                await self.link.send({"type": "ack", "event_id": frame["event_id"]})
            except NotConnected:
                pass

    def _on_result(self, frame: dict[str, Any]) -> None:
        key = frame.get("key")
        cmd = self.queue.settle(key) if isinstance(key, str) else None
        if cmd is None:
            logger.info("result for key %r that is no longer pending: ignored", key)
            return
        self._kick.set()
        status = frame.get("status")
        error = frame.get("error") or {}
        if frame.get("ok"):
            if status == 204:
                logger.info("%s: nobody is waiting", cmd.action)
                self.hardware.refuse()
            return
        message = error.get("message") or error.get("code") or f"status {status}"
        if status in (401, 403):
            self.fail(BadToken(f"qserver refused the token for counter '{self.counter}': {message}"))
        elif status == 404:
            self.fail(UnknownCounter(f"qserver does not know counter '{self.counter}': {message}"))
        elif isinstance(status, int) and status >= 500:
            logger.warning("%s failed on the server (%s): %s", cmd.action, status, message)
            self._alarm()
        else:
            logger.info("%s refused (%s): %s", cmd.action, status, message)
            self.hardware.refuse()

    # -- display ---------------------------------------------------------------------------------
    def _render(self, blink: bool = False) -> None:
        if self._blink_task is not None:
            self._blink_task.cancel()
            self._blink_task = None
        self.hardware.set_busy(self.view.current is not None)
        self._show()
        if blink and self.blink_s > 0:
            self._blink_task = asyncio.get_running_loop().create_task(self._blink(), name="pad-blink")

    def _show(self) -> None:
        text = self.view.text()
        if text is not None:
            self.hardware.show_text(text)
        else:
            self.hardware.show_number(self.view.number)

    async def _blink(self) -> None:
        """Blink the number for ``blink_s`` after a call, then leave it lit."""
        end = self.clock() + self.blink_s
        while self.clock() < end:
            await asyncio.sleep(BLINK_PERIOD_S)
            self.hardware.blank()
            await asyncio.sleep(BLINK_PERIOD_S)
            self._show()
