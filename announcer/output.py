"""Where a rendered announcement goes: the hall speakers (a play command) or a folder of WAV files.

The play command is split like a shell would (``shlex``) but never run through a shell. Its words may
contain ``{file}`` and ``{device}``; without ``{file}`` the WAV path is appended. ``--device NAME``
becomes ``-D NAME`` for ``aplay``; any other player must say where the device goes with ``{device}``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .exc import ConfigurationError, PlaybackError
from .queue import Announcement

__all__ = ["DEFAULT_PLAY_COMMAND", "Player", "WavFolder"]

logger = logging.getLogger(__name__)

DEFAULT_PLAY_COMMAND = "aplay -q"


class Player:
    """Plays each announcement through a command, waits for it and checks its exit code."""

    def __init__(self, command: str = DEFAULT_PLAY_COMMAND, device: str | None = None, *,
                 margin_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise ConfigurationError(f"play command {command!r} does not parse: {exc}") from exc
        if not words:
            raise ConfigurationError("the play command is empty")
        if device is not None and not any("{device}" in w for w in words):
            if Path(words[0]).name != "aplay":
                raise ConfigurationError(f"--device needs aplay or a {{device}} placeholder in the play command "
                                         f"{command!r}")
            words[1:1] = ["-D", "{device}"]
        if device is None and any("{device}" in w for w in words):
            raise ConfigurationError(f"the play command {command!r} uses {{device}} but no --device was given")
        if not any("{file}" in w for w in words):
            words.append("{file}")
        if shutil.which(words[0]) is None:
            raise ConfigurationError(f"play program {words[0]!r} is not installed")
        self.words, self.device, self.margin_s, self.clock = words, device, margin_s, clock
        self._scratch = tempfile.TemporaryDirectory(prefix="announcer-play-")
        self._count = itertools.count(1)

    def argv(self, path: Path) -> list[str]:
        """The command line that plays ``path``."""
        return [w.replace("{file}", str(path)).replace("{device}", self.device or "") for w in self.words]

    def prepare(self, announcement: Announcement) -> Path:
        """A scratch path to render the announcement into."""
        return Path(self._scratch.name) / f"{next(self._count):06d}.wav"

    async def deliver(self, path: Path, announcement: Announcement, duration_s: float,
                      on_start: Callable[[float], None] | None = None) -> None:
        """Play ``path`` to the end; :class:`PlaybackError` when the command fails or hangs."""
        argv = self.argv(path)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE)
        except OSError as exc:
            raise PlaybackError(f"cannot start {argv[0]!r}: {exc}") from exc
        if on_start is not None:
            on_start(self.clock())
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), duration_s + self.margin_s)
        except TimeoutError as exc:
            process.kill()
            await process.wait()
            raise PlaybackError(f"{argv[0]} still playing {duration_s + self.margin_s:.0f} s later; killed") from exc
        except asyncio.CancelledError:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
        finally:
            path.unlink(missing_ok=True)
        if process.returncode != 0:
            detail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise PlaybackError(f"{argv[0]} exited with {process.returncode}: {detail[0]}")

    def discard(self, path: Path) -> None:
        """Forget a failed announcement's file."""
        path.unlink(missing_ok=True)

    def close(self) -> None:
        self._scratch.cleanup()


class WavFolder:
    """Writes each announcement into a folder instead of playing it (tests, halls with their own PA).

    Each announcement is ``<YYYYmmdd-HHMMSS>-<seq>-<number>-q<counter>[...].wav``, preceded by a JSON
    file of the same name (``text``, ``event_ids``, ``numbers``, ``counters``, ``repeat``): a reader
    watching for ``*.wav`` finds the description already there. The WAV appears atomically.
    """

    def __init__(self, folder: str | Path, *, clock: Callable[[], float] = time.monotonic):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(f"cannot use {str(folder)!r} as the WAV folder: {exc.strerror}") from exc
        self.clock = clock
        self._count = itertools.count(1)

    def prepare(self, announcement: Announcement) -> Path:
        calls = "_".join(f"{c.number}-q{c.counter}" for c in announcement.calls)
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._count):04d}-{calls}"
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem)
        description = {
            "text": announcement.text, "event_ids": list(announcement.event_ids),
            "numbers": list(announcement.numbers), "counters": [c.counter for c in announcement.calls],
            "recall": [c.recall for c in announcement.calls], "repeat": announcement.repeat,
        }
        (self.folder / f"{stem}.json").write_text(json.dumps(description, ensure_ascii=False, indent=1) + "\n",
                                                   encoding="utf-8")
        return self.folder / f"{stem}.wav"

    async def deliver(self, path: Path, announcement: Announcement, duration_s: float,
                      on_start: Callable[[float], None] | None = None) -> None:
        """Nothing to play: the file is the product ("playback" starts when it is ready)."""
        if on_start is not None:
            on_start(self.clock())
        logger.info("wrote %s (%.1f s)", path.name, duration_s)

    def discard(self, path: Path) -> None:
        """Remove a failed announcement's files (its description and any partial WAV)."""
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)

    def close(self) -> None:
        pass
