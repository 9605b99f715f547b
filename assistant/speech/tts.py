"""Text to speech with espeak-ng, in the persona's voice, sentence by sentence.

``Speaker.say(text)`` synthesises one sentence at a time, so the first sentence plays while the
next is synthesised; ``barge_in`` (a callable returning True when the driver speaks) stops
playback between audio blocks. Without a sound card, ``FileSpeaker`` writes the WAVs instead.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from pathlib import Path
from typing import Callable

from assistant.errors import UserError
from assistant.speech.audio import Audio, write_wav

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


class FileSpeaker:
    """Writes each answer as one WAV (sentences synthesised one by one and joined)."""

    def __init__(self, tts: Espeak, out_dir: Path):
        self.tts = tts
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def say(self, text: str, name: str) -> Path:
        parts = [self.tts.synthesize(s) for s in sentences(text)]
        audio = Audio(b"".join(p.pcm for p in parts), parts[0].rate if parts else 22050)
        path = self.out_dir / f"{name}.wav"
        write_wav(path, audio)
        return path


class SoundSpeaker:
    """Plays through the sound card; stops when ``barge_in()`` says the driver is speaking."""

    def __init__(self, tts: Espeak, barge_in: Callable[[], bool] | None = None):
        from assistant.speech.audio import _sounddevice
        self.sd = _sounddevice()
        self.tts = tts
        self.barge_in = barge_in or (lambda: False)
        try:
            self.sd.query_devices(None, "output")
        except (self.sd.PortAudioError, ValueError) as e:
            raise TTSError(f"no audio output device ({e}); use --output DIR to write the answers as WAV") from None

    def say(self, text: str, name: str = "") -> bool:
        """Speak sentence by sentence; False if the driver barged in."""
        for sentence in sentences(text):
            audio = self.tts.synthesize(sentence)
            block = audio.rate // 10 * 2          # 100 ms of 16-bit samples
            with self.open_stream(audio.rate) as out:
                for i in range(0, len(audio.pcm), block):
                    if self.barge_in():
                        return False
                    out.write(audio.pcm[i:i + block])
        return True

    def open_stream(self, rate: int):
        return self.sd.RawOutputStream(samplerate=rate, channels=1, dtype="int16")


class BargeIn:
    """True once the driver starts speaking (VAD over the microphone frames) during playback."""

    def __init__(self, frames, rate: int = 16000):
        from assistant.speech.audio import EnergyVAD
        self.frames = frames
        self.vad = EnergyVAD(rate)
        self.run = 0

    def __call__(self) -> bool:
        frame = next(self.frames, None)
        if frame is None:
            return False
        self.run = self.run + 1 if self.vad.is_speech(frame) else 0
        return self.run >= self.vad.start_frames
