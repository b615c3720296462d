"""Helpers of the announcer's tests: a fake clock, a recording speech engine, frames like qserver's."""

from __future__ import annotations

import datetime as dt
import threading
from array import array
from pathlib import Path

import config
from announcer import audio
from announcer.exc import SpeechError
from announcer.speech import VoiceInfo

T0 = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))


COUNTER_FLOORS = {c.id: c.floor for c in config.load_sites()["cantho"].counters}


class FakeClock:
    """Epoch seconds that move only when told."""

    def __init__(self, start: float = T0.timestamp()):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingEngine:
    """A speech engine that records every text it is given and writes silence as long as the text.

    ``fail_on`` makes the texts containing it fail; ``gate`` (a threading.Event) holds synthesis
    until set, so a test can prove that nothing else runs meanwhile.
    """

    name = "recording"

    def __init__(self, fail_on: str | None = None, gate: threading.Event | None = None):
        self.voice = VoiceInfo("fake/vi", "Fake", ("vi",))
        self.texts: list[str] = []
        self.threads: set[int] = set()
        self.fail_on, self.gate = fail_on, gate
        self.active = self.max_active = 0
        self.opened = self.closed = False

    def open(self) -> None:
        self.opened = True

    def synthesize(self, text: str, path: Path) -> None:
        self.threads.add(threading.get_ident())
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.gate is not None:
                self.gate.wait(10)
            self.texts.append(text)
            if self.fail_on and self.fail_on in text:
                raise SpeechError(f"fake failure on {text!r}")
            audio.write_wav(path, audio.Clip(array("h", bytes(2 * 100 * len(text))), 22050))
        finally:
            self.active -= 1

    def close(self) -> None:
        self.closed = True


def called(event_id: str, number: str, counter: str, *, floor: int | None = None,
           counter_floor: int | None = None, recall: bool = False, at: dt.datetime | None = None,
           agency: str = "so-tu-phap") -> dict:
    """A ``called`` frame shaped as docs/protocol-notes.md describes."""
    counter_floor = COUNTER_FLOORS.get(counter, 1) if counter_floor is None else counter_floor
    floor = counter_floor if floor is None else floor
    at = at or T0
    ticket_id = f"20261124-{number}"
    ticket = {"id": ticket_id, "number": number, "site": "cantho", "agency": agency, "agency_name": "Sở Tư pháp",
              "floor": floor, "priority": None, "status": "called", "issued_at": at.isoformat(),
              "called_at": at.isoformat(), "done_at": None, "counter": counter, "outcome": None,
              "ahead": 0, "eta_s": 0, "track_url": f"/t/cantho/{ticket_id}", "recalls": int(recall)}
    return {"type": "called", "event_id": event_id, "at": at.isoformat(), "ticket": ticket, "counter": counter,
            "floor": floor, "counter_floor": counter_floor, "agency": agency, "recall": recall}
