"""The GPIO layer on gpiozero's MockFactory: digits on the segment pins, LEDs, buzzer, buttons."""

from __future__ import annotations

import asyncio
import threading

import pytest

from counter_pad.config import parse_config
from counter_pad.exceptions import PinConflict
from counter_pad.hardware import PadHardware

from tests.support.pad import PINS, config_data, press, read_display, toggles, wait_for


def test_a_ticket_number_lights_the_right_segments(mock_factory, hardware, pad_config):
    """V007 multiplexed over four digits reads back as V007 from the segment and digit pins."""
    hardware.show_number("V007")
    assert read_display(mock_factory, pad_config) == "V007"
    hardware.show_number("A12")
    assert read_display(mock_factory, pad_config) == " A12"


def test_idle_dashes_drive_segment_g_only(mock_factory, hardware, pad_config):
    """"----": every digit selected, only segment g lit (common cathode: g high, the others low)."""
    hardware.show_number(None)
    assert [mock_factory.pin(p).state for p in PINS["digits"]] == [True] * 4
    assert [mock_factory.pin(p).state for p in PINS["segments"]] == [False] * 6 + [True]
    assert read_display(mock_factory, pad_config) == "----"


def test_cut_number_lights_the_decimal_point(mock_factory, hardware, pad_config):
    """A five-character number shows its last four digits and the first decimal point."""
    hardware.show_number("V1007")
    assert read_display(mock_factory, pad_config) == "1.007"


def test_common_anode_with_pnp_digit_drivers(mock_factory):
    """Both active_high options false invert every display pin, not the picture."""
    config = parse_config(config_data(display={"segments_active_high": False, "digits_active_high": False}))
    with PadHardware(config, pin_factory=mock_factory) as hw:
        hw.show_text("NGHI")
        assert read_display(mock_factory, config) == "NGHI"
        hw.show_number(None)
        assert [mock_factory.pin(p).state for p in PINS["digits"]] == [False] * 4
        assert [mock_factory.pin(p).state for p in PINS["segments"]] == [True] * 6 + [False]


def test_a_pin_taken_by_another_device_is_a_pin_conflict(mock_factory, pad_config):
    """gpiozero refuses a pin in use; the pad reports it as a configuration error and frees its pins."""
    with PadHardware(pad_config, pin_factory=mock_factory):
        with pytest.raises(PinConflict, match="used twice"):
            PadHardware(pad_config, pin_factory=mock_factory)
    PadHardware(pad_config, pin_factory=mock_factory).close()  # everything was released


async def test_online_led_steady_or_blinking(mock_factory, hardware):
    """Online: lit and steady. Offline: blinking. Alarm: fast blinking, then back to the link's state."""
    hardware.set_online(True)
    assert mock_factory.pin(PINS["online"]).state is True
    assert await toggles(mock_factory, PINS["online"], 0.3) == 0
    hardware.set_online(False)
    assert await toggles(mock_factory, PINS["online"], 1.2) >= 2
    hardware.alarm()
    assert await toggles(mock_factory, PINS["online"], 0.5) >= 4
    hardware.set_online(True)  # remembered, shown when the alarm ends
    hardware.end_alarm()
    assert mock_factory.pin(PINS["online"]).state is True


async def test_buzzer_beeps_twice_on_refusal(mock_factory, hardware):
    """A refusal is two short beeps on the buzzer pin."""
    buzzer = mock_factory.pin(PINS["buzzer"])
    buzzer.clear_states()
    hardware.refuse()
    await wait_for(lambda: [s.state for s in buzzer.states][1:] == [True, False, True, False], what="two beeps")


def test_busy_led(mock_factory, hardware):
    """The busy LED follows set_busy."""
    hardware.set_busy(True)
    assert mock_factory.pin(PINS["busy"]).state is True
    hardware.set_busy(False)
    assert mock_factory.pin(PINS["busy"]).state is False


async def test_button_edges_reach_the_loop_from_gpiozero_threads(mock_factory, hardware):
    """A press on another thread arrives on the asyncio loop as (button, pressed, time) edges."""
    loop = asyncio.get_running_loop()
    edges: list[tuple[str, bool, float, bool]] = []
    hardware.attach(loop, lambda name, pressed, at: edges.append(
        (name, pressed, at, threading.current_thread() is threading.main_thread())))
    thread = threading.Thread(target=press, args=(mock_factory, PINS["buttons"]["no_show"]))
    thread.start()
    await asyncio.to_thread(thread.join)
    await wait_for(lambda: len(edges) == 2, what="two edges")
    assert [(name, pressed, on_loop) for name, pressed, _, on_loop in edges] == [
        ("no_show", True, True), ("no_show", False, True)]
    assert edges[0][2] <= edges[1][2]
    hardware.detach()
    press(mock_factory, PINS["buttons"]["no_show"])
    await asyncio.sleep(0)
    assert len(edges) == 2
