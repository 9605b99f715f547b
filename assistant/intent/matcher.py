"""Deterministic intent matcher: clear questions -> tool calls, without the model.

Each rule is a regular expression over the normalised question plus the tool call it implies.
A question can match several rules ("how much fuel and are my tyres ok?"), giving several
tool calls. Arguments (a destination distance, which tyre, which signal) are extracted here.
Follow-ups that only change a detail ("and in miles?", "what about the rear ones?") are
resolved against the previous turn in :mod:`assistant.intent.context`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple:
        return (self.name, tuple(sorted(self.arguments.items())))


def normalise(text: str) -> str:
    t = text.lower().replace("’", "'")
    t = re.sub(r"\btires?\b", lambda m: m.group().replace("tire", "tyre"), t)
    return re.sub(r"\s+", " ", t).strip()


def _rx(*alternatives: str) -> re.Pattern:
    return re.compile(r"(?:" + "|".join(alternatives) + r")")


DISTANCE_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(km|kms|kilomet(?:er|re)s?|mi|miles?)\b")

RANGE = _rx(r"\bhow far\b", r"\brange\b", r"distance to empty", r"\bdte\b", r"\b(?:km|kms|kilomet\w*|miles?) (?:left|remaining|to go)\b",
            r"\bmake it\b", r"\breach\b", r"\bget (?:me )?to\b", r"\brun(?:ning)? (?:out|dry)\b", r"\buntil empty\b",
            r"\bbefore (?:i|we) (?:need to )?(?:refuel|fill up|charge)\b", r"\bhow long (?:can|will) (?:i|we) (?:drive|go)\b",
            r"\bdrive \d", r"\benough (?:fuel|gas|petrol|diesel|charge|battery) (?:to|for)\b", r"\bautonom",
            r"\bhow many (?:km|kms|kilomet\w*|miles?)\b(?! per)(?! (?:has|does|is|are|on the (?:car|clock)|until (?:my|the) (?:next )?(?:serv|oil change|inspection)))",
            r"\bhow much (?:further|farther|longer)\b", r"\bstill drive\b", r"\bstop for (?:gas|fuel|petrol|diesel|a charge)\b",
            r"\b(?:charge|battery|fuel|tank|gas) (?:\w+ )?last\b", r"\bdoable\b", r"\bget there\b", r"\bgood for another\b",
            r"\banother \d", r"\bwithout (?:refuel\w*|charging|recharging|stopping|filling up)\b", r"\bto empty\b",
            r"\bleft in the tank\b", r"\bremaining range\b", r"\bfurther can i\b", r"\bhow much driving\b",
            r"\benough (?:juice|fuel|gas|petrol|charge) to\b", r"\bget \d+ (?:km|kilomet\w*|miles?)\b",
            r"\b\d+ (?:km|kilomet\w*|miles?) (?:further|more)\b", r"\bout of (?:this|the tank|what'?s left)\b",
            r"\b(?:make it|get (?:me |us )?)(?:back )?home (?:on|with)\b", r"\bon what'?s left\b")
ENERGY = _rx(r"\bfuel level\b", r"\bhow much (?:fuel|gas|petrol|diesel|charge|battery)\b", r"\btank\b",
             r"\b(?:fuel|gas|petrol|diesel) (?:left|remaining|is left)\b", r"\bbattery (?:level|charge|percentage)\b",
             r"\bstate of charge\b", r"\bsoc\b", r"\bcharge (?:level|left|status)\b", r"\bhow (?:full|charged)\b",
             r"\bhow much juice\b", r"\bneed (?:to )?(?:refuel|fill up|get (?:fuel|gas)|charge)\b",
             r"\b(?:refuel|fill up)\b", r"\blow on (?:fuel|gas|petrol|diesel|charge|battery)\b", r"\bempty\b", r"\b(?:ev|hv|traction) battery\b",
             r"\bhow'?s (?:my|the) battery\b", r"\bbattery status\b", r"\bfuel\b(?! (?:economy|consumption))",
             r"\bhow charged\b", r"\bfully charged\b", r"\bcharged enough\b", r"\bwhat percentage\b",
             r"\bpercent(?:age)? (?:is|of) (?:the|my) (?:battery|tank|fuel)\b", r"\bgauge\b", r"\bcharged up\b",
             r"\b(?:is|are) (?:the car|my car|it|we) (?:fully )?charged\b")
# Energy words that only restate a range question ("before I need to refuel", "on this tank").
ENERGY_IN_RANGE = re.compile(r"^(?:tank|refuel|fill up|empty|fuel|gas|petrol|diesel|charge|"
                             r"need (?:to )?(?:refuel|fill up|get (?:fuel|gas)|charge))$")
WARNINGS = _rx(r"\bwarning", r"\blights?\b", r"\blamps?\b", r"\btelltale", r"\bindicator", r"\bsymbol", r"\bicon",
               r"\bdashboard\b", r"\bdash\b", r"\bcluster\b", r"\borange\b", r"\bamber\b", r"\byellow\b", r"\bred\b",
               r"check engine", r"engine light", r"\btrouble codes?\b", r"\berror codes?\b", r"\bfault", r"\bdtcs?\b",
               r"\bcodes?\b", r"\bwrong with\b", r"\bproblems?\b", r"\bissues?\b", r"\bbeep", r"\bchime", r"\babs\b",
               r"\bairbags?\b", r"\bbrakes?\b", r"\bmalfunction", r"\bmil\b", r"\bblinking\b", r"\bflashing\b",
               r"\bdiagnos", r"\bsafe to (?:drive|continue|keep)", r"\banything wrong\b", r"\bok to drive\b",
               r"\b(?:everything|all) (?:alright|all right|ok|okay|fine|good) with (?:the|my) car\b", r"\berrors?\b",
               r"\boil pressure\b", r"\bp[0-3][0-9a-f]{3}\b")
SERVICE = _rx(r"\bservic", r"\bmaintenance\b", r"\binspection\b", r"\boil change\b", r"\boil life\b", r"\bgarage\b",
              r"\bdealer", r"\bworkshop\b", r"\bmot\b", r"\btune[- ]?up\b", r"\bnext check\b", r"\boverdue\b",
              r"\bchange (?:the )?oil\b", r"\boil needs? (?:a )?chang", r"\bdue for\b")
TYRES = _rx(r"\btyres?\b", r"\bwheels?\b", r"\bflat\b", r"\bpunctur", r"\binflat", r"\bpsi\b", r"\bkpa\b",
            r"\bbar\b(?! of)", r"\btpms\b", r"\bair pressure\b",
            # "oil pressure", "brake pressure", "fuel pressure" are not the tyres'
            r"(?<!oil )(?<!brake )(?<!fuel )(?<!boost )(?<!hydraulic )\bpressures?\b(?! light)")
SIGNALS = [
    (_rx(r"\bcoolant", r"engine temp", r"temperature of the engine", r"\boverheat", r"\bengine (?:running )?hot\b",
         r"\bhow hot\b", r"\bwarmed up\b", r"\btemperature is the engine\b", r"\bwarm(?:ed)? enough\b", r"\bengine (?:still )?cold\b"),
     "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature"),
    (_rx(r"\b12 ?v(?:olt)?\b", r"\bbattery voltage\b", r"\bvoltage\b", r"\bvolts?\b", r"\bstarter battery\b",
         r"\bcar battery\b", r"\b12-volt\b"), "Vehicle.LowVoltageBattery.CurrentVoltage"),
    (_rx(r"\bhow fast\b", r"\bmy speed\b", r"\bcurrent speed\b", r"\bspeed am i\b", r"\bam i speeding\b",
         r"\bwhat speed\b", r"\bgoing fast\b"), "Vehicle.Speed"),
    (_rx(r"\bodometer\b", r"(?<!gas )(?<!fuel )\bmileage\b", r"\btotal distance\b",
         r"\b(?:km|kilomet\w*|miles) (?:are |is )?on the (?:car|clock)\b", r"\bhow many (?:km|kilomet\w*|miles) (?:has|does|on)\b",
         r"\bhow many (?:km|kilomet\w*|miles) (?:have|has) (?:i|we|it|the car) (?:done|driven|covered|travell?ed)\b",
         r"\bkilomet\w* on the (?:car|clock)\b", r"\bmiles on the (?:car|clock)\b"), "Vehicle.TraveledDistance"),
    (_rx(r"\boil level\b", r"\boil pressure\b", r"\benough oil\b", r"\bneed oil\b", r"\btop up (?:the )?oil\b", r"\blow on oil\b",
         r"\bhow much oil\b",
         r"\boil\b.*\btopped up\b", r"\btopped up\b.*\boil\b"),
     "Vehicle.Powertrain.CombustionEngine.EngineOil.Level"),
    (_rx(r"\bconsumption\b", r"\bmpg\b", r"\bfuel economy\b", r"\bl/100", r"\blitres per\b", r"\bliters per\b",
         r"\befficien", r"\bthirsty\b", r"\b(?:gas|fuel) mileage\b", r"\bmiles per gallon\b", r"\bhow much (?:fuel|gas) (?:am i|is it|does it) (?:using|burning|use)"),
     "Vehicle.Powertrain.FuelSystem.AverageConsumption"),
]
WHEEL_RE = [
    (re.compile(r"\b(?:front|fr) ?(?:left|driver)|\bleft front\b|\bdriver'?s? front\b"), "front_left"),
    (re.compile(r"\b(?:front|fr) ?(?:right|passenger)|\bright front\b|\bpassenger'?s? front\b"), "front_right"),
    (re.compile(r"\b(?:rear|back) ?left\b|\bleft (?:rear|back)\b"), "rear_left"),
    (re.compile(r"\b(?:rear|back) ?right\b|\bright (?:rear|back)\b"), "rear_right"),
    (re.compile(r"\bfront\b"), "front"),
    (re.compile(r"\b(?:rear|back)\b"), "rear"),
    (re.compile(r"\bleft(?:[- ]hand)?(?: side)?\b"), "left"),
    (re.compile(r"\bright(?:[- ]hand)?(?: side)?\b"), "right"),
]
# A lamp word attached to a topic ("tyre pressure light", "low fuel warning") is that topic's
# lamp, answered by the topic's tool; other lamp words still ask for the warnings.
TOPIC_LAMP = re.compile(r"\b(?:tyres?|pressure|fuel|gas|service|oil change|range|maintenance)\s+(?:\w+\s+)?"
                        r"(?:warning lights?|lights?|lamps?|warnings?|indicators?|symbols?|icons?)\b")
# Prices and shopping are not the car's state, even when they name a part ("what do new tyres cost").
NOT_A_CAR_QUESTION = re.compile(r"\bspeed of (?:light|sound)\b|\btraffic lights?\b|\bnorthern lights\b|"
                                r"\bcosts?\b|\bprices?\b|\bpriced\b|\bhow much (?:is|are) (?:a )?new\b|\bbuy\b")
OFF_TOPIC = _rx(r"\bjoke\b", r"\bstor(?:y|ies)\b", r"\bblague\b", r"\bbarzellett[ae]\b", r"\bweather\b", r"\bnews\b", r"\bmusic\b", r"\bsong\b", r"\bplay\b", r"\bcall\b",
                r"\bmessage\b", r"\brecipe\b", r"\bstock", r"\bfootball\b", r"\bpresident\b", r"\bcapital of\b",
                r"\bwho (?:are|made) you\b", r"\bwhat time\b", r"\btime is it\b",
                r"\belections?\b", r"\bwho won\b", r"\bmeaning of life\b", r"\bpoem\b", r"\btranslate\b")
UNIT_FOLLOWUP = {"mi": re.compile(r"\bmiles?\b|\bimperial\b"), "km": re.compile(r"\bkilomet|\bkm\b|\bmetric\b"),
                 "psi": re.compile(r"\bpsi\b"), "bar": re.compile(r"\bbar\b"), "kPa": re.compile(r"\bkpa\b|\bkilopascals?\b"),
                 "°F": re.compile(r"\bfahrenheit\b"), "°C": re.compile(r"\bcelsius\b")}


# Which energy a range/level question is about: the answer leads with it and says when it
# cannot be read ("how much charge?" on a car whose battery reading is missing).
BATTERY_WORDS = re.compile(r"\b(?:charge[ds]?|charging|electric|ev|hv|traction|soc|juice|kwh|plug(?:ged)?)\b|"
                           r"\bbattery\b(?! voltage)")
FUEL_WORDS = re.compile(r"\b(?:fuel|tank|gas|petrol|diesel|refuel\w*|fill(?:ing)? up|litres?|liters?|gallons?)\b")


def energy_source(q: str) -> str:
    battery, fuel = bool(BATTERY_WORDS.search(q)), bool(FUEL_WORDS.search(q))
    return "battery" if battery and not fuel else "fuel" if fuel and not battery else "any"


def wheel_of(q: str) -> str | None:
    for rx, wheel in WHEEL_RE:
        if rx.search(q):
            return wheel
    return None


def destination_km(q: str) -> float | None:
    m = DISTANCE_RE.search(q)
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    return round(value * 1.609344, 1) if m.group(2).startswith("mi") else value


def match(question: str) -> list[ToolCall]:
    """Tool calls implied by a question, in the order of the question; [] when unclear."""
    q = normalise(question)
    from assistant.intent import languages
    other = languages.detect(q)
    if other is not None:                        # French, Italian, ...: that language's table
        return other.match(q)
    if NOT_A_CAR_QUESTION.search(q):
        return []
    hits: list[tuple[int, ToolCall]] = []

    def add(m: re.Match | None, call: ToolCall) -> None:
        if m and all(c.key() != call.key() for _, c in hits):
            hits.append((m.start(), call))

    tyres = TYRES.search(q)
    signal_hits = [(rx.search(q), name) for rx, name in SIGNALS]
    signal_hits = [(m, n) for m, n in signal_hits if m]
    # "tyre pressure light", "oil pressure light": the topic's own tool carries its lamp state.
    rng = RANGE.search(q)
    if rng and not (tyres and re.search(r"\bpressure range\b", q)):
        dest = destination_km(q)
        args = {"destination_km": dest} if dest is not None else {}
        if energy_source(q) != "any":
            args["source"] = energy_source(q)
        add(rng, ToolCall("get_range", args))
    # Energy words that only restate a range question ("before I need to refuel") add nothing.
    energy_hits = [m for m in ENERGY.finditer(q) if not (rng and ENERGY_IN_RANGE.match(m.group()))]
    if energy_hits:
        source = energy_source(q)
        add(energy_hits[0], ToolCall("get_energy_level", {"source": source} if source != "any" else {}))
    svc = SERVICE.search(q)
    if svc:
        add(svc, ToolCall("get_service_status"))
    if tyres:
        wheel = wheel_of(q)
        add(tyres, ToolCall("get_tyre_pressures", {"wheel": wheel} if wheel else {}))
    for m, name in signal_hits:
        if name.endswith("EngineOil.Level") and svc and "level" not in q:
            continue
        add(m, ToolCall("read_signal", {"name": name}))
    warn = WARNINGS.search(TOPIC_LAMP.sub(lambda m: " " * len(m.group()), q))
    if warn:
        add(warn, ToolCall("get_warnings"))
    hits.sort(key=lambda h: h[0])
    return [c for _, c in hits]


def is_off_topic(question: str) -> bool:
    from assistant.intent import languages
    q = normalise(question)
    other = languages.detect(q)
    if other is not None:
        return other.is_off_topic(q)
    return bool(OFF_TOPIC.search(q) or NOT_A_CAR_QUESTION.search(q))


# A turn that only asks for other units ("and in psi?", "can you say that in miles please").
UNIT_ONLY = re.compile(r"(?:(?:and|so|ok|okay|now|what|how|about|is|that|it|this|those|these|them|in|into|to|as|"
                       r"say|tell|give|show|me|can|could|you|please|convert(?:ed)?|again|instead|the|same|"
                       r"numbers?|units?|us)\s+)*(?:psi|bar|kpa|kilopascals?|miles?|mi|imperial|kilomet\w*|km|"
                       r"metric|fahrenheit|celsius)(?:\s+(?:please|instead|again|units?))*\s*[?.!]*")


def is_unit_only(question: str) -> bool:
    return bool(UNIT_ONLY.fullmatch(normalise(question)))


def unit_change(question: str) -> str | None:
    q = normalise(question)
    for unit, rx in UNIT_FOLLOWUP.items():
        if rx.search(q):
            return unit
    return None
