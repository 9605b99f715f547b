"""Deterministic intent matcher: clear questions -> tool calls, without the model, and how far
to trust them.

A question is normalised, its language found from its marker words (:func:`languages.detect`;
English when it has none; the other table that routes it when that one routes nothing: "consumo
medio?") and that language's table (``assistant/data/intents/<lang>.yaml``) supplies the words;
the rules below are the same for every language. :func:`analyse` goes through them in order:

1. *Repair a transcript*: fillers out ("um", "you know"), mishearings rewritten ("break light"),
   spoken codes and distances as digits ("p zero four two zero", "thirty km").
2. *Hide what asks for nothing*: instruction-like text ("ignore your rules") and the dictating
   words of a dictated answer ("say", "tell me that": the claim after them is read as a question
   about the car, so "say the tyres are fine" reads the tyres and the answer says what they
   are); in a long question, a story told before the request ("I was driving to work and ... can
   you tell me ...") and statements before the first clause that asks ("the car needs its MOT
   soon, ..., but what I want to know is ..."), when the request has a topic (a destination
   distance or a wheel told in them still counts); a sentence that voices a fear before the
   question (``fears``: "it's not the battery again, is it? is the battery light on?").
3. *Decline* a question that is not about the car's state (``not_a_car_question``: prices, music).
4. *Topics*: each topic (range, energy, warnings, service, tyres, each signal) whose patterns
   match gives one tool call, with its arguments (a destination distance, which tyre, which
   energy), placed where its first match is, so calls come in the order of the question ("how
   much fuel and are my tyres ok?" gives two). A topic's ``masks`` hide phrases where its words
   mean something else ("how far is Paris", "wifi range"); a ``shared`` word ("flat",
   "pressure") goes to the sense its context shows (a battery word: the 12 V battery). The
   exception lists (``energy_in_range``, ``range_of_tyres``, ``topic_lamps``,
   ``signals_beside_service``) hold back a call its words alone would make.
5. *Inferred topics*: a distance with no topic of its own ("the next town, 30 km") is a
   destination for the range; a wheel named alone ("is the front left ok?") is the tyres.
6. *Declines with car words* (``declines``): another car, cars in general, navigation, controlling
   the car — unless the question also asks a topic the decline lets through. A decline that is
   ``sentence_only`` (commands: "open the boot", "call my wife") declines its own sentence only;
   the question in another one is answered and :attr:`Analysis.set_aside` says what was not
   done. A ``whole_question`` decline also reads a long question's context ("my daughter's
   scooter says 8 km left, can she ride it to school?").

The words of a lamp's name are the lamp's (``warnings_about``): "the battery charge light" is no
fuel, charging or signal question, and a lamp named by its symbol alone ("le petit flocon
allumé") is a lamp question.

Each rule that guesses records why (:attr:`Analysis.reasons`); :func:`uncertainty` returns them,
so that the router (:mod:`assistant.intent.router`) can ask a capable model instead. A short
question with one clear topic has no reason and is certain.

Follow-ups that only change a detail ("and in miles?", "what about the rear ones?", "and on
petrol?", "what about 160?", "is that too low?", "and the battery one?") are resolved against the
previous turn by :mod:`assistant.intent.router`, with :func:`unit_change`, :func:`unit_requested`,
:func:`is_unit_only`, :func:`is_energy_only`, :func:`wheel_of` and :func:`followup`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from assistant.intent import extract, languages
from assistant.intent.extract import NEVER, normalise
from assistant.intent.languages import CALL_TOPICS, NOTHING, LanguageIntents
from assistant.state.dtc import DTC_IN_TEXT
from assistant.state.signals import TELLTALES
from assistant.state.telltales import best_fits
from assistant.tools.schemas import ToolCall

__all__ = ["distance_km", "match", "match_table", "analyse", "uncertainty", "Analysis", "is_off_topic", "unit_change",
           "unit_requested", "is_unit_only", "wheel_of", "normalise", "FollowUp", "followup",
           "is_energy_only"]

# Reasons (the words :func:`uncertainty` says); the classes behind them are the tables'.
NO_TOPIC = "no topic word"
WHEEL_ALONE = "wheel named without a tyre word"
INSTRUCTIONS = "instruction-like text"
TWO_TOPICS = "two topics"
NOT_A_CAR_QUESTION = "not about the car"
LANGUAGE_GUESSED = "language unclear"


@dataclass(frozen=True)
class Analysis:
    """What the rules made of a question.

    ``calls`` in the order of the question; ``reasons`` why they (or a decline) should not be
    trusted without a capable model, empty when certain; ``declined`` the reason of a decline
    (``calls`` is then empty) and ``decline_certain`` whether it stands without a model;
    ``inferred`` the calls' topic when it came from a wheel or a distance alone; ``topic_guess``
    whether every reason is only a guess of the topic (a shared word's default sense, an inferred
    topic), which a previous turn on that topic settles; ``off_topic`` a question with an
    off-topic word; ``text`` the question as the rules saw it."""

    calls: tuple[ToolCall, ...] = ()
    reasons: tuple[str, ...] = ()
    declined: str | None = None
    decline_certain: bool = True
    inferred: str | None = None            # "wheel" | "destination"
    topic_guess: bool = False
    off_topic: bool = False
    language: str = languages.DEFAULT_LANGUAGE
    text: str = ""
    set_aside: str | None = None           # the reason of a sentence declined beside the calls ("open the boot")


def _table(q: str) -> LanguageIntents:
    return languages.detect(q) or languages.default()


def match(question: str) -> list[ToolCall]:
    """Tool calls implied by a question, in the order of the question; [] when unclear or declined."""
    return list(analyse(question).calls)


def match_table(t: LanguageIntents, q: str) -> list[ToolCall]:
    """The rules, over one language's words (``q`` normalised)."""
    return list(_analyse(t, q).calls)


@lru_cache(maxsize=512)
def analyse(question: str) -> Analysis:
    """The rules' result for a question (see the module docstring), in its language's words.
    When the table its marker words pick routes nothing, another table that routes it does (a
    short question with few or shared markers: "consumo medio?", "e la posteriore destra?"); if
    markers had picked a language, that guess is a reason of its own."""
    q = normalise(question)
    detected = languages.detect(q)
    first = detected or languages.default()
    a = _analyse(first, q)
    if a.calls or a.declined is not None or a.off_topic:
        return a
    for other in languages.tables():
        if other is not first and (b := _analyse(other, q)).calls:
            if detected is None:
                return b
            return replace(b, reasons=tuple(dict.fromkeys([*b.reasons, LANGUAGE_GUESSED])))
    return a


def distance_km(question: str) -> float | None:
    """The destination distance the question states, in km, read as the rules read it (its
    language's unit words, spoken numbers, miles converted); None when it states none. What a
    model's ``destination_km`` is checked against (:func:`assistant.llm.toolcall.ground_distance`)."""
    q = normalise(question)
    for t in [languages.detect(q) or languages.default(), *languages.tables()]:
        km = _destination(t, _repair(t, q))
        if km is not None:
            return km
    return None


def _destination(t: LanguageIntents, q: str) -> float | None:
    """The destination distance ``q`` states, doubled for a trip there and back ("it's 30 miles
    away, can I get there and back?") unless the distance is already the whole trip ("a 60 km
    round trip")."""
    if "range" in t.masks:              # not a distance already driven ("we just did 300 km, ...")
        q = extract.blank(q, t.masks["range"])
    km = extract.destination_km(q, t.distance_rx())
    if km is not None and t.followup_round_trip.search(q) and not t.round_trip_given.search(q):
        km = round(2 * km, 1)
    return km


def uncertainty(question: str, calls: list[ToolCall]) -> str | None:
    """Why the matcher's ``calls`` for ``question`` should not be trusted without a capable model
    ("shared word 'flat'", "long question (23 words)", "two topics", "instruction-like text",
    "names another car", "no topic word"), or None when they are certain. ``calls`` are what the
    matcher gave (:func:`match`); an empty list is certain only for a clear decline ("tell me a
    joke")."""
    a = analyse(question)
    reasons = list(a.reasons)
    if not calls and not reasons and a.declined is None and not a.off_topic:
        reasons.append(NO_TOPIC)
    return "; ".join(dict.fromkeys(reasons)) or None


def is_off_topic(question: str) -> bool:
    """A question to decline (jokes, weather, prices, another car, ...), asked once no rule routed it."""
    a = analyse(question)
    return not a.calls and (a.declined is not None or a.off_topic)


def wheel_of(q: str) -> str | None:
    """Which tyre a follow-up names (``q`` normalised), in its language's words (English's too);
    None when the position is another part's ("and the driver's side door?")."""
    t, en = _table(q), languages.default()
    if t.other_parts.search(q) or en.other_parts.search(q):
        return None
    return extract.wheel_of(q, t.wheels, t.sides) or extract.wheel_of(q, en.wheels, en.sides)


def unit_change(question: str) -> str | None:
    """The unit a turn's answer is wanted in ("... in miles", "can I make it 50 miles"), from any
    table's unit words, English first."""
    q = normalise(question)
    return next((u for t in languages.tables() if (u := extract.unit_asked(q, t.units))), None)


def unit_requested(question: str) -> str | None:
    """The unit a turn asks for as a unit, not as a distance it gives: "and in miles?" asks for
    miles, "the next town, 30 km" gives a destination (a follow-up repeats the previous calls in
    other units only for the former)."""
    q = normalise(question)
    return next((u for t in languages.tables() if (u := extract.unit_asked(q, t.units, t.distance_rx()))), None)


def is_unit_only(question: str) -> bool:
    """The turn asks for nothing but other units ("and in psi?", "can you say that in miles please")."""
    q = normalise(question)
    return any(rx.fullmatch(q) for t in languages.tables() if (rx := t.unit_only_rx()) is not None)


@dataclass(frozen=True)
class FollowUp:
    """What an elliptical follow-up names, for a turn with no topic of its own (the router applies
    it to the previous turn's calls): an energy (``source``, "and on petrol?", "and the
    battery?"), a bare number (``number``, "what about 160?": a destination in the unit the
    driver is using), a judgement of the last answer (``judgement``, "is that too low?", "is that
    enough to start the car?"), a lamp referred to as "one" (``lamp``, "and the battery one?":
    the get_warnings call the words give) or the same trip there and back (``round_trip``, "and
    back again?")."""

    source: str | None = None
    number: float | None = None
    number_unit: str | None = None      # "km" | "mi" when the turn said it
    judgement: bool = False
    lamp: ToolCall | None = None
    round_trip: bool = False
    body: tuple[str, ...] = ()            # get_body_status about values named ("and the boot?")
    other_side: bool = False              # "what about the other side?" after one wheel
    service: str | None = None            # get_service_status about, after a service turn ("and the level?")
    other_axle: bool = False              # "and the one in front of it?" after one wheel
    insight: str | None = None            # get_insights about, after a trend turn ("and the 12 volt battery?")
    trend: bool = False                   # "is it getting worse over time?" after a reading: its trend
    seat: bool = False                    # "and the passenger's?" after the belts or doors
    signal: str | None = None             # "and the engine?" after the outside temperature: the coolant's
    range: bool = False                   # "and how far is that?" after an energy level: the range


_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)(?![\w.,]|\s*%)")


def followup(question: str) -> FollowUp:
    """:class:`FollowUp` for a short turn with no topic of its own, in its language's words; a
    turn too short to show its language ("e il bagagliaio?") in the first table that reads
    something in it."""
    q = normalise(question)
    first = _table(q)
    for t in (first, *(t for t in languages.tables() if t is not first)):
        f = _followup_in(t, q)
        if f != FollowUp():
            return f
    return FollowUp()


def _followup_in(t: LanguageIntents, q: str) -> FollowUp:
    q = _repair(t, q)
    if extract.word_count(q) > FOLLOWUP_WORDS:
        return FollowUp()
    battery = bool(t.battery_words.search(q) or t.followup_battery.search(q))
    fuel = bool(t.fuel_words.search(q))
    source = "battery" if battery and not fuel else "fuel" if fuel and not battery else None
    number, number_unit = None, None
    m = t.distance_rx().search(q)
    if m:
        number, number_unit = float(m.group(1).replace(",", ".")), "mi" if m.group(2) else "km"
    elif len(found := _NUMBER.findall(q)) == 1:
        number = float(found[0].replace(",", "."))
    lamp = None
    if t.followup_lamp.search(q):
        a = _analyse(t, t.followup_lamp.sub(t.lamp_word, q))
        lamp = next((c for c in a.calls if c.name == "get_warnings"
                     and (c.arguments.get("about", "all") != "all" or c.arguments.get("colour") or c.arguments.get("shape"))),
                    None)
    return FollowUp(source, number, number_unit, bool(t.followup_judgement.search(q)), lamp,
                    bool(t.followup_round_trip.search(q)), tuple(_body_abouts(t, q)),
                    bool(t.followup_other_side.search(q)), _about(t.followup_service, q),
                    bool(t.followup_other_axle.search(q)), _about(t.followup_insights, q),
                    bool(t.followup_trend.search(q)), bool(t.followup_seat.search(q)),
                    _about(t.followup_signals, q), bool(t.followup_range.search(q)))


def is_elliptical(question: str) -> bool:
    """A short turn that leans on the previous one ("and the battery?", "what about the engine?",
    "et le moteur ?"): its language's ``followup_lead`` words first."""
    q = normalise(question)
    t = _table(q)
    return extract.word_count(q) <= FOLLOWUP_WORDS and bool(t.followup_lead.match(q))


def asks_again(question: str) -> bool:
    """The whole turn asks the last thing again ("and now?", "still?", "how much longer then?",
    "has it come down yet?"), in any table's words."""
    q = normalise(question)
    q = _repair(_table(q), q).strip()
    return any(t.followup_again.fullmatch(q) for t in languages.tables())


def is_short(question: str) -> bool:
    """A turn short enough to be an elliptical follow-up (at most :data:`FOLLOWUP_WORDS` words)."""
    return extract.word_count(normalise(question)) <= FOLLOWUP_WORDS


def is_energy_only(question: str) -> bool:
    """The turn names an energy and nothing else ("and on petrol?", "what about the battery
    only"): after a range turn it asks for the range on that energy, not for the level."""
    q = normalise(question)
    return any(rx.fullmatch(q) for t in languages.tables() if (rx := t.energy_only_rx()) is not None)


FOLLOWUP_WORDS = 10     # a longer turn with no topic of its own is not an elliptical follow-up


# ----------------------------------------------------------------------------- the rules

def _repair(t: LanguageIntents, q: str) -> str:
    """A transcript as the rules read it: fillers out, mishearings rewritten, spoken codes and
    distances as digits."""
    q = extract.squeeze(extract.blank(q, t.fillers))
    q = extract.thousands(extract.unrepeated(q, set(t.digit_words) | set(t.number_words)))
    q = extract.unclipped(q, t.clipped_words)
    q, _ = extract.rewrite(q, t.rewrites())
    q = extract.spoken_codes(q, t.digit_words, t.code_letters)
    return extract.spoken_numbers(q, t.number_words, t.number_scales, set(t.number_joiners), t.distance_unit_rx(),
                                  t.approximate_numbers, set(t.number_links))


@dataclass
class _Topics:
    """Where each call's topic is first asked: target (a topic or a signal name) -> position."""

    at: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    inferred: str | None = None
    masked: list[str] = field(default_factory=list)   # topic words that a mask hid

    def add(self, target: str, pos: int) -> None:
        if target != NOTHING:
            self.at[target] = min(pos, self.at.get(target, pos))

    def asks(self, target: str) -> bool:
        if target == "signals":
            return any(k not in CALL_TOPICS for k in self.at)
        return target in self.at


def _topics(t: LanguageIntents, q: str) -> _Topics:
    """Every topic the question asks (rules 4 and 5 of the module docstring)."""
    found = _Topics()
    views = {target: extract.blank(q, rx) for target, rx in t.masks.items()}
    # A lamp named by its words ("the battery charge light", "le voyant de charge batterie"):
    # they name the lamp, not the energy or the charging (the low fuel lamp is the energy's own).
    lamp_named = q
    for key, rx in t.warnings_about.items():
        if key not in LAMP_WORDS_SHARED:
            lamp_named = extract.blank(lamp_named, rx)
    if lamp_named != q:
        for target in ("energy", "charging", *t.signals):
            views[target] = _blank_where(views.get(target, q), lamp_named)

    def search(target: str, rx):
        m = rx.search(views.get(target, q))
        if m is None and target in views and (hidden := rx.search(q)):
            found.masked.append(hidden.group())
        return m

    tyres = search("tyres", t.tyres)
    rng = search("range", t.range)
    if rng and tyres and t.range_of_tyres.search(q):        # "tyre pressure range": the tyres'
        rng = None
    svc = search("service", t.service)
    for target, m in (("range", rng), ("service", svc), ("tyres", tyres)):
        if m:
            found.add(target, m.start())
    for name, rx in t.signals.items():
        m = search(name, rx)
        beside = t.signals_beside_service.get(name)
        if m and not (svc and beside is not None and not beside.search(q)):
            found.add(name, m.start())
    # "tyre pressure light", "low fuel warning": the topic's own tool carries its lamp state.
    warn = search("warnings", t.warnings)
    if warn:
        warn = t.warnings.search(extract.blank(views.get("warnings", q), t.topic_lamps))
    if not warn and lamp_named != q:      # a lamp named by its symbol alone ("le petit flocon allumé")
        unowned = extract.blank(views.get("warnings", q), t.topic_lamps)
        warn = next((m for key, rx in t.warnings_about.items() if key not in LAMP_WORDS_SHARED
                     and (m := rx.search(unowned))), None)
    if warn:
        found.add("warnings", warn.start())
    for target in ("body", "charging"):          # more of the car: assistant/tools/body.py
        if m := search(target, getattr(t, target)):
            found.add(target, m.start())
    energy = list(t.energy.finditer(views.get("energy", q)))
    if not energy and "energy" in views and (hidden := t.energy.search(q)):
        found.masked.append(hidden.group())
    wheel_named = extract.wheel_of(q, t.wheels) is not None

    # Shared words: the sense the question's other words show, else the default (uncertain).
    def own(target: str) -> bool:
        if target == "tyres":
            return "tyres" in found.at or wheel_named
        if target == "energy":
            return bool(energy)
        return target in found.at

    for label, sw in t.shared.items():
        m = sw.word.search(q)
        if not m:
            continue
        sense = next((s.to for s in sw.senses if s.when.search(q) or own(s.to)), None)
        if sense is None:
            sense = sw.default
            if sense != NOTHING:
                found.reasons.append(f"shared word '{label}'")
        if sense == "energy":
            energy.insert(0, m)
        else:
            found.add(sense, m.start())

    # A distance and nothing else (refuelling words at most): a destination to reach.
    distance = t.distance_rx().search(views.get("range", q))    # not one already driven ("we just did 500 km")
    if distance and not found.at and not _about(t.insights, q):
        found.add("range", distance.start())
        found.inferred = "destination"
        if not (t.destination_words.search(q) or energy):
            found.reasons.append(NO_TOPIC)
    # A wheel named alone ("is the front left ok?", "the passenger side one").
    alone = t.wheel_alone.search(q)
    hints = t.tyre_hints.search(q)
    if "tyres" not in found.at and alone and not t.other_parts.search(q) and (hints or not (found.at or energy)):
        found.add("tyres", alone.start())
        found.inferred = found.inferred or "wheel"
        if not hints:
            found.reasons.append(WHEEL_ALONE)
    # In a range question, energy words that only restate it ("before I need to refuel") add nothing.
    first = next((m for m in sorted(energy, key=lambda m: m.start())
                  if not ("range" in found.at and (t.energy_in_range is None
                                                   or t.energy_in_range.fullmatch(m.group())))), None)
    if first:
        found.add("energy", first.start())
    return found


# Lamps whose words are their topic's too: "the low fuel light" asks for the fuel level (the
# energy's tool answers with its lamp); a trouble code is the warnings' own.
LAMP_WORDS_SHARED = {"codes", "LowFuel"}


def _blank_where(view: str, blanked: str) -> str:
    """``view`` with spaces where ``blanked`` (the same text with some phrases hidden) has them."""
    return "".join(" " if b == " " and v != " " else v for v, b in zip(view, blanked))


def _calls(t: LanguageIntents, q: str, found: _Topics, whole: str | None = None) -> list[tuple[int, ToolCall]]:
    """One call per topic found, in the order of the question. ``whole``: the question before
    its context was hidden (a long question), where a destination distance, a wheel or the energy
    told in the context ("it's about 180 km from here", "the battery is low after yesterday, is
    that enough to get there?") is still read."""
    source = extract.energy_source(q, t.battery_words, t.fuel_words)
    if source == "any" and whole is not None:
        source = extract.energy_source(whole, t.battery_words, t.fuel_words)
    sourced: dict[str, Any] = {"source": source} if source != "any" else {}
    order = {topic: i for i, topic in enumerate(t.same_place_order)}
    hits = []
    for target, pos in found.at.items():
        if target == "range":
            dest = _destination(t, q)
            if dest is None and whole is not None:
                dest = _destination(t, whole)
            call = ToolCall("get_range", ({"destination_km": dest} if dest is not None else {}) | sourced)
        elif target == "energy":
            call = ToolCall("get_energy_level", sourced)
        elif target == "service":
            about = _service_about(t, q)
            call = ToolCall("get_service_status", {"about": about} if about else {})
        elif target == "tyres":
            wheel = extract.wheel_of(q, t.wheels, t.sides)
            if wheel is None and whole is not None:   # "... clipped the kerb with the front left, is that tyre low?"
                wheel = extract.wheel_of(whole, t.wheels, t.sides)
            if wheel is None:                          # words of two languages: "le tyre pressure à l'avant"
                wheel = next((w for tt in languages.tables() if tt is not t
                              and (w := extract.wheel_of(q, tt.wheels, tt.sides))), None)
            call = ToolCall("get_tyre_pressures", {"wheel": wheel} if wheel else {})
        elif target == "warnings" and (named := _codes_named(q) or (_codes_named(whole) if whole else [])):
            # A code named ("what does P0420 mean?"): what it means and whether it is stored,
            # one explain_code call per code (at most 3), each where it is named.
            for at, code in named[:-1]:
                hits.append((at, order["warnings"], ToolCall("explain_code", {"code": code})))
            pos, code = named[-1]
            call = ToolCall("explain_code", {"code": code})
        elif target == "warnings":
            about = _about(t.warnings_about, q)    # a lamp named keeps the colour and symbol it was described by
            call = ToolCall("get_warnings", ({"about": about} | (_described(t, q, infer=False) if about != "codes" else {}))
                            if about else _described(t, q))
        elif target == "body":
            abouts = _body_abouts(t, q)
            for about in abouts[:-1]:          # "are the belts fastened and the handbrake off?": one call each
                hits.append((pos, order["signals"], ToolCall("get_body_status", {"about": about})))
            call = ToolCall("get_body_status", {"about": abouts[-1]} if abouts else {})
        elif target == "charging":
            call = ToolCall("get_charging_status", {})
        else:
            call = ToolCall("read_signal", {"name": target})
        topic = target if target in CALL_TOPICS else "signals"
        hits.append((pos, order[topic], call))
    hits.sort(key=lambda h: (h[0], h[1]))
    return [(pos, call) for pos, _, call in hits]


def _codes_named(q: str) -> list[tuple[int, str]]:
    """(where, code) for the trouble codes a question names ("p0420", upper-cased), each once, at most 3."""
    first: dict[str, int] = {}
    for m in DTC_IN_TEXT.finditer(q):
        first.setdefault(m.group().upper(), m.start())
    return [(at, code) for code, at in first.items()][:3]


def _described(t: LanguageIntents, q: str, infer: bool = True) -> dict[str, Any]:
    """A lamp described by its colour and the parts of its symbol ("the orange one shaped like an
    engine"): get_warnings' ``colour`` and ``shape``; shape words count with a colour or a word
    that describes a symbol, so "is anything wrong with my car?" describes no lamp."""
    colour = _about(t.lamp_colours, q)
    shapes = [k for k, rx in t.lamp_shapes.items() if rx.search(q)][:3] if colour or t.lamp_described.search(q) \
        else []
    args = ({"colour": colour} if colour else {}) | ({"shape": shapes} if shapes else {})
    if shapes and infer:    # a description only one lamp of the catalogue fits is that lamp
        fits = best_fits(TELLTALES, colour, shapes)
        if len(fits) == 1:
            args = {"about": fits[0]} | args
    return args


# Calls a trend question's own words would make that are not what it asks: "am I using more fuel
# than usual?" is the consumption trend, not the fuel level; "is the 12 V battery getting weak?" is
# the battery trend, whose answer gives the present voltage itself (get_insights' live readings,
# assistant.tools.insights.LIVE: also the fuel level beside fuel lost while parked, the distance
# to the service beside its forecast), so a second reading of it asks nothing more. A tyre trend
# still reads that tyre: the answer gives the trend and the tyre's pressure now.
TREND_SUBJECTS = {
    "consumption": {"get_energy_level", "Vehicle.Powertrain.FuelSystem.AverageConsumption"},
    "battery": {"Vehicle.LowVoltageBattery.CurrentVoltage"},
    "engine": {"Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature"},
    "fuel": {"get_energy_level"},
    "service": {"get_service_status", "Vehicle.TraveledDistance"},     # "... my usual daily mileage"
}


def _without_trend_subject(t: LanguageIntents, q: str, trend: str, hits: list[tuple[int, ToolCall]]
                           ) -> list[tuple[int, ToolCall]]:
    """A trend whose words also name another topic ("am I using more fuel than usual?": the fuel
    level): that call, in the same clause, is not a second request (another clause keeps it:
    "... and how much fuel is left?")."""
    m = t.insights[trend].search(q)
    lo = max((c.end() for c in t.conjunctions.finditer(q, 0, m.start())), default=0)
    nxt = t.conjunctions.search(q, m.end())
    hi = nxt.start() if nxt else len(q)
    outside = q[:lo] + " " * (hi - lo) + q[hi:]
    asked_elsewhere = {_key(c) for _, c in _calls(t, outside, _topics(t, outside))} if outside.strip() else set()
    drop = TREND_SUBJECTS.get(trend, set()) - asked_elsewhere
    return [(p, c) for p, c in hits if not (lo <= p < hi and _key(c) in drop)]


def _key(call: ToolCall) -> str:
    """A call as :data:`TREND_SUBJECTS` names it: the signal of a ``read_signal``, else the tool."""
    return call.arguments.get("name", call.name) if call.name == "read_signal" else call.name


OPENINGS = ("doors", "bonnet", "tailgate")
OIL_LEVEL = "Vehicle.Powertrain.CombustionEngine.EngineOil.Level"


def _body_abouts(t: LanguageIntents, q: str) -> list[str]:
    """What a body question is about, in the order of the question: two or more of the doors,
    bonnet and tailgate named are all the openings ("doors, boot and bonnet closed?"); the belts,
    the parking brake and the pads are each a call of their own."""
    found = sorted((m.start(), key) for key, rx in t.body_about.items() if (m := rx.search(q)))
    keys = list(dict.fromkeys(k for _, k in found))
    if sum(k in OPENINGS for k in keys) >= 2:
        return list(dict.fromkeys("openings" if k in OPENINGS else k for k in keys))
    if len(keys) > 1:                  # "everything", "shut" stand for all the openings only alone
        keys = [k for k in keys if k != "openings"]
    return keys


def _service_about(t: LanguageIntents, q: str) -> str | None:
    """The service question's ``about``: its first key, but all of it when it asks both the oil and
    when the service is ("when does it next need a service and is the oil alright?")."""
    keys = {key for key, rx in t.service_about.items() if rx.search(q)}
    if "distance" in keys and keys & {"oil", "oil_life", "oil_level"}:
        return "all"
    if {"oil_life", "oil_level"} <= keys:       # "the oil level and how much oil life is left"
        return "oil"
    return _about(t.service_about, q)


def _about(table: dict, q: str) -> str | None:
    """What a warnings or service question is about (the tool's ``about`` argument): the first
    key of the table whose words are in the question; None: all of it (the tool's default)."""
    return next((key for key, rx in table.items() if rx.search(q)), None)


def _drop_preamble(t: LanguageIntents, q: str) -> str:
    """A long question that tells a story before its request ("I was driving to work and ... can
    you tell me how much fuel is left"): the story hidden, when the request asks a topic."""
    lead = t.request_leads.search(q)
    if lead is None or lead.start() == 0 or not t.narrative.search(q[:lead.start()]):
        return q
    rest = " " * lead.start() + q[lead.start():]
    return rest if _topics(t, rest).at else q


_CLAUSE_END = re.compile(r"[,;:.!?]+\s*|\s+-+\s+")


def _other_sentences(t: LanguageIntents, q: str, rx) -> str | None:
    """``q`` with every sentence that ``rx`` matches in hidden, when what is left asks the car
    ("stop it, Tom! are the doors closed?", "it's not the battery again, is it? is the battery
    light on?"); None when no sentence matches or the others ask nothing."""
    if not rx.search(q):
        return None
    rest = "".join(" " * len(part) if rx.search(part) else part for part in _sentences(t, q))
    if not rest.strip():
        return None
    return rest if _topics(t, rest).at else None


_JOINER = re.compile(r"(?:[,;]|\s(?:and then|and|then|et puis|et|puis|e poi|e|poi))\s+")   # en, fr, it


def _sentences(t: LanguageIntents, q: str) -> list[str]:
    """``q`` cut into sentences, and before a clause that asks after "and", "then" or a comma
    ("turn the seats on and tell me how far I can go"); the pieces join back into ``q``."""
    cuts = {m.end() for m in re.finditer(r"[.!?]+\s*", q)}
    cuts |= {m.end() for m in _JOINER.finditer(q)
             if t.question_start.match(q, m.end()) and not t.tag_question.match(q, m.end())}
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(q)), len(q)]
    return [q[a:b] for a, b in zip(bounds, bounds[1:])]


def _dictated_claims(t: LanguageIntents, q: str) -> str:
    """A dictated answer ("say the tyres are fine", "tell me there are no warnings"): its
    dictating words hidden, so that the claim's topic is read from the car and answered as it is;
    with no ``dictation_lead`` in the table the whole clause is hidden."""
    if t.dictation_lead is NEVER:
        return extract.blank_to_clause_end(q, t.dictation)
    for m in list(t.dictation.finditer(q)):
        lead = t.dictation_lead.match(q, m.start())
        end = lead.end() if lead else m.end()
        q = q[:m.start()] + " " * (end - m.start()) + q[end:]
    return q


def _drop_statements(t: LanguageIntents, q: str) -> str:
    """A long question whose request follows statements ("the car needs its MOT soon, my kid's
    birthday is on Saturday, but what I want to know is how fast I'm going"): the statements
    before the first clause that asks or requests (``question_start``; a tag such as "..., is
    it, ..." does not) hidden, when what is left asks a topic. A question that starts by asking
    keeps everything (two requests stay two)."""
    if t.question_start.match(q):
        return q
    start = next((m.end() for m in _CLAUSE_END.finditer(q)
                  if t.question_start.match(q, m.end()) and not t.tag_question.match(q, m.end())), None)
    if start is None:
        return q
    rest = " " * start + q[start:]
    return rest if _topics(t, rest).at else q


def _two_topics(t: LanguageIntents, q: str, hits: list[tuple[int, ToolCall]]) -> bool:
    """Two calls with no word joining two questions between them ("fuel level tyre pressure")."""
    return any(not t.conjunctions.search(q, a, b) for (a, _), (b, _) in zip(hits, hits[1:]))


def _analyse(t: LanguageIntents, q: str) -> Analysis:
    reasons: list[str] = []
    q = _repair(t, q)
    if t.instructions.search(q) or t.dictation.search(q):
        reasons.append(INSTRUCTIONS)
        q = _dictated_claims(t, extract.blank(q, t.instructions))
    base = dict(language=t.language, text=q)
    n = extract.word_count(q)
    whole = q
    if n > t.long_question_words:
        reasons.append(f"long question ({n} words)")
        q = _drop_statements(t, _drop_preamble(t, q))
        if q is not whole and t.destination_words.search(q) and not t.distance_rx().search(q) \
                and t.distance_rx().search(whole):
            q = whole       # "we're doing 250 miles today ..., can the car do that?": the distance is the request's
    if n > t.long_question_words and (rest := _other_sentences(t, q, t.not_a_car_question)) is not None:
        q = rest              # "the price is steep here, ..., so can I reach the cheaper one 40 km on?"
    if (rest := _other_sentences(t, q, t.fears)) is not None:
        q = rest              # "it's not the battery again, is it? is the battery light on?"
    if t.not_a_car_question.search(q):        # a long question's context ("petrol is so expensive") does not count
        return Analysis(declined=NOT_A_CAR_QUESTION, reasons=tuple(reasons), decline_certain=not reasons, **base)
    found = _topics(t, q)
    set_aside = None
    for d in t.declines:
        if d.sentence_only and (rest := _other_sentences(t, q, d.words)) is not None:
            q, found = rest, _topics(t, rest)         # "stop it, Tom! are the doors closed?"
            set_aside = set_aside or d.reason
            continue
        said = whole if d.whole_question else q
        if d.words.search(said) and not any(found.asks(u) for u in d.unless) and not d.unless_words.search(said):
            if not d.certain:
                reasons.append(d.reason)
            return Analysis(declined=d.reason, reasons=tuple(reasons), decline_certain=d.certain and not reasons,
                            **base)
    hits = _calls(t, q, found, whole)
    if any(c.name == "get_service_status" and c.arguments.get("about") in ("oil", "all") for _, c in hits):
        hits = [(p, c) for p, c in hits if _key(c) != OIL_LEVEL]       # the service's answer gives the level
    guess = bool(found.reasons) and not reasons
    reasons += found.reasons
    if not hits and found.masked:
        reasons.append(f"shared word '{found.masked[0]}'")
    if _two_topics(t, q, hits):
        reasons.append(TWO_TOPICS)
    trend = _about(t.insights, q)           # a trend in the history: get_insights, said first
    if not trend and not hits and t.insights_alone.search(q):
        trend = "all"
    if trend in TREND_SUBJECTS:
        hits = _without_trend_subject(t, q, trend, hits)
    if trend:
        hits.insert(0, (-1, ToolCall("get_insights", {"about": trend})))
    return Analysis(calls=tuple(c for _, c in hits), reasons=tuple(dict.fromkeys(reasons)),
                    inferred=found.inferred if hits else None, topic_guess=guess and TWO_TOPICS not in reasons,
                    off_topic=not hits and bool(t.off_topic.search(q)), set_aside=set_aside if hits else None,
                    **base)
