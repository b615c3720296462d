"""The hall voice: one process per floor speaks that floor's calls in Vietnamese, one at a time.

Pure core: :mod:`announcer.numbers` (Vietnamese readings), :mod:`announcer.sentence` (the sentence),
:mod:`announcer.calls` and :mod:`announcer.queue` (which calls, in which order, merged or dropped).
Adapters: :mod:`announcer.speech` (engine on one worker thread), :mod:`announcer.output` (play or
write WAV files), :mod:`announcer.service` (the loop), :mod:`announcer.cli` (``announcer``).
"""

from .calls import Call, announcing_floors, call_from_frame
from .exc import (AnnouncerError, ConfigurationError, PlaybackError, SpeechError, UnknownFloor, UnknownSite,
                  UnknownVoice)
from .numbers import read_digits, read_number, read_ticket_number
from .queue import Announcement, AnnouncementQueue
from .sentence import Wording

__all__ = [
    "Announcement", "AnnouncementQueue", "AnnouncerError", "Call", "ConfigurationError", "PlaybackError",
    "SpeechError", "UnknownFloor", "UnknownSite", "UnknownVoice", "Wording", "announcing_floors",
    "call_from_frame", "read_digits", "read_number", "read_ticket_number",
]
