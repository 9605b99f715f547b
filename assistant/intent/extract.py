"""Extractors that every language's rules share.

Pure functions over a normalised question (:func:`normalise`) and, where the words belong to
a language, the compiled patterns of that language's table (:mod:`assistant.intent.languages`):
a destination distance (``200 km``, ``120 miles``) in km, which tyre, which energy (fuel or
battery) was asked about, which unit a follow-up asks for, and whether a turn asks for nothing
but other units. Unit names and conversions are :mod:`assistant.state.units`'.
"""

from __future__ import annotations

import re

from assistant.state import units

# A pattern list that is empty: matches nothing.
NEVER = re.compile(r"(?!)")

# A number followed by a distance unit. Digits and these unit spellings read the same in the
# languages routed so far, so this is not in the language tables.
DISTANCE_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(km|kms|kilomet(?:er|re)s?|mi|miles?)\b")


def normalise(text: str) -> str:
    """Lower case, one apostrophe, "tire" spelt "tyre", single spaces."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"\btires?\b", lambda m: m.group().replace("tire", "tyre"), t)
    return re.sub(r"\s+", " ", t).strip()


def alternation(patterns: list[str]) -> re.Pattern:
    """One regular expression that matches where any of ``patterns`` does (:data:`NEVER` for none).
    Its leftmost match starts where the earliest of theirs does. Each pattern must compile on its
    own: ValueError names the first that does not."""
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise ValueError(f"pattern {p!r} is not a regular expression: {e}") from None
    if not patterns:
        return NEVER
    try:
        return re.compile("(?:" + "|".join(patterns) + ")")
    except re.error as e:                        # e.g. a global flag such as (?i) in a pattern
        raise ValueError(f"patterns cannot be combined: {e} (use scoped flags, (?i:...))") from None


def destination_km(q: str) -> float | None:
    """The first distance in the question, in km (miles converted, to 0.1 km); None if none."""
    m = DISTANCE_RE.search(q)
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    return round(value * units.KM_PER_MILE, 1) if m.group(2).startswith("mi") else value


def energy_source(q: str, battery_words: re.Pattern, fuel_words: re.Pattern) -> str:
    """``battery`` or ``fuel`` when only that one's words are in the question, else ``any``."""
    battery, fuel = bool(battery_words.search(q)), bool(fuel_words.search(q))
    return "battery" if battery and not fuel else "fuel" if fuel and not battery else "any"


def wheel_of(q: str, wheels: dict[str, re.Pattern]) -> str | None:
    """The first wheel (in table order, most specific first) whose words are in the question."""
    return next((wheel for wheel, rx in wheels.items() if rx.search(q)), None)


def unit_asked(q: str, unit_words: dict[str, re.Pattern]) -> str | None:
    """The first unit (in table order) whose words are in the question."""
    return next((unit for unit, rx in unit_words.items() if rx.search(q)), None)


def unit_only_pattern(lead: list[str], unit_words: list[str], tail: list[str]) -> re.Pattern:
    """A whole turn that only asks for other units: lead words, one unit word, tail words,
    then at most punctuation ("can you say that in miles please?"). The lists are regular
    expressions for single words; the result is meant for ``fullmatch``."""
    def words(ws: list[str]) -> str:
        return alternation(ws).pattern
    return re.compile(rf"(?:{words(lead)}\s+)*{words(unit_words)}(?:\s+{words(tail)})*\s*[?.!]*")
