"""Deterministic rendering of tool results into short spoken sentences.

This text is (1) the answer whenever the model's wording fails the grounding check
(``fallback: true``) and (2) the facts the model is asked to phrase. Every number in it comes
from a tool result, converted to the listener's units by :class:`Style`.
Phrases live in per-locale tables so a persona can switch language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pydantic import BaseModel

from assistant.state import units
from assistant.state.signals import TELLTALES
from assistant.tools.schemas import (EnergyResult, Quantity, RangeResult, ServiceResult, SignalResult, TyreResult,
                                     Warning, WarningsResult)

LOCALES_DIR = Path(__file__).resolve().parents[1] / "data" / "locales"


@lru_cache(maxsize=None)
def locale_texts(lang: str) -> dict[str, Any]:
    """Answer texts of a language (assistant/data/locales/<lang>.yaml), English as the fallback."""
    path = LOCALES_DIR / f"{lang}.yaml"
    if not path.is_file():
        raise ValueError(f"no answer texts for language {lang!r} (have: {', '.join(available_languages())})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def available_languages() -> list[str]:
    return sorted(p.stem for p in LOCALES_DIR.glob("*.yaml"))


@dataclass
class Style:
    """How numbers are said: units and locale (a persona sets these)."""

    locale: str = "en"            # language of answers: a file in assistant/data/locales/
    distance: str = "km"          # km | mi
    pressure: str = "kPa"         # kPa | bar | psi
    temperature: str = "°C"       # °C | °F
    consumption: str = "l/100km"  # l/100km | mpg
    decimal_comma: bool = False
    wording: dict[str, str] = field(default_factory=dict)   # persona overrides of non-critical phrases
    service_dealer: str | None = None                          # persona's booking advice for due service
    brand_wording_used: bool = False                           # set when a persona phrase was rendered

    @property
    def texts(self) -> dict[str, Any]:
        return locale_texts(self.locale)

    def phrase(self, key: str, **kw: Any) -> str:
        if key in self.wording:
            self.brand_wording_used = True
        text = self.wording.get(key) or self.texts["phrases"].get(key) or locale_texts("en")["phrases"][key]
        return text.format(**kw)

    def word(self, key: str) -> str:
        return self.texts["words"].get(key) or locale_texts("en")["words"][key]

    def what(self, key: str) -> str:
        from assistant.state.signals import CATALOG
        return (self.texts["what"].get(key) or locale_texts("en")["what"].get(key)
                or (CATALOG[key].description if key in CATALOG else key))

    def telltale(self, name: str) -> dict[str, str]:
        """Label, meaning, action and (critical lamps) the approved safety wording, in this language."""
        return self.texts["telltales"].get(name) or locale_texts("en")["telltales"][name]

    def position(self, pos: str) -> str:
        return self.texts["positions"].get(pos, pos)

    # -- numbers ------------------------------------------------------------------------------

    def number(self, value: float, digits: int = 0) -> str:
        if digits == 0 or float(value).is_integer():
            s = f"{round(value):d}"
        else:
            s = f"{value:.{digits}f}".rstrip("0").rstrip(".")
        return s.replace(".", ",") if self.decimal_comma else s

    def target_unit(self, unit: str | None) -> str | None:
        return {"km": self.distance, "m": self.distance, "kPa": self.pressure, "°C": self.temperature,
                "l/100km": self.consumption,
                "km/h": "mph" if self.distance == "mi" else "km/h"}.get(unit or "", unit)

    def convert(self, value: float, unit: str | None) -> tuple[float, str | None, int]:
        """Value in the listener's unit, with the digits worth saying."""
        to = self.target_unit(unit)
        if unit == "l/100km" and to == "mpg":
            return (235.214583 / value if value else 0.0), "mpg", 1
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
        value, unit, digits = self.convert(q.value, q.unit)
        text = self.number(value, digits)
        if unit == "%":
            return f"{text} %"
        if unit == "d":
            return f"{text} {self.word('day') if abs(value) == 1 else self.word('days')}"
        return f"{text} {unit}" if unit else text


@dataclass
class Rendering:
    """The deterministic answer: sentences in order, and what they are.

    ``must`` holds the sentences no length cap or persona may remove (what cannot be read, a
    lamp that is on or was on when last read); ``fine`` the topics the rendering itself states
    to be fine (``lamps`` for a full all-clear, ``tyres`` for tyres the car judges fine), which
    are the only health claims model wording may repeat."""

    sentences: list[str] = field(default_factory=list)
    cant_read: bool = False           # some asked-for value was not readable
    must: list[str] = field(default_factory=list)
    fine: set[str] = field(default_factory=set)

    @property
    def text(self) -> str:
        return " ".join(s for s in self.sentences if s)

    def add(self, s: str, keep: bool = False, fine: str | None = None) -> None:
        if s:
            s = s[:1].upper() + s[1:]
            s = s if s.rstrip().endswith((".", "!", "?")) else s + "."
            if s not in self.sentences:       # two tools can say the same thing (the low fuel lamp)
                self.sentences.append(s)
            if keep and s not in self.must:
                self.must.append(s)
            if fine:
                self.fine.add(fine)

    def add_cant_read(self, s: str) -> None:
        self.cant_read = True
        self.add(s, keep=True)

    def capped(self, max_words: int, max_sentences: int) -> "Rendering":
        """Whole sentences within the cap, in order: the first always, every ``must`` sentence
        always (a cap never removes what cannot be read or a lamp that is on), the others while
        they fit."""
        must_words = sum(len(x.split()) for x in self.must)
        kept, words, n = [], must_words, len(self.must)
        for i, sentence in enumerate(self.sentences):
            if sentence in self.must:
                kept.append(sentence)
                continue
            w = len(sentence.split())
            if i == 0 or (n + 1 <= max_sentences and words + w <= max_words):
                kept.append(sentence)
                words += w
                n += 1
        out = Rendering(kept, self.cant_read, [x for x in self.must], set(self.fine))
        return out


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
    if r.destination_km is not None and (fuel.ok or ev.ok):
        total = sum(q.value for q in (fuel, ev) if q.ok)
        rng = s.quantity(Quantity(signal=fuel.signal, value=total, unit="km"))
        dest = s.quantity(Quantity(signal=fuel.signal, value=r.destination_km, unit="km"))
        key = {True: "reach_yes", False: "reach_no", None: "reach_unsure"}[r.can_reach]
        out.add(s.phrase(key, range=rng, dest=dest))
        if r.can_reach is None:                # why it cannot say no: every range it cannot read
            bad = [q for q in (fuel, ev) if not q.ok and q.status != "not_supported"]
    elif fuel.ok and ev.ok and ev.value > 0:
        out.add(s.phrase("range_both", fuel=s.quantity(fuel), ev=s.quantity(ev)))
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
        out.add(s.phrase("low_fuel_on"), keep=True)


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


def render_warnings(r: WarningsResult, s: Style, out: Rendering, include_critical: bool = False) -> None:
    """Lamps that are on, then what cannot be read; "no warning lights are on" only when every
    lamp this car reports was read fresh and none is on (``r.all_clear``).

    Critical lamps that are on are said by the pipeline in their approved safety wording, in
    front of every answer; here only with ``include_critical``. A lamp that cannot be read now
    but was on when last read is said as such (``must``: no cap removes it)."""
    for w in r.active:
        if w.safety_wording and not include_critical:
            continue
        if not w.fresh:
            out.add(last_read_on(w, s), keep=True)
            out.cant_read = True
        else:
            t = s.telltale(w.name)
            out.add(s.phrase("warning_on", label=t["label"], state=s.phrase(f"state_{w.state}"),
                             meaning=t["meaning"], action=t["action"]), keep=True)
    last_on = {w.name for w in r.active if not w.fresh}
    if r.lamps_reported == 0:
        out.add_cant_read(s.phrase("lamps_not_reported"))
    elif r.all_clear:
        if not r.not_supported:
            out.add(s.phrase("no_warnings"), fine="lamps")
        else:
            reported = [s.telltale(n)["label"] for n in TELLTALES if n not in r.not_supported]
            names = _names(s, reported) if len(reported) <= 3 else s.phrase("n_lamps", n=len(reported))
            out.add(s.phrase("no_warnings_partial", names=names), fine="lamps")
    elif r.unreadable:
        rest = [n for n in r.unreadable if n not in last_on]
        if len(r.unreadable) == r.lamps_reported:
            if rest:
                out.add_cant_read(s.phrase("lamps_unreadable_all" if not last_on else "lamps_unreadable_others"))
        elif len(rest) <= 2 and rest:
            out.add_cant_read(s.phrase("unreadable_lamps", names=_names(s, [s.telltale(n)["label"] for n in rest])))
        elif rest:
            out.add_cant_read(s.phrase("lamps_unreadable_some", n=len(rest), total=r.lamps_reported))
    if r.trouble_codes:
        out.add(s.phrase("codes", codes=", ".join(f"{c.code} ({c.description})" for c in r.trouble_codes)))


def render_service(r: ServiceResult, s: Style, out: Rendering) -> None:
    parts, overdue = [], bool(r.overdue)
    for q in (r.distance_to_service, r.time_to_service):
        if q.ok:
            v = abs(q.value) if overdue else q.value
            if overdue and q.value >= 0:
                continue
            parts.append(s.quantity(q.model_copy(update={"value": v})))
    if parts:
        joiner = s.phrase("and") if overdue else s.phrase("or")
        out.add(s.phrase("service_overdue" if overdue else "service_in", parts=joiner.join(parts)))
    elif r.service_due.ok and r.service_due.value:
        out.add(s.phrase("service_due_now"))
    else:
        out.add_cant_read(unreadable(s, r.distance_to_service, s.what("service")))
    if s.service_dealer and (overdue or (r.service_due.ok and r.service_due.value)):
        s.brand_wording_used = True
        out.add(s.service_dealer)
    if r.oil_life.ok:
        out.add(s.phrase("oil_life", pct=s.quantity(r.oil_life)))
    if r.oil_level.ok and r.oil_level.value != "NORMAL":
        out.add(s.phrase("oil_level", level=s.texts["oil_levels"][r.oil_level.value]))


def render_tyres(r: TyreResult, s: Style, out: Rendering) -> None:
    readable = [w for w in r.wheels if w.pressure.ok]
    low = [w for w in r.wheels if w.low.value is True or (w.position in r.low_wheels)]
    flagged = r.wheels and all(w.low.ok for w in r.wheels)       # the car says which tyre is low
    if not readable and not low and not flagged:
        out.add_cant_read(unreadable(s, r.wheels[0].pressure if r.wheels else Quantity(signal="tyres"), s.what("tyres")))
        return
    pos = s.position
    # "Fine" is the car's verdict (its low-pressure flags), never ours: without a flag to read,
    # the pressures are said as they are (a car that only sends pressures may have one at 150 kPa).
    judged = all(w.low.ok for w in readable)
    missing = [w for w in r.wheels if not w.pressure.ok]
    if len(r.wheels) == 1:
        w = r.wheels[0]
        if w.pressure.ok:
            key = "tyre_one_low" if w in low else "tyre_one_ok" if judged else "tyre_one_value"
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
        key = ("tyres_all_ok" if r.wheel == "all" else "tyre_some_ok") if judged else "tyre_values"
        out.add(_cap(s.phrase(key, list=listing)), fine="tyres" if judged else None)
    else:
        out.add(s.phrase("tyres_flags_ok"), fine="tyres")
    if missing:
        if len(missing) == len(r.wheels) > 1:
            out.add_cant_read(unreadable(s, missing[0].pressure, s.what("tyres")))
        else:
            out.add_cant_read(unreadable(s, missing[0].pressure, s.phrase("tyre_pressure_of", position=s.phrase(
                "and").join(pos(w.position) for w in missing))))


def render_signal(r: SignalResult, s: Style, out: Rendering) -> None:
    q = r.reading
    if not q.ok:
        out.add_cant_read(unreadable(s, q))
        return
    value = q.value
    if isinstance(value, bool):
        text = s.phrase("yes" if value else "no")
    elif isinstance(value, (int, float)):
        text = s.quantity(q)
    elif isinstance(value, list):
        text = ", ".join(value) or s.word("none")
    elif value in s.texts["oil_levels"]:
        text = s.texts["oil_levels"][value]
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
    out = Rendering()
    for name, result in results:
        RENDERERS[name](result, style, out)
    return out
