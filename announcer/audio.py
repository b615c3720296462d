"""Small PCM helpers: read and write WAV files, silence, volume, joining clips — standard library only.

Everything is 16-bit mono; a clip at another rate is resampled linearly (espeak-ng speaks at 22050 Hz,
as does the shipped chime, so in practice nothing is resampled).
"""

from __future__ import annotations

import os
import sys
import tempfile
import wave
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["Clip", "chime", "join", "read_wav", "silence", "write_wav"]


@dataclass(frozen=True)
class Clip:
    """16-bit mono PCM samples at ``rate`` Hz."""

    samples: array
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate

    def scaled(self, factor: float) -> Clip:
        """The clip with its amplitude multiplied by ``factor`` (clipped to 16 bits)."""
        if factor == 1.0:
            return self
        return Clip(array("h", (max(-32768, min(32767, int(s * factor))) for s in self.samples)), self.rate)

    def at_rate(self, rate: int) -> Clip:
        """The clip resampled to ``rate`` Hz (linear interpolation)."""
        if rate == self.rate or not self.samples:
            return Clip(self.samples, rate)
        src, count = self.samples, int(len(self.samples) * rate / self.rate)
        step, last = self.rate / rate, len(src) - 1
        out = array("h", bytes(2 * count))
        for i in range(count):
            pos = i * step
            j = int(pos)
            frac = pos - j
            nxt = src[j + 1] if j < last else src[last]
            out[i] = int(src[j] + (nxt - src[j]) * frac)
        return Clip(out, rate)


def read_wav(path: str | Path) -> Clip:
    """A 16-bit PCM WAV file as a mono :class:`Clip` (stereo is averaged)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getcomptype() != "NONE":
            raise ValueError(f"{path}: only 16-bit PCM WAV files are supported")
        channels, rate = wav.getnchannels(), wav.getframerate()
        samples = array("h", wav.readframes(wav.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        samples = array("h", (sum(samples[i:i + channels]) // channels
                              for i in range(0, len(samples), channels)))
    return Clip(samples, rate)


def write_wav(path: str | Path, clip: Clip) -> Path:
    """Write ``clip`` atomically (a temporary file renamed into place): readers never see half a file."""
    path = Path(path)
    samples = clip.samples
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".wav.part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(clip.rate)
            wav.writeframes(samples.tobytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def silence(seconds: float, rate: int) -> Clip:
    """``seconds`` of silence."""
    return Clip(array("h", bytes(2 * int(seconds * rate))), rate)


def join(clips: Iterable[Clip]) -> Clip:
    """The clips one after the other, at the first clip's rate."""
    clips = list(clips)
    if not clips:
        raise ValueError("nothing to join")
    rate = clips[0].rate
    samples = array("h")
    for clip in clips:
        samples.extend(clip.at_rate(rate).samples)
    return Clip(samples, rate)


def chime() -> Clip:
    """The chime shipped with the package (``announcer/sounds/chime.wav``)."""
    with resources.as_file(resources.files("announcer").joinpath("sounds/chime.wav")) as path:
        return read_wav(path)
