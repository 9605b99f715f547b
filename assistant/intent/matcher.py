"""Deterministic intent matcher: clear questions -> tool calls, without the model.

A question is normalised, its language found from its marker words (:func:`languages.detect`;
English when it has none) and that language's table (``assistant/data/intents/<lang>.yaml``)
supplies the words; the rules below are the same for every language. Each topic (range, energy,
warnings, service, tyres, each signal) whose patterns match gives one tool call, with its
arguments (a destination distance, which tyre, which energy), and the calls come in the order
of the question, so "how much fuel and are my tyres ok?" gives two. A table's exception lists
(``energy_in_range``, ``range_of_tyres``, ``topic_lamps``, ``signals_beside_service``) hold back
a call its words alone would make, and a "not a car question" word (prices, ...) declines the
whole question.

Follow-ups that only change a detail ("and in miles?", "what about the rear ones?") are
resolved against the previous turn by :mod:`assistant.intent.router`, with :func:`unit_change`,
:func:`is_unit_only` and :func:`wheel_of`.
"""

from __future__ import annotations

from typing import Any

from assistant.intent import extract, languages
from assistant.intent.extract import normalise
from assistant.intent.languages import LanguageIntents
from assistant.tools.schemas import ToolCall

__all__ = ["match", "match_table", "is_off_topic", "unit_change", "is_unit_only", "wheel_of", "normalise"]


def _table(q: str) -> LanguageIntents:
    return languages.detect(q) or languages.default()


def match(question: str) -> list[ToolCall]:
    """Tool calls implied by a question, in the order of the question; [] when unclear."""
    q = normalise(question)
    return match_table(_table(q), q)


def match_table(t: LanguageIntents, q: str) -> list[ToolCall]:
    """The rules, over one language's words (``q`` normalised)."""
    if t.not_a_car_question.search(q):
        return []
    found: dict[str, list[tuple[int, ToolCall]]] = {topic: [] for topic in languages.TOPICS}
    source = extract.energy_source(q, t.battery_words, t.fuel_words)
    sourced: dict[str, Any] = {"source": source} if source != "any" else {}
    rng, tyres, svc = t.range.search(q), t.tyres.search(q), t.service.search(q)
    # "tyre pressure range" is the tyres' range, not the car's.
    if rng and not (tyres and t.range_of_tyres.search(q)):
        dest = extract.destination_km(q)
        found["range"].append((rng.start(), ToolCall("get_range", ({"destination_km": dest} if dest is not None
                                                                   else {}) | sourced)))
    # In a range question, energy words that only restate it ("before I need to refuel") add nothing.
    energy = next((m for m in t.energy.finditer(q)
                   if not (rng and (t.energy_in_range is None or t.energy_in_range.fullmatch(m.group())))), None)
    if energy:
        found["energy"].append((energy.start(), ToolCall("get_energy_level", sourced)))
    if svc:
        found["service"].append((svc.start(), ToolCall("get_service_status")))
    if tyres:
        wheel = extract.wheel_of(q, t.wheels)
        found["tyres"].append((tyres.start(), ToolCall("get_tyre_pressures", {"wheel": wheel} if wheel else {})))
    for name, rx in t.signals.items():
        m = rx.search(q)
        beside = t.signals_beside_service.get(name)
        if m and not (svc and beside is not None and not beside.search(q)):
            found["signals"].append((m.start(), ToolCall("read_signal", {"name": name})))
    # "tyre pressure light", "low fuel warning": the topic's own tool carries its lamp state.
    warn = t.warnings.search(t.topic_lamps.sub(lambda m: " " * len(m.group()), q))
    if warn:
        found["warnings"].append((warn.start(), ToolCall("get_warnings")))
    hits = [hit for topic in t.same_place_order for hit in found[topic]]
    return [c for _, c in sorted(hits, key=lambda h: h[0])]


def is_off_topic(question: str) -> bool:
    """A question to decline (jokes, weather, prices), asked once no rule routed it."""
    q = normalise(question)
    t = _table(q)
    return bool(t.off_topic.search(q) or t.not_a_car_question.search(q))


def wheel_of(q: str) -> str | None:
    """Which tyre a follow-up names (``q`` normalised), in the English table's words."""
    return extract.wheel_of(q, languages.default().wheels)


def unit_change(question: str) -> str | None:
    """The unit a turn asks for ("... in miles"), from any table's unit words, English first."""
    q = normalise(question)
    return next((u for t in languages.tables() if (u := extract.unit_asked(q, t.units))), None)


def is_unit_only(question: str) -> bool:
    """The turn asks for nothing but other units ("and in psi?", "can you say that in miles please")."""
    q = normalise(question)
    return any(rx.fullmatch(q) for t in languages.tables() if (rx := t.unit_only_rx()) is not None)
