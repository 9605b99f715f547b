"""Audio in: WAV files and the microphone (sounddevice), and an energy voice-activity detector.

Everything is 16-bit mono PCM. The microphone runs at 16 kHz; WAV files keep their own
rate (the recogniser is told it). Bad input (not a WAV, stereo, 8-bit, no microphone, no
PortAudio) raises :class:`AudioError` with a message saying what is wrong and what to do.
"""

from __future__ import annotations

import array
import math
import queue
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from assistant.errors import UserError

SAMPLE_RATE = 16000
FRAME_MS = 30


class AudioError(UserError):
    pass


@dataclass
class Audio:
    pcm: bytes          # 16-bit little-endian mono
    rate: int
    source: str = ""

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate


def read_wav(path: str | Path) -> Audio:
    p = Path(path)
    try:
        with wave.open(str(p), "rb") as w:
            channels, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            pcm = w.readframes(n)
    except FileNotFoundError:
        raise AudioError(f"{p}: no such audio file") from None
    except (wave.Error, EOFError) as e:
        raise AudioError(f"{p}: not a PCM WAV file ({e}); convert it with "
                         f"`sox {p.name} -r 16000 -c 1 -b 16 out.wav`") from None
    if width != 2:
        raise AudioError(f"{p}: {8 * width}-bit samples; 16-bit PCM is needed "
                         f"(`sox {p.name} -b 16 out.wav`)")
    if channels != 1:
        raise AudioError(f"{p}: {channels} channels; mono is needed (`sox {p.name} -c 1 out.wav`)")
    if not 8000 <= rate <= 48000:
        raise AudioError(f"{p}: sample rate {rate} Hz is outside 8000-48000 Hz; 16000 Hz is best "
                         f"(`sox {p.name} -r 16000 out.wav`)")
    return Audio(pcm, rate, str(p))


def write_wav(path: str | Path, audio: Audio) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.rate)
        w.writeframes(audio.pcm)


def rms_dbfs(pcm: bytes) -> float:
    samples = array.array("h", pcm)
    if not samples:
        return -120.0
    mean_sq = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(mean_sq / (32768.0 ** 2)) if mean_sq > 0 else -120.0


class EnergyVAD:
    """Finds utterances by frame energy against an adaptive noise floor.

    A frame is speech when it is ``margin_db`` above the noise floor and above ``min_dbfs``.
    An utterance starts after ``start_frames`` speech frames and ends after ``end_silence_ms``
    of non-speech (end of utterance); it is cut at ``max_s``.
    """

    def __init__(self, rate: int = SAMPLE_RATE, margin_db: float = 12.0, min_dbfs: float = -45.0,
                 start_frames: int = 3, end_silence_ms: int = 600, max_s: float = 12.0):
        self.rate = rate
        self.frame_bytes = int(rate * FRAME_MS / 1000) * 2
        self.margin_db = margin_db
        self.min_dbfs = min_dbfs
        self.start_frames = start_frames
        self.end_frames = max(1, end_silence_ms // FRAME_MS)
        self.max_frames = int(max_s * 1000 / FRAME_MS)
        self.noise_db = -60.0

    def is_speech(self, frame: bytes) -> bool:
        db = rms_dbfs(frame)
        speech = db > max(self.noise_db + self.margin_db, self.min_dbfs)
        if not speech:   # track the floor slowly on non-speech, so steady noise is not speech
            self.noise_db = 0.95 * self.noise_db + 0.05 * db
        return speech

    def utterances(self, frames: Iterator[bytes]) -> Iterator[bytes]:
        voiced, run, silence, active = [], 0, 0, False
        pre: list[bytes] = []
        for frame in frames:
            speech = self.is_speech(frame)
            if not active:
                pre = (pre + [frame])[-self.start_frames - 5:]
                run = run + 1 if speech else 0
                if run >= self.start_frames:
                    active, voiced, silence = True, list(pre), 0
                continue
            voiced.append(frame)
            silence = 0 if speech else silence + 1
            if silence >= self.end_frames or len(voiced) >= self.max_frames:
                yield b"".join(voiced)
                active, run, voiced, pre = False, 0, [], []
        if active and voiced:
            yield b"".join(voiced)

    def frames(self, pcm: bytes) -> Iterator[bytes]:
        for i in range(0, len(pcm) - self.frame_bytes + 1, self.frame_bytes):
            yield pcm[i:i + self.frame_bytes]


def _sounddevice():
    try:
        import sounddevice
    except OSError as e:   # the PortAudio library itself is missing
        raise AudioError(f"no audio library ({e}); install PortAudio: sudo apt-get install libportaudio2") from None
    except ImportError:
        raise AudioError("sounddevice is not installed; run ./setup.sh") from None
    return sounddevice


class Microphone:
    """16 kHz mono capture in 30 ms frames (a sounddevice RawInputStream)."""

    def __init__(self, device: str | int | None = None, rate: int = SAMPLE_RATE):
        sd = _sounddevice()
        self.rate = rate
        self.q: queue.Queue[bytes] = queue.Queue(maxsize=200)
        try:
            info = sd.query_devices(device, "input")
            sd.check_input_settings(device=device, channels=1, dtype="int16", samplerate=rate)
        except (sd.PortAudioError, ValueError) as e:
            raise AudioError(f"no usable microphone ({e}); plug one in, pick one with --device, or use "
                             "--input FILE.wav") from None
        self.name = info["name"]
        self.stream = sd.RawInputStream(samplerate=rate, channels=1, dtype="int16", device=device,
                                        blocksize=int(rate * FRAME_MS / 1000), callback=self._cb)

    def _cb(self, indata, frames, time_info, status) -> None:
        try:
            self.q.put_nowait(bytes(indata))
        except queue.Full:
            pass   # the consumer is busy (answering): dropping audio beats blocking the driver

    def __enter__(self) -> "Microphone":
        self.stream.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stream.stop()
        self.stream.close()

    def frames(self, timeout: float = 0.5) -> Iterator[bytes]:
        while True:
            try:
                yield self.q.get(timeout=timeout)
            except queue.Empty:
                yield b"\x00\x00" * int(self.rate * FRAME_MS / 1000)
