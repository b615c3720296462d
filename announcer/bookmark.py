"""The id of the last call this announcer spoke, kept in a file, so a restarted announcer resumes with
``since`` and speaks the calls made while it was down (those still fresh enough) — and none twice."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from qserver.protocol import parse_stream_id

__all__ = ["Bookmark"]

logger = logging.getLogger(__name__)


class Bookmark:
    """A one-line file holding a stream event id; writes are atomic (a crash leaves the old or the new)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._current: str | None = None

    def load(self) -> str | None:
        try:
            text = self.path.read_text().strip()
            parse_stream_id(text)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("ignoring the unreadable bookmark %s: %s", self.path, exc)
            return None
        self._current = text
        return text

    def advance(self, event_ids) -> None:
        """Remember the newest of ``event_ids`` (stream ids only) if it is newer than the stored one."""
        ids = [e for e in event_ids if _is_event_id(e)]
        if not ids:
            return
        newest = max(ids, key=parse_stream_id)
        if self._current is not None and parse_stream_id(newest) <= parse_stream_id(self._current):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(newest + "\n")
            os.replace(temporary, self.path)
            self._current = newest
        except OSError as exc:  # a read-only disk must not silence the hall
            logger.warning("cannot write the bookmark %s: %s", self.path, exc)


def _is_event_id(text: str | None) -> bool:
    try:
        parse_stream_id(text or "")
    except ValueError:
        return False
    return True

