"""The speech seam: real espeak-ng WAV files (pyttsx3 and the espeak-ng binary), the worker thread,
the voice check, chime and repeats."""

import threading
import wave

import pytest

from announcer import audio
from announcer.exc import SpeechError, UnknownVoice
from announcer.speech import EspeakNgEngine, Pyttsx3Engine, Speaker, VoiceInfo, make_engine, resolve_voice

from tests.support.announcer import RecordingEngine

SHORT = "Mời công dân có số thứ tự vê không không bảy đến quầy số năm"
LONG = ("Mời số vê không không bảy đến quầy ba mươi ba, số en-nờ không một hai đến quầy hai mươi bốn, "
        "số quy một không một đến quầy hai mươi bảy ở tầng trệt")
ENGINES = [pytest.param(Pyttsx3Engine, id="pyttsx3"), pytest.param(EspeakNgEngine, id="espeak-ng")]


def wav_params(path):
    with wave.open(str(path), "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes() / w.getframerate()


@pytest.fixture
def speaker_for():
    speakers = []

    def make(engine, **kw):
        speaker = Speaker(engine, **kw)
        speaker.start()
        speakers.append(speaker)
        return speaker

    yield make
    for speaker in speakers:
        speaker.close()


@pytest.mark.parametrize("engine_class", ENGINES)
async def test_real_wav_files_grow_with_the_sentence(engine_class, speaker_for, tmp_path):
    """espeak-ng renders real 16-bit mono PCM WAV files, and a longer sentence lasts longer."""
    speaker = speaker_for(engine_class("vi-vn-x-south", 150, 1.0))
    short = await speaker.render(SHORT, 1, tmp_path / "short.wav")
    long = await speaker.render(LONG, 1, tmp_path / "long.wav")
    assert wav_params(tmp_path / "short.wav")[:3] == (1, 2, 22050)
    assert wav_params(tmp_path / "short.wav")[3] == pytest.approx(short)
    assert 2.0 < short < long
    assert wav_params(tmp_path / "long.wav")[3] == pytest.approx(long)
    assert speaker.engine.voice.id.endswith("vi-vn-x-south")


async def test_chime_and_repeat_are_in_the_file(speaker_for, tmp_path):
    """The chime comes first and the sentence is said ``repeat`` times with a pause between."""
    chime = audio.chime()
    assert chime.rate == 22050 and 0.8 <= chime.duration_s <= 1.2
    plain = speaker_for(EspeakNgEngine("vi-vn-x-south"))
    once = await plain.render(SHORT, 1, tmp_path / "once.wav")
    plain.close()
    chimed = speaker_for(EspeakNgEngine("vi-vn-x-south"), chime=chime, gap_s=0.5)
    twice = await chimed.render(SHORT, 2, tmp_path / "twice.wav")
    assert twice == pytest.approx(chime.duration_s + 2 * once + 0.5, abs=0.1)  # espeak varies by a few ms
    head = audio.read_wav(tmp_path / "twice.wav").samples[:len(chime.samples)]
    assert head == chime.samples


async def test_text_through_the_seam_on_one_thread(speaker_for, tmp_path):
    """The engine receives exactly the Vietnamese text, always on the same worker thread."""
    engine = RecordingEngine()
    speaker = speaker_for(engine)
    texts = [SHORT, LONG, SHORT]
    for i, text in enumerate(texts):
        await speaker.render(text, 2, tmp_path / f"{i}.wav")
    assert engine.texts == texts
    assert len(engine.threads) == 1 and threading.get_ident() not in engine.threads
    assert engine.opened and not engine.closed
    speaker.close()
    assert engine.closed


@pytest.mark.parametrize("engine_class", ENGINES)
def test_unknown_voice_fails_at_start(engine_class):
    """An unknown voice is an error when the speaker starts, not a silent fallback to English."""
    speaker = Speaker(engine_class("vi-no-such-voice"))
    with pytest.raises(UnknownVoice, match="vi-no-such-voice.*vi-vn-x-south"):
        speaker.start()
    speaker.close()


def test_pyttsx3_one_engine_per_process():
    """pyttsx3's espeak driver is process-wide: a second open engine is refused, and freed on close."""
    first = Pyttsx3Engine("vi")
    first.open()
    try:
        with pytest.raises(SpeechError, match="one speaker per process"):
            Pyttsx3Engine("vi").open()
    finally:
        first.close()
    again = Pyttsx3Engine("vi")
    again.open()
    again.close()


async def test_engine_failure_is_a_speech_error_and_the_thread_survives(speaker_for, tmp_path):
    """A failed synthesis raises SpeechError to the caller; the next sentence still works."""
    speaker = speaker_for(RecordingEngine(fail_on="hỏng"))
    with pytest.raises(SpeechError, match="hỏng"):
        await speaker.render("câu hỏng", 1, tmp_path / "bad.wav")
    assert not (tmp_path / "bad.wav").exists()
    assert await speaker.render(SHORT, 1, tmp_path / "good.wav") > 0


async def test_slow_engine_times_out(speaker_for, tmp_path):
    """A synthesis that hangs is reported as a SpeechError after the timeout."""
    gate = threading.Event()
    speaker = speaker_for(RecordingEngine(gate=gate), timeout_s=0.2)
    with pytest.raises(SpeechError, match="took more than"):
        await speaker.render(SHORT, 1, tmp_path / "slow.wav")
    gate.set()


def test_resolve_voice_by_id_short_id_name_or_language():
    """A voice is found by its id, the part after the slash, its name or its language."""
    voices = [VoiceInfo("gmw/en", "English", ("en",)), VoiceInfo("aav/vi-vn-x-south", "Vietnamese (Southern)",
                                                                 ("vi-vn-x-south",))]
    for name in ("aav/vi-vn-x-south", "vi-vn-x-south", "Vietnamese (Southern)", "Vietnamese_(Southern)"):
        assert resolve_voice(name, voices).id == "aav/vi-vn-x-south"
    with pytest.raises(UnknownVoice):
        resolve_voice("vi", voices[:1])


def test_unknown_engine_name():
    """An unknown engine name is a configuration error."""
    with pytest.raises(ValueError, match="festival"):
        make_engine("festival", "vi", 150, 1.0)


def test_audio_resample_and_scale():
    """Clips at another rate are resampled; volume scaling clips to 16 bits."""
    from array import array
    clip = audio.Clip(array("h", [0, 1000, 2000, 3000]), 11025)
    assert len(clip.at_rate(22050).samples) == 8
    assert audio.Clip(array("h", [30000, -30000]), 8000).scaled(2.0).samples.tolist() == [32767, -32768]
