"""Every error the counter pad raises on purpose (one module, like gpiozero's ``exc.py``).

Only :class:`ConfigError` and its subclasses stop the pad: they mean a person has to fix the
configuration (a pin used twice, an unknown counter, a bad token). Everything else — the server down,
Redis unreachable, a refused command — is survived.
"""

from __future__ import annotations

__all__ = ["PadError", "ConfigError", "PinConflict", "UnknownSite", "UnknownCounter", "BadToken"]


class PadError(Exception):
    """Base of every counter pad error."""


class ConfigError(PadError, ValueError):
    """The pad's configuration is wrong; the pad cannot run until a person fixes it."""


class PinConflict(ConfigError):
    """A GPIO pin is given to two devices, or cannot be used at all."""


class UnknownSite(ConfigError, LookupError):
    """The configured site does not exist on the qserver."""


class UnknownCounter(ConfigError, LookupError):
    """The configured counter is not a counter of the site."""


class BadToken(ConfigError, PermissionError):
    """The token is unknown to qserver (401) or not allowed to work this counter (403)."""
