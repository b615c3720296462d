"""Fixtures for the counter pad: gpiozero's MockFactory (as in gpiozero's own tests), a pad config and the
hardware on mock pins (helpers in :mod:`tests.support.pad`)."""

from __future__ import annotations

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from counter_pad.config import parse_config
from counter_pad.hardware import PadHardware
from tests.support.pad import config_data


@pytest.fixture
def mock_factory():
    """gpiozero's MockFactory as the default factory (LEDMultiCharDisplay asks for the default one)."""
    saved = Device.pin_factory
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        if Device.pin_factory is not None:
            Device.pin_factory.reset()
        Device.pin_factory = saved


@pytest.fixture
def pad_config():
    return parse_config(config_data())


@pytest.fixture
def hardware(mock_factory, pad_config):
    hw = PadHardware(pad_config, pin_factory=mock_factory)
    yield hw
    hw.close()
