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
from assistant.answer.claims import claims, health_claim
from assistant.answer.render import Style, available_languages, locale_texts
from assistant.state import units
from assistant.configfile import ConfigError, locate, read_yaml, resolve_named, validation_problems

PERSONAS_DIR = paths.PERSONAS_DIR

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

# Phrases said without any reading of the car (nothing heard, not understood, declined, greeted,
# a signal that cannot be read): a health claim in them ("Everything is fine") is never grounded.
# Phrases that say what cannot be read, or that a lamp was on when last read: a persona's
# rewording could turn "I can't read it, treat it as on" into an all-clear, so they are fixed.
PROTECTED_PHRASES = {"cant_read", "not_supported", "unreadable_lamps", "lamps_not_reported", "lamps_unreadable_all",
                     "lamps_unreadable_others", "lamps_unreadable_some", "lamp_last_on", "lamp_last_on_critical",
                     "was_ON", "was_BLINK", "state_ON", "state_BLINK", "no_warnings_partial", "n_lamps"}
NO_READING_PHRASES = {"nothing_heard", "greeting", "decline", "unclear", "set_aside", "cant_read", "not_supported",
                      "unreadable_lamps", "lamps_not_reported", "lamps_unreadable_all",
                      "lamps_unreadable_others", "lamps_unreadable_some"}


class Units(BaseModel):
    model_config = ConfigDict(extra="forbid")
    distance: Literal["km", "mi"] = "km"
    pressure: Literal["kPa", "bar", "psi"] = "kPa"
    temperature: str = "°C"
    consumption: Literal["l/100km", "mpg"] = "l/100km"

    @field_validator("temperature")
    @classmethod
    def _temp(cls, v: str) -> str:
        try:
            return units.temperature_unit(v)
        except units.UnitError as e:
            raise ValueError(str(e)) from None


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
        en = locale_texts("en").phrases
        for key, text in self.wording.items():
            if key in SAFETY_KEYS or key in locale_texts("en").telltales or "safety" in key:
                found.append((("wording", key), _SAFETY_REFUSAL))
            elif key in PROTECTED_PHRASES:
                found.append((("wording", key), f"{key!r} says what cannot be read or that a lamp was on when "
                                                "last read: its wording is fixed, not a persona's to change "
                                                "(see docs/personas.md)"))
            elif key not in en:
                found.append((("wording", key), f"unknown phrase {key!r} (phrases: see assistant/data/locales/en.yaml)"))
            elif (bad := _format_problem(text)) is not None:
                found.append((("wording", key), bad))
            elif _placeholders(text) != _placeholders(en[key]):
                found.append((("wording", key), f"must keep the placeholders {sorted(_placeholders(en[key]))}, "
                                                f"has {sorted(_placeholders(text))}"))
            elif (bad := _health_problem(key, text)) is not None:
                found.append((("wording", key), bad))
        if self.decline_text is not None:
            if (bad := _format_problem(self.decline_text)) is not None:
                found.append((("decline_text",), bad))
            elif _placeholders(self.decline_text) != _placeholders(en["decline"]):
                found.append((("decline_text",), f"must keep the placeholders {sorted(_placeholders(en['decline']))}, "
                                                 f"has {sorted(_placeholders(self.decline_text))}"))
            elif (bad := _health_problem("decline", self.decline_text)) is not None:
                found.append((("decline_text",), bad))
        if self.greeting is not None and (bad := _health_problem("greeting", self.greeting)) is not None:
            found.append((("greeting",), bad))
        if self.service.dealer_phrase and (bad := _health_problem("", self.service.dealer_phrase)) is not None:
            found.append((("service", "dealer_phrase"), bad))
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


def _format_problem(text: str) -> str | None:
    """Persona texts are filled in with ``str.format``: only plain ``{name}`` placeholders are
    allowed. A format spec (``{list:>30000000}`` pads to 30 MB), a conversion (``{list!r}``), an
    attribute or index (``{list.__class__}``, ``{list[0]}``) or a stray brace is refused."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as e:
        return f"broken placeholder ({e}); write {{{{ and }}}} for a literal brace"
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
            return (f"placeholder {shown} is not allowed: only plain {{name}} placeholders, without format "
                    "specs, conversions, attributes or indexes")
    return None


def _health_problem(key: str, text: str) -> str | None:
    """A brand text that says the car is fine where the engine cannot know it (see
    docs/personas.md, 'Health claims'): any health claim in a phrase said without a reading; a
    claim about the whole car in any phrase (no set of readings covers a whole car)."""
    if key in NO_READING_PHRASES:
        claim = health_claim(text) or _whole_car_claim(text)
        if claim:
            return (f"says the car is fine ({claim!r}), but this text is said without reading the car; "
                    "a persona must not claim health the engine cannot know (see docs/personas.md)")
        return None
    claim = _whole_car_claim(text)
    if claim:
        what = "no warning lamp is on" if key.startswith("no_warnings") else "what its readings show"
        return (f"claims the whole car is fine ({claim!r}); this text may only say {what}, "
                "never that the whole car is healthy (see docs/personas.md)")
    return None


def _whole_car_claim(text: str) -> str | None:
    for sentence, _topics, whole_car in claims(text):
        if whole_car:
            return health_claim(sentence)
    return None


PERSONA_SUFFIXES = (".yaml", ".yml")


def resolve_persona_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A persona file: a name in personas/, or a path; only .yaml/.yml files are persona files."""
    p = Path(name_or_path)
    if relative_to is not None and not p.is_absolute() and (relative_to / p).exists():
        p = relative_to / p
    else:
        p = resolve_named(p, PERSONAS_DIR, "persona")
    if p.suffix.lower() not in PERSONA_SUFFIXES:
        raise ConfigError(p, [f"{p}: not a persona file (persona files are .yaml or .yml)"])
    return p


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


_FIELDS = frozenset(Persona.model_fields)


def _chain(path: Path, seen: tuple[Path, ...] = (), base_of: tuple[Path, Any] | None = None) -> list[Layer]:
    """The persona file and its ``extends:`` bases, child first.

    A base (``base_of`` = the child's path and nodes) must be a persona file, and nothing of a
    base that is not one is ever shown: ``extends: /etc/shadow`` or a YAML file of something else
    is refused with the child's line and the base's name only."""
    real = path.resolve()
    if real in seen:
        chain = " -> ".join(str(p) for p in seen + (real,))
        raise ConfigError(path, [f"{path}: extends: circular chain {chain}"])
    if path.suffix.lower() not in PERSONA_SUFFIXES:
        raise ConfigError(path, [f"{path}: not a persona file (persona files are .yaml or .yml)"])
    if base_of is None:
        data, node = read_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError(path, [f"{path}: not a persona: a persona is a mapping of fields"])
        if not _FIELDS & {str(k) for k in data}:
            raise ConfigError(path, [f"{path}: not a persona: none of its keys is a persona field "
                                     "(see docs/personas.md)"])
    else:
        child, child_node = base_of
        where = f"{locate(child, child_node, ('extends',))}: extends"
        if not path.exists():
            raise ConfigError(child, [f"{where}: base persona {str(path)!r} not found"])
        try:
            data, node = read_yaml(path)
        except ConfigError:
            raise ConfigError(child, [f"{where}: {path} cannot be read as a persona (run `assistant persona "
                                      f"check {path}` to see why)"]) from None
        if not isinstance(data, dict) or not {str(k) for k in data} <= _FIELDS:
            raise ConfigError(child, [f"{where}: {path} is not a persona file (not a mapping of persona "
                                      "fields); its content is not shown"])
    for key in data:
        if key in SAFETY_KEYS:
            raise ConfigError(path, [f"{locate(path, node, (key,))}: {key}: {_SAFETY_REFUSAL}"])
    layers = [Layer(path, data, node)]
    base_ref = data.get("extends")
    if base_ref:
        if not isinstance(base_ref, str):
            raise ConfigError(path, [f"{locate(path, node, ('extends',))}: extends: must be a persona name "
                                     "or a .yaml path"])
        try:
            base_path = resolve_persona_path(base_ref, relative_to=real.parent)
        except ConfigError as e:
            why = "not found" if "unknown persona" in str(e) else "is not a persona file (persona files are .yaml or .yml)"
            raise ConfigError(path, [f"{locate(path, node, ('extends',))}: extends: base persona "
                                     f"{base_ref!r} {why}"]) from None
        layers += _chain(base_path, seen + (real,), base_of=(path, node))
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
                   f"{moving.max_words} words while driving leaves only the first sentence of an answer (a "
                   f"lamp that is on and what cannot be read are still said, over the cap; the rest, e.g. "
                   f"the tank level after the range, is dropped); use at least {MOVING_WORDS_MIN} "
                   f"(see docs/personas.md)")
    if moving.max_sentences == 1:
        out.append(f"{origin(chain, ('answer_length', 'moving', 'max_sentences'))}: "
                   "answer_length.moving.max_sentences: 1 sentence while driving drops every sentence after the "
                   "first but those that say a lamp is on or what cannot be read (said over the cap); use at "
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
