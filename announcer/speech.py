"""The speech seam: a text-to-WAV engine owned by one worker thread, and the speaker that uses it.

Engines (``synthesize(text, path)`` writes one WAV):

- :class:`EspeakNgEngine`, the default: the ``espeak-ng -w FILE`` binary, one short subprocess per
  sentence. The file is complete when the process exits, and its exit code says whether it worked.
- :class:`Pyttsx3Engine` (``--engine pyttsx3``): ``pyttsx3.init("espeak")``. Its espeak driver is
  process-wide (espeak is initialised once per process, two threads at once raise "run loop already
  started"), so a lock allows one open engine per process and only the speaker's worker thread
  calls it. pyttsx3 2.99 does several things quietly, handled here: an unknown voice is ignored
  (we resolve the name against the engine's voice list first and check the voice in force after
  the first synthesis); ``runAndWait`` returns when espeak *starts* (it synthesises on its own
  thread), so we wait for the "finished-utterance" notification and then for a complete WAV; a
  failed synthesis writes no file and raises nothing (we check the file); ``save_to_file`` prints
  "Audio saved to ..." on stdout (sent to the debug log instead). Even so, with calls back to back
  under load about one sentence in ten never got its file (bench/announcer.py; docs/announcer.md),
  which is why the binary is the default.

:class:`Speaker` renders an announcement — chime, then the sentence ``repeat`` times with a pause
between — into one WAV, so playing it is a single command and two calls can never overlap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import logging
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import audio
from .exc import ConfigurationError, SpeechError, UnknownVoice

__all__ = [
    "ENGINES", "EspeakNgEngine", "Pyttsx3Engine", "SpeechEngine", "Speaker", "VoiceInfo",
    "make_engine", "resolve_voice",
]

logger = logging.getLogger(__name__)

_PYTTSX3_LOCK = threading.Lock()


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers: ``id`` such as "aav/vi-vn-x-south"."""

    id: str
    name: str = ""
    languages: tuple[str, ...] = ()

    def matches(self, requested: str) -> bool:
        wanted = requested.strip().lower()
        return wanted in {self.id.lower(), self.id.rsplit("/", 1)[-1].lower(), self.name.lower(),
                          self.name.lower().replace(" ", "_"), *(lang.lower() for lang in self.languages)}


def resolve_voice(requested: str, voices: Sequence[VoiceInfo]) -> VoiceInfo:
    """The voice called ``requested`` (id, short id, name or language), or :class:`UnknownVoice`."""
    for voice in voices:
        if voice.matches(requested):
            return voice
    vietnamese = [v.id.rsplit("/", 1)[-1] for v in voices if any(l.startswith("vi") for l in v.languages)]
    hint = f" (Vietnamese voices here: {', '.join(vietnamese)})" if vietnamese else " (no Vietnamese voice installed)"
    raise UnknownVoice(f"voice {requested!r} is not installed for the speech engine{hint}")


class SpeechEngine(Protocol):
    """Turns text into a WAV file. ``open``, ``synthesize`` and ``close`` run on one thread."""

    name: str
    voice: VoiceInfo | None

    def open(self) -> None: ...
    def synthesize(self, text: str, path: Path) -> None: ...
    def close(self) -> None: ...


class Pyttsx3Engine:
    """pyttsx3 with its espeak(-ng) driver."""

    name = "pyttsx3"

    def __init__(self, voice: str, rate: int = 150, volume: float = 1.0):
        self.requested, self.rate, self.volume = voice, rate, volume
        self.voice: VoiceInfo | None = None
        self.synthesis_timeout_s = 10.0
        self.file_timeout_s = 2.0
        self._engine = None
        self._finished = threading.Event()
        self._checked = False

    def open(self) -> None:
        if not _PYTTSX3_LOCK.acquire(blocking=False):
            raise SpeechError("pyttsx3's espeak driver is process-wide: only one speaker per process")
        try:
            import pyttsx3

            self._engine = pyttsx3.init("espeak")
            voices = [VoiceInfo(v.id, v.name or "", tuple(v.languages or ()))
                      for v in self._engine.getProperty("voices")]
            self.voice = resolve_voice(self.requested, voices)
            self._finished = threading.Event()
            self._engine.connect("finished-utterance", lambda **_: self._finished.set())
        except BaseException:
            self._engine = None
            _PYTTSX3_LOCK.release()
            raise

    def synthesize(self, text: str, path: Path) -> None:
        if self._engine is None:
            raise SpeechError("the pyttsx3 engine is not open")
        engine = self._engine
        # Properties are queued commands applied inside runAndWait, so they go with every sentence
        # (runAndWait with nothing to say never returns in pyttsx3 2.99's espeak driver).
        engine.setProperty("voice", self.voice.id)
        engine.setProperty("rate", self.rate)
        engine.setProperty("volume", self.volume)
        engine.save_to_file(text, str(path))
        self._finished.clear()
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stdout(chatter):
                engine.runAndWait()
                # pyttsx3 2.99's espeak driver returns from runAndWait as soon as espeak *starts*
                # (espeak synthesises on its own thread); the file is written just before the
                # "finished-utterance" notification, so wait for that.
                finished = self._finished.wait(self.synthesis_timeout_s)
        except Exception as exc:
            raise SpeechError(f"pyttsx3 failed on {text!r}: {exc}") from exc
        finally:
            if chatter.getvalue().strip():
                logger.debug("pyttsx3: %s", chatter.getvalue().strip())
        if not finished:
            raise SpeechError(f"pyttsx3 did not finish {text!r} within {self.synthesis_timeout_s:.0f} s")
        if not self._checked:
            current = engine.getProperty("voice")
            if current != self.voice.id:
                raise UnknownVoice(f"pyttsx3 kept voice {current!r} instead of {self.voice.id!r}")
            self._checked = True
        # Even after "finished-utterance" the file is sometimes not there yet (seen in about one
        # sentence in ten under load, visible a moment later): wait until it is a complete WAV.
        if not _wait_for_wav(path, self.file_timeout_s):
            raise SpeechError(f"pyttsx3 wrote no audio for {text!r}")

    def close(self) -> None:
        if self._engine is not None:
            self._engine = None
            _PYTTSX3_LOCK.release()


def _wait_for_wav(path: Path, timeout_s: float) -> bool:
    """Wait until ``path`` is a readable WAV with frames (Python's ``wave`` patches the frame count
    into the header only after writing the data, so frames > 0 means complete)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with wave.open(str(path), "rb") as wav:
                if wav.getnframes() > 0:
                    return True
        except (OSError, EOFError, wave.Error):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


class EspeakNgEngine:
    """The ``espeak-ng`` command line, ``-w FILE``, text on standard input."""

    name = "espeak-ng"
    _VOICE_LINE = re.compile(r"^\s*\d+\s+(\S+)\s+\S+\s+(\S+)\s+(\S+)(?:\s+(.*))?$")

    def __init__(self, voice: str, rate: int = 150, volume: float = 1.0, *, binary: str = "espeak-ng",
                 timeout_s: float = 15.0):
        self.requested, self.rate, self.volume = voice, rate, volume
        self.binary, self.timeout_s = binary, timeout_s
        self.voice: VoiceInfo | None = None

    def open(self) -> None:
        program = shutil.which(self.binary)
        if program is None:
            raise ConfigurationError(f"speech program {self.binary!r} is not installed")
        self.binary = program
        listing = subprocess.run([program, "--voices"], capture_output=True, text=True, timeout=self.timeout_s)
        voices = []
        for line in listing.stdout.splitlines()[1:]:
            match = self._VOICE_LINE.match(line)
            if match:
                language, name, file = match.group(1), match.group(2), match.group(3)
                voices.append(VoiceInfo(file.lower(), name.replace("_", " "), (language,)))
        self.voice = resolve_voice(self.requested, voices)

    def synthesize(self, text: str, path: Path) -> None:
        argv = [self.binary, "-v", self.voice.id.rsplit("/", 1)[-1], "-s", str(self.rate),
                "-a", str(round(self.volume * 100)), "-w", str(path), "--stdin"]
        try:
            done = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeechError(f"espeak-ng failed on {text!r}: {exc}") from exc
        if done.returncode != 0:
            raise SpeechError(f"espeak-ng exited with {done.returncode} on {text!r}: "
                              f"{done.stderr.decode(errors='replace').strip()}")
        if not path.exists() or path.stat().st_size <= 44:
            raise SpeechError(f"espeak-ng wrote no audio for {text!r}")

    def close(self) -> None:
        pass


ENGINES: dict[str, Callable[..., SpeechEngine]] = {"pyttsx3": Pyttsx3Engine, "espeak-ng": EspeakNgEngine}


def make_engine(kind: str, voice: str, rate: int, volume: float) -> SpeechEngine:
    """An engine by name (``pyttsx3`` or ``espeak-ng``)."""
    try:
        factory = ENGINES[kind]
    except KeyError:
        raise ConfigurationError(f"speech engine {kind!r} is not one of {', '.join(ENGINES)}") from None
    return factory(voice, rate, volume)


class Speaker:
    """Owns a :class:`SpeechEngine` on one worker thread and renders announcements to WAV files."""

    def __init__(self, engine: SpeechEngine, *, chime: audio.Clip | None = None, volume: float = 1.0,
                 gap_s: float = 0.8, timeout_s: float = 20.0):
        self.engine = engine
        self.chime = chime.scaled(volume) if chime is not None else None
        self.gap_s, self.timeout_s = gap_s, timeout_s
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._scratch = tempfile.TemporaryDirectory(prefix="announcer-")

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread and open the engine there; raises what opening raised."""
        if self._thread is not None:
            return
        opened: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._work, args=(opened,), name="announcer-speech", daemon=True)
        self._thread.start()
        try:
            opened.result(timeout=self.timeout_s)
        except BaseException:
            self._thread.join(timeout=self.timeout_s)
            self._thread = None
            raise

    def close(self) -> None:
        """Stop the worker thread (after the job in hand) and close the engine."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=self.timeout_s)
            self._thread = None
        self._scratch.cleanup()

    def _work(self, opened: concurrent.futures.Future) -> None:
        try:
            self.engine.open()
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(None)
        try:
            while (job := self._jobs.get()) is not None:
                function, args, future = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(function(*args))
                except BaseException as exc:  # handed to the caller, never kills the thread
                    future.set_exception(exc)
        finally:
            self.engine.close()

    def _submit(self, function: Callable, *args) -> concurrent.futures.Future:
        if self._thread is None:
            raise SpeechError("the speaker is not started")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((function, args, future))
        return future

    # -- work --------------------------------------------------------------------------------------
    def render_sync(self, text: str, repeat: int, path: Path) -> float:
        """On the worker thread: chime + ``text`` × ``repeat`` into ``path``; returns its duration (s)."""
        scratch = Path(self._scratch.name) / "sentence.wav"
        scratch.unlink(missing_ok=True)
        self.engine.synthesize(text, scratch)
        try:
            sentence = audio.read_wav(scratch)
        except Exception as exc:  # OSError, EOFError, wave.Error, ValueError
            raise SpeechError(f"unreadable audio from {self.engine.name}: {exc}") from exc
        clips = [self.chime.at_rate(sentence.rate)] if self.chime is not None else []
        clips.append(sentence)
        for _ in range(repeat - 1):
            clips += [audio.silence(self.gap_s, sentence.rate), sentence]
        whole = audio.join(clips)
        audio.write_wav(path, whole)
        return whole.duration_s

    async def render(self, text: str, repeat: int, path: Path) -> float:
        """Render on the worker thread without blocking the event loop; :class:`SpeechError` on failure."""
        future = self._submit(self.render_sync, text, repeat, Path(path))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except TimeoutError as exc:
            raise SpeechError(f"{self.engine.name} took more than {self.timeout_s:.0f} s for {text!r}") from exc
        except SpeechError:
            raise
        except Exception as exc:
            raise SpeechError(f"{self.engine.name} failed on {text!r}: {exc}") from exc
