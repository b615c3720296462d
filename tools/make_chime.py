"""Generate ``chime.wav``: a soft two-tone "ding-dong" (E5 then C5), 1 s, 22050 Hz mono 16-bit.

Run once, commit the WAV: ``python tools/make_chime.py``. Standard library only.
"""

import math
import wave
from array import array
from pathlib import Path

RATE = 22050
DURATION_S = 1.0
TONES = ((659.25, 0.00), (523.25, 0.42))  # (frequency Hz, start s): ding, dong
PARTIALS = ((1.0, 1.0), (2.0, 0.28), (3.0, 0.08))  # (multiple, relative amplitude): a bell-ish timbre
PEAK = 0.45  # of full scale: pleasant, not startling; the announcer scales it by the site volume


def sample(t: float) -> float:
    value = 0.0
    for frequency, start in TONES:
        local = t - start
        if local < 0:
            continue
        attack = min(1.0, local / 0.008)  # 8 ms attack: no click
        decay = math.exp(-local * 4.2)
        value += attack * decay * sum(a * math.sin(2 * math.pi * frequency * m * local) for m, a in PARTIALS)
    fade_out = min(1.0, (DURATION_S - t) / 0.05)  # the last 50 ms fade to silence
    return value * fade_out / sum(a for _, a in PARTIALS)


def main() -> None:
    count = int(RATE * DURATION_S)
    raw = [sample(i / RATE) for i in range(count)]
    scale = PEAK * 32767 / max(abs(v) for v in raw)
    frames = array("h", (int(round(v * scale)) for v in raw))
    path = Path(__file__).resolve().parents[1] / "announcer" / "sounds" / "chime.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames.tobytes())
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
