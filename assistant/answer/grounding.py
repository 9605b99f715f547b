"""Grounding check: is every number, unit, warning-lamp name and trouble code in an answer
backed by this turn's tool results?

``check(answer, results, facts, style)`` returns a :class:`Verdict`. Numbers may be the tool
value itself or a unit conversion / rounding of it (km <-> mi, kPa <-> bar/psi, °C <-> °F,
m -> km, s -> days). On top of the BRIEF's rule, a *coverage* rule makes the model a safe
paraphraser: the answer must keep the key numbers of the deterministic facts it was given,
and must say "can't read" when the facts do.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import BaseModel

from assistant.answer import claims as health
from assistant.state import units
from assistant.state.dtc import DTC_RE
from assistant.tools.vehicle import telltale_info

NUMBER_RE = re.compile(r"(?<![\w.])[-−]?\d+(?:[.,]\d+)?(?![\w])")
CODE_RE = re.compile(r"\b[PCBU][0-3][0-9A-F]{3}\b")
WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
WORD_NUMBERS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                     "ninety": 90, "hundred": 100, "thousand": 1000})
UNIT_WORDS = {
    "km": "distance", "kilometres": "distance", "kilometers": "distance", "mi": "distance", "miles": "distance",
    "mile": "distance", "kpa": "pressure", "bar": "pressure", "psi": "pressure", "°c": "temperature",
    "°f": "temperature", "degrees": "temperature", "%": "ratio", "percent": "ratio", "v": "voltage",
    "volts": "voltage", "mpg": "consumption", "l/100km": "consumption", "days": "time", "day": "time",
    "hours": "time", "weeks": "time", "months": "time", "km/h": "speed", "mph": "speed",
}
UNIT_RE = re.compile(r"(?<=\d)\s*(km/h|mph|km|mi|kpa|bar|psi|°c|°f|%|v|mpg|l/100km)\b|"
                     r"\b(kilomet(?:re|er)s|miles?|percent|volts|degrees|days?|hours|weeks|months)\b|(°[cf])",
                     re.IGNORECASE)
CANT_READ_RE = re.compile(r"can['’]?t read|cannot read|can ?not read|unable to read|not available|"
                          r"doesn['’]?t report|don['’]?t have|no reading|not readable|impossible de lire|"
                          r"ne peux pas (?:l[ea]s? |l['’])?lire|non riesco a legger\w*|ne me transmet pas|"
                          r"non mi trasmette|n['’]indique pas|non fornisce", re.IGNORECASE)

# Alternative spellings of each dimension's numbers a listener may hear.
_ALT_UNITS = {"km": ["mi", "m"], "m": ["km", "mi"], "kPa": ["bar", "psi"], "°C": ["°F"],
              "s": ["d", "h", "min"], "d": ["s", "h"], "%": [], "V": [], "l/100km": [], "km/h": ["mph"]}


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


def _signal_qualifiers(signal: str) -> frozenset[str]:
    parts = signal.split(".")
    q = {"fuel"} if "FuelSystem" in parts else {"battery"} if {"TractionBattery", "LowVoltageBattery"} & set(parts) else set()
    q |= {"front"} if "Row1" in parts else {"rear"} if "Row2" in parts else set()
    q |= {p.lower() for p in parts if p in ("Left", "Right")}
    return frozenset(q)


def result_bindings(results: Iterable[Any]) -> list[tuple[float, frozenset[str]]]:
    """(value, what it is of) for every numeric reading in the tool results, in every unit a
    listener may hear it in."""
    out: list[tuple[float, frozenset[str]]] = []

    def walk(o: Any) -> None:
        if isinstance(o, BaseModel):
            o = o.model_dump()
        if isinstance(o, dict):
            v, sig = o.get("value"), o.get("signal")
            if isinstance(sig, str) and isinstance(v, (int, float)) and not isinstance(v, bool):
                quals = _signal_qualifiers(sig)
                out.append((abs(float(v)), quals))
                for alt in _ALT_UNITS.get(o.get("unit") or "", []):
                    try:
                        out.append((abs(units.convert(v, o["unit"], alt)), quals))
                    except units.UnitError:
                        pass
            for x in o.values():
                walk(x)
        elif isinstance(o, (list, tuple)):
            for x in o:
                walk(x)

    for r in results:
        walk(r)
    return out


@dataclass
class Verdict:
    grounded: bool
    problems: list[str] = field(default_factory=list)


def _numbers_in(obj: Any, out: list[tuple[float, str | None]], unit: str | None = None) -> None:
    """Collect (value, unit) pairs from a tool result (pydantic models, dicts, lists)."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump()
    if isinstance(obj, dict):
        u = obj.get("unit") if isinstance(obj.get("unit"), str) else unit
        for k, v in obj.items():
            if k in ("age_s",):
                continue
            key_unit = "km" if k.endswith("_km") else u
            _numbers_in(v, out, key_unit)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _numbers_in(v, out, unit)
    elif isinstance(obj, bool) or obj is None:
        return
    elif isinstance(obj, (int, float)):
        out.append((float(obj), unit))
    elif isinstance(obj, str):
        for m in NUMBER_RE.finditer(obj):         # numbers inside descriptions ("bank 1", "12 volt")
            if not DTC_RE.match(obj):
                out.append((_to_float(m.group()), None))


def _to_float(s: str) -> float:
    return float(s.replace("−", "-").replace(",", "."))


def allowed_numbers(results: Iterable[Any]) -> list[float]:
    pairs: list[tuple[float, str | None]] = []
    for r in results:
        _numbers_in(r, pairs)
    allowed: set[float] = set()
    for value, unit in pairs:
        allowed.add(value)
        allowed.add(abs(value))                   # "overdue by 1200 km" for -1200
        for alt in _ALT_UNITS.get(unit or "", []):
            try:
                allowed.add(abs(units.convert(value, unit, alt)))
            except units.UnitError:
                pass
        if unit == "l/100km" and value:
            allowed.add(235.214583 / value)
    return sorted(allowed)


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
    for name, info in telltale_info().items():
        for alias in [info["label"]] + info.get("aliases", []):
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


def health_problems(answer: str, facts: str, fine: Iterable[str], critical: bool) -> list[str]:
    """A claim that something is fine must be one the facts make, about the same thing; never
    while a critical lamp is on, and never about the whole car."""
    problems = []
    allowed = set(fine) | {t for _, topics, _ in health.claims(facts) for t in topics}
    facts_claim = bool(health.claims(facts))
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


def check(answer: str, results: list[BaseModel], facts: str = "", key_numbers: Iterable[float] = (),
          cant_read: bool = False, fine: Iterable[str] = (), critical: bool = False,
          degenerate: str | None = None) -> Verdict:
    """``fine``: the topics the facts state to be fine (the only health claims allowed);
    ``critical``: a critical lamp is on (no health claim at all); ``degenerate``: the model's
    whole output, refused if it loops or runs on (the answer may be a cut of it)."""
    problems: list[str] = []
    for text in dict.fromkeys(t for t in (degenerate, answer) if t):
        why = _degenerate(text)
        if why:
            problems.append(f"not an answer: {why}")
    if facts or critical:        # without the facts, what they state fine is unknown
        problems += health_problems(answer, facts, fine, critical)
    else:
        problems += [f"says {health.health_claim(x)!r} of the whole car; no reading covers that"
                     for x, _, whole in health.claims(answer) if whole]
    allowed = allowed_numbers(results)
    for said, value in numbers_in_text(answer):
        if not _matches(said, value, allowed):
            problems.append(f"number {said!r} is not in this turn's tool results")
    dims_in_results = {UNIT_WORDS.get(u.lower(), u) for u in _units_in(results)}
    for m in UNIT_RE.finditer(answer):
        word = next(g for g in m.groups() if g).lower()
        dim = UNIT_WORDS.get(word)
        if dim and dim not in dims_in_results:
            problems.append(f"unit {word!r} has no value of that kind in the tool results")
    codes_in_results = {c for r in results for c in CODE_RE.findall(_dump(r))}
    for code in CODE_RE.findall(answer):
        if code not in codes_in_results:
            problems.append(f"trouble code {code} is not in the tool results")
    lamps_in_results = {n for r in results for n in telltale_mentions(_dump(r))} | _lamp_names(results)
    for lamp in telltale_mentions(answer) - lamps_in_results:
        problems.append(f"warning lamp {lamp} is not in the tool results")
    if facts:
        # A lamp the facts do not name is not on (a result can carry a lamp that is OFF).
        for lamp in telltale_mentions(answer) & lamps_in_results - telltale_mentions(facts) - _active_lamps(results):
            problems.append(f"warning lamp {lamp} is named but the facts do not say it is on")
        # Binding: each number said of what the facts say it is of (fuel vs battery, which tyre).
        facts_b = bindings(facts)
        results_b = result_bindings(results)
        for said, value, quals in bindings(answer):
            said_of = [fq for _, fv, fq in facts_b if _matches(said, value, [fv])] or \
                      [rq for rv, rq in results_b if _matches(said, value, [rv])]
            if said_of and not any(quals <= fq for fq in said_of):
                problems.append(f"{said} is said of {'/'.join(sorted(quals))}, the facts give it for "
                                f"{' or '.join('/'.join(sorted(fq)) or 'something else' for fq in said_of)}")
        for pos in set(WHEEL_POSITION.findall(answer.lower())) - set(WHEEL_POSITION.findall(facts.lower())):
            problems.append(f"names the {pos} tyre, which the facts do not")
    # Coverage: keep what the facts say.
    if facts:
        for pos in set(WHEEL_POSITION.findall(facts.lower())) - set(WHEEL_POSITION.findall(answer.lower())):
            problems.append(f"leaves out the {pos} tyre from the facts")
        for word in STATUS_WORDS:
            if re.search(rf"\b{word}\b", facts, re.IGNORECASE) and not re.search(rf"\b{word}\b", answer, re.IGNORECASE):
                problems.append(f"leaves out {word!r} from the facts")
        for k in key_numbers:
            if not any(_matches(s, v, [k]) for s, v in numbers_in_text(answer)):
                problems.append(f"leaves out {k:g} from the facts")
        for lamp in telltale_mentions(facts) - telltale_mentions(answer):
            problems.append(f"leaves out the {lamp} warning from the facts")
        for code in CODE_RE.findall(facts):
            if code not in answer:
                problems.append(f"leaves out trouble code {code} from the facts")
        if cant_read and not CANT_READ_RE.search(answer):
            problems.append("does not say that a value cannot be read")
        if not cant_read and CANT_READ_RE.search(answer):
            problems.append("says it cannot read a value that was read")
    return Verdict(not problems, problems)


def _dump(r: Any) -> str:
    return r.model_dump_json() if isinstance(r, BaseModel) else str(r)


def _active_lamps(results: list[BaseModel]) -> set[str]:
    from assistant.tools.schemas import WarningsResult
    return {w.name for r in results if isinstance(r, WarningsResult) for w in r.active}


def _lamp_names(results: list[BaseModel]) -> set[str]:
    names = set()
    for r in results:
        for m in re.finditer(r'"signal":"Vehicle\.Telltale\.(\w+)"|"name":"(\w+)"', _dump(r)):
            names.add(m.group(1) or m.group(2))
    return names


def _units_in(results: list[BaseModel]) -> set[str]:
    found = set()
    for r in results:
        text = _dump(r)
        found |= set(re.findall(r'"unit":"([^"]+)"', text))
        if "_km" in text:
            found.add("km")
    mapped = set()
    for u in found:
        mapped.add({"km": "km", "m": "km", "kPa": "kpa", "°C": "°c", "%": "%", "V": "v", "d": "days", "s": "days",
                    "l/100km": "l/100km", "km/h": "km/h"}.get(u, u))
    return mapped
