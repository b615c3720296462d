"""The pad's GPIO devices, built with gpiozero behind its ``pin_factory`` seam.

Nothing here decides anything: :class:`PadHardware` turns button edges into calls on the asyncio
loop and shows what :mod:`counter_pad.pad` tells it to. Tests build it on a ``MockFactory``; on the
Pi gpiozero picks its default factory (lgpio).

gpiozero 2.0.1 quirk: ``LEDMultiCharDisplay`` builds its digit-select group without passing
``pin_factory`` on, so that group asks for the *default* factory. With an explicit factory, make it
the default too (``Device.pin_factory = factory``), as gpiozero's own test fixture does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from gpiozero import LED, Button, Buzzer, LEDCharDisplay, LEDMultiCharDisplay
from gpiozero.exc import GPIOPinInUse, GPIOZeroError

from .config import PadConfig
from .exceptions import ConfigError, PinConflict
from .glyphs import FONT, cells, text_cells

__all__ = ["PadHardware", "EdgeHandler"]

logger = logging.getLogger(__name__)

#: ``handler(button, pressed, monotonic_time)``, called on the asyncio loop.
EdgeHandler = Callable[[str, bool, float], None]

# Sounds and lights, (on_s, off_s, n). Refusal: two short beeps. Dropped press: one long beep.
# A press of a button whose command is still on its way: one short blip ("heard, already coming").
REFUSAL_BEEP = (0.1, 0.1, 2)
PENDING_BEEP = (0.05, 0.05, 1)
DROPPED_BEEP = (0.6, 0.1, 1)
OFFLINE_BLINK = (0.5, 0.5)
ALARM_BLINK = (0.1, 0.1)


class PadHardware:
    """Five buttons, a multiplexed 7-segment display, the online and busy LEDs, an optional buzzer."""

    def __init__(self, config: PadConfig, *, pin_factory=None):
        self._devices: list = []
        self.width = len(config.display.digits)
        self.has_dp = config.display.dp is not None
        try:
            self.buttons: dict[str, Button] = {
                name: self._add(Button(pin, pull_up=config.buttons.pull_up,
                                       bounce_time=config.buttons.bounce_time_s or None,
                                       pin_factory=pin_factory))
                for name, pin in config.buttons.pins.items()
            }
            segments = config.display
            self.char = self._add(LEDCharDisplay(*segments.segments, dp=segments.dp, font=FONT,
                                                 active_high=segments.segments_active_high,
                                                 pin_factory=pin_factory))
            self.display = self._add(LEDMultiCharDisplay(self.char, *segments.digits,
                                                         active_high=segments.digits_active_high,
                                                         pin_factory=pin_factory))
            self.online_led = self._add(LED(config.leds.online, active_high=config.leds.active_high,
                                            pin_factory=pin_factory))
            self.busy_led = self._add(LED(config.leds.busy, active_high=config.leds.active_high,
                                          pin_factory=pin_factory))
            self.buzzer = (self._add(Buzzer(config.buzzer.pin, active_high=config.buzzer.active_high,
                                            pin_factory=pin_factory)) if config.buzzer else None)
        except GPIOPinInUse as exc:
            self.close()
            raise PinConflict(f"a GPIO pin is used twice: {exc}") from exc
        except GPIOZeroError as exc:  # no GPIO on this machine, a pin this board lacks ...
            self.close()
            raise ConfigError(f"cannot set up the pad's GPIO pins: {exc}") from exc
        except BaseException:
            self.close()
            raise
        self._online = False
        self._alarming = False

    def _add(self, device):
        self._devices.append(device)
        return device

    # -- input -----------------------------------------------------------------------------------
    def attach(self, loop: asyncio.AbstractEventLoop, handler: EdgeHandler) -> None:
        """Deliver every button edge to ``handler`` on ``loop`` (gpiozero calls from its own thread)."""
        for name, button in self.buttons.items():
            button.when_pressed = self._edge(loop, handler, name, True)
            button.when_released = self._edge(loop, handler, name, False)

    @staticmethod
    def _edge(loop: asyncio.AbstractEventLoop, handler: EdgeHandler, name: str, pressed: bool):
        def on_edge() -> None:
            at = time.monotonic()  # stamped on gpiozero's thread, when the edge happened
            try:
                loop.call_soon_threadsafe(handler, name, pressed, at)
            except RuntimeError:  # the loop is closed: the pad is shutting down
                logger.debug("edge of %s after the loop closed", name)
        return on_edge

    def detach(self) -> None:
        for button in self.buttons.values():
            button.when_pressed = button.when_released = None

    # -- output ----------------------------------------------------------------------------------
    def show_number(self, number: str | None) -> None:
        """A ticket number, or dashes for nobody."""
        self.display.value = cells(number, self.width, dp=self.has_dp)

    def show_text(self, text: str) -> None:
        """A word for the officer (``NGHI``), right-aligned."""
        self.display.value = text_cells(text, self.width)

    def blank(self) -> None:
        self.display.value = (" ",) * self.width

    def set_online(self, online: bool) -> None:
        """Steady when connected, a slow blink when not (shown after an alarm ends)."""
        self._online = online
        if self._alarming:
            return
        if online:
            self.online_led.on()
        else:
            self.online_led.blink(*OFFLINE_BLINK)

    def alarm(self) -> None:
        """A press could not be delivered: a long beep and a fast-blinking online LED."""
        self._alarming = True
        self.online_led.blink(*ALARM_BLINK)
        self._beep(DROPPED_BEEP)

    def end_alarm(self) -> None:
        """Back to showing the link's state."""
        self._alarming = False
        self.set_online(self._online)

    def set_busy(self, busy: bool) -> None:
        self.busy_led.value = busy

    def refuse(self) -> None:
        """The server refused the press (nothing waiting, paused ...): two short beeps."""
        self._beep(REFUSAL_BEEP)

    def already_pending(self) -> None:
        """The button was pressed again while its command is on its way: one short blip."""
        self._beep(PENDING_BEEP)

    def _beep(self, pattern: tuple[float, float, int]) -> None:
        if self.buzzer is None:
            return
        on_s, off_s, n = pattern
        self.buzzer.beep(on_time=on_s, off_time=off_s, n=n, background=True)

    def close(self) -> None:
        """Release every pin (reverse order of creation); safe to call twice."""
        while self._devices:
            device = self._devices.pop()
            try:
                device.close()
            except Exception:  # closing must go on for the other pins
                logger.exception("closing %r failed", device)

    def __enter__(self) -> PadHardware:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
