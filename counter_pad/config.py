"""The pad's TOML configuration: which GPIO pin does what, and how to reach qserver.

``load_config(path, overrides)`` reads the file, applies command-line overrides and validates every
value; a mistake raises :class:`~counter_pad.exceptions.ConfigError` naming the key and the value
(``buttons.recall: pin 5 is already used by buttons.call_next``). Pins are BCM GPIO numbers (``17``
or ``"GPIO17"``). See ``pad.example.toml`` and ``docs/counter-pad.md``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .exceptions import ConfigError, PinConflict

__all__ = [
    "BUTTONS", "BUTTON_ACTIONS", "ButtonsConfig", "DisplayConfig", "LedsConfig", "BuzzerConfig",
    "PadConfig", "load_config", "parse_config",
]

#: The five buttons, in their order on the keypad, with the Vietnamese label printed on each.
BUTTONS = {
    "call_next": "Gọi tiếp",
    "recall": "Gọi lại",
    "no_show": "Vắng mặt",
    "complete": "Hoàn thành",
    "pause": "Tạm nghỉ/Tiếp tục",
}
#: The protocol action of each button; ``pause`` toggles between "pause" and "resume".
BUTTON_ACTIONS = {"call_next": "call-next", "recall": "recall", "no_show": "no-show", "complete": "complete"}

SEGMENT_NAMES = ("a", "b", "c", "d", "e", "f", "g")
GPIO_MAX = 27  # the 40-pin header exposes BCM GPIO 0..27
DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class ButtonsConfig:
    pins: Mapping[str, int]
    pull_up: bool = True            # button wired to GND (internal pull-up); False: to 3V3 (pull-down)
    bounce_time_s: float = 0.03     # contact chatter filtered by the GPIO driver
    repeat_guard_s: float = 1.0     # a second press of one button within this is the same press


@dataclass(frozen=True)
class DisplayConfig:
    segments: tuple[int, ...]       # a, b, c, d, e, f, g
    digits: tuple[int, ...]         # digit-select pins, leftmost first
    dp: int | None = None
    segments_active_high: bool = True    # True: common cathode (segment lit = pin high); False: common anode
    digits_active_high: bool = True      # True: NPN low-side digit drivers (on = pin high); False: PNP high-side
    blink_s: float = 3.0            # how long the number blinks after a call


@dataclass(frozen=True)
class LedsConfig:
    online: int
    busy: int
    active_high: bool = True


@dataclass(frozen=True)
class BuzzerConfig:
    pin: int
    active_high: bool = True


@dataclass(frozen=True)
class PadConfig:
    url: str
    site: str
    counter: str
    token: str = field(repr=False)
    buttons: ButtonsConfig
    display: DisplayConfig
    leds: LedsConfig
    buzzer: BuzzerConfig | None = None
    offline_grace_s: float = 10.0   # a press made offline is sent if the link is back within this

    def pins(self) -> dict[str, int]:
        """Every pin in use, by the config key that names it."""
        return _pins_in_use(self.buttons, self.display, self.leds, self.buzzer)


def load_config(path: str | Path | None, overrides: Mapping[str, Any] | None = None) -> PadConfig:
    """Read and validate a pad's TOML file; ``overrides`` (url, site, counter, token) win over it."""
    data: dict[str, Any] = {}
    base_dir = Path.cwd()
    if path is not None:
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file '{path}' does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file '{path}' is not valid TOML: {exc}") from exc
        base_dir = path.parent
    return parse_config(data, overrides=overrides, base_dir=base_dir)


def parse_config(data: Mapping[str, Any], *, overrides: Mapping[str, Any] | None = None,
                 base_dir: Path | None = None) -> PadConfig:
    """Validate an already-parsed TOML mapping (see :func:`load_config`)."""
    _known_keys(data, "", {"qserver", "buttons", "display", "leds", "buzzer", "pad"})
    server = _table(data, "qserver")
    _known_keys(server, "qserver.", {"url", "site", "counter", "token", "token_file"})
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}

    url = str(overrides.get("url", server.get("url", DEFAULT_URL)))
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ConfigError(f"qserver.url: '{url}' is not an http:// or https:// address")
    site = overrides.get("site", server.get("site"))
    if not isinstance(site, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", site):
        raise ConfigError(f"qserver.site: {site!r} is not a site slug (give --site or qserver.site)")
    counter = overrides.get("counter", server.get("counter"))
    if isinstance(counter, int) and not isinstance(counter, bool):
        counter = str(counter)
    if not isinstance(counter, str) or not counter.strip():
        raise ConfigError(f"qserver.counter: {counter!r} is not a counter id (give --counter or qserver.counter)")
    token = _token(server, overrides, base_dir or Path.cwd())

    buttons = _buttons(_table(data, "buttons"))
    display = _display(_table(data, "display"))
    leds = _leds(_table(data, "leds"))
    buzzer = _buzzer(data["buzzer"]) if "buzzer" in data else None
    pad = _table(data, "pad", required=False)
    _known_keys(pad, "pad.", {"offline_grace_s"})
    grace = _seconds(pad, "pad.", "offline_grace_s", 10.0)
    _pins_in_use(buttons, display, leds, buzzer)  # raises PinConflict for a pin used twice
    return PadConfig(url=url.rstrip("/"), site=site, counter=counter.strip(), token=token, buttons=buttons,
                     display=display, leds=leds, buzzer=buzzer, offline_grace_s=grace)


# -- sections --------------------------------------------------------------------------------------
def _buttons(table: Mapping[str, Any]) -> ButtonsConfig:
    _known_keys(table, "buttons.", set(BUTTONS) | {"pull_up", "bounce_time_s", "repeat_guard_s"})
    pins = {name: _pin(table, "buttons.", name) for name in BUTTONS}
    return ButtonsConfig(pins=pins, pull_up=_bool(table, "buttons.", "pull_up", True),
                         bounce_time_s=_seconds(table, "buttons.", "bounce_time_s", 0.03),
                         repeat_guard_s=_seconds(table, "buttons.", "repeat_guard_s", 1.0))


def _display(table: Mapping[str, Any]) -> DisplayConfig:
    _known_keys(table, "display.", {"segments", "digits", "dp", "segments_active_high",
                                    "digits_active_high", "blink_s"})
    segments = _pin_list(table, "display.", "segments")
    if len(segments) != len(SEGMENT_NAMES):
        raise ConfigError(f"display.segments: 7 pins expected (a b c d e f g), got {len(segments)}")
    digits = _pin_list(table, "display.", "digits")
    if not 1 <= len(digits) <= 8:
        raise ConfigError(f"display.digits: 1 to 8 digit-select pins expected, got {len(digits)}")
    dp = _pin(table, "display.", "dp") if "dp" in table else None
    return DisplayConfig(segments=segments, digits=digits, dp=dp,
                         segments_active_high=_bool(table, "display.", "segments_active_high", True),
                         digits_active_high=_bool(table, "display.", "digits_active_high", True),
                         blink_s=_seconds(table, "display.", "blink_s", 3.0))


def _leds(table: Mapping[str, Any]) -> LedsConfig:
    _known_keys(table, "leds.", {"online", "busy", "active_high"})
    return LedsConfig(online=_pin(table, "leds.", "online"), busy=_pin(table, "leds.", "busy"),
                      active_high=_bool(table, "leds.", "active_high", True))


def _buzzer(table: Any) -> BuzzerConfig:
    if not isinstance(table, Mapping):
        raise ConfigError(f"buzzer: a table is expected, got {table!r}")
    _known_keys(table, "buzzer.", {"pin", "active_high"})
    return BuzzerConfig(pin=_pin(table, "buzzer.", "pin"), active_high=_bool(table, "buzzer.", "active_high", True))


def _token(server: Mapping[str, Any], overrides: Mapping[str, Any], base_dir: Path) -> str:
    if "token" in overrides:
        token = overrides["token"]
    elif "token" in server and "token_file" in server:
        raise ConfigError("qserver: give either token or token_file, not both")
    elif "token_file" in server:
        path = Path(str(server["token_file"]))
        path = path if path.is_absolute() else base_dir / path
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"qserver.token_file: cannot read '{path}': {exc.strerror or exc}") from exc
    else:
        token = server.get("token")
    if not isinstance(token, str) or not token.strip():
        raise ConfigError("qserver.token: an officer token for this counter is required "
                          "(qserver.token, qserver.token_file or --token)")
    return token.strip()


def _pins_in_use(buttons: ButtonsConfig, display: DisplayConfig, leds: LedsConfig,
                 buzzer: BuzzerConfig | None) -> dict[str, int]:
    named = [(f"buttons.{name}", pin) for name, pin in buttons.pins.items()]
    named += [(f"display.segments[{i}] ({SEGMENT_NAMES[i]})", pin) for i, pin in enumerate(display.segments)]
    if display.dp is not None:
        named.append(("display.dp", display.dp))
    named += [(f"display.digits[{i}]", pin) for i, pin in enumerate(display.digits)]
    named += [("leds.online", leds.online), ("leds.busy", leds.busy)]
    if buzzer is not None:
        named.append(("buzzer.pin", buzzer.pin))
    used: dict[int, str] = {}
    for key, pin in named:
        if pin in used:
            raise PinConflict(f"{key}: GPIO{pin} is already used by {used[pin]}")
        used[pin] = key
    return {key: pin for key, pin in named}


# -- values ----------------------------------------------------------------------------------------
def _table(data: Mapping[str, Any], name: str, required: bool = True) -> Mapping[str, Any]:
    table = data.get(name)
    if table is None:
        if required:
            raise ConfigError(f"[{name}] section is missing")
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{name}: a table is expected, got {table!r}")
    return table


def _known_keys(table: Mapping[str, Any], prefix: str, known: set[str]) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"unknown key '{prefix}{key}' (known: {', '.join(sorted(known))})")


def _pin(table: Mapping[str, Any], prefix: str, key: str) -> int:
    if key not in table:
        raise ConfigError(f"{prefix}{key}: a GPIO pin is required")
    return _pin_value(table[key], f"{prefix}{key}")


def _pin_value(value: Any, where: str) -> int:
    if isinstance(value, str):
        match = re.fullmatch(r"(?:GPIO|BCM)(\d+)", value.strip().upper())
        if match is None:
            raise ConfigError(f"{where}: {value!r} is not a BCM GPIO pin (write 17 or \"GPIO17\")")
        value = int(match.group(1))
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= GPIO_MAX:
        raise ConfigError(f"{where}: {value!r} is not a BCM GPIO pin number (0..{GPIO_MAX})")
    return value


def _pin_list(table: Mapping[str, Any], prefix: str, key: str) -> tuple[int, ...]:
    value = table.get(key)
    if not isinstance(value, list):
        raise ConfigError(f"{prefix}{key}: a list of GPIO pins is required, got {value!r}")
    return tuple(_pin_value(v, f"{prefix}{key}[{i}]") for i, v in enumerate(value))


def _bool(table: Mapping[str, Any], prefix: str, key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{prefix}{key}: true or false expected, got {value!r}")
    return value


def _seconds(table: Mapping[str, Any], prefix: str, key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
        raise ConfigError(f"{prefix}{key}: a number of seconds (0..3600) expected, got {value!r}")
    return float(value)
