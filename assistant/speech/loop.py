"""The in-cabin voice loop: audio -> VAD -> vosk -> (vocabulary) -> assistant -> espeak-ng.

The same :class:`VoiceSession` handles WAV files (``assistant voice --input``; testable without
a sound card) and a live frame stream (the microphone, or a WAV played as one).

Listening on a stream:

* **Wake word** (default when there is one): the persona's wake word, and the vocabulary's, must
  begin the request; an utterance without it is ignored, quietly. The wake word alone gets the
  greeting and opens a short follow-up window in which the next utterance needs no wake word.
  Without a vocabulary the wake word is found in the free transcript.
* **Push-to-talk** (a :class:`Trigger`): every utterance needs its own press. Enter on a
  keyboard (``assistant voice --push-to-talk``) or SIGUSR1 (``assistant serve``, no keyboard:
  a steering-wheel button daemon or ``systemctl kill -s SIGUSR1 assistant``). What was said
  before the press is thrown away; nothing said within ``listen_timeout_s`` of it ends the turn.
* **Barge-in**: while an answer plays, the microphone is still read (through the same VAD); the
  driver speaking stops playback and what they say is the next utterance. Everything else the
  microphone captured during the answer (its own voice, noise) is dropped, never a question.
  With barge-in off, all of it is dropped (half duplex).

Silence gives "nothing heard", noise or an unknown phrase gives "didn't catch that": never
a crash, never a guessed question.
"""

from __future__ import annotations

import itertools
import logging
import re
import signal
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from assistant.speech.audio import FRAME_MS, Audio, EnergyVAD, FrameStream
from assistant.speech.stt import Recognizer, Vocabulary
from assistant.speech.tts import BargeIn, FileSpeaker, Spoken, say_or_log

log = logging.getLogger(__name__)


@dataclass
class Turn:
    source: str
    transcript: str = ""
    question: str | None = None
    answer: str = ""
    heard_speech: bool = False
    wake_word: bool = False
    ignored: bool = False                      # no wake word where one is needed: not for us
    barged_in: bool = False                    # the driver spoke over the answer and stopped it
    played_s: float = 0.0                      # seconds of the answer that were let out
    audio_out: Path | None = None              # where a FileSpeaker wrote the answer
    dropped_frames: int = 0                    # microphone frames captured during the answer, dropped
    timings_ms: dict = field(default_factory=dict)
    details: object = None                     # the pipeline's Answer


def normalize(text: str) -> str:
    """Case-folded words without punctuation, for matching wake words in a transcript."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


class _SilentSpeaker:
    """No audio out (text only)."""

    def __init__(self):
        self.playing = threading.Event()

    def say(self, text: str, name: str = "answer", barge_in=None) -> Spoken:
        return Spoken(True, 0.0)


def speak_alert(speaker, mic: FrameStream | None, text: str, name: str) -> None:
    """A proactive alert, spoken whole (safety wording: no barge-in). What the microphone queued
    meanwhile is the alert's own voice, even if the listening loop reads it later: flushed."""
    if speaker is None:
        return
    say_or_log(speaker, text, name)
    if mic is not None:
        mic.flush()


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


class KeepInputsFileSpeaker(FileSpeaker):
    """A FileSpeaker that never writes over an input recording: an answer whose name lands on
    one of ``keep`` (the same file, through any path, link or hard link) is written as
    ``NAME.answer.wav`` instead (then ``NAME.answer-2.wav``, ...)."""

    def __init__(self, tts, out_dir: Path, realtime: bool = False, keep: tuple[Path, ...] | list[Path] = ()):
        super().__init__(tts, out_dir, realtime)
        self._keep = {i for i in map(_file_id, map(Path, keep)) if i is not None}

    def _kept(self, name: str) -> bool:
        return _file_id(self.out_dir / f"{name}.wav") in self._keep

    def end(self, name: str, rate: int) -> Path:
        free, n = name, 1
        while self._kept(free):
            n += 1
            free = f"{name}.answer" if n == 2 else f"{name}.answer-{n - 1}"
        return super().end(free, rate)


class Trigger:
    """Push-to-talk: ``wait`` blocks until the next press; False when no more can come."""

    def wait(self, stop: threading.Event) -> bool:
        raise NotImplementedError


class EnterTrigger(Trigger):
    """A line on stdin (the Enter key) per utterance; end of input ends the loop."""

    def __init__(self, stream=None, prompt: str | None = "press Enter, then speak"):
        self.stream = stream if stream is not None else sys.stdin
        self.prompt = prompt

    def wait(self, stop: threading.Event) -> bool:
        if self.prompt:
            print(self.prompt, file=sys.stderr, flush=True)
        line = self.stream.readline()
        return bool(line) and not stop.is_set()


class SignalTrigger(Trigger):
    """A signal per utterance (default SIGUSR1), for a service without a keyboard. Install from
    the main thread. ``press()`` does the same from code."""

    def __init__(self, signum: int = signal.SIGUSR1):
        self._event = threading.Event()
        self.signum = signum
        self._previous = signal.signal(signum, lambda *_: self._event.set())

    def close(self) -> None:
        """Put the signal's previous handler back."""
        signal.signal(self.signum, self._previous)

    def press(self) -> None:
        self._event.set()

    def wait(self, stop: threading.Event) -> bool:
        while not stop.is_set():
            if self._event.wait(0.2):
                self._event.clear()
                return True
        return False


class VoiceSession:
    def __init__(self, assistant, recognizer: Recognizer, vocabulary: Vocabulary | None = None,
                 speaker=None, require_wake_word: bool = False, wake_words: list[str] | None = None,
                 follow_up_s: float = 8.0):
        self.assistant = assistant
        self.recognizer = recognizer
        persona = getattr(assistant, "persona", None)
        persona_word = persona.wake_word if persona is not None and persona.wake_word else None
        if vocabulary is not None:
            vocabulary = vocabulary.model_copy(deep=True)
            if persona_word and persona_word not in vocabulary.wake_words:
                vocabulary.wake_words.insert(0, persona_word)   # so the grammar can hear it
        self.vocabulary = vocabulary
        if wake_words is None:
            wake_words = ([persona_word] if persona_word else []) + \
                [w for w in (vocabulary.wake_words if vocabulary else []) if w != persona_word]
        self.wake_words = wake_words
        self.speaker = speaker if speaker is not None else _SilentSpeaker()
        self.require_wake_word = require_wake_word
        self.follow_up_s = follow_up_s
        self._awake_until = 0.0

    # -- one utterance -----------------------------------------------------------------------------

    def _grammar(self):
        return self.vocabulary.grammar() if self.vocabulary else None

    def find_wake_word(self, text: str) -> tuple[bool, str]:
        """(found, the words after it) in a transcript."""
        norm = normalize(text)
        for w in self.wake_words:
            nw = normalize(w)
            if not nw:
                continue
            m = re.search(rf"(?:^|\s){re.escape(nw)}(?:\s|$)", norm)
            if m:
                return True, norm[m.end():].strip()
        return False, text

    def handle(self, audio: Audio, name: str = "turn", barge_in=None) -> Turn:
        """A whole recording (a WAV file): VAD to tell speech from silence, then one turn."""
        t0 = time.perf_counter()
        vad = EnergyVAD(audio.rate)
        heard = vad.next_utterance(vad.frames(audio.pcm)) is not None
        # A file is one utterance: vosk gets all of it (VAD-trimmed edges cost words); the VAD
        # has only told silence and steady noise from speech.
        return self.respond(audio.pcm if heard else b"", audio.rate, name, audio.source or name,
                            barge_in=barge_in, t0=t0)

    def respond(self, pcm: bytes, rate: int, name: str, source: str = "microphone", barge_in=None,
                t0: float | None = None) -> Turn:
        t0 = t0 if t0 is not None else time.perf_counter()
        turn = Turn(source)
        turn.timings_ms["vad"] = (time.perf_counter() - t0) * 1000
        if not pcm:
            turn.answer = self.assistant.style_phrase("nothing_heard")
            self._speak(turn, name, barge_in)
            return turn
        turn.heard_speech = True
        tr = self.recognizer.transcribe(pcm, rate, self._grammar())
        turn.transcript = tr.text
        turn.timings_ms["stt"] = (time.perf_counter() - t0) * 1000
        found, rest = self.find_wake_word(tr.text) if self.wake_words else (False, tr.text)
        turn.wake_word = found
        awake = time.monotonic() < self._awake_until
        if self.require_wake_word and not found and not awake:
            turn.ignored = True
            return turn                                  # not for us: stay quiet
        self._awake_until = 0.0
        if self.vocabulary:
            turn.question = self.vocabulary.question_for(tr.text)
        else:
            turn.question = (rest if found else tr.text).strip() or None
        if not turn.question:
            if found:
                turn.answer = self.assistant.greeting()
                self._awake_until = time.monotonic() + self.follow_up_s
            else:
                turn.answer = self.assistant.style_phrase("unclear")
        else:
            answer = self.assistant.ask(turn.question)
            turn.details = answer
            turn.answer = answer.text
        turn.timings_ms["answer"] = (time.perf_counter() - t0) * 1000
        self._speak(turn, name, barge_in)
        turn.timings_ms["spoken"] = (time.perf_counter() - t0) * 1000
        return turn

    def _speak(self, turn: Turn, name: str, barge_in) -> None:
        spoken = say_or_log(self.speaker, turn.answer, name, barge_in=barge_in)
        if spoken is not None:
            turn.barged_in = not spoken.finished
            turn.played_s, turn.audio_out = spoken.played_s, spoken.path

    # -- a live stream -----------------------------------------------------------------------------

    def run_microphone(self, mic: FrameStream, on_turn: Callable[[Turn], None], stop: threading.Event,
                       trigger: Trigger | None = None, barge_in: bool = True,
                       listen_timeout_s: float = 8.0, echo_tail_s: float = 0.15) -> None:
        """Listen until ``stop`` (or the stream ends): one utterance -> one turn, with barge-in.

        ``on_turn`` gets every turn that was for the assistant (not those ignored for want of
        the wake word)."""
        vad = EnergyVAD(mic.rate)
        carry: list[bytes] = []
        n = itertools.count(1)
        with mic:
            frames = self._not_while_other_playback(mic.frames(stop))
            while not stop.is_set():
                if trigger is not None:
                    if not trigger.wait(stop):
                        break
                    mic.flush()                          # before the press is not the question
                    carry = []
                wait = int(listen_timeout_s * 1000 / FRAME_MS) if trigger is not None else None
                pcm = vad.next_utterance(itertools.chain(carry, frames), max_wait_frames=wait)
                carry = []
                if pcm is None:
                    if trigger is not None and not stop.is_set() and not mic.closed.is_set():
                        on_turn(self.respond(b"", mic.rate, f"mic-{next(n)}"))   # pressed, said nothing
                        continue
                    break
                bi = BargeIn(mic, vad, enabled=barge_in)
                turn = self.respond(pcm, mic.rate, f"mic-{next(n)}", barge_in=bi)
                if turn.ignored:
                    continue                             # nothing was said: keep listening as is
                carry = bi.finish()
                if not carry:
                    time.sleep(echo_tail_s)              # the room's echo of the last words
                    bi.dropped += mic.flush()
                if trigger is not None:
                    carry = []                           # push-to-talk: the next question needs a press
                turn.dropped_frames = bi.dropped
                log.debug("turn %r: barged_in=%s, %d frames dropped during the answer",
                          turn.transcript, turn.barged_in, bi.dropped)
                on_turn(turn)

    def _not_while_other_playback(self, frames: Iterator[bytes]) -> Iterator[bytes]:
        """Frames read while another thread (a proactive alert) is speaking are its own voice."""
        playing = getattr(self.speaker, "playing", None)
        for f in frames:
            if playing is not None and playing.is_set():
                continue
            yield f
