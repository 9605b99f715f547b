"""Language tables: the words that route a question, one file per language.

``assistant/data/intents/<lang>.yaml`` (``en``, ``fr``, ``it``) holds, for one language, the
patterns per tool, signal and wheel, the words that decline a question, and the follow-up unit
words; :class:`LanguageIntents` validates a file (a broken one is refused with file, line, field
and pattern named) and compiles each pattern list into one regular expression. The rules that
use the words are the same for every language and live in :mod:`assistant.intent.matcher`.
Adding a language means adding a file, not code.

Besides the topic words a table holds the *classes* of phrasing the rules treat specially, as
words: what a speech recogniser adds or mishears (``fillers``, ``heard_as``, number and digit
words), words that several topics share and how their context decides (``shared``, ``masks``),
a wheel named on its own (``wheel_alone``, ``tyre_hints``, ``other_parts``), questions to decline
although they name parts of the car (``declines``: another car, cars in general, navigation,
controlling the car), instruction-like text (``instructions``, ``dictation``), and what makes a
question long or two questions (``long_question_words``, ``request_leads``, ``narrative``,
``conjunctions``). :func:`assistant.intent.matcher.uncertainty` names these classes when it
says a route should not be trusted without a capable model.

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
from assistant.intent.extract import DEFAULT_KM, DEFAULT_MI, NEVER, alternation, distance_pattern, unit_only_pattern
from assistant.state import units
from assistant.state.signals import CATALOG
from assistant.state.telltales import Colour, Shape
from assistant.tools.schemas import WheelChoice

INTENTS_DIR = paths.INTENTS_DIR
DEFAULT_LANGUAGE = "en"
TOPICS = ("range", "energy", "warnings", "service", "tyres", "signals")
Topic = Literal["range", "energy", "warnings", "service", "tyres", "signals"]
# What a shared word or a mask can stand for: a topic (not "signals"), a read_signal name, or nothing.
CALL_TOPICS = ("range", "energy", "warnings", "service", "tyres")
MASKED_TOOLS = ("body", "charging")
NOTHING = "none"


def _patterns(v: Any) -> Any:
    if isinstance(v, re.Pattern):
        return v
    if isinstance(v, str):
        v = [v]
    if isinstance(v, list):                  # a list named once in the file (a YAML anchor) and used inside another
        v = [p for item in v for p in (item if isinstance(item, list) else [item])]
    if not isinstance(v, list) or not all(isinstance(p, str) for p in v):
        raise ValueError("expected a list of regular expressions (strings)")
    return alternation(v)


# A list of regular expressions in the file; one compiled alternation once validated.
Patterns = Annotated[re.Pattern, BeforeValidator(_patterns)]


class WordsOnly(BaseModel):
    """A turn that is nothing but one of ``words`` with lead and tail words around it ("and in
    psi?", "and on petrol?"): single-word patterns, matched whole (:func:`unit_only_pattern`)."""

    model_config = ConfigDict(extra="forbid")

    lead: list[str] = Field(default_factory=list, description="words that may come before")
    words: list[str] = Field(description="the words the turn is about")
    tail: list[str] = Field(default_factory=list, description="words that may come after")

    def pattern(self) -> re.Pattern:
        return unit_only_pattern(self.lead, self.words, self.tail)


class UnitOnly(WordsOnly):
    """A turn that asks for nothing but other units ("and in psi?"); the file calls its words
    ``units``."""

    words: list[str] = Field(alias="units", description="the unit words")


def _sense_target(v: str) -> str:
    if v == NOTHING or v in CALL_TOPICS or v in CATALOG:
        return v
    raise ValueError(f"{v!r} is not a topic ({', '.join(CALL_TOPICS)}), a signal name (see docs/signals.md) "
                     f"or {NOTHING!r}")


class Sense(BaseModel):
    """One meaning of a shared word: what it asks for, and the words that show that meaning."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    to: str = Field(description="a topic, a read_signal name, or none")
    when: Patterns = Field(NEVER, description="words elsewhere in the question that show this meaning")

    @field_validator("to")
    @classmethod
    def _target(cls, v: str) -> str:
        return _sense_target(v)


class SharedWord(BaseModel):
    """A word more than one topic uses ("flat": a tyre or the 12 V battery). The first sense whose
    ``when`` words are in the question, or whose topic the question names with its own words,
    takes it; with none of them ``default`` does and the route is uncertain."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    word: Patterns
    senses: list[Sense] = Field(default_factory=list)
    default: str = NOTHING

    @field_validator("default")
    @classmethod
    def _target(cls, v: str) -> str:
        return _sense_target(v)


class Decline(BaseModel):
    """A class of questions to decline although they name parts of the car ("the range of a
    Tesla", "how does ABS work", "unlock the doors"); ``reason`` is what
    :func:`~assistant.intent.matcher.uncertainty` says when the decline is not ``certain``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    reason: str = Field(min_length=1)
    words: Patterns
    unless: list[Topic] = Field(default_factory=list, description="not declined when one of these topics is asked")
    unless_words: Patterns = Field(NEVER, description="not declined when these words are in the question (another "
                                                      "car compared with 'mine', 'my own')")
    certain: bool = Field(True, description="false: a capable model may still route it")
    whole_question: bool = Field(False, description="read in a long question's context too (\"my daughter's "
                                 "e-scooter says 8 km left, can she ride it to school?\": the context says "
                                 "whose reading it is)")
    sentence_only: bool = Field(False, description="declines its own sentence only: a question about the car in "
                                                   "another sentence is still answered (\"stop it, Tom! are the "
                                                   "doors closed?\")")


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
    sides: dict[Literal["left", "right"], Patterns] = Field(
        default_factory=dict, description="phrases that are clearly a side of the car (with an axle: one wheel)")
    warnings_about: dict[str, Patterns] = Field(
        default_factory=dict, description="get_warnings about -> patterns: codes, or one lamp by its telltale "
                                          "name (Vehicle.Telltale.<Name>); the first that matches, in file order")
    service_about: dict[Literal["distance", "oil_life", "oil_level", "oil"], Patterns] = Field(
        default_factory=dict, description="get_service_status about -> patterns; the first that matches")
    insights: dict[Literal["tyres", "battery", "engine", "consumption", "service", "fuel", "all"], Patterns] = Field(
        default_factory=dict, description="get_insights about -> patterns (trends in the history); the first that "
                                          "matches, in file order; the call goes before the question's others")
    # A lamp described, not named ("the orange one shaped like an engine"): get_warnings' colour
    # and shape; shape words count with a colour or a describing word (lamp_described).
    lamp_colours: dict[Colour, Patterns] = Field(default_factory=dict, description="lamp colour -> its words")
    lamp_shapes: dict[Shape, Patterns] = Field(default_factory=dict, description="symbol part -> its words")
    lamp_described: Patterns = Field(NEVER, description="words that describe a symbol (shaped, looks, with a)")
    # More of the car (assistant/tools/body.py): the body and charging tools.
    body: Patterns = Field(NEVER, description="get_body_status: doors, bonnet, tailgate, belts, parking brake, pads")
    body_about: dict[Literal["openings", "doors", "bonnet", "tailgate", "belts", "parking_brake", "brake_pads"],
                     Patterns] = Field(default_factory=dict, description="get_body_status about -> patterns; the "
                                                                         "first that matches, in file order")
    charging: Patterns = Field(NEVER, description="get_charging_status: cable, charging, time to full, limit")
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
    # Words shared between topics.
    masks: dict[str, Patterns] = Field(
        default_factory=dict, description="topic or signal -> phrases in which its words mean something else")
    shared: dict[str, SharedWord] = Field(default_factory=dict, description="a word several topics use -> its senses")
    # A destination: a distance alone asks for the range when these words are there.
    distance_units: dict[Literal["km", "mi"], list[str]] = Field(
        default_factory=dict, description="spellings of km and miles after a number")
    destination_words: Patterns = Field(NEVER, description="a bare distance is a destination to reach")
    # A wheel named without the word tyre.
    wheel_alone: Patterns = Field(NEVER, description="positions that name one wheel (or side) on their own")
    tyre_hints: Patterns = Field(NEVER, description="words that make a position alone a tyre question")
    other_parts: Patterns = Field(NEVER, description="parts of the car that have positions too (doors, windows)")
    # Questions to decline although they name parts of the car.
    declines: list[Decline] = Field(default_factory=list)
    # Instruction-like text: hidden from the rules; the route is uncertain.
    instructions: Patterns = Field(NEVER, description="text that tells the assistant how to behave")
    dictation: Patterns = Field(NEVER, description="the start of an answer the driver dictates (to its clause end)")
    dictation_lead: Patterns = Field(NEVER, description="the words that dictate (say, tell me that): only they are "
                                                        "hidden, and the claim's topic is read from the car "
                                                        "(\"say the tyres are fine\" checks the tyres); absent: "
                                                        "the whole clause is hidden")
    # Speech-recogniser transcripts.
    fillers: Patterns = Field(NEVER, description="words that carry nothing (um, you know), taken out")
    clipped_words: list[str] = Field(default_factory=list, description="words a recogniser may cut the first "
                                     "sound or two of, at the start of a turn (ange left: range left)")
    heard_as: dict[str, str] = Field(default_factory=dict,
                                     description="pattern -> replacement (re.sub template): common mishearings")
    digit_words: dict[str, int] = Field(default_factory=dict, description="spoken digits (trouble codes)")
    number_words: dict[str, int] = Field(default_factory=dict, description="spoken numbers before a unit")
    number_scales: dict[str, int] = Field(default_factory=dict, description="hundred, thousand")
    number_joiners: list[str] = Field(default_factory=list, description="words inside a spoken number (and)")
    approximate_numbers: dict[str, int] = Field(default_factory=dict, description="a round number in one word "
                                                "(une cinquantaine, una novantina), before a unit")
    number_links: list[str] = Field(default_factory=list, description="words between an approximate number and "
                                    "its unit (de, di)")
    code_letters: dict[str, str] = Field(default_factory=dict, description="names of a trouble code's letter "
                                         "(pi: p), read before its digits")
    # Long questions, several questions.
    long_question_words: int = Field(18, ge=1, description="a question with more words than this is long")
    request_leads: Patterns = Field(NEVER, description="words that start the request in a long question")
    narrative: Patterns = Field(NEVER, description="a story before the request (I was driving, yesterday)")
    conjunctions: Patterns = Field(NEVER, description="words that join two questions in one turn")
    question_start: Patterns = Field(NEVER, description="how a clause that asks or requests begins (what, how, is, "
                                                        "can I, tell me); in a long question the statements "
                                                        "before the first such clause are context")
    fears: Patterns = Field(NEVER, description="a fear voiced before the question (\"it's not the battery again, "
                            "is it?\"): its sentence is context when another sentence asks the car")
    tag_question: Patterns = Field(NEVER, description="a tag after a statement (\"..., is it, and ...\"): not a "
                                   "clause that asks; the statement before it is part of the question")
    # Follow-ups ("and in miles?").
    units: dict[str, Patterns] = Field(default_factory=dict, description="unit -> words that ask for it")
    # Elliptical follow-ups, read only for a turn with no topic of its own right after a turn that
    # called tools (assistant/intent/router.py): "and the battery?", "what about 160?", "is that
    # too low?", "and the battery one?" after a warnings turn.
    followup_battery: Patterns = Field(NEVER, description="the traction battery, after a range or energy turn "
                                                          "(besides battery_words)")
    followup_judgement: Patterns = Field(NEVER, description="asks whether the last answer is a problem "
                                                            "(is that too low / enough / ok): the previous calls again")
    followup_service: dict[str, Patterns] = Field(default_factory=dict, description="after a service turn: "
                                                  "get_service_status about -> words (\"and the level?\")")
    followup_lead: Patterns = Field(NEVER, description="how a short turn that leans on the previous one starts "
                                                       "(and, what about)")
    followup_signals: dict[str, Patterns] = Field(default_factory=dict, description="after a reading, a subject "
                                                  "named alone -> its signal of the same kind (\"and the engine?\" "
                                                  "after the outside temperature: the coolant's)")
    followup_range: Patterns = Field(NEVER, description="after an energy reading, asks how far it goes (\"and how "
                                     "far is that in miles?\"): the range on that energy")
    followup_seat: Patterns = Field(NEVER, description="a seat or side named (the passenger's, the back): after a turn "
                                    "about the doors or belts, theirs again")
    followup_again: Patterns = Field(NEVER, description="a whole turn that asks the last thing again (\"and now?\", "
                                     "\"how much longer then?\", \"has it come down yet?\"): the previous calls, "
                                     "before any topic its words have")
    followup_trend: Patterns = Field(NEVER, description="after a reading, asks how it has been going (\"is it getting "
                                     "worse?\"): that subject's trend in the history")
    followup_other_axle: Patterns = Field(NEVER, description="the wheel in front of or behind the last one "
                                                               "(\"and the one in front of it?\")")
    followup_insights: dict[str, Patterns] = Field(default_factory=dict, description="after a trend turn: "
                                                   "get_insights about -> words (\"and the 12 volt battery?\")")
    followup_other_side: Patterns = Field(NEVER, description="the other side, after a turn about one wheel "
                                                               "(\"what about the other side?\")")
    followup_lamp: Patterns = Field(NEVER, description="a lamp referred to as 'one' after a warnings turn "
                                                       "('the battery one'): read as lamp_word")
    round_trip_given: Patterns = Field(NEVER, description="a distance that is already the whole trip there and "
                                                           "back (\"a 60 km round trip\"): not doubled")
    followup_round_trip: Patterns = Field(NEVER, description="after a range turn with a destination: there and "
                                                             "back ('and back again?'), the distance doubled")
    lamp_word: str = Field("light", description="what followup_lamp is read as (the word warnings_about knows)")
    insights_alone: Patterns = Field(NEVER, description="asks for insights only in a question with no topic of "
                                                        "its own (\"should I worry?\")")
    energy_only: Optional[WordsOnly] = Field(None, description="a turn that names only an energy ('and on "
                                                               "petrol?'): after a range turn, the range on it")
    _energy_only_rx: Optional[re.Pattern] = PrivateAttr(None)
    unit_only: Optional[UnitOnly] = None
    _unit_only_rx: Optional[re.Pattern] = PrivateAttr(None)
    _distance_rx: re.Pattern = PrivateAttr(None)
    _unit_start_rx: re.Pattern = PrivateAttr(None)
    _heard_as: list = PrivateAttr(default_factory=list)

    @field_validator("masks")
    @classmethod
    def _known_targets(cls, v: dict) -> dict:
        for k in v:
            if k == NOTHING:
                raise ValueError("a mask is for a topic or a signal")
            if k not in MASKED_TOOLS:           # the body and charging tools' words can be masked too
                _sense_target(k)
        return v

    @field_validator("warnings_about")
    @classmethod
    def _warnings_about_known(cls, v: dict) -> dict:
        from assistant.tools.schemas import WARNING_TOPICS
        unknown = [k for k in v if k not in WARNING_TOPICS or k == "all"]
        if unknown:
            raise ValueError(f"unknown get_warnings about value(s) {unknown} (known: "
                             f"{', '.join(t for t in WARNING_TOPICS if t != 'all')})")
        return v

    @field_validator("heard_as")
    @classmethod
    def _rewrites_compile(cls, v: dict) -> dict:
        for p in v:
            alternation([p])
        return v

    @field_validator("distance_units")
    @classmethod
    def _units_compile(cls, v: dict) -> dict:
        for ps in v.values():
            alternation(ps)
        return v

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
    def _compile(self) -> "LanguageIntents":
        self._unit_only_rx = self.unit_only.pattern() if self.unit_only else None
        self._energy_only_rx = self.energy_only.pattern() if self.energy_only else None
        km = "|".join(self.distance_units.get("km", [])) or DEFAULT_KM
        mi = "|".join(self.distance_units.get("mi", [])) or DEFAULT_MI
        self._distance_rx = distance_pattern(km, mi)
        self._unit_start_rx = re.compile(rf"(?:{km}|{mi})\b")
        self._heard_as = [(re.compile(p), r) for p, r in self.heard_as.items()]
        return self

    def unit_only_rx(self) -> re.Pattern | None:
        """The full-match pattern of a units-only turn, or None when the file has none."""
        return self._unit_only_rx

    def energy_only_rx(self) -> re.Pattern | None:
        """The full-match pattern of an energy-only turn, or None when the file has none."""
        return self._energy_only_rx

    def distance_rx(self) -> re.Pattern:
        """A number and one of this language's distance units (:func:`extract.distance_pattern`)."""
        return self._distance_rx

    def distance_unit_rx(self) -> re.Pattern:
        """One of this language's distance units, for ``match`` at a place."""
        return self._unit_start_rx

    def rewrites(self) -> list[tuple[re.Pattern, str]]:
        """``heard_as`` compiled: (pattern, replacement) in file order."""
        return self._heard_as


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
