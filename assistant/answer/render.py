"""Deterministic rendering of tool results into short spoken sentences.

The render stage: tool results in, a :class:`Rendering` out. Its text is (1) the answer
whenever the model's wording fails the grounding check (``fallback: true``) and (2) what the
model is asked to phrase. Beside the text a Rendering carries, as data, the :class:`Fact` s it
states (each number with its unit and what it is of, each lamp, trouble code, wheel position
and verdict word), what it could not read, what it states fine and whether brand wording was
used: the grounding check works on those, never on a re-parse of the text.

Every number comes from a tool result, converted to the listener's units by :class:`Style`,
an immutable value (a persona's units, language and wording; follow-ups make a new one).
Phrases live in per-locale tables so a persona can switch language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from assistant.answer.claims import health_claim
from assistant.answer.locales import LOCALES_DIR, available_languages, locale_texts
from assistant.state import units
from assistant.state.signals import TELLTALES
from assistant.tools.schemas import (EnergyResult, Quantity, RangeResult, ServiceResult, SignalResult, TyreResult,
                                     Warning, WarningsResult)



@dataclass(frozen=True)
class Style:
    """How an answer is said: units, language, persona wording. Immutable: ``with_units``
    makes the per-turn copy a follow-up ("and in miles?") asks for."""

    locale: str = "en"            # language of answers: a file in assistant/data/locales/
    distance: str = "km"          # km | mi
    pressure: str = "kPa"         # kPa | bar | psi
    temperature: str = "°C"       # °C | °F
    consumption: str = "l/100km"  # l/100km | mpg
    decimal_comma: bool = False
    wording: dict[str, str] = field(default_factory=dict)   # persona overrides of non-critical phrases
    service_dealer: str | None = None                          # persona's booking advice for due service

    def with_units(self, by_dimension: dict[str, str]) -> "Style":
        """This style with the listener's units for some dimensions (``{"distance": "mi"}``)."""
        fields = {d: u for d, u in by_dimension.items() if d in ("distance", "pressure", "temperature", "consumption")}
        return replace(self, **fields) if fields else self

    def without_wording(self) -> "Style":
        """This style with the project's own phrases instead of the persona's."""
        return replace(self, wording={}) if self.wording else self

    def is_brand(self, key: str) -> bool:
        return key in self.wording

    @property
    def texts(self):
        return locale_texts(self.locale)

    def phrase(self, key: str, **kw: Any) -> str:
        text = self.wording.get(key) or self.texts.phrases.get(key) or locale_texts("en").phrases[key]
        return text.format(**kw)

    def word(self, key: str) -> str:
        return self.texts.words.get(key) or locale_texts("en").words[key]

    def what(self, key: str) -> str:
        from assistant.state.signals import CATALOG
        return (self.texts.what.get(key) or locale_texts("en").what.get(key)
                or (CATALOG[key].description if key in CATALOG else key))

    def telltale(self, name: str) -> dict[str, str]:
        """Label, meaning, action and (critical lamps) the approved safety wording, in this language."""
        return self.texts.telltales.get(name) or locale_texts("en").telltales[name]

    def position(self, pos: str) -> str:
        return self.texts.positions.get(pos, pos)

    # -- numbers ------------------------------------------------------------------------------

    def number(self, value: float, digits: int = 0) -> str:
        if digits == 0 or float(value).is_integer():
            s = f"{round(value):d}"
        else:
            s = f"{value:.{digits}f}".rstrip("0").rstrip(".")
        return s.replace(".", ",") if self.decimal_comma else s

    def target_unit(self, unit: str | None) -> str | None:
        try:
            dim = units.dimension(unit or "")
        except units.UnitError:
            return unit
        return {"distance": self.distance, "pressure": self.pressure, "temperature": self.temperature,
                "consumption": self.consumption,
                "speed": "mph" if self.distance == "mi" else "km/h"}.get(dim, unit)

    def convert(self, value: float, unit: str | None) -> tuple[float, str | None, int]:
        """Value in the listener's unit, with the digits worth saying."""
        to = self.target_unit(unit)
        if unit and to and to != unit:
            value = units.convert(value, unit, to)
        digits = {"bar": 1, "V": 1, "l/100km": 1, "mpg": 1}.get(to or "", 0)
        if to == "bar" and abs(value) < 1:
            digits = 2                         # a flat tyre at 96 kPa is 0.96 bar, not "1 bar"
        return value, to, digits

    def duration(self, seconds: float) -> str:
        """A short age said in words: "12 seconds", "3 minutes"."""
        if seconds < 120:
            n = round(seconds)
            return f"{self.number(n)} {self.word('second') if n == 1 else self.word('seconds')}"
        n = round(seconds / 60)
        return f"{self.number(n)} {self.word('minutes')}"

    def quantity(self, q: Quantity) -> str:
        return self.said(*self.convert(q.value, q.unit))

    def said(self, value: float, unit: str | None, digits: int) -> str:
        """A converted value as the listener hears it ("48 km", "7 %", "10 days")."""
        text = self.number(value, digits)
        if unit == "%":
            return f"{text} %"
        if unit == "d":
            return f"{text} {self.word('day') if abs(value) == 1 else self.word('days')}"
        return f"{text} {unit}" if unit else text


def of_signal(signal: str) -> frozenset[str]:
    """What a reading is of, as a listener tells values apart: fuel or battery, front or rear,
    left or right (from its canonical name)."""
    parts = signal.split(".")
    q = {"fuel"} if "FuelSystem" in parts else {"battery"} if {"TractionBattery", "LowVoltageBattery"} & set(parts) \
        else set()
    q |= {"front"} if "Row1" in parts else {"rear"} if "Row2" in parts else set()
    q |= {p.lower() for p in parts if p in ("Left", "Right")}
    return frozenset(q)


@dataclass(frozen=True)
class Fact:
    """One thing a rendering states.

    ``kind``: ``number`` (``value`` in ``unit``, as said), ``lamp`` (``value`` a telltale name,
    ``state`` on / last_on / unreadable / off), ``code`` (a trouble code), ``position`` (a wheel,
    "rear left"), ``verdict`` (a word an answer must not drop: low, overdue, flashing).
    ``key``: a faithful rewording must keep it."""

    kind: str
    value: Any
    unit: str | None = None
    of: frozenset[str] = frozenset()
    state: str | None = None
    key: bool = True
    said: str | None = None           # numbers: as written in the rendering ("48 km")


@dataclass
class Rendering:
    """The deterministic answer: sentences in order, and what they state, as data.

    ``primary`` holds the sentences that answer what was asked (each renderer's first sentence
    unless it marks its own); ``must`` the sentences no length cap or persona may remove (what
    cannot be read, a lamp that is on or was on when last read, a lamp's live evidence, a low
    tyre); ``short`` a shorter form of a sentence, said when the cap is tight; ``fine`` the
    topics the rendering itself states to be fine (``lamps`` for a full all-clear, ``tyres`` for
    tyres the car judges fine), the only health claims model wording may repeat; ``facts``
    every number, lamp, code, position and verdict word it states; ``brand``: persona wording
    was used (said as written, so the model does not reword it)."""

    sentences: list[str] = field(default_factory=list)
    cant_read: bool = False           # some asked-for value was not readable
    must: list[str] = field(default_factory=list)
    fine: set[str] = field(default_factory=set)
    facts: list[Fact] = field(default_factory=list)
    brand: bool = False
    fine_worded: bool = False         # a sentence stating something fine says so in words ("which is fine")
    primary: list[str] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)
    losing_air: set[str] = field(default_factory=set)   # tyre positions the history sees losing air

    @property
    def text(self) -> str:
        return " ".join(s for s in self.sentences if s)

    @staticmethod
    def _sentence(s: str) -> str:
        s = s[:1].upper() + s[1:]
        return s if s.rstrip().endswith((".", "!", "?")) else s + "."

    def add(self, s: str, keep: bool = False, fine: str | None = None, primary: bool = False,
            short: str | None = None) -> None:
        if s:
            s = self._sentence(s)
            if s not in self.sentences:       # two tools can say the same thing (the low fuel lamp)
                self.sentences.append(s)
            if keep and s not in self.must:
                self.must.append(s)
            if primary and s not in self.primary:
                self.primary.append(s)
            if short:
                self.short.setdefault(s, self._sentence(short))
            if fine:
                self.fine.add(fine)
                self.fine_worded = self.fine_worded or bool(health_claim(s))

    def add_first(self, s: str) -> None:
        """A sentence said before the rest and never cut ("I can't do that part: ..." when a
        command beside the question is not carried out)."""
        s = self._sentence(s)
        if s not in self.sentences:
            self.sentences.insert(0, s)
        if s not in self.must:
            self.must.append(s)

    def add_cant_read(self, s: str, primary: bool = False) -> None:
        self.cant_read = True
        self.add(s, keep=True, primary=primary)

    def fact(self, kind: str, value: Any, **kw: Any) -> None:
        f = Fact(kind, value, **kw)
        if f not in self.facts:
            self.facts.append(f)

    def numbers(self) -> list[Fact]:
        return [f for f in self.facts if f.kind == "number"]

    def of_kind(self, kind: str, key_only: bool = False) -> list[Any]:
        return [f.value for f in self.facts if f.kind == kind and (f.key or not key_only)]

    def rank(self, sentence: str) -> int:
        """0: answers what was asked; 1: must (safety: lamps on, their evidence, can't read);
        2: the rest. Without a marked answer the first sentence is the answer."""
        primary = self.primary or self.sentences[:1]
        return 0 if sentence in primary else 1 if sentence in self.must else 2

    def capped(self, max_words: int, max_sentences: int) -> "Rendering":
        """Within the cap, ordered by what was asked, then safety (``must``), then the rest, and
        cut from the end: the answer to what was asked and every ``must`` sentence are always
        kept (in their short form when the full forms do not fit), the rest while it fits. The
        facts of what was cut are no longer key (the answer need not keep them)."""
        size = lambda x: len(x.split())  # noqa: E731
        if sum(map(size, self.sentences)) <= max_words and len(self.sentences) <= max_sentences:
            return self._copy(list(self.sentences))
        order = sorted(self.sentences, key=self.rank)
        firm = [x for x in order if self.rank(x) < 2]
        if sum(map(size, firm)) > max_words or len(firm) > max_sentences:
            firm = [self.short.get(x, x) for x in firm]
        kept, words, n = list(firm), sum(map(size, firm)), len(firm)
        for sentence in order[len(firm):]:
            for form in dict.fromkeys((sentence, self.short.get(sentence, sentence))):
                if n + 1 <= max_sentences and words + size(form) <= max_words:
                    kept.append(form)
                    words += size(form)
                    n += 1
                    break
        out = self._copy(kept)
        if kept != self.sentences:
            out.facts = [f if _said_in(f, out.text) else replace(f, key=False) for f in self.facts]
        return out

    def _copy(self, sentences: list[str]) -> "Rendering":
        return Rendering(sentences, self.cant_read, list(self.must) + [self.short[x] for x in self.must
                                                                          if x in self.short],
                         set(self.fine), list(self.facts), self.brand, self.fine_worded,
                         list(self.primary) + [self.short[x] for x in self.primary if x in self.short],
                         dict(self.short))


def _said_in(f: Fact, text: str) -> bool:
    """Whether a fact is still said in a cut rendering (its number, code or position in the text)."""
    if f.kind == "number":
        return f.said is None or f.said in text
    return f.kind == "lamp" or str(f.value).lower() in text.lower()


class _Speaker:
    """The style as the renderers use it during one rendering: every quantity it formats is
    recorded as a number fact, and every persona phrase it picks marks the rendering as brand
    wording. The :class:`Style` itself stays untouched."""

    def __init__(self, style: Style, out: Rendering):
        self._style, self._out = style, out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._style, name)

    def phrase(self, key: str, **kw: Any) -> str:
        if self._style.is_brand(key):
            self._out.brand = True
        return self._style.phrase(key, **kw)

    def quantity(self, q: Quantity, key: bool = True) -> str:
        value, unit, digits = self._style.convert(q.value, q.unit)
        said = self._style.said(value, unit, digits)
        self._out.fact("number", round(float(value), 6), unit=unit, of=of_signal(q.signal), key=key, said=said)
        return said

    def duration(self, seconds: float) -> str:
        self._out.fact("number", float(seconds), unit="s", key=False)
        return self._style.duration(seconds)

    def text_numbers(self, text: str) -> str:
        """A table text said as it is (a signal's name, a lamp's meaning, a code's description):
        the numbers in it ("12 volt", "bank 1") are facts too, recorded as the text is said."""
        for m in _NUMBER.finditer(text):
            self._out.fact("number", float(m.group().replace(",", ".")), key=False)
        return text

    def what(self, key: str) -> str:
        return self.text_numbers(self._style.what(key))

    def telltale(self, name: str):
        words = self._style.telltale(name)
        for part in (words.label, words.meaning, words.action):
            self.text_numbers(part)
        return words


_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def unreadable(style: Style, q: Quantity, what: str | None = None) -> str:
    key = "not_supported" if q.status == "not_supported" else "cant_read"
    return style.phrase(key, what=what or style.what(q.signal))


def _unreadable_energy(pairs: list[tuple[str, Quantity]], source: str) -> list[Quantity]:
    """Fuel/battery readings to report as unreadable: the one the driver asked about, and (asked
    about either) one the car sends that is stale or marked not available. One never received is
    said only when asked about: a car profile may list a battery a plain combustion car lacks."""
    return [q for kind, q in pairs
            if not q.ok and (source == kind or (source == "any" and q.status in ("stale", "unavailable")))]


def _say_unreadable(qs: list[Quantity], s: Style, out: Rendering) -> None:
    for q in qs:
        out.add_cant_read(unreadable(s, q))


def render_range(r: RangeResult, s: Style, out: Rendering) -> None:
    fuel, ev = r.fuel_range, r.ev_range
    pairs = [("fuel", fuel), ("battery", ev)]
    bad = _unreadable_energy(pairs[::-1] if r.source == "battery" else pairs, r.source)
    if r.source != "any":                      # the answer to what was asked comes first
        _say_unreadable(bad, s, out)
        bad = []
    asked = {"fuel": fuel, "battery": ev}.get(r.source)
    hybrid = fuel.ok and ev.ok and ev.value > 0
    if r.destination_km is not None and r.source == "battery" and ev.ok:
        # "can I do 95 km on the battery?": the electric range decides, then the whole picture
        rng = s.quantity(Quantity(signal=ev.signal, value=ev.value, unit="km"))
        dest = s.quantity(Quantity(signal=ev.signal, value=r.destination_km, unit="km"))
        out.add(s.phrase(f"reach_{'yes' if r.can_reach else 'no'}_ev", range=rng, dest=dest), primary=True)
        if hybrid:
            out.add(_range_total(fuel, ev, s))
    elif r.destination_km is None and asked is not None and asked.ok and hybrid:
        # "how far will the battery take me?": that energy's range first, then the total
        if r.source == "fuel":
            tail = f", {s.phrase('tank', pct=s.quantity(r.fuel_level))}" if r.fuel_level.ok else ""
            out.add(s.phrase("range_fuel", fuel=s.quantity(fuel)) + tail, primary=True)
        else:
            out.add(s.phrase("range_ev", ev=s.quantity(ev)), primary=True)
        out.add(_range_total(fuel, ev, s))
    elif r.destination_km is not None and (fuel.ok or ev.ok):
        total = sum(q.value for q in (fuel, ev) if q.ok)
        rng = s.quantity(Quantity(signal=fuel.signal, value=total, unit="km"))
        dest = s.quantity(Quantity(signal=fuel.signal, value=r.destination_km, unit="km"))
        key = {True: "reach_yes", False: "reach_no", None: "reach_unsure"}[r.can_reach]
        out.add(s.phrase(key, range=rng, dest=dest))
        if fuel.ok and ev.ok and ev.value > 0:         # the split makes the "yes"/"no" checkable
            out.add(s.phrase("range_split", fuel=s.quantity(fuel), ev=s.quantity(ev)))
        if r.can_reach is None:                # why it cannot say no: every range it cannot read
            bad = [q for q in (fuel, ev) if not q.ok and q.status != "not_supported"]
    elif hybrid:                                        # the total, then the split
        out.add(_range_total(fuel, ev, s), short=s.phrase("range_both", fuel=s.quantity(fuel), ev=s.quantity(ev)))
    elif fuel.ok:
        tail = f", {s.phrase('tank', pct=s.quantity(r.fuel_level))}" if r.fuel_level.ok else ""
        out.add(s.phrase("range_fuel", fuel=s.quantity(fuel)) + tail)
    elif ev.ok:
        out.add(s.phrase("range_ev", ev=s.quantity(ev)))
    elif not out.cant_read and not bad:
        out.add_cant_read(unreadable(s, fuel, s.what("range")))
        if r.fuel_level.ok:
            out.add(_cap(s.phrase("tank", pct=s.quantity(r.fuel_level))))
    _say_unreadable(bad, s, out)
    if r.low_fuel_light.ok and r.low_fuel_light.value in ("ON", "BLINK"):
        out.fact("lamp", "LowFuel", state="on")
        out.fact("verdict", "low")
        out.add(s.phrase("low_fuel_on"), keep=True)


def _range_total(fuel: Quantity, ev: Quantity, s: Style) -> str:
    """A hybrid's whole range and its split ("about 652 km in all: 610 km on fuel and 42 km on
    electric power")."""
    total = s.quantity(Quantity(signal="total", value=fuel.value + ev.value, unit=fuel.unit), key=False)
    return s.phrase("range_total", total=total, fuel=s.quantity(fuel), ev=s.quantity(ev))


def render_energy(r: EnergyResult, s: Style, out: Rendering) -> None:
    pairs = [("fuel", r.fuel_level, "energy_fuel"), ("battery", r.battery_level, "energy_soc")]
    if r.source == "battery":
        pairs.reverse()
    bad = _unreadable_energy([(k, q) for k, q, _ in pairs], r.source)
    if r.source != "any":
        _say_unreadable(bad, s, out)
        bad = []
    said = False
    for _, q, key in pairs:
        if q.ok:
            out.add(s.phrase(key, pct=s.quantity(q)))
            said = True
    if not said and not out.cant_read and not bad:
        bad = [r.fuel_level if r.fuel_level.status != "not_supported" else r.battery_level]
    _say_unreadable(bad, s, out)
    if r.low_fuel_light.ok and r.low_fuel_light.value in ("ON", "BLINK"):
        out.fact("lamp", "LowFuel", state="on")
        out.fact("verdict", "low")
        out.add(s.phrase("low_fuel_on"), keep=True)


def _names(s: Style, labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + s.phrase("and") + labels[-1]


def last_read_on(w: Warning, s: Style) -> str:
    """A lamp that cannot be read now but was on when last read."""
    t = s.telltale(w.name)
    return s.phrase("lamp_last_on_critical" if w.safety_wording else "lamp_last_on", label=t["label"],
                    state=s.phrase(f"state_{w.state}"), was=s.phrase(f"was_{w.state}"),
                    ago=s.duration(w.last_read_s_ago or 0), meaning=t["meaning"], action=t["action"])


def safety_sentences(r: WarningsResult, s: Style) -> list[str]:
    """The approved wording of each critical lamp that is on, or was on when last read (then
    followed by when it was read and that it is to be treated as on), in the answer's language."""
    out = []
    for w in r.critical:
        text = " ".join(s.telltale(w.name)["safety"].split())
        out.append(text if w.fresh else f"{text} {last_read_on(w, s)}")
    return out


def _lamp_sentence(w: Warning, s: Style, out: Rendering, primary: bool = False) -> None:
    """A lamp that is on (or was on when last read), with its meaning and what to do; its short
    form (a tight cap) keeps what to do."""
    out.fact("lamp", w.name, state="on" if w.fresh else "last_on")
    if w.state == "BLINK":
        out.fact("verdict", "flashing")
    if not w.fresh:
        out.add(last_read_on(w, s), keep=True, primary=primary)
        out.cant_read = True
        return
    t = s.telltale(w.name)
    state = s.phrase(f"state_{w.state}")
    out.add(s.phrase("warning_on", label=t["label"], state=state, meaning=t["meaning"], action=t["action"]),
            keep=True, primary=primary, short=s.phrase("warning_on_short", label=t["label"], state=state,
                                                       action=t["action"]))


def _evidence(w: Warning, s: Style, out: Rendering, primary: bool = False) -> None:
    """The live readings behind a lamp, said after it: the lamp is the car's verdict, these are
    the evidence (the 12 V voltage, the coolant temperature, the range, the tyres' pressures)."""
    if w.name == "TirePressure" and w.evidence:
        flagged = [_wheel_position(q.signal) for q in w.evidence if isinstance(q.value, bool)]
        pressures = {_wheel_position(q.signal): q for q in w.evidence if not isinstance(q.value, bool)}
        if flagged:
            out.fact("verdict", "low")
            positions = s.phrase("and").join(_pos(p, s, out) for p in flagged)
            values = s.phrase("and").join(s.quantity(pressures[p]) for p in flagged if p in pressures)
            key = "tyre_low_only" if values else "tyre_low_flag_only"
            out.add(s.phrase(key, positions=positions, values=values,
                             tyre_word=s.word("tyres_are") if len(flagged) > 1 else s.word("tyre_is")),
                    keep=True, primary=primary)
        else:
            listing = ", ".join(f"{_pos(p, s, out)} {s.quantity(q)}" for p, q in pressures.items())
            out.add(s.phrase("tyre_pressures", list=listing), keep=True, primary=primary)
        return
    by = {q.signal: q for q in w.evidence}
    fuel, level = by.pop("Vehicle.Powertrain.FuelSystem.Range", None), \
        by.pop("Vehicle.Powertrain.FuelSystem.RelativeLevel", None)
    if fuel is not None:
        tail = f", {s.phrase('tank', pct=s.quantity(level))}" if level is not None else ""
        out.add(s.phrase("range_fuel", fuel=s.quantity(fuel)) + tail, keep=True, primary=primary)
    elif level is not None:
        out.add(s.phrase("energy_fuel", pct=s.quantity(level)), keep=True, primary=primary)
    for q in by.values():
        if q.signal == "Vehicle.Service.DistanceToService":
            overdue = q.value < 0
            if overdue:
                out.fact("verdict", "overdue")
            said = s.quantity(q.model_copy(update={"value": abs(q.value)}))
            out.add(s.phrase("service_overdue" if overdue else "service_in", parts=said), keep=True, primary=primary)
        elif q.signal.endswith("EngineOil.Level") and q.value in s.texts.oil_levels:
            if "LOW" in q.value:
                out.fact("verdict", "low")
            out.add(s.phrase("oil_level", level=s.texts.oil_levels[q.value]), keep=True, primary=primary,
                    fine="oil" if q.value == "NORMAL" else None)
        elif isinstance(q.value, (int, float)) and not isinstance(q.value, bool):
            out.add(s.phrase("signal_value", what=s.what(q.signal), value=s.quantity(q)), keep=True, primary=primary)


def _pos(position: str, s: Style, out: Rendering) -> str:
    out.fact("position", position)
    return s.position(position)


def _wheel_position(signal: str) -> str:
    parts = signal.split(".")
    row = "front" if "Row1" in parts else "rear"
    return f"{row} {'left' if 'Left' in parts else 'right'}"


def _codes(r: WarningsResult, s: Style, out: Rendering, asked: bool, primary: bool = False) -> None:
    """The stored trouble codes with their meaning (short form: the codes, "and N more" past
    three); none stored, or that they cannot be read, when they were asked for or are the
    evidence of a check-engine lamp that is on."""
    engine_on = any(w.name == "CheckEngine" for w in r.active)
    if r.trouble_codes:
        said = {c.code: s.text_numbers(_trouble_codes.listed(c.code, c.description, s)) for c in r.trouble_codes}
        for c in r.trouble_codes:
            out.fact("code", c.code)
        shown = [c.code for c in r.trouble_codes[:3]]
        more = len(r.trouble_codes) - len(shown)
        listing = _names(s, shown) if not more else ", ".join(shown) + s.phrase("n_more", n=more)
        if more:
            out.fact("number", float(more), key=False)
        out.add(s.phrase("codes", codes=", ".join(f"{c.code} ({said[c.code]})" for c in r.trouble_codes)),
                keep=asked or engine_on, primary=primary, short=s.phrase("codes", codes=listing))
        # What the codes mean for the driver (the most serious one's advice); with a critical
        # lamp on, its approved wording says what to do, unless a code says to stop.
        worst, advice = _trouble_codes.advice_sentence((c.advice for c in r.trouble_codes), s)
        if advice and (worst == "stop" or not r.critical):
            out.add(advice, keep=worst == "stop")
    elif not (asked or engine_on):
        return
    elif r.trouble_codes_status == "ok":
        out.add(s.phrase("no_codes"), keep=True, primary=primary)
    elif r.trouble_codes_status == "not_supported":
        if asked:
            out.add_cant_read(s.phrase("not_supported", what=s.what("Vehicle.Diagnostics.DTCList")), primary=primary)
    else:
        out.add_cant_read(s.phrase("cant_read", what=s.what("Vehicle.Diagnostics.DTCList")), primary=primary)


def _one_lamp(r: WarningsResult, s: Style, out: Rendering, include_critical: bool) -> None:
    """Asked about one lamp: its state first (on with meaning, what to do and its evidence; off;
    or that it cannot be read), then only the other lamps that are on."""
    name, q = r.about, r.lamp
    w = next((x for x in r.active + r.indicators if x.name == name), None)
    t = s.telltale(name)
    if w is not None:
        if not w.safety_wording or include_critical:     # a critical lamp: the safety wording says it
            _lamp_sentence(w, s, out, primary=True)
        _evidence(w, s, out, primary=True)
        if name == "CheckEngine":
            _codes(r, s, out, asked=True, primary=True)
    elif q is not None and q.ok:
        out.fact("lamp", name, state="off")
        out.fact("verdict", "off")
        out.add(s.phrase("lamp_off", label=t["label"]), primary=True)
    elif q is None or q.status == "not_supported":
        out.fact("lamp", name, state="not_supported")
        out.add_cant_read(s.phrase("not_supported", what=s.phrase("lamp_what", label=t["label"])), primary=True)
    else:
        out.fact("lamp", name, state="unreadable")
        out.add_cant_read(s.phrase("unreadable_lamps", names=t["label"]), primary=True)
    for other in r.active:
        if other.name != name and (not other.safety_wording or include_critical):
            _lamp_sentence(other, s, out)


def render_warnings(r: WarningsResult, s: Style, out: Rendering, include_critical: bool = False) -> None:
    """What was asked first (the codes, or one lamp), then the lamps that are on, each with its
    live evidence, then what cannot be read; "no warning lights are on" only when every lamp this
    car reports was read fresh and none is on (``r.all_clear``).

    Critical lamps that are on are said by the pipeline in their approved safety wording, in
    front of every answer; here only with ``include_critical`` (their evidence is said here). A
    lamp that cannot be read now but was on when last read is said as such (``must``: no cap
    removes it)."""
    # "the orange one shaped like an engine": among the lamps on now (the lamp it names, when on)
    if r.described and (r.about == "all" or (r.about in TELLTALES and r.matches and r.about not in r.matches)):
        _dashboard.render_described(r, s, out, include_critical, _lamp_sentence, _evidence)
        return
    if r.about in TELLTALES:
        _one_lamp(r, s, out, include_critical)
        return
    if r.about == "codes":
        _codes(r, s, out, asked=True, primary=True)
    for w in r.active:
        if not w.safety_wording or include_critical:     # a critical lamp: the safety wording says it
            _lamp_sentence(w, s, out)
        _evidence(w, s, out)
    engine_on = any(w.name == "CheckEngine" for w in r.active)
    if r.about != "codes" and engine_on:          # the check-engine lamp's evidence: its codes
        _codes(r, s, out, asked=False)
    last_on = {w.name for w in r.active if not w.fresh}
    named = lambda names, state: [out.fact("lamp", n, state=state, key=False) for n in names]  # noqa: E731
    if r.lamps_reported == 0:
        out.add_cant_read(s.phrase("lamps_not_reported"))
    elif r.all_clear:
        if not r.not_supported:
            out.add(s.phrase("no_warnings"), fine="lamps")
        else:
            reported = [n for n in TELLTALES if n not in r.not_supported]
            if len(reported) <= 3:
                named(reported, "off")
                names = _names(s, [s.telltale(n)["label"] for n in reported])
            else:
                out.fact("number", float(len(reported)), key=False)
                names = s.phrase("n_lamps", n=len(reported))
            out.add(s.phrase("no_warnings_partial", names=names), fine="lamps")
    elif r.unreadable:
        rest = [n for n in r.unreadable if n not in last_on]
        if len(r.unreadable) == r.lamps_reported:
            if rest:
                out.add_cant_read(s.phrase("lamps_unreadable_all" if not last_on else "lamps_unreadable_others"))
        elif len(rest) <= 2 and rest:
            named(rest, "unreadable")
            out.add_cant_read(s.phrase("unreadable_lamps", names=_names(s, [s.telltale(n)["label"] for n in rest])))
        elif rest:
            out.fact("number", float(len(rest)), key=False)
            out.fact("number", float(r.lamps_reported), key=False)
            out.add_cant_read(s.phrase("lamps_unreadable_some", n=len(rest), total=r.lamps_reported))
    if r.about != "codes" and not engine_on:
        _codes(r, s, out, asked=False)
    for w in r.indicators:           # high beam, fog light: explained after the warnings, never as one
        if w.fresh:
            t = s.telltale(w.name)
            out.fact("lamp", w.name, state="on", key=False)
            out.add(s.phrase("warning_on", label=t["label"], state=s.phrase(f"state_{w.state}"), meaning=t["meaning"],
                             action=t["action"]))


def _oil(r: ServiceResult, s: Style, out: Rendering, asked: str) -> None:
    """Oil life and oil level: asked about (``oil_life``/``oil_level``/``oil``), said first, and
    said unreadable when they are; otherwise as part of the service answer, when read."""
    life, level = asked in ("oil_life", "oil"), asked in ("oil_level", "oil")

    def say_life() -> None:
        if r.oil_life.ok:
            out.add(s.phrase("oil_life", pct=s.quantity(r.oil_life)), primary=life)
        elif life:
            out.add_cant_read(unreadable(s, r.oil_life), primary=True)

    def say_level() -> None:
        if r.oil_level.ok and (level or r.oil_level.value != "NORMAL"):
            if "LOW" in r.oil_level.value:
                out.fact("verdict", "low")
            out.add(s.phrase("oil_level", level=s.texts.oil_levels[r.oil_level.value]), primary=level,
                    keep="LOW" in r.oil_level.value, fine="oil" if r.oil_level.value == "NORMAL" else None)
        elif level and not r.oil_level.ok:
            out.add_cant_read(unreadable(s, r.oil_level), primary=True)

    for say in ((say_level, say_life) if asked == "oil_level" else (say_life, say_level)):
        say()


def render_service(r: ServiceResult, s: Style, out: Rendering) -> None:
    """The next service (distance or time, overdue), then oil life and level; asked about the
    oil (``r.about``), the oil first, and the service after it only where it can be read."""
    oil_asked = r.about in ("oil_life", "oil_level", "oil")
    if oil_asked:
        _oil(r, s, out, r.about)
    parts, overdue = [], bool(r.overdue)
    for q in (r.distance_to_service, r.time_to_service):
        if q.ok:
            v = abs(q.value) if overdue else q.value
            if overdue and q.value >= 0:
                continue
            parts.append(s.quantity(q.model_copy(update={"value": v})))
    if parts:
        if overdue:
            out.fact("verdict", "overdue")
        joiner = s.phrase("and") if overdue else s.phrase("or")
        out.add(s.phrase("service_overdue" if overdue else "service_in", parts=joiner.join(parts)),
                primary=not oil_asked)
    elif r.service_due.ok and r.service_due.value:
        out.add(s.phrase("service_due_now"), primary=not oil_asked)
    elif not oil_asked:
        out.add_cant_read(unreadable(s, r.distance_to_service, s.what("service")), primary=True)
    if s.service_dealer and (overdue or (r.service_due.ok and r.service_due.value)):
        out.brand = True
        out.add(s.service_dealer)
    if not oil_asked:
        _oil(r, s, out, "none")


def render_tyres(r: TyreResult, s: Style, out: Rendering) -> None:
    readable = [w for w in r.wheels if w.pressure.ok]
    low = [w for w in r.wheels if w.low.value is True or (w.position in r.low_wheels)]
    flagged = r.wheels and all(w.low.ok for w in r.wheels)       # the car says which tyre is low
    # The tyre lamp is the car's verdict too: read OFF, the car says no tyre is low; read ON
    # with no tyre flagged, it says one is, without saying which.
    lamp = r.tyre_light.value if r.tyre_light.ok else None
    lamp_off, lamp_on = lamp == "OFF" and not low, lamp in ("ON", "BLINK") and not low
    if not readable and not low and not flagged:
        if lamp_off:
            out.add(s.phrase("tyres_flags_ok"), fine="tyres")
        elif lamp_on:
            _tyre_lamp(s, out)
        out.add_cant_read(unreadable(s, r.wheels[0].pressure if r.wheels else Quantity(signal="tyres"), s.what("tyres")))
        return
    def pos(position: str) -> str:
        out.fact("position", position)
        return s.position(position)

    # "Fine" is the car's verdict (its low-pressure flags), never ours: without a flag to read,
    # the pressures are said as they are (a car that only sends pressures may have one at 150 kPa).
    judged = all(w.low.ok for w in readable) or lamp_off
    if judged and any(w.position in out.losing_air for w in readable):
        judged = None        # the history said a tyre is losing air: its pressure is said, not "fine"
    if lamp_on and not all(w.low.ok for w in readable):
        _tyre_lamp(s, out)
        judged = None                              # said: the lamp is on, the pressures follow
    missing = [w for w in r.wheels if not w.pressure.ok]
    if low:
        out.fact("verdict", "low")
    if len(r.wheels) == 1:
        w = r.wheels[0]
        if w.pressure.ok:
            key = "tyre_one_low" if w in low else "tyre_one_ok" if judged else \
                "tyre_one_pressure" if judged is None else "tyre_one_value"
            out.add(s.phrase(key, position=pos(w.position), value=s.quantity(w.pressure)),
                    fine="tyres" if key == "tyre_one_ok" else None)
            return
        if w.low.ok:                               # a low flag without a pressure (Hyundai)
            key = "tyre_low_flag_only" if w in low else "tyres_flags_ok"
            out.add(s.phrase(key, positions=pos(w.position), tyre_word=s.word("tyre_is")),
                    fine="tyres" if key == "tyres_flags_ok" else None)
    elif low:
        positions = s.phrase("and").join(pos(w.position) for w in low)
        values = s.phrase("and").join(s.quantity(w.pressure) for w in low if w.pressure.ok)
        key = ("tyre_low" if len(low) < len(r.wheels) else "tyre_low_only") + ("" if values else "_flag")
        out.add(s.phrase(key, positions=positions, values=values,
                         tyre_word=s.word("tyres_are") if len(low) > 1 else s.word("tyre_is")), keep=True,
                fine="tyres" if key.startswith("tyre_low") and "only" not in key else None)
    elif readable:
        listing = ", ".join(f"{pos(w.position)} {s.quantity(w.pressure)}" for w in readable)
        key = ("tyres_all_ok" if r.wheel == "all" else "tyre_some_ok") if judged else \
            "tyre_pressures" if judged is None else "tyre_values"
        out.add(_cap(s.phrase(key, list=listing)), fine="tyres" if judged else None)
    else:
        out.add(s.phrase("tyres_flags_ok"), fine="tyres")
    if missing:
        if len(missing) == len(r.wheels) > 1:
            out.add_cant_read(unreadable(s, missing[0].pressure, s.what("tyres")))
        else:
            out.add_cant_read(unreadable(s, missing[0].pressure, s.phrase("tyre_pressure_of", position=s.phrase(
                "and").join(pos(w.position) for w in missing))))


def _tyre_lamp(s: Style, out: Rendering) -> None:
    t = s.telltale("TirePressure")
    out.fact("lamp", "TirePressure", state="on")
    out.add(s.phrase("warning_on", label=t["label"], state=s.phrase("state_ON"), meaning=t["meaning"],
                     action=t["action"]), keep=True,
            short=s.phrase("warning_on_short", label=t["label"], state=s.phrase("state_ON"), action=t["action"]))


def render_signal(r: SignalResult, s: Style, out: Rendering) -> None:
    q = r.reading
    if not q.ok:
        out.add_cant_read(unreadable(s, q))
        return
    value = q.value
    said = _dashboard.state_sentence(s, q, out)
    if said:                                   # "The bonnet is open", "The car is in park"
        out.add(said)
        return
    if isinstance(value, bool):
        text = s.phrase("yes" if value else "no")
    elif isinstance(value, (int, float)):
        text = s.quantity(q)
    elif isinstance(value, list):
        text = ", ".join(value) or s.word("none")
    elif value in s.texts.oil_levels:
        text = s.texts.oil_levels[value]
        if "LOW" in value:
            out.fact("verdict", "low")
    else:
        text = str(value).lower().replace("_", " ")
    out.add(s.phrase("signal_value", what=s.what(r.name), value=text))


RENDERERS = {
    "get_range": render_range,
    "get_energy_level": render_energy,
    "get_warnings": render_warnings,
    "get_service_status": render_service,
    "get_tyre_pressures": render_tyres,
    "read_signal": render_signal,
}


def render(results: list[tuple[str, BaseModel]], style: Style) -> Rendering:
    """The render stage: ``(tool name, result)`` pairs in the order they were asked."""
    out = Rendering()
    speaker = _Speaker(style, out)
    # A result that cannot tell yet (``said_last``: a history too short to show a trend) comes
    # after the other results of the turn ("is it losing air?": the tyre's pressure answers first).
    results = sorted(results, key=lambda nr: len(results) > 1 and getattr(nr[1], "said_last", False))
    for name, result in results:
        before, marked = len(out.sentences), len(out.primary)
        RENDERERS[name](result, speaker, out)
        if len(out.primary) == marked and len(out.sentences) > before:
            out.primary.append(out.sentences[before])     # its first sentence answers what was asked
    return out


def render_results(results: list[BaseModel], style: Style | None = None) -> Rendering:
    """Render results by their type (no tool names at hand: a check of a text against results)."""
    by_type = {RangeResult: "get_range", EnergyResult: "get_energy_level", WarningsResult: "get_warnings",
               ServiceResult: "get_service_status", TyreResult: "get_tyre_pressures", SignalResult: "read_signal",
               CodeResult: "explain_code", BodyResult: "get_body_status", ChargingResult: "get_charging_status"}
    return render([(by_type[type(r)], r) for r in results if type(r) in by_type], style or Style())


# Trouble codes: the explain_code answer and a stored code's words (assistant/answer/codes.py).
from assistant.answer import codes as _trouble_codes  # noqa: E402
from assistant.tools.codes import CodeResult  # noqa: E402
RENDERERS["explain_code"] = _trouble_codes.render_code
# The dashboard answers (body, charging, a lamp described by colour and shape): answer/dashboard.py.
from assistant.answer import dashboard as _dashboard  # noqa: E402
from assistant.tools.body import BodyResult, ChargingResult  # noqa: E402

RENDERERS.update({"get_body_status": _dashboard.render_body, "get_charging_status": _dashboard.render_charging})
