"""The in-cabin voice loop: audio -> VAD -> vosk -> (vocabulary) -> assistant -> espeak-ng.

The same :class:`VoiceSession` handles WAV files (``assistant voice --input``; testable without
a sound card) and the microphone (push-to-talk with Enter, or the persona's wake word).
Silence gives "nothing heard", noise or an unknown phrase gives "didn't catch that": never
a crash, never a guessed question.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from assistant.speech.audio import Audio, EnergyVAD, Microphone
from assistant.speech.stt import Recognizer, Vocabulary


@dataclass
class Turn:
    source: str
    transcript: str = ""
    question: str | None = None
    answer: str = ""
    heard_speech: bool = False
    wake_word: bool = False
    timings_ms: dict = field(default_factory=dict)
    details: object = None                     # the pipeline's Answer


class VoiceSession:
    def __init__(self, assistant, recognizer: Recognizer, vocabulary: Vocabulary | None = None,
                 speak: Callable[[str, str], object] | None = None, require_wake_word: bool = False):
        self.assistant = assistant
        self.recognizer = recognizer
        self.vocabulary = vocabulary
        self.speak = speak or (lambda text, name: None)
        self.require_wake_word = require_wake_word

    def _grammar(self):
        return self.vocabulary.grammar() if self.vocabulary else None

    def handle(self, audio: Audio, name: str = "turn") -> Turn:
        t0 = time.perf_counter()
        turn = Turn(audio.source or name)
        vad = EnergyVAD(audio.rate)
        utterances = list(vad.utterances(vad.frames(audio.pcm)))
        turn.timings_ms["vad"] = (time.perf_counter() - t0) * 1000
        if not utterances:
            turn.answer = self.assistant.style_phrase("nothing_heard")
            self.speak(turn.answer, name)
            return turn
        turn.heard_speech = True
        # A file is one utterance: vosk gets all of it (VAD-trimmed edges cost words); the VAD
        # has already told silence from speech.
        pcm = audio.pcm if audio.source != "microphone" else b"".join(utterances)
        tr = self.recognizer.transcribe(pcm, audio.rate, self._grammar())
        turn.transcript = tr.text
        turn.timings_ms["stt"] = (time.perf_counter() - t0) * 1000
        text = tr.text
        if self.vocabulary:
            turn.wake_word = self.vocabulary.has_wake_word(text)
            if self.require_wake_word and not turn.wake_word:
                return turn                          # not for us: stay quiet
            turn.question = self.vocabulary.question_for(text)
        else:
            turn.question = text or None
        if not turn.question:
            turn.answer = self.assistant.style_phrase("unclear") if not turn.wake_word else \
                self.assistant.greeting()
        else:
            answer = self.assistant.ask(turn.question)
            turn.details = answer
            turn.answer = answer.text
        turn.timings_ms["answer"] = (time.perf_counter() - t0) * 1000
        self.speak(turn.answer, name)
        turn.timings_ms["spoken"] = (time.perf_counter() - t0) * 1000
        return turn

    # -- microphone ------------------------------------------------------------------------------

    def run_microphone(self, mic: Microphone, push_to_talk: bool, on_turn: Callable[[Turn], None],
                       stop: threading.Event) -> None:
        """Wake word (or Enter with push-to-talk) -> one utterance -> answer, until ``stop``."""
        vad = EnergyVAD(mic.rate)
        with mic:
            for pcm in vad.utterances(_until(mic.frames(), stop)):
                if stop.is_set():
                    break
                turn = self.handle(Audio(pcm, mic.rate, "microphone"), f"mic-{int(time.time())}")
                if turn.heard_speech and (turn.question or turn.wake_word or not self.require_wake_word):
                    on_turn(turn)


def _until(frames, stop: threading.Event):
    for f in frames:
        if stop.is_set():
            return
        yield f
