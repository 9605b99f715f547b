"""Audio in: WAV files and the microphone (sounddevice), and an energy voice-activity detector.

Everything is 16-bit mono PCM. The microphone runs at 16 kHz; WAV files keep their own
rate (the recogniser is told it). Bad input (not a WAV, stereo, 8-bit, no microphone, no
PortAudio) raises :class:`AudioError` with a message saying what is wrong and what to do.
"""

from __future__ import annotations

import array
import itertools
import math
import queue
import statistics
import threading
import time
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


# Formats people hand in as "WAV": the first bytes say which (for a message that says why).
_MAGIC = ((b"ID3", "an MP3 file"), (b"\xff\xfb", "an MP3 file"), (b"\xff\xf3", "an MP3 file"),
          (b"OggS", "an Ogg file"), (b"fLaC", "a FLAC file"), (b"RIFX", "a big-endian RIFX file"),
          (b"FORM", "an AIFF file"), (b"\x1aE\xdf\xa3", "a WebM/Matroska file"))
# WAVE format tags that are not 16-bit integer PCM (wave.Error says only "unknown format: 85").
_FORMAT_TAGS = {3: "32-bit float", 6: "A-law", 7: "mu-law", 0x11: "IMA ADPCM", 2: "MS ADPCM",
                0x31: "GSM 6.10", 0x55: "MP3", 0x161: "WMA", 0xFFFE: "WAVE_FORMAT_EXTENSIBLE"}


def _why_not_wav(head: bytes) -> str | None:
    """Why the first 12 bytes of a file are not a RIFF/WAVE header, or None if they are."""
    if not head:
        return "empty file"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return None
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"not a RIFF/WAVE file: {what}"
    if len(head) < 12 and b"RIFF".startswith(head[:4]):
        return f"truncated header ({len(head)} bytes)"
    return "not a RIFF/WAVE file"


def _wave_error(e: Exception) -> str:
    text = str(e)
    if isinstance(e, EOFError) or not text:
        return "truncated file: a header chunk ends before its declared size"
    if text.startswith("unknown format: "):
        try:
            tag = int(text.split(":")[1])
        except ValueError:
            return text
        name = _FORMAT_TAGS.get(tag, "compressed")
        return f"{name} format 0x{tag:X}, not 16-bit PCM"
    if "fmt chunk and/or data chunk missing" in text:
        return "no fmt or data chunk: truncated, or not audio"
    return text


def _hint(why: str, convert: str) -> str:
    return "the file is incomplete: copy or record it again" if "truncated" in why else convert


def read_wav(path: str | Path) -> Audio:
    p = Path(path)
    convert = f"convert it with `sox {p.name} -r 16000 -c 1 -b 16 out.wav`"
    try:
        with p.open("rb") as f:
            why = _why_not_wav(f.read(12))
            if why:
                raise AudioError(f"{p}: not a PCM WAV file ({why}); {_hint(why, convert)}")
            f.seek(0)
            with wave.open(f, "rb") as w:
                channels, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
                pcm = w.readframes(n)
            if n and not pcm:
                raise AudioError(f"{p}: not a PCM WAV file (truncated file: the header declares {n} samples, "
                                 f"there are none); {_hint('truncated', convert)}")
    except FileNotFoundError:
        raise AudioError(f"{p}: no such audio file") from None
    except IsADirectoryError:
        raise AudioError(f"{p}: is a folder, not a WAV file") from None
    except OSError as e:
        raise AudioError(f"{p}: cannot read: {e.strerror or e}") from None
    except (wave.Error, EOFError) as e:
        why = _wave_error(e)
        raise AudioError(f"{p}: not a PCM WAV file ({why}); {_hint(why, convert)}") from None
    if width != 2:
        raise AudioError(f"{p}: {8 * width}-bit samples; 16-bit PCM is needed "
                         f"(`sox {p.name} -b 16 out.wav`)")
    if channels != 1:
        raise AudioError(f"{p}: {channels} channels; mono is needed (`sox {p.name} -c 1 out.wav`)")
    if not 8000 <= rate <= 48000:
        raise AudioError(f"{p}: sample rate {rate} Hz is outside 8000-48000 Hz; 16000 Hz is best "
                         f"(`sox {p.name} -r 16000 out.wav`)")
    return Audio(pcm[:len(pcm) // 2 * 2], rate, str(p))    # a file cut mid-sample: whole samples only


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

    The noise floor is a minimum tracker: it falls at once to any quieter frame and rises
    slowly (``rise_db_per_s``) on every louder one, speech or not, so noise that starts or grows
    is absorbed within seconds while the short dips between words keep it down during speech.
    It starts from the first ``calibrate_ms`` of audio when those are steady (a noise bed, not
    speech); otherwise from ``initial_floor_db``. An "utterance" whose frame energies hardly vary
    (standard deviation under ``min_variation_db``) is steady noise, not speech, and is dropped;
    after a second of such steady "speech" the floor jumps to it.
    """

    def __init__(self, rate: int = SAMPLE_RATE, margin_db: float = 12.0, min_dbfs: float = -45.0,
                 start_frames: int = 3, end_silence_ms: int = 600, max_s: float = 12.0,
                 calibrate_ms: int = 300, rise_db_per_s: float = 6.0, initial_floor_db: float = -60.0,
                 min_variation_db: float = 2.0):
        self.rate = rate
        self.frame_bytes = int(rate * FRAME_MS / 1000) * 2
        self.margin_db = margin_db
        self.min_dbfs = min_dbfs
        self.start_frames = start_frames
        self.end_frames = max(1, end_silence_ms // FRAME_MS)
        self.max_frames = int(max_s * 1000 / FRAME_MS)
        self.calibrate_frames = max(1, calibrate_ms // FRAME_MS)
        self.rise_per_frame = rise_db_per_s * FRAME_MS / 1000
        self.initial_floor_db = initial_floor_db
        self.min_variation_db = min_variation_db
        self.steady_frames = 1000 // FRAME_MS
        self.noise_db: float | None = None        # None until calibrated (or the first frame)
        self.steady_rejected = 0                  # utterances dropped as steady noise

    # -- the noise floor ---------------------------------------------------------------------

    def calibrate(self, frames: list[bytes]) -> None:
        """Start the floor from these frames if they are steady (noise); else from the default."""
        dbs = [rms_dbfs(f) for f in frames]
        if dbs and max(dbs) - min(dbs) <= 6.0:
            self.noise_db = min(dbs)
        else:
            self.noise_db = min([self.initial_floor_db] + dbs)

    def _track(self, db: float) -> None:
        self.noise_db = db if db < self.noise_db else min(db, self.noise_db + self.rise_per_frame)

    def is_speech(self, frame: bytes) -> bool:
        db = rms_dbfs(frame)
        if self.noise_db is None:
            self.noise_db = min(db, self.initial_floor_db)
        speech = db > max(self.noise_db + self.margin_db, self.min_dbfs)
        self._track(db)
        return speech

    # -- utterances --------------------------------------------------------------------------

    def next_utterance(self, frames: Iterator[bytes], max_wait_frames: int | None = None) -> bytes | None:
        """Read ``frames`` until one utterance ends; None when they run out first (or when no
        speech has started within ``max_wait_frames``)."""
        frames = iter(frames)
        if self.noise_db is None:
            head = list(itertools.islice(frames, self.calibrate_frames))
            self.calibrate(head)
            frames = itertools.chain(head, frames)
        voiced: list[bytes] = []
        pre: list[bytes] = []
        levels: list[float] = []
        run = silence = waited = 0
        active = False
        for frame in frames:
            speech = self.is_speech(frame)
            if not active:
                pre = (pre + [frame])[-self.start_frames - 5:]
                run = run + 1 if speech else 0
                waited += 1
                if run >= self.start_frames:
                    active, voiced, silence, levels = True, list(pre), 0, [rms_dbfs(f) for f in pre[-run:]]
                elif max_wait_frames is not None and waited >= max_wait_frames:
                    return None
                continue
            voiced.append(frame)
            silence = 0 if speech else silence + 1
            if speech:
                levels.append(rms_dbfs(frame))
                if len(levels) == self.steady_frames and self._steady(levels):
                    # A second of "speech" at one level is a noise that just started (fan, engine,
                    # open window): it becomes the floor at once instead of after the slow rise.
                    self.noise_db = min(levels)
                    self.steady_rejected += 1
                    active, run, voiced, pre, waited = False, 0, [], [], 0
                    continue
            if silence >= self.end_frames or len(voiced) >= self.max_frames:
                if self._steady(levels):
                    self.steady_rejected += 1
                    active, run, voiced, pre, waited = False, 0, [], [], 0
                    continue
                return b"".join(voiced)
        if active and voiced and not self._steady(levels):
            return b"".join(voiced)
        return None

    def _steady(self, levels: list[float]) -> bool:
        return len(levels) >= self.start_frames and statistics.pstdev(levels) < self.min_variation_db

    def utterances(self, frames: Iterator[bytes]) -> Iterator[bytes]:
        frames = iter(frames)
        while True:
            pcm = self.next_utterance(frames)
            if pcm is None:
                return
            yield pcm

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


class FrameStream:
    """A live source of 30 ms frames: filled by a capture thread or callback, read by the loop.

    ``frames(stop)`` blocks for the next frame; ``pending()`` takes what is queued now without
    waiting (the barge-in check reads the microphone this way while an answer plays); ``flush()``
    throws queued audio away (push-to-talk: what was said before the press is not the question).
    The queue holds ``max_queue_s``; when the loop falls behind, the newest audio is dropped.
    """

    name = "audio"

    def __init__(self, rate: int, max_queue_s: float = 6.0):
        self.rate = rate
        self.frame_bytes = int(rate * FRAME_MS / 1000) * 2
        self.q: queue.Queue[bytes] = queue.Queue(maxsize=max(1, int(max_queue_s * 1000 / FRAME_MS)))
        self.closed = threading.Event()      # no more audio will come (end of a file)
        self.dropped = 0

    def _put(self, frame: bytes) -> None:
        try:
            self.q.put_nowait(frame)
        except queue.Full:
            self.dropped += 1      # the consumer is busy: dropping audio beats blocking capture

    def frames(self, stop: threading.Event | None = None, poll_s: float = 0.2) -> Iterator[bytes]:
        while not (stop is not None and stop.is_set()):
            try:
                yield self.q.get(timeout=poll_s)
            except queue.Empty:
                if self.closed.is_set():
                    return

    def pending(self) -> list[bytes]:
        out = []
        while True:
            try:
                out.append(self.q.get_nowait())
            except queue.Empty:
                return out

    def flush(self) -> int:
        return len(self.pending())

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.closed.set()


class Microphone(FrameStream):
    """16 kHz mono capture in 30 ms frames (a sounddevice RawInputStream)."""

    def __init__(self, device: str | int | None = None, rate: int = SAMPLE_RATE, hint: str = ""):
        sd = _sounddevice()
        super().__init__(rate)
        try:
            info = sd.query_devices(device, "input")
            sd.check_input_settings(device=device, channels=1, dtype="int16", samplerate=rate)
        except (sd.PortAudioError, ValueError) as e:
            raise AudioError(f"no usable microphone ({e}); "
                             + (hint or "plug one in, pick one with --device, or use --input FILE.wav")) from None
        self.name = info["name"]
        self.stream = sd.RawInputStream(samplerate=rate, channels=1, dtype="int16", device=device,
                                        blocksize=int(rate * FRAME_MS / 1000), callback=self._cb)

    def _cb(self, indata, frames, time_info, status) -> None:
        self._put(bytes(indata))

    def __enter__(self) -> "Microphone":
        self.stream.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stream.stop()
        self.stream.close()
        super().__exit__(*exc)


class WavMicrophone(FrameStream):
    """A WAV file played into the loop as if it were the microphone: a capture thread queues its
    30 ms frames at real time (``speed`` times faster if asked), then ends the stream. The bench
    and the tests use it where there is no sound card: wake word, push-to-talk and barge-in run
    exactly as with a microphone, timing included."""

    def __init__(self, path: str | Path, speed: float = 1.0, lead_s: float = 0.0):
        audio = read_wav(path)
        super().__init__(audio.rate)
        self.audio = audio
        self.name = f"{Path(path).name} (WAV as microphone)"
        self.speed = speed
        self.lead_s = lead_s
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.started_at: float | None = None

    def _run(self) -> None:
        step = FRAME_MS / 1000 / self.speed
        self.started_at = time.monotonic()
        if self._stop.wait(self.lead_s):
            return
        t = time.monotonic()
        pcm, fb = self.audio.pcm, self.frame_bytes
        for i in range(0, len(pcm) - fb + 1, fb):
            t += step
            if self._stop.wait(max(0.0, t - time.monotonic())):
                break
            self._put(pcm[i:i + fb])
        self.closed.set()

    def elapsed(self) -> float:
        """Seconds of the file played so far (its clock), for tests and logs."""
        return 0.0 if self.started_at is None else (time.monotonic() - self.started_at - self.lead_s) * self.speed

    def __enter__(self) -> "WavMicrophone":
        self._thread = threading.Thread(target=self._run, name="wav-microphone", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        super().__exit__(*exc)
