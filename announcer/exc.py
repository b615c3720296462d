"""The announcer's exceptions: configuration problems stop it at start-up, speech problems do not."""

from __future__ import annotations

__all__ = [
    "AnnouncerError", "ConfigurationError", "UnknownSite", "UnknownFloor", "UnknownVoice",
    "SpeechError", "PlaybackError",
]


class AnnouncerError(Exception):
    """Base class of every error the announcer raises on purpose."""


class ConfigurationError(AnnouncerError, ValueError):
    """A setting that makes the announcer unusable; the CLI exits with a clear message."""


class UnknownSite(ConfigurationError, LookupError):
    """The ``--site`` slug is not in the loaded site configuration."""


class UnknownFloor(ConfigurationError, LookupError):
    """The ``--floor`` number is not one of the site's floors."""


class UnknownVoice(ConfigurationError, LookupError):
    """The speech engine has no voice of that name (pyttsx3 would silently keep its default)."""


class SpeechError(AnnouncerError, RuntimeError):
    """One announcement could not be synthesised; the announcer logs it and goes on."""


class PlaybackError(SpeechError):
    """The play command failed (non-zero exit, not found, too slow); logged, the announcer goes on."""
