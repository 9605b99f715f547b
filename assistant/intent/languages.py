"""Questions in other languages: keyword tables (``assistant/data/intents/<lang>.yaml``) -> tool calls.

The English matcher (:mod:`assistant.intent.matcher`) has hand-tuned rules; for the languages
brand personas answer in (French, Italian) a table of patterns per tool is enough to route what
a driver asks most. It runs only when the English rules find nothing. Adding a language means
adding a file, not code; a broken file is refused with the file, field and pattern named.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.configfile import load_model
from assistant.intent.matcher import DISTANCE_RE, ToolCall, destination_km
from assistant.state.signals import CATALOG
from assistant.tools.schemas import WheelChoice

INTENTS_DIR = Path(__file__).resolve().parents[1] / "data" / "intents"
TOPICS = ("range", "energy", "warnings", "service", "tyres")
TOOL_OF = {"range": "get_range", "energy": "get_energy_level", "warnings": "get_warnings",
           "service": "get_service_status", "tyres": "get_tyre_pressures"}


def _compile(patterns: list[str]) -> list[re.Pattern]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as e:
            raise ValueError(f"pattern {p!r} is not a regular expression: {e}") from None
    return out


class LanguageIntents(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    language: str
    markers: list[str] = Field(default_factory=list, description="words that mark a question as this language")
    range: list[re.Pattern] = Field(default_factory=list)
    energy: list[re.Pattern] = Field(default_factory=list)
    warnings: list[re.Pattern] = Field(default_factory=list)
    service: list[re.Pattern] = Field(default_factory=list)
    tyres: list[re.Pattern] = Field(default_factory=list)
    battery_words: list[re.Pattern] = Field(default_factory=list, description="the battery was asked about")
    fuel_words: list[re.Pattern] = Field(default_factory=list, description="the fuel was asked about")
    signals: dict[str, list[re.Pattern]] = Field(default_factory=dict)
    wheels: dict[WheelChoice, list[re.Pattern]] = Field(default_factory=dict)
    off_topic: list[re.Pattern] = Field(default_factory=list)

    @field_validator("range", "energy", "warnings", "service", "tyres", "battery_words", "fuel_words",
                     "off_topic", mode="before")
    @classmethod
    def _patterns(cls, v: Any) -> list[re.Pattern]:
        return _compile(v or [])

    @field_validator("signals", "wheels", mode="before")
    @classmethod
    def _pattern_map(cls, v: Any) -> dict:
        return {k: _compile(ps or []) for k, ps in (v or {}).items()}

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, v: dict) -> dict:
        unknown = [k for k in v if k not in CATALOG]
        if unknown:
            raise ValueError(f"unknown signal(s) {', '.join(unknown)} (see docs/signals.md)")
        return v

    # -- routing --------------------------------------------------------------------------------

    @staticmethod
    def _first(patterns: list[re.Pattern], q: str) -> re.Match | None:
        found = [m for m in (p.search(q) for p in patterns) if m]
        return min(found, key=lambda m: m.start()) if found else None

    def is_off_topic(self, q: str) -> bool:
        return self._first(self.off_topic, q) is not None

    def match(self, q: str) -> list[ToolCall]:
        if self.is_off_topic(q):
            return []
        battery, fuel = self._first(self.battery_words, q), self._first(self.fuel_words, q)
        source = "battery" if battery and not fuel else "fuel" if fuel and not battery else "any"
        hits: list[tuple[int, ToolCall]] = []
        rng = self._first(self.range, q)
        for topic in TOPICS:
            m = self._first(getattr(self, topic), q)
            if not m or (topic == "energy" and rng):       # "autonomie de la batterie" is a range question
                continue
            args: dict[str, Any] = {}
            if topic == "range":
                dest = destination_km(q) if DISTANCE_RE.search(q) else None
                if dest is not None:
                    args["destination_km"] = dest
            if topic in ("range", "energy") and source != "any":
                args["source"] = source
            if topic == "tyres":
                wheel = next((w for w, ps in self.wheels.items() if self._first(ps, q)), None)
                if wheel:
                    args["wheel"] = wheel
            hits.append((m.start(), ToolCall(TOOL_OF[topic], args)))
        for name, patterns in self.signals.items():
            m = self._first(patterns, q)
            if m:
                hits.append((m.start(), ToolCall("read_signal", {"name": name})))
        return [c for _, c in sorted(hits, key=lambda h: h[0])]


@lru_cache(maxsize=None)
def tables() -> tuple[LanguageIntents, ...]:
    return tuple(load_model(LanguageIntents, p) for p in sorted(INTENTS_DIR.glob("*.yaml")))


WORD_RE = re.compile(r"[^\W\d_]+")


def detect(q: str) -> LanguageIntents | None:
    """The table whose marker words the question uses most (``q`` normalised); None: English.
    A driver's question is short, so one marker word is enough ("le pneu avant ?")."""
    words = WORD_RE.findall(q)
    best, best_n = None, 0
    for table in tables():
        n = sum(w in table.markers for w in words)
        if n > best_n:
            best, best_n = table, n
    return best
