"""The ground stage: is a candidate answer backed by what this turn's rendering states?

``check(answer, facts)`` takes the model's wording and the :class:`~assistant.answer.render.
Rendering` the tools' results were rendered into (its facts as data: each number with its unit
and what it is of, lamps, trouble codes, wheel positions, verdict words, what could not be
read, what is stated fine) and returns a :class:`Verdict`:

* every number said is a fact's number, or a unit conversion / rounding of one (km <-> mi,
  kPa <-> bar/psi, °C <-> °F, s <-> days, l/100km <-> mpg), said of the same thing (fuel or
  battery, front or rear, left or right: "42 km on fuel" is refused when 42 km is the electric
  range); every unit has a value of its kind; every lamp, code and wheel named is in the facts;
* coverage: the answer keeps the key numbers, lamps, codes, positions and verdict words, and
  says "can't read" exactly when the facts do;
* no health claim the facts do not make (never while a critical lamp is on, never of the whole
  car), and no loop or runaway text.

``check_results(answer, results)`` checks a text against bare tool results (no coverage).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import BaseModel

from assistant.answer import claims as health
from assistant.answer.render import Fact, Rendering, render_results
from assistant.state import units
from assistant.answer.locales import locale_texts

NUMBER_RE = re.compile(r"(?<![\w.])[-−]?\d+(?:[.,]\d+)?(?![\w])")
CODE_RE = re.compile(r"\b[PCBU][0-3][0-9A-F]{3}\b")
WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
WORD_NUMBERS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                     "ninety": 90, "hundred": 100, "thousand": 1000})
UNIT_WORDS = units.WORD_DIMENSIONS
UNIT_RE = re.compile(rf"(?<=\d)\s*({'|'.join(map(re.escape, units.SYMBOLS_AFTER_NUMBER))})\b|"
                     rf"\b({'|'.join(map(re.escape, units.UNIT_WORD_FORMS))})\b|(°[cf])", re.IGNORECASE)
CANT_READ_RE = re.compile(r"can['’]?t read|cannot read|can ?not read|unable to read|not available|"
                          r"doesn['’]?t report|don['’]?t have|no reading|not readable|impossible de lire|"
                          r"ne peux pas (?:l[ea]s? |l['’])?lire|non riesco a legger\w*|ne me transmet pas|"
                          r"non mi trasmette|n['’]indique pas|non fornisce", re.IGNORECASE)

# Binding: a number must be said of the same thing the facts say it of. Clauses end at
# punctuation followed by a space (not inside "2.4" or "2,4") or at a conjunction.
CLAUSE_SPLIT = re.compile(r"[,;:.!?](?=\s|$)|\s(?:and|but|while|whereas|with|plus|or)\s", re.IGNORECASE)
FUEL_WORD = re.compile(r"\b(?:fuel|tank|petrol|gas|gasoline|diesel)\b")
BATTERY_WORD = re.compile(r"\b(?:electric\w*|battery|charge|charged|ev)\b")
AXLE_WORD = re.compile(r"\b(front|rear|back)\b")
SIDE_WORD = re.compile(r"\b(?:front|rear|back)[ -]?(left|right)\b|"
                       r"\b(left|right)(?:[- ]hand)?[ -]?(?:front|rear|back|side|tyres?|tires?|wheels?)\b")
WHEEL_POSITION = re.compile(r"\b(?:front|rear) (?:left|right)\b")
# Words that carry a verdict: an answer that drops one misleads ("the rear left tyre is at 96 kPa").
STATUS_WORDS = ("low", "overdue", "flashing")


def _qualifiers(clause: str) -> frozenset[str]:
    c = clause.lower()
    q = set()
    if FUEL_WORD.search(c):
        q.add("fuel")
    if BATTERY_WORD.search(c):
        q.add("battery")
    q |= {"rear" if m.group(1) == "back" else m.group(1) for m in AXLE_WORD.finditer(c)}
    q |= {m.group(1) or m.group(2) for m in SIDE_WORD.finditer(c)}
    return frozenset(q)


def bindings(text: str) -> list[tuple[str, float, frozenset[str]]]:
    """(number as said, value, what its clause says it is of) for every number in a text."""
    out = []
    for clause in CLAUSE_SPLIT.split(text):
        if clause:
            quals = _qualifiers(clause)
            out += [(said, value, quals) for said, value in numbers_in_text(clause)]
    return out


@dataclass
class Verdict:
    grounded: bool
    problems: list[str] = field(default_factory=list)


def _to_float(s: str) -> float:
    return float(s.replace("−", "-").replace(",", "."))


def allowed_numbers(facts: Rendering) -> list[float]:
    """Every number a listener may hear for the facts: each value as said and in the other
    units of its kind, as absolute values ("overdue by 1200 km"); the numbers of table texts
    the rendering said (a description's "bank 1", "12 volt") are facts too."""
    return sorted({v for f in facts.numbers() for v in _in_all_units(f)})


def numbers_in_text(text: str) -> list[tuple[str, float]]:
    found = [(m.group(), _to_float(m.group())) for m in NUMBER_RE.finditer(CODE_RE.sub(" ", text))]
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in WORD_NUMBERS and w not in ("one", "zero"):   # "one" is mostly a pronoun
            found.append((w, float(WORD_NUMBERS[w])))
    return found


def _matches(said: str, value: float, allowed: list[float]) -> bool:
    decimals = len(said.replace(",", ".").split(".")[1]) if any(c in said for c in ".,") else 0
    tol = 0.5 * 10 ** -decimals + 1e-9
    # Allow a spoken rounding to 2 significant digits too ("about 610 km" -> "about 600").
    return any(abs(abs(value) - a) <= max(tol, 0.05 * a if decimals == 0 and a >= 100 else tol) for a in allowed)


def telltale_mentions(text: str) -> set[str]:
    low = text.lower()
    found = set()
    for name, words in locale_texts("en").telltales.items():
        for alias in [words.label] + words.aliases:
            if alias.lower() in low:
                found.add(name)
    return found


MAX_ANSWER_WORDS = 90


def _degenerate(text: str) -> str | None:
    """Why a model output is not an answer at all: runaway length or a loop ("The ABS warning
    is on: the ABS warning is on: ..."). None when it reads like one."""
    words = re.findall(r"\w+", (text or "").lower())
    if len(words) > MAX_ANSWER_WORDS:
        return f"runs on for {len(words)} words"
    grams = Counter(tuple(words[i:i + 5]) for i in range(len(words) - 4))
    if grams:
        gram, n = grams.most_common(1)[0]
        if n >= 3:
            return f"repeats {' '.join(gram)!r} {n} times"
    parts = [" ".join(p.split()) for p in re.split(r"[:;,.!?]", (text or "").lower())]
    seen = Counter(p for p in parts if len(p.split()) >= 3)
    for part, n in seen.items():
        if n > 1:
            return f"repeats {part!r}"
    return None


def health_problems(answer: str, facts: Rendering, critical: bool) -> list[str]:
    """A claim that something is fine must be one the facts make (``facts.fine``: the topics the
    rendering states fine), about the same thing; never while a critical lamp is on, and never
    about the whole car. A claim naming no topic ("which is fine") only repeats one the
    rendering's own words make."""
    problems = []
    allowed = set(facts.fine)
    facts_claim = bool(allowed) and facts.fine_worded
    for sentence, topics, whole in health.claims(answer):
        said = health.health_claim(sentence)
        if critical:
            problems.append(f"says {said!r} while a critical warning is on")
        elif whole:
            problems.append(f"says {said!r} of the whole car; no reading covers that")
        elif not topics and not facts_claim:
            problems.append(f"says {said!r}, which the facts do not say")
        elif topics - allowed:
            problems.append(f"says {said!r} of {', '.join(sorted(topics - allowed))}, which the facts do not say is fine")
    return problems


def check(answer: str, facts: Rendering, *, critical: bool = False, degenerate: str | None = None,
          coverage: bool = True) -> Verdict:
    """``critical``: a critical lamp is on (no health claim at all); ``degenerate``: the
    model's whole output, refused if it loops or runs on (``answer`` may be a cut of it);
    ``coverage``: also require the answer to keep what the facts say."""
    problems: list[str] = []
    for text in dict.fromkeys(t for t in (degenerate, answer) if t):
        why = _degenerate(text)
        if why:
            problems.append(f"not an answer: {why}")
    problems += health_problems(answer, facts, critical)
    numbers = facts.numbers()
    allowed = allowed_numbers(facts)
    for said, value in numbers_in_text(answer):
        if not _matches(said, value, allowed):
            problems.append(f"number {said!r} is not in this turn's tool results")
    dims = {_dimension(f.unit) for f in numbers if f.unit}
    for m in UNIT_RE.finditer(answer):
        word = next(g for g in m.groups() if g).lower()
        dim = UNIT_WORDS.get(word)
        if dim and dim not in dims:
            problems.append(f"unit {word!r} has no value of that kind in the facts")
    codes = set(facts.of_kind("code"))
    for code in CODE_RE.findall(answer):
        if code not in codes:
            problems.append(f"trouble code {code} is not in the tool results")
    lamps = set(facts.of_kind("lamp"))
    said_lamps = telltale_mentions(answer)
    for lamp in sorted(said_lamps - lamps):
        problems.append(f"warning lamp {lamp} is not in the tool results")
    problems += _stored_problems(answer, set(facts.of_kind("verdict")))
    positions = set(facts.of_kind("position"))
    said_positions = set(WHEEL_POSITION.findall(answer.lower()))
    for pos in sorted(said_positions - positions):
        problems.append(f"names the {pos} tyre, which the facts do not")
    # Binding: each number said of what the facts say it is of (fuel vs battery, which tyre). A
    # table text's number ("bank 1", "cylinder 3" in a code's description) is said of what its
    # clause in the rendering says ("too little fuel (bank 1)"): that binding is the rendering's own.
    rendered_of = [(value, quals) for _, value, quals in bindings(facts.text)] if facts.sentences else []
    for said, value, quals in bindings(answer):
        said_of = [f.of for f in numbers if _matches(said, value, _in_all_units(f))]
        said_of += [of for v, of in rendered_of if said_of and _matches(said, value, [abs(v)])]
        if said_of and not any(quals <= of for of in said_of):
            problems.append(f"{said} is said of {'/'.join(sorted(quals))}, the facts give it for "
                            f"{' or '.join('/'.join(sorted(of)) or 'something else' for of in said_of)}")
    if coverage:
        for pos in sorted(set(facts.of_kind("position", key_only=True)) - said_positions):
            problems.append(f"leaves out the {pos} tyre from the facts")
        for word in dict.fromkeys(facts.of_kind("verdict", key_only=True)):
            if not re.search(rf"\b{word}\b", answer, re.IGNORECASE):
                problems.append(f"leaves out {word!r} from the facts")
        for f in numbers:
            if f.key and f.said is not None and not any(_matches(s, v, [abs(float(f.value))])
                                                        for s, v in numbers_in_text(answer)):
                problems.append(f"leaves out {f.said} from the facts")
        for f in facts.facts:
            if f.kind == "lamp" and f.key and f.value not in said_lamps:
                problems.append(f"leaves out the {f.value} warning from the facts")
        for code in facts.of_kind("code", key_only=True):
            if code not in answer:
                problems.append(f"leaves out trouble code {code} from the facts")
        if facts.cant_read and not CANT_READ_RE.search(answer):
            problems.append("does not say that a value cannot be read")
        if not facts.cant_read and CANT_READ_RE.search(answer):
            problems.append("says it cannot read a value that was read")
    return Verdict(not problems, problems)


# Whether a trouble code is stored in this car (explain_code's verdict): a rewording may not flip it.
NOT_STORED_RE = re.compile(r"\b(?:not|never)\s+(?:been\s+)?stored\b|\b(?:isn|wasn|hasn)['’]?t\s+(?:been\s+)?stored\b",
                           re.IGNORECASE)
STORED_RE = re.compile(r"\bstored\b", re.IGNORECASE)


def _stored_problems(answer: str, verdicts: set) -> list[str]:
    negated = len(NOT_STORED_RE.findall(answer))
    affirmed = len(STORED_RE.findall(answer)) - negated
    if negated and "stored" in verdicts and "not stored" not in verdicts:
        return ["says a trouble code is not stored; the stored codes read say it is"]
    if affirmed > 0 and "not stored" in verdicts and "stored" not in verdicts:
        return ["says a trouble code is stored; the stored codes read say it is not"]
    return []


def check_results(answer: str, results: list[BaseModel]) -> Verdict:
    """A text against bare tool results: what a rendering of them states, without coverage."""
    return check(answer, render_results(results), coverage=False)


def _in_all_units(f: Fact) -> list[float]:
    out = [abs(float(f.value))]
    for alt in units.spoken_alternatives(f.unit or ""):
        try:
            out.append(abs(units.convert(float(f.value), f.unit, alt)))
        except (units.UnitError, ZeroDivisionError):
            pass
    return out


def _dimension(unit: str) -> str:
    try:
        return units.dimension(unit)
    except units.UnitError:
        return unit
