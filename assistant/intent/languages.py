"""Language tables: the words that route a question, one file per language.

``assistant/data/intents/<lang>.yaml`` (``en``, ``fr``, ``it``) holds, for one language, the
patterns per tool, signal and wheel, the words that decline a question, and the follow-up unit
words; :class:`LanguageIntents` validates a file (a broken one is refused with file, line, field
and pattern named) and compiles each pattern list into one regular expression. The rules that
use the words are the same for every language and live in :mod:`assistant.intent.matcher`.
Adding a language means adding a file, not code.

:func:`detect` picks the table of a question from its marker words; a question with none of any
other language's markers is English (``en.yaml``, the default table, has no markers).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from assistant import paths
from assistant.configfile import load_model
from assistant.intent.extract import NEVER, alternation, unit_only_pattern
from assistant.state import units
from assistant.state.signals import CATALOG
from assistant.tools.schemas import WheelChoice

INTENTS_DIR = paths.INTENTS_DIR
DEFAULT_LANGUAGE = "en"
TOPICS = ("range", "energy", "warnings", "service", "tyres", "signals")
Topic = Literal["range", "energy", "warnings", "service", "tyres", "signals"]


def _patterns(v: Any) -> Any:
    if isinstance(v, re.Pattern):
        return v
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(p, str) for p in v):
        raise ValueError("expected a list of regular expressions (strings)")
    return alternation(v)


# A list of regular expressions in the file; one compiled alternation once validated.
Patterns = Annotated[re.Pattern, BeforeValidator(_patterns)]


class UnitOnly(BaseModel):
    """A turn that asks for nothing but other units ("and in psi?"): single-word patterns."""

    model_config = ConfigDict(extra="forbid")

    lead: list[str] = Field(default_factory=list, description="words that may come before the unit")
    units: list[str] = Field(description="the unit words")
    tail: list[str] = Field(default_factory=list, description="words that may come after it")


class LanguageIntents(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    language: str
    markers: list[str] = Field(default_factory=list, description="words that mark a question as this language")
    # One tool call per topic whose patterns match, placed where its first match is.
    range: Patterns = NEVER
    energy: Patterns = NEVER
    warnings: Patterns = NEVER
    service: Patterns = NEVER
    tyres: Patterns = NEVER
    signals: dict[str, Patterns] = Field(default_factory=dict, description="read_signal name -> patterns")
    wheels: dict[WheelChoice, Patterns] = Field(default_factory=dict,
                                                description="get_tyre_pressures wheel -> patterns, most specific first")
    battery_words: Patterns = Field(NEVER, description="the battery was asked about")
    fuel_words: Patterns = Field(NEVER, description="the fuel was asked about")
    # Exceptions, each a list of words the rules in matcher.py consult.
    energy_in_range: Optional[Patterns] = Field(
        None, description="energy matches (whole) that only restate a range question; absent: all of them")
    range_of_tyres: Patterns = Field(NEVER, description="range words that are the tyres' when they are asked about")
    topic_lamps: Patterns = Field(NEVER, description="a lamp named with its topic: not a get_warnings question")
    signals_beside_service: dict[str, Patterns] = Field(
        default_factory=dict, description="signal -> words without which it is not read beside a service question")
    same_place_order: list[Topic] = Field(
        default_factory=lambda: list(TOPICS), description="which call comes first when two match at one place")
    not_a_car_question: Patterns = Field(NEVER, description="declined, even when a part of the car is named")
    off_topic: Patterns = Field(NEVER, description="declined when no rule routes the question")
    # Follow-ups ("and in miles?").
    units: dict[str, Patterns] = Field(default_factory=dict, description="unit -> words that ask for it")
    unit_only: Optional[UnitOnly] = None
    _unit_only_rx: Optional[re.Pattern] = PrivateAttr(None)

    @field_validator("signals", "signals_beside_service")
    @classmethod
    def _known_signals(cls, v: dict) -> dict:
        unknown = [k for k in v if k not in CATALOG]
        if unknown:
            raise ValueError(f"unknown signal(s) {', '.join(unknown)} (see docs/signals.md)")
        return v

    @field_validator("units")
    @classmethod
    def _known_units(cls, v: dict) -> dict:
        try:
            return {units.normalize(k): rx for k, rx in v.items()}
        except units.UnitError as e:
            raise ValueError(f"{e} (see assistant/state/units.py)") from None

    @field_validator("same_place_order")
    @classmethod
    def _every_topic_once(cls, v: list) -> list:
        if sorted(v) != sorted(TOPICS):
            raise ValueError(f"must name each of {', '.join(TOPICS)} once")
        return v

    @model_validator(mode="after")
    def _compile_unit_only(self) -> "LanguageIntents":
        self._unit_only_rx = (unit_only_pattern(self.unit_only.lead, self.unit_only.units, self.unit_only.tail)
                              if self.unit_only else None)
        return self

    def unit_only_rx(self) -> re.Pattern | None:
        """The full-match pattern of a units-only turn, or None when the file has none."""
        return self._unit_only_rx


@lru_cache(maxsize=None)
def tables() -> tuple[LanguageIntents, ...]:
    """Every shipped table, the default (English) first."""
    found = [load_model(LanguageIntents, p) for p in sorted(INTENTS_DIR.glob("*.yaml"))]
    return tuple(sorted(found, key=lambda t: t.language != DEFAULT_LANGUAGE))


def default() -> LanguageIntents:
    """The English table: questions without another language's markers."""
    for t in tables():
        if t.language == DEFAULT_LANGUAGE:
            return t
    raise RuntimeError(f"{INTENTS_DIR}/{DEFAULT_LANGUAGE}.yaml is missing")


WORD_RE = re.compile(r"[^\W\d_]+")


def detect(q: str) -> LanguageIntents | None:
    """The table whose marker words the question uses most (``q`` normalised); None: English.
    A driver's question is short, so one marker word is enough ("le pneu avant ?")."""
    words = WORD_RE.findall(q)
    best, best_n = None, 0
    for table in tables():
        if table.language == DEFAULT_LANGUAGE:
            continue
        n = sum(w in table.markers for w in words)
        if n > best_n:
            best, best_n = table, n
    return best
