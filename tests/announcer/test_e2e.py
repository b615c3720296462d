"""End to end: ``qserver run`` + ``announcer --wav-dir`` subprocesses, calls made over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import redis as sync_redis

from qserver.engine.keys import SiteKeys
from tests.support import TIMEOUT, ServerProcess, wait_until

SITE = "/api/v1/sites/cantho"


class AnnouncerProcess:
    """``announcer --wav-dir`` for one floor, as the floor PC runs it (minus the speakers)."""

    def __init__(self, server, floor: int, tmp_path: Path, *extra: str):
        self.floor = floor
        self.wav_dir = tmp_path / f"floor{floor}"
        self.log = tmp_path / f"announcer-floor{floor}.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "announcer.cli", "--url", server.base_url, "--site", "cantho",
                 "--floor", str(floor), "--wav-dir", str(self.wav_dir), "--log-level", "DEBUG", *extra],
                stdout=log, stderr=subprocess.STDOUT)
        self.wait_for_log("connected to", what=f"floor-{floor} announcer to connect")

    def wait_for_log(self, text: str, count: int = 1, timeout: float = TIMEOUT, what: str = "") -> None:
        def seen():
            if self.process.poll() is not None:
                raise RuntimeError(f"announcer exited: {self.log.read_text()[-2000:]}")
            return self.log.read_text(errors="replace").count(text) >= count
        wait_until(seen, timeout=timeout, what=what or text)

    def announcements(self) -> list[dict]:
        """The JSON descriptions of every WAV written so far, in order."""
        return [json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
                for wav in sorted(self.wav_dir.glob("*.wav"))]

    def spoken_numbers(self) -> list[str]:
        return [n for a in self.announcements() for n in a["numbers"]]

    def wait_for_numbers(self, *numbers: str, timeout: float = TIMEOUT) -> None:
        wait_until(lambda: set(numbers) <= set(self.spoken_numbers()), timeout=timeout,
                   what=f"floor {self.floor} to speak {numbers} (log: {self.log})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=TIMEOUT)


@pytest.fixture
def announcers(server, tmp_path):
    started = []

    def start(floor: int, *extra: str) -> AnnouncerProcess:
        process = AnnouncerProcess(server, floor, tmp_path, *extra)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
        assert process.process.returncode == 0, process.log.read_text()[-2000:]


def issue_and_call(server, agency: str, counter: str) -> str:
    """Issue a ticket at the kiosk and call it at ``counter``; the called ticket's number."""
    kiosk, officer = server.token("kiosk"), server.token("officer", [counter])
    issued = server.call("POST", f"{SITE}/tickets", kiosk, {"agency": agency})
    assert issued.status_code == 201, issued.text
    called = server.call("POST", f"{SITE}/counters/{counter}/call-next", officer)
    assert called.status_code == 200, called.text
    assert called.json()["number"] == issued.json()["number"]
    return called.json()["number"]


def test_call_is_spoken_on_its_floor_only(server, announcers):
    """A call made over HTTP is spoken (a valid WAV) by its floor's announcer, never by the other floor's."""
    first, ground = announcers(1), announcers(0)
    number = issue_and_call(server, "so-tu-phap", "33")
    first.wait_for_numbers(number)
    (spoken,) = first.announcements()
    assert spoken["text"] == "Mời công dân có số thứ tự vê không không một đến quầy số ba mươi ba"
    # The ground floor's own call comes after on the stream: once it is spoken, the floor-1 call
    # would have been spoken before it had it been announced there.
    ground_number = issue_and_call(server, "so-noi-vu", "12")
    ground.wait_for_numbers(ground_number)
    assert ground.spoken_numbers() == [ground_number]
    assert first.spoken_numbers() == [number]
    # The announcer acknowledged what it spoke: the server remembers its last ack.
    first.wait_for_log("announcing", 1)
    acks = sync_redis.Redis.from_url(server.redis_url)
    try:
        wait_until(lambda: acks.hget(SiteKeys("cantho").acks, "announcer-floor-1"), what="the ack")
        ack = json.loads(acks.hget(SiteKeys("cantho").acks, "announcer-floor-1"))
    finally:
        acks.close()
    assert ack["event_id"] == spoken["event_ids"][0]


def test_calls_made_while_the_server_was_away_are_spoken_once(server, announcers, redis_server, tmp_path):
    """After qserver stops and starts again, the calls made meanwhile (through another qserver on the
    same Redis) are spoken exactly once, and live calls go on."""
    first = announcers(1)
    before = issue_and_call(server, "so-tu-phap", "33")
    first.wait_for_numbers(before)
    server.stop()
    first.wait_for_log("offline from", what="the announcer to notice the server stopped")
    (tmp_path / "other").mkdir()
    other = ServerProcess(redis_server.url, tmp_path / "other")
    other.start()
    try:
        missed = [issue_and_call(other, "so-tu-phap", "34"), issue_and_call(other, "so-tu-phap", "35")]
    finally:
        other.close()
    server.start()
    first.wait_for_numbers(*missed, timeout=4 * TIMEOUT)  # the link's backoff may be a few seconds
    after = issue_and_call(server, "so-tu-phap", "33")
    first.wait_for_numbers(after)
    announcements = first.announcements()
    assert Counter(first.spoken_numbers()) == Counter([before, *missed, after])
    event_ids = [e for a in announcements for e in a["event_ids"]]
    assert len(event_ids) == len(set(event_ids)) == 4


def test_a_restarted_announcer_speaks_what_it_missed(server, announcers, tmp_path):
    """With --state-file, calls made while the announcer itself was stopped are spoken once it is back,
    and the call it had already spoken is not spoken again."""
    state = str(tmp_path / "floor1.last")
    first = announcers(1, "--state-file", state)
    before = issue_and_call(server, "so-tu-phap", "33")
    first.wait_for_numbers(before)
    wait_until(lambda: Path(state).exists(), what="the bookmark")
    first.stop()
    missed = [issue_and_call(server, "so-tu-phap", "34"), issue_and_call(server, "so-tu-phap", "35")]
    again = announcers(1, "--state-file", state)
    again.wait_for_numbers(*missed)
    assert Counter(again.spoken_numbers()) == Counter([before, *missed])  # same folder: `before` once
