"""The physical counter keypad: gpiozero buttons, LEDs and a 7-segment display talking to qserver.

Run it with ``counter-pad`` (:mod:`counter_pad.cli`); wiring and behaviour: docs/counter-pad.md.
It depends only on qserver's public protocol (``qserver.protocol``), like any third-party device.
"""

from .config import PadConfig, load_config
from .exceptions import BadToken, ConfigError, PadError, PinConflict, UnknownCounter, UnknownSite
from .hardware import PadHardware
from .pad import Pad

__all__ = [
    "Pad", "PadHardware", "PadConfig", "load_config",
    "PadError", "ConfigError", "PinConflict", "UnknownSite", "UnknownCounter", "BadToken",
]
