"""Text to speech with espeak-ng, in the persona's voice, sentence by sentence.

``Speaker.say(text, name, barge_in)`` synthesises one sentence at a time and plays it in 100 ms
blocks; before each block it asks ``barge_in`` (see :class:`BargeIn`: the microphone heard the
driver speak) and stops when it says so. ``SoundSpeaker`` plays through the sound card;
``FileSpeaker`` writes what would have been played as a WAV (no sound card: tests, the bench),
at real-time pace when asked, so barge-in behaves as it would in the car.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assistant.errors import UserError
from assistant.speech.audio import Audio, EnergyVAD, FrameStream, write_wav

log = logging.getLogger(__name__)

SENTENCES = re.compile(r"(?<=[.!?])\s+")


class TTSError(UserError):
    pass


class Espeak:
    def __init__(self, voice: str = "en", rate_wpm: int = 165, pitch: int = 50, volume: int = 100):
        self.exe = shutil.which("espeak-ng")
        if not self.exe:
            raise TTSError("espeak-ng is not installed: sudo apt-get install espeak-ng (./setup.sh does it)")
        self.voice, self.rate, self.pitch, self.volume = voice, rate_wpm, pitch, volume

    @classmethod
    def for_persona(cls, persona) -> "Espeak":
        if persona is None:
            return cls()
        v = persona.voice
        return cls(v.voice, v.rate_wpm, v.pitch, v.volume)

    def synthesize(self, text: str) -> Audio:
        r = subprocess.run([self.exe, "-v", self.voice, "-s", str(self.rate), "-p", str(self.pitch),
                            "-a", str(self.volume), "--stdout", text], capture_output=True, timeout=30)
        if r.returncode != 0 or not r.stdout:
            raise TTSError(f"espeak-ng failed for voice {self.voice!r}: {r.stderr.decode(errors='replace').strip()}")
        with wave.open(io.BytesIO(r.stdout)) as w:
            return Audio(w.readframes(w.getnframes()), w.getframerate(), "espeak-ng")


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCES.split(text.strip()) if s]


@dataclass(frozen=True)
class Spoken:
    """What one ``say()`` let out."""

    finished: bool                  # False: the driver barged in
    played_s: float                 # seconds of audio played
    path: Path | None = None        # the WAV written, for a speaker that writes files


def say_or_log(speaker, text: str, name: str, **kw) -> "Spoken | None":
    """``speaker.say`` for a running loop or service: a synthesiser or sound-card failure is logged
    and the text stays printed, instead of ending the loop (and, for alerts, the alert thread)."""
    try:
        return speaker.say(text, name, **kw)
    except Exception as e:  # noqa: BLE001  TTSError, sounddevice.PortAudioError, OSError
        log.error("could not speak %s: %s", name, e)
        return None


class Speaker:
    """Sentence-by-sentence playback in 100 ms blocks with a barge-in check before each block.

    One answer at a time (a lock: an alert from the monitor thread waits for the answer playing);
    ``playing`` is set while audio goes out, so the listening loop can tell its own voice from
    the driver's.
    """

    BLOCK_S = 0.1

    def __init__(self, tts: Espeak):
        self.tts = tts
        self.playing = threading.Event()
        self._lock = threading.Lock()

    def say(self, text: str, name: str = "answer", barge_in: Callable[[], bool] | None = None) -> "Spoken":
        """Speak ``text``; what went out comes back (``finished`` is False if ``barge_in()`` stopped
        it), so an alert spoken from another thread cannot be taken for this answer."""
        with self._lock:
            self.playing.set()
            played, finished = 0, True
            rate = 22050
            try:
                self.begin(name)
                for sentence in sentences(text):
                    audio = self.tts.synthesize(sentence)
                    rate = audio.rate
                    block = int(audio.rate * self.BLOCK_S) * 2
                    with self.open_stream(audio.rate) as out:
                        for i in range(0, len(audio.pcm), block):
                            if barge_in is not None and barge_in():
                                finished = False
                                break
                            out.write(audio.pcm[i:i + block])
                            played += len(audio.pcm[i:i + block])
                    if not finished:
                        break
            finally:
                path = self.end(name, rate)
                self.playing.clear()
            return Spoken(finished, played / 2 / rate, path)

    # hooks for subclasses
    def begin(self, name: str) -> None:
        pass

    def end(self, name: str, rate: int) -> Path | None:
        """The answer is out; a speaker that writes files returns the file."""
        return None

    def open_stream(self, rate: int):
        raise NotImplementedError


class SoundSpeaker(Speaker):
    """Plays through the sound card (sounddevice). ``hint`` says what to do without one: it
    differs between ``assistant voice`` (--output) and ``assistant serve`` (the config)."""

    def __init__(self, tts: Espeak, hint: str = "use --output DIR to write the answers as WAV files"):
        from assistant.speech.audio import _sounddevice
        super().__init__(tts)
        self.sd = _sounddevice()
        try:
            self.sd.query_devices(None, "output")
        except (self.sd.PortAudioError, ValueError) as e:
            raise TTSError(f"no audio output device ({e}); {hint}") from None

    def open_stream(self, rate: int):
        return self.sd.RawOutputStream(samplerate=rate, channels=1, dtype="int16")


class FileSpeaker(Speaker):
    """Writes each answer as ``DIR/NAME.wav``: the audio that was let out, cut where the driver
    barged in. With ``realtime`` every 100 ms block takes 100 ms, as on a sound card."""

    def __init__(self, tts: Espeak, out_dir: Path, realtime: bool = False):
        super().__init__(tts)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.realtime = realtime
        self._pcm: list[bytes] = []

    def begin(self, name: str) -> None:
        self._pcm = []

    def end(self, name: str, rate: int) -> Path:
        path = self.out_dir / f"{name}.wav"
        write_wav(path, Audio(b"".join(self._pcm), rate))
        return path

    def open_stream(self, rate: int):
        return _PacedSink(self._pcm, rate if self.realtime else None)


class _PacedSink:
    def __init__(self, out: list[bytes], rate: int | None):
        self.out, self.rate = out, rate
        self.t = time.monotonic()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.out.append(bytes(data))
        if self.rate:                       # block like a sound card: len(data) of audio per write
            self.t += len(data) / 2 / self.rate
            time.sleep(max(0.0, self.t - time.monotonic()))


class BargeIn:
    """The barge-in check a :class:`Speaker` calls before each block while an answer plays.

    It reads everything the microphone captured since the last call (``FrameStream.pending``,
    without waiting) through the listening loop's VAD. ``start_frames`` speech frames in a row:
    the driver is talking, so playback stops and those frames (and whatever is still queued)
    begin the next utterance (``captured``). Every other frame captured during playback is
    dropped: it is the assistant's own voice, cabin noise or silence, never a question.
    With ``enabled=False`` (half duplex) nothing stops playback and everything is dropped.
    """

    PRE_ROLL = 5

    def __init__(self, source: FrameStream, vad: EnergyVAD | None = None, enabled: bool = True):
        self.source = source
        self.vad = vad or EnergyVAD(source.rate)
        self.enabled = enabled
        self.captured: list[bytes] = []
        self.dropped = 0
        self.triggered = False
        self._run: list[bytes] = []
        self._pre: list[bytes] = []          # the last quiet frames: the onset of a word is soft

    def __call__(self) -> bool:
        if self.triggered:
            return True
        frames = self.source.pending()
        for i, frame in enumerate(frames):
            if not self.enabled:                 # half duplex: our own voice never reaches the VAD
                self.dropped += 1
                continue
            if self.vad.is_speech(frame):
                self._run.append(frame)
                if len(self._run) >= self.vad.start_frames:
                    self.triggered = True
                    self.captured = self._pre + self._run + frames[i + 1:]
                    self._run, self._pre = [], []
                    return True
            else:
                self.dropped += len(self._run) + 1
                self._pre = (self._pre + self._run + [frame])[-self.PRE_ROLL:]
                self._run = []
        return False

    def finish(self) -> list[bytes]:
        """After playback: drop what was captured while the answer played and not yet read (and
        an unfinished speech run); return the frames that start the next utterance."""
        if not self.triggered:
            self()
        if not self.triggered:
            self.dropped += len(self._run)
            self._run = []
        captured, self.captured, self.triggered, self._pre = self.captured, [], False, []
        return captured
