"""OEM persona configs: one engine, many brands (YAML, validated with pydantic).

A persona sets the assistant's name, brand, language, units, tone for the model, greeting,
answer length by driving state, wake word, voice, brand wording for non-critical messages,
service phrasing and topics to decline. ``extends:`` inherits from a base persona.

Safety wording for critical warnings is not the brand's to change: a persona that tries is
refused with an error saying so. ``check_file`` returns errors and warnings with file, line and
field, for ``assistant persona check``.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant import paths
from assistant.answer.render import Style, available_languages, locale_texts
from assistant.configfile import ConfigError, locate, read_yaml, resolve_named, validation_problems

PERSONAS_DIR = paths.PROJECT_ROOT / "personas"

# Driver-distraction limits applied to spoken answers while moving, documented in
# docs/personas.md: about 12 s of speech at 150 words/min (NHTSA's 12-second total task time).
MOVING_WORDS_LIMIT = 30
MOVING_SENTENCES_LIMIT = 3
# Below this, the moving cap leaves only the first sentence of every answer: the shortest first
# sentence the deterministic rendering says is 10 words ("Your service is overdue by 1200 km and
# 10 days.", "Il prossimo tagliando è tra 300 km o 7 giorni.") and the shortest safety-relevant
# sentence that follows one is 6 ("The low fuel warning is on.", "The oil level is critically
# low."), so with fewer than 16 words no such sentence can ever be said while moving.
MOVING_WORDS_MIN = 16
SAFE_RATE_WPM = (120, 220)
DECIMAL_COMMA_LANGS = {"fr", "it", "de", "es", "pt", "nl", "sv", "da", "fi", "pl", "cs"}
CORE_TOPICS = {"fuel", "range", "warning", "warnings", "tyre", "tyres", "tire", "service", "brake", "oil"}
SAFETY_KEYS = {"safety", "safety_wording", "critical_wording", "critical", "telltales", "warnings_wording"}

_TEMPERATURE = {"C": "°C", "°C": "°C", "degC": "°C", "F": "°F", "°F": "°F", "degF": "°F"}


class Units(BaseModel):
    model_config = ConfigDict(extra="forbid")
    distance: Literal["km", "mi"] = "km"
    pressure: Literal["kPa", "bar", "psi"] = "kPa"
    temperature: str = "°C"
    consumption: Literal["l/100km", "mpg"] = "l/100km"

    @field_validator("temperature")
    @classmethod
    def _temp(cls, v: str) -> str:
        if v not in _TEMPERATURE:
            raise ValueError(f"temperature unit must be °C or °F (or C/F), got {v!r}")
        return _TEMPERATURE[v]


class LengthCap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_words: int = Field(ge=5, le=200)
    max_sentences: int = Field(ge=1, le=10)


class AnswerLength(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parked: LengthCap = LengthCap(max_words=60, max_sentences=4)
    moving: LengthCap = LengthCap(max_words=25, max_sentences=2)
    moving_above_kmh: float = Field(5.0, ge=0, le=50, description="Vehicle.Speed above this = moving")


class Voice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    voice: str = Field("en", description="espeak-ng voice, e.g. en-gb, en-us, fr, it")
    rate_wpm: int = Field(165, ge=80, le=450)
    pitch: int = Field(50, ge=0, le=99)
    volume: int = Field(100, ge=0, le=200)


class ServiceText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dealer_phrase: str | None = Field(None, description="said after a due or overdue service, e.g. booking advice")


class Proactive(BaseModel):
    model_config = ConfigDict(extra="forbid")
    announce_non_critical: bool = Field(True, description="announce low fuel, service due, low tyre once per drive")
    reminder_s: float = Field(120.0, ge=10, le=3600, description="repeat a critical alert while it stays on")


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, description="the assistant's name")
    brand: str = ""
    extends: str | None = Field(None, description="base persona (path relative to this file, or a name)")
    locale: str = Field("en-GB", description="language of answers, e.g. en-GB, fr-FR, it-IT")
    units: Units = Units()
    tone: str = Field("", max_length=400, description="style guidance for the model")
    greeting: str | None = None
    answer_length: AnswerLength = AnswerLength()
    wake_word: str | None = None
    voice: Voice = Voice()
    wording: dict[str, str] = Field(default_factory=dict, description="overrides of non-critical phrases")
    service: ServiceText = ServiceText()
    decline_topics: list[str] = Field(default_factory=list)
    decline_text: str | None = None
    proactive: Proactive = Proactive()

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z]{2}(?:[-_][A-Z]{2})?", v):
            raise ValueError(f"locale must look like en-GB or fr, got {v!r}")
        lang = v[:2]
        if lang not in available_languages():
            raise ValueError(f"no answer texts for language {lang!r} (have: {', '.join(available_languages())})")
        return v

    @property
    def language(self) -> str:
        return self.locale[:2]

    def problems(self) -> list[tuple[tuple, str]]:
        """Checks over several fields, each at the field to fix: the moving cap within the parked
        one; wording overrides with known phrase keys, the same placeholders, never safety text."""
        found = []
        if self.answer_length.moving.max_words > self.answer_length.parked.max_words:
            found.append((("answer_length", "moving", "max_words"),
                          f"{self.answer_length.moving.max_words} must not exceed answer_length.parked.max_words "
                          f"({self.answer_length.parked.max_words})"))
        en = locale_texts("en")["phrases"]
        for key, text in self.wording.items():
            if key in SAFETY_KEYS or key in locale_texts("en")["telltales"] or "safety" in key:
                found.append((("wording", key), _SAFETY_REFUSAL))
            elif key not in en:
                found.append((("wording", key), f"unknown phrase {key!r} (phrases: see assistant/data/locales/en.yaml)"))
            elif _placeholders(text) != _placeholders(en[key]):
                found.append((("wording", key), f"must keep the placeholders {sorted(_placeholders(en[key]))}, "
                                                f"has {sorted(_placeholders(text))}"))
        return found

    # -- what the engine uses ------------------------------------------------------------------

    def style(self) -> Style:
        wording = dict(self.wording)
        if self.decline_text:
            wording["decline"] = self.decline_text
        return Style(locale=self.language, distance=self.units.distance, pressure=self.units.pressure,
                     temperature=self.units.temperature, consumption=self.units.consumption,
                     decimal_comma=self.language in DECIMAL_COMMA_LANGS, wording=wording,
                     service_dealer=self.service.dealer_phrase)

    def tone_text(self) -> str:
        return " ".join(self.tone.split())

    def declines(self, question: str) -> bool:
        q = question.lower()
        return any(re.search(rf"\b{re.escape(t.lower())}\b", q) for t in self.decline_topics)


_SAFETY_REFUSAL = ("safety wording for critical warnings is fixed, approved text and cannot be set or "
                   "weakened by a persona (see docs/personas.md)")


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def resolve_persona_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    p = Path(name_or_path)
    if relative_to is not None and not p.is_absolute() and (relative_to / p).exists():
        return relative_to / p
    return resolve_named(p, PERSONAS_DIR, "persona")


def _deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for k, v in override.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class Layer(NamedTuple):
    """One file of an ``extends:`` chain: where it is, what it says, its YAML nodes (for lines)."""
    path: Path
    data: dict
    node: Any


def _chain(path: Path, seen: tuple[Path, ...] = ()) -> list[Layer]:
    """The persona file and its ``extends:`` bases, child first."""
    real = path.resolve()
    if real in seen:
        chain = " -> ".join(str(p) for p in seen + (real,))
        raise ConfigError(path, [f"{path}: extends: circular chain {chain}"])
    data, node = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path, [f"{path}: a persona must be a mapping of fields"])
    for key in data:
        if key in SAFETY_KEYS:
            raise ConfigError(path, [f"{locate(path, node, (key,))}: {key}: {_SAFETY_REFUSAL}"])
    layers = [Layer(path, data, node)]
    base_ref = data.get("extends")
    if base_ref:
        try:
            base_path = resolve_persona_path(base_ref, relative_to=real.parent)
        except ConfigError:
            raise ConfigError(path, [f"{locate(path, node, ('extends',))}: extends: base persona "
                                     f"{base_ref!r} not found"]) from None
        layers += _chain(base_path, seen + (real,))
    return layers


def _merged(chain: list[Layer]) -> dict:
    data: dict = {}
    for layer in reversed(chain):                 # base first, each child over it
        data = _deep_merge(data, layer.data)
    return data


def _reach(data: Any, loc: tuple) -> tuple[int, bool]:
    """How many leading keys of ``loc`` this file's data has; and whether it decides the merged
    value there: it has the whole path, or a list or scalar on the way (merging replaces those)."""
    for depth, key in enumerate(loc):
        if isinstance(data, dict):
            hit = next((k for k in data if str(k) == str(key)), _MISSING)
            if hit is _MISSING:
                return depth, False
            data = data[hit]
        else:
            return depth, True
    return len(loc), True


_MISSING = object()


def origin(chain: list[Layer], loc: tuple) -> str:
    """``file:line`` where the value at ``loc`` is written: the first file of the chain (child
    first) that decides it; for a value nobody wrote (a missing field), the file that comes closest."""
    best, best_depth = chain[0], -1
    for layer in chain:
        depth, decides = _reach(layer.data, loc)
        if decides:
            return locate(layer.path, layer.node, loc)
        if depth > best_depth:
            best, best_depth = layer, depth
    return locate(best.path, best.node, loc)


def _validate(chain: list[Layer]) -> Persona:
    """The merged persona; each problem is reported where its value is written."""
    try:
        persona = Persona.model_validate(_merged(chain))
    except ValidationError as err:
        raise ConfigError(chain[0].path, [f"{origin(chain, loc)}: {'.'.join(map(str, loc)) or '(top level)'}: {msg}"
                                          for loc, msg in validation_problems(err)]) from None
    found = [f"{origin(chain, loc)}: {'.'.join(map(str, loc))}: {msg}" for loc, msg in persona.problems()]
    if found:
        raise ConfigError(chain[0].path, found)
    return persona


def load_persona(name_or_path: str | Path) -> Persona:
    return _validate(_chain(resolve_persona_path(name_or_path)))


def warnings_for(p: Persona, chain: list[Layer]) -> list[str]:
    """Risky but legal choices, with the file:line where each is written."""
    out = []
    moving = p.answer_length.moving
    if moving.max_words < MOVING_WORDS_MIN:
        out.append(f"{origin(chain, ('answer_length', 'moving', 'max_words'))}: answer_length.moving.max_words: "
                   f"{moving.max_words} words while driving leaves only the first sentence of an answer: a "
                   f"warning that follows it (e.g. 'The low fuel warning is on.' after the range) is never "
                   f"said; use at least {MOVING_WORDS_MIN} (see docs/personas.md)")
    if moving.max_sentences == 1:
        out.append(f"{origin(chain, ('answer_length', 'moving', 'max_sentences'))}: "
                   "answer_length.moving.max_sentences: 1 sentence while driving drops every sentence after the "
                   "first, warnings included (e.g. 'The low fuel warning is on.' after the range); use at "
                   "least 2 (see docs/personas.md)")
    if moving.max_words > MOVING_WORDS_LIMIT:
        out.append(f"{origin(chain, ('answer_length', 'moving', 'max_words'))}: answer_length.moving.max_words: "
                   f"{moving.max_words} words while driving exceeds the distraction limit of {MOVING_WORDS_LIMIT}")
    if moving.max_sentences > MOVING_SENTENCES_LIMIT:
        out.append(f"{origin(chain, ('answer_length', 'moving', 'max_sentences'))}: "
                   f"answer_length.moving.max_sentences: {moving.max_sentences} sentences while driving exceeds "
                   f"the limit of {MOVING_SENTENCES_LIMIT}")
    lo, hi = SAFE_RATE_WPM
    if not lo <= p.voice.rate_wpm <= hi:
        out.append(f"{origin(chain, ('voice', 'rate_wpm'))}: voice.rate_wpm: {p.voice.rate_wpm} words/min is "
                   f"outside {lo}-{hi}, hard to follow while driving")
    core = sorted(CORE_TOPICS & {t.lower() for t in p.decline_topics})
    if core:
        out.append(f"{origin(chain, ('decline_topics',))}: decline_topics: declining {', '.join(core)} hides "
                   "what the assistant is for")
    if p.wake_word and len(p.wake_word.replace(" ", "")) < 6:
        out.append(f"{origin(chain, ('wake_word',))}: wake_word: {p.wake_word!r} is short; short wake words "
                   "trigger by mistake")
    if re.search(r"\d", p.tone):
        out.append(f"{origin(chain, ('tone',))}: tone: numbers in the tone guidance can leak into answers")
    if not p.voice.voice.startswith(p.language):
        out.append(f"{origin(chain, ('voice', 'voice'))}: voice.voice: {p.voice.voice!r} does not speak the "
                   f"answer language {p.language!r}")
    return out


def check_file(path: str | Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) for ``assistant persona check``."""
    try:
        chain = _chain(Path(path))
        persona = _validate(chain)
    except ConfigError as e:
        return e.problems, []
    return [], warnings_for(persona, chain)
