"""Helpers of the counter pad's tests: the test wiring, pad configs, pressing mock pins, reading what the
mock pins show, and a fake link for logic tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

from counter_pad.glyphs import FONT
from qserver.protocol.client import NotConnected
from tests.support import TIMEOUT

#: The wiring the tests use (the example file's pins).
PINS = {
    "buttons": {"call_next": 5, "recall": 6, "no_show": 13, "complete": 19, "pause": 26},
    "segments": [4, 17, 27, 22, 10, 9, 11],
    "dp": 8,
    "digits": [7, 12, 16, 20],
    "online": 21,
    "busy": 24,
    "buzzer": 25,
}


def config_data(**tables: dict) -> dict:
    """A valid config mapping; ``tables`` (``pad={...}``, ``buttons={...}``) update its tables."""
    data = {
        "qserver": {"url": "http://127.0.0.1:9", "site": "cantho", "counter": "12", "token": "test-token"},
        "buttons": dict(PINS["buttons"], repeat_guard_s=0.5),
        "display": {"segments": PINS["segments"], "dp": PINS["dp"], "digits": PINS["digits"], "blink_s": 0.0},
        "leds": {"online": PINS["online"], "busy": PINS["busy"]},
        "buzzer": {"pin": PINS["buzzer"]},
        "pad": {},
    }
    for name, values in tables.items():
        data[name].update(values)
    return data


def to_toml(data: dict) -> str:
    """The TOML text of a config mapping (tables of strings, numbers, booleans and lists)."""
    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else repr(v)

    return "".join(f"[{name}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in table.items()) + "\n"
                   for name, table in data.items())


# -- reading the mock pins ------------------------------------------------------------------------
def press(factory, pin: int) -> None:
    """Push and release a button wired to GND (pull-up: pressed is low)."""
    factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()


def read_display(factory, config, samples: int = 300) -> str:
    """The text the multiplexed display shows, read from the segment and digit-select pins.

    gpiozero lights one digit at a time from a background thread; a sample counts only when the
    same digits are selected before and after the segments are read (segments change only while
    every digit is off). Each digit shows the pattern seen most while it was selected, decoded with
    the pad's font (first matching character: ``5`` for S, ``2`` for Z, ``H`` for X).
    """
    display = config.display
    segment_pins = [factory.pin(p) for p in (*display.segments, *([display.dp] if display.dp is not None else []))]
    digit_pins = [factory.pin(p) for p in display.digits]

    def selected() -> tuple[bool, ...]:
        return tuple(pin.state == display.digits_active_high for pin in digit_pins)

    seen = [Counter() for _ in digit_pins]
    for _ in range(samples):
        before = selected()
        lit = tuple(int(pin.state == display.segments_active_high) for pin in segment_pins)
        if any(before) and selected() == before:
            for index, on in enumerate(before):
                if on:
                    seen[index][lit] += 1
        time.sleep(0.0002)
    reverse: dict[tuple[int, ...], str] = {}
    for char, pattern in FONT.items():
        reverse.setdefault(tuple(pattern), char)
    text = ""
    for counts in seen:
        if not counts:
            text += " "
            continue
        pattern = counts.most_common(1)[0][0]
        text += reverse.get(pattern[:7], "?") + ("." if len(pattern) > 7 and pattern[7] else "")
    return text


async def wait_display(factory, config, expected: str, timeout: float = TIMEOUT) -> str:
    """Wait until the display reads ``expected`` (it may be blinking meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = await asyncio.to_thread(read_display, factory, config)
        if shown == expected:
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"display shows {shown!r}, expected {expected!r}")


def is_high(factory, pin: int) -> bool:
    return factory.pin(pin).state


async def toggles(factory, pin: int, during_s: float) -> int:
    """How many times an output pin changes state during ``during_s`` (a steady LED: 0)."""
    mock = factory.pin(pin)
    mock.clear_states()
    await asyncio.sleep(during_s)
    return len(mock.states) - 1


async def wait_for(predicate, timeout: float = TIMEOUT, what: str = "condition"):
    """Wait for a condition checked on the loop (frames, LED states): polls without blocking the loop."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
    return result


# -- a fake link ----------------------------------------------------------------------------------
class FakeLink:
    """The part of ``qserver.protocol.client.Link`` the pad uses; the test drives the connection."""

    def __init__(self):
        self.connected = asyncio.Event()
        self.on_state = None
        self.sent: list[dict] = []
        self.outbox: asyncio.Queue[dict] = asyncio.Queue()
        self._inbox: asyncio.Queue[dict] = asyncio.Queue()

    async def run(self, on_frame) -> None:
        while True:
            frame = await self._inbox.get()
            try:
                await on_frame(frame)
            finally:
                self._inbox.task_done()

    async def send(self, frame: dict) -> None:
        if not self.connected.is_set():
            raise NotConnected("fake link is down")
        self.sent.append(frame)
        self.outbox.put_nowait(frame)

    def up(self) -> None:
        self.connected.set()
        self.on_state(True)

    def down(self) -> None:
        self.connected.clear()
        self.on_state(False)

    async def deliver(self, *frames: dict) -> None:
        """Hand frames to the pad and wait until it handled them."""
        for frame in frames:
            self._inbox.put_nowait(frame)
        await asyncio.wait_for(self._inbox.join(), TIMEOUT)

    async def next_sent(self, type_: str = "command") -> dict:
        """The next frame of ``type_`` the pad sends."""
        while True:
            frame = await asyncio.wait_for(self.outbox.get(), TIMEOUT)
            if frame["type"] == type_:
                return frame

    def commands(self) -> list[dict]:
        return [f for f in self.sent if f["type"] == "command"]
