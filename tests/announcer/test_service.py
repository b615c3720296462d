"""The announcer loop: one announcement at a time, acks after speaking, failures lived through;
the play command and the WAV folder outputs."""

import asyncio
import datetime as dt
import json
import sys
import wave

import pytest

from announcer.exc import ConfigurationError, PlaybackError, SpeechError
from announcer.output import Player, WavFolder
from announcer.queue import AnnouncementQueue
from announcer.service import Announcer
from announcer.speech import Speaker

from tests.support.announcer import T0, RecordingEngine, called

TIMEOUT = 10


class SlowOutput:
    """An output that 'plays' for a moment and records how many play at once."""

    def __init__(self, tmp_path, seconds=0.05):
        self.tmp_path, self.seconds = tmp_path, seconds
        self.active = self.max_active = 0
        self.played = []
        self.count = 0

    def prepare(self, announcement):
        self.count += 1
        return self.tmp_path / f"{self.count}.wav"

    async def deliver(self, path, announcement, duration_s, on_start=None):
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        if on_start:
            on_start(0.0)
        await asyncio.sleep(self.seconds)
        self.played.append(announcement.numbers)
        self.active -= 1


class Sender:
    def __init__(self, up=True):
        self.up, self.frames = up, []

    async def __call__(self, frame):
        if not self.up:
            from qserver.protocol.client import NotConnected
            raise NotConnected("down")
        self.frames.append(frame)


@pytest.fixture
def speaker():
    engines = []

    def make(**kw):
        engine = RecordingEngine(**kw)
        s = Speaker(engine)
        s.start()
        engines.append(s)
        return s

    yield make
    for s in engines:
        s.close()


def announcer_with(wording, fake_clock, speaker, output, send=None, count=None, **queue_kw):
    done = asyncio.Event()
    records = []

    def spoken(record):
        records.append(record)
        if count is not None and len(records) >= count:
            done.set()

    queue = AnnouncementQueue(wording, 1, clock=fake_clock, **{"repeat": 1, **queue_kw})
    return Announcer(queue, speaker, output, send=send, on_spoken=spoken), done, records


async def test_never_two_at_once_and_in_order(wording, fake_clock, speaker, tmp_path):
    """Calls arriving together are spoken strictly one after the other, in order."""
    output = SlowOutput(tmp_path)
    ann, done, _ = announcer_with(wording, fake_clock, speaker(), output, count=4, max_merge=1)
    task = asyncio.create_task(ann.run())
    for i in range(4):
        await ann.on_frame(called(f"{i}-0", f"V00{i}", "33"))
    await asyncio.wait_for(done.wait(), TIMEOUT)
    task.cancel()
    assert output.played == [("V000",), ("V001",), ("V002",), ("V003",)]
    assert output.max_active == 1


async def test_calls_waiting_during_speech_are_merged(wording, fake_clock, speaker, tmp_path):
    """Calls that arrive while one is being spoken are merged into the next sentence."""
    output = SlowOutput(tmp_path, seconds=0.2)
    engine_speaker = speaker()
    ann, done, records = announcer_with(wording, fake_clock, engine_speaker, output, count=2)
    task = asyncio.create_task(ann.run())
    await ann.on_frame(called("1-0", "V001", "33"))
    while not output.active:
        await asyncio.sleep(0.005)
    for i in (2, 3):
        await ann.on_frame(called(f"{i}-0", f"V00{i}", "34"))
    await asyncio.wait_for(done.wait(), TIMEOUT)
    task.cancel()
    assert output.played == [("V001",), ("V002", "V003")]
    assert engine_speaker.engine.texts[1] == ("Mời số vê không không hai đến quầy ba mươi bốn, "
                                              "số vê không không ba đến quầy ba mươi bốn")


async def test_ack_after_speaking(wording, fake_clock, speaker, tmp_path):
    """Each spoken event is acknowledged with {"type": "ack", "event_id"} after it was delivered."""
    send = Sender()
    ann, done, _ = announcer_with(wording, fake_clock, speaker(), WavFolder(tmp_path), send=send, count=1)
    task = asyncio.create_task(ann.run())
    await ann.on_frame(called("7-0", "V007", "33"))
    await asyncio.wait_for(done.wait(), TIMEOUT)
    task.cancel()
    assert send.frames == [{"type": "ack", "event_id": "7-0"}]


async def test_acks_wait_for_the_link(wording, fake_clock, speaker, tmp_path):
    """An ack that cannot be sent (link down) is sent with the next frame once the link is back."""
    send = Sender(up=False)
    ann, done, _ = announcer_with(wording, fake_clock, speaker(), WavFolder(tmp_path), send=send, count=1)
    task = asyncio.create_task(ann.run())
    await ann.on_frame(called("7-0", "V007", "33"))
    await asyncio.wait_for(done.wait(), TIMEOUT)
    assert send.frames == []
    send.up = True
    await ann.on_frame({"type": "heartbeat", "event_id": None})
    task.cancel()
    assert send.frames == [{"type": "ack", "event_id": "7-0"}]


async def test_wav_folder_files(wording, fake_clock, speaker, tmp_path):
    """--wav-dir writes one valid WAV per announcement with a JSON description beside it."""
    ann, done, _ = announcer_with(wording, fake_clock, speaker(), WavFolder(tmp_path / "out"), count=1)
    task = asyncio.create_task(ann.run())
    await ann.on_frame(called("7-0", "V007", "33"))
    await asyncio.wait_for(done.wait(), TIMEOUT)
    task.cancel()
    (wav,) = (tmp_path / "out").glob("*.wav")
    assert "V007-q33" in wav.name
    with wave.open(str(wav)) as w:
        assert w.getnframes() > 0
    description = json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
    assert description["text"] == "Mời công dân có số thứ tự vê không không bảy đến quầy số ba mươi ba"
    assert description["event_ids"] == ["7-0"] and description["numbers"] == ["V007"]


async def test_a_failure_is_logged_not_acked_and_the_next_call_is_spoken(wording, fake_clock, speaker,
                                                                         tmp_path, caplog):
    """A failed synthesis is logged, not acknowledged, leaves no file; the next call is spoken."""
    send = Sender()
    folder = tmp_path / "out"
    ann, done, records = announcer_with(wording, fake_clock, speaker(fail_on="không không một"),
                                        WavFolder(folder), send=send, count=2, max_merge=1)
    task = asyncio.create_task(ann.run())
    await ann.on_frame(called("1-0", "V001", "33"))
    await ann.on_frame(called("2-0", "V002", "33"))
    await asyncio.wait_for(done.wait(), TIMEOUT)
    task.cancel()
    assert [r.ok for r in records] == [False, True]
    assert send.frames == [{"type": "ack", "event_id": "2-0"}]
    assert len(list(folder.glob("*V001*"))) == 0 and len(list(folder.glob("*V002*.wav"))) == 1
    assert "announcement of V001 failed" in caplog.text


async def test_too_many_failures_in_a_row_stop_the_loop(wording, fake_clock, speaker, tmp_path):
    """Only max_failures failures in a row make the loop give up (systemd then restarts it)."""
    ann, _, _ = announcer_with(wording, fake_clock, speaker(fail_on="Mời"), WavFolder(tmp_path), max_merge=1)
    ann.max_failures = 3
    for i in range(3):
        await ann.on_frame(called(f"{i}-0", f"V00{i}", "33"))
    with pytest.raises(SpeechError, match="3 announcements failed in a row"):
        await asyncio.wait_for(ann.run(), TIMEOUT)


async def test_bad_frames_never_break_the_link(wording, fake_clock, speaker, tmp_path):
    """A frame the announcer cannot handle is logged; on_frame never raises into the link."""
    ann, _, _ = announcer_with(wording, fake_clock, speaker(), WavFolder(tmp_path))
    await ann.on_frame({"type": "called", "event_id": "1-0", "ticket": "nonsense"})
    await ann.on_frame({"type": "snapshot", "event_id": "2-0", "state": None})
    assert len(ann.queue) == 0


async def test_snapshot_after_reconnect_speaks_newer_calls(wording, fake_clock, speaker, tmp_path):
    """A snapshot after events were seen speaks its calls newer than the last event; a first one doesn't."""
    ann, _, _ = announcer_with(wording, fake_clock, speaker(), WavFolder(tmp_path))
    old, new = called("5-0", "V005", "33"), called("9-0", "V009", "34")
    strip = lambda f: {k: v for k, v in f.items() if k != "type"}  # noqa: E731
    await ann.on_frame({"type": "snapshot", "event_id": "5-0", "state": {"calls": [strip(old)]}})
    assert len(ann.queue) == 0  # a fresh start: the state, not news
    await ann.on_frame(called("6-0", "V006", "35"))
    # Reconnected too late for ``since``: the snapshot lists calls newest first.
    await ann.on_frame({"type": "snapshot", "event_id": "9-0", "state": {"calls": [strip(new), strip(old)]}})
    assert [c.number for c in ann.queue.next().calls] == ["V006", "V009"]


async def test_snapshot_call_entries_are_compared_by_event_id(wording, fake_clock, speaker, tmp_path):
    """Snapshot call entries newer than the last event (by their event id) are spoken once and
    acknowledged; an entry without an event id (the server always sends one) is not spoken."""
    send = Sender()
    ann, done, _ = announcer_with(wording, fake_clock, speaker(), WavFolder(tmp_path), send=send, count=1)
    millis = int(T0.timestamp() * 1000)
    await ann.on_frame(called(f"{millis}-0", "V006", "35"))
    ann.queue.next()
    entry = lambda number, seconds, event_id: {  # noqa: E731
        "ticket": f"20261124-{number}", "number": number, "counter": "33", "floor": 1, "counter_floor": 1,
        "agency": "so-tu-phap", "recall": False, "at": (T0 + dt.timedelta(seconds=seconds)).isoformat(),
        **({"event_id": event_id} if event_id else {})}
    snapshot = {"type": "snapshot", "event_id": f"{millis + 9000}-0",
                "state": {"calls": [entry("V010", 10, None), entry("V009", 9, f"{millis + 9000}-0"),
                                    entry("V005", -5, f"{millis - 5000}-0")]}}
    task = asyncio.create_task(ann.run())
    await ann.on_frame(snapshot)
    await asyncio.wait_for(done.wait(), TIMEOUT)
    await ann.on_frame(snapshot)
    task.cancel()
    assert [r.announcement.numbers for r in ann.spoken] == [("V009",)] and len(ann.queue) == 0
    assert {"type": "ack", "event_id": f"{millis + 9000}-0"} in send.frames


# -- the play command -------------------------------------------------------------------------------
def fake_program(folder, name):
    """An executable called ``name`` (CI machines need not have aplay or sox installed)."""
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def test_player_command_line(tmp_path):
    """The play command gets the file appended, {file}/{device} replaced, -D for aplay's device."""
    aplay, sox = fake_program(tmp_path, "aplay"), fake_program(tmp_path, "sox")
    assert Player(f"{aplay} -q").argv("/x.wav") == [aplay, "-q", "/x.wav"]
    assert Player(f"{aplay} -q", device="hw:1,0").argv("/x.wav") == [aplay, "-D", "hw:1,0", "-q", "/x.wav"]
    assert Player(f"{sox} {{file}} -d").argv("/x.wav") == [sox, "/x.wav", "-d"]
    assert Player(f"{sox} {{file}} -t alsa {{device}}", device="hw:2").argv("/x.wav") == \
        [sox, "/x.wav", "-t", "alsa", "hw:2"]


@pytest.mark.parametrize("command, device, message", [
    ("", None, "empty"), ("no-such-player -q", None, "not installed"), ("sox {file} -d", "hw:1", "{device}"),
    ("sox {file} {device}", None, "no --device"), ("aplay 'unclosed", None, "does not parse"),
])
def test_player_configuration_errors(command, device, message):
    """A play command that cannot work is a configuration error at start-up."""
    with pytest.raises(ConfigurationError, match=message):
        Player(command, device)


async def test_player_checks_exit_code(tmp_path):
    """A play command that exits non-zero is a PlaybackError with its message; zero is fine."""
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    await Player("true").deliver(wav, None, 0.1)
    assert not wav.exists()  # played files are removed
    wav.write_bytes(b"RIFF")
    failing = f"{sys.executable} -c \"import sys; sys.stderr.write('device busy'); sys.exit(3)\""
    with pytest.raises(PlaybackError, match="exited with 3: device busy"):
        await Player(failing).deliver(wav, None, 0.1)


async def test_player_kills_a_hung_command(tmp_path):
    """A play command still running long after the clip should have ended is killed and reported."""
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    player = Player("sleep 30 {file}", margin_s=0.2)
    player.words = ["sleep", "30"]
    with pytest.raises(PlaybackError, match="killed"):
        await player.deliver(wav, None, 0.0)


async def test_unwritable_wav_folder_is_a_failure_not_a_crash(wording, fake_clock, speaker, tmp_path):
    """If the WAV folder disappears the announcement fails (logged, not acked) and the loop goes on."""
    folder = tmp_path / "out"
    send = Sender()
    ann, _, _ = announcer_with(wording, fake_clock, speaker(), WavFolder(folder), send=send)
    folder.rmdir()
    ann.queue.offer(called("1-0", "V001", "33"))
    record = await ann.speak(ann.queue.next())
    assert not record.ok and "cannot prepare" in record.error
    assert send.frames == [] and ann.failures_in_a_row == 1
