"""Route a question to tool calls, and say how far the route can be trusted.

:func:`route` goes, in order:

1. a follow-up that only asks for other units ("and in miles?") repeats the previous calls;
2. the deterministic matcher (:mod:`assistant.intent.matcher`); its calls are returned at once
   when :func:`matcher.uncertainty` has no reason against them (the fast path, the common case);
3. the previous turn settles what the question leaves open — a topic only guessed (a wheel
   named alone, a shared word's usual sense) right after a turn on that topic, "what about the
   rear ones?", "and in miles?", "and on petrol?", "what about 160?", "is that too low?", "is it
   getting worse?" (that reading's trend), "and the engine?" (a reading of the same kind), "and
   the passenger's?" (after the belts) — only when the new turn has no topic of its own (a topic
   switch wins over the previous turn); a whole turn that asks again ("and now?", "still?")
   repeats the previous calls first, and a range question right after an AdBlue, fuel or
   charge reading keeps that energy; a clear decline ("tell me a joke") is declined;
4. otherwise, when a ``model_router`` is given and the question is unplaced or its guess is of
   a class the model routes better (:data:`ASK_MODEL_FOR`, measured), the model decides: a
   non-empty list of calls is used (source ``model``), ``[]`` says the question is not about
   the car (declined), None says it had nothing usable;
5. falling through: the matcher's uncertain calls if any (``certain=False`` with the reason),
   then an off-topic decline, else ``unclear``.

Without a model router (the small default model does not route) the matcher's uncertain calls
are used as they are; :attr:`Route.certain` and :attr:`Route.reason` say that they were a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from assistant.intent import matcher
from assistant.state import units
from assistant.state.signals import CATALOG
from assistant.tools.schemas import ToolCall
from assistant.tools.vehicle import TOOLS

ROUTABLE = ["get_range", "get_energy_level", "get_warnings", "get_service_status", "get_tyre_pressures",
            "get_body_status", "get_charging_status", "read_signal", "get_insights", "none"]

# question -> tool calls; [] = not about the car; None = nothing usable.
ModelRouter = Callable[[str], Optional[list[ToolCall]]]
MODEL_DECLINED = "model: not about the car"


@dataclass
class Route:
    calls: list[ToolCall]
    source: str                      # matcher | followup | model | off_topic | unclear
    unit_override: str | None = None
    certain: bool = True             # False: a guess a capable model should have made
    reason: str = ""                 # why it is not certain, or why the model was asked ("model: ...")
    set_aside: str = ""              # a request beside the calls that is declined ("open the boot and ..."): said first


@dataclass
class Context:
    """What a follow-up question can refer to."""

    last_calls: list[ToolCall] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)   # dimension -> unit the driver asked for
    last_question: str = ""                               # the question behind last_calls

    def remember(self, route: Route, question: str = "") -> None:
        if route.calls:
            self.last_calls = list(route.calls)
            self.last_question = question
        if route.unit_override:
            self.units[units.dimension(route.unit_override)] = route.unit_override

    def previous(self) -> "tuple[str, list[ToolCall]] | None":
        """The last turn that called tools, as a capable model router is shown it (a follow-up
        such as "and the other one?" means nothing without it); None when there is none."""
        return (self.last_question, list(self.last_calls)) if self.last_question and self.last_calls else None


def _dimensions_of(call: ToolCall) -> set[str]:
    """Kinds of value a tool call answers with, as unit follow-ups name them (a speed is a
    distance here: "in miles" turns km/h into mph)."""
    if call.name == "read_signal":
        spec = CATALOG.get(call.arguments.get("name", ""))
        dim = units.dimension(spec.unit) if spec and spec.unit else None
        return {"distance"} if dim in ("distance", "speed") else {"temperature"} if dim == "temperature" else set()
    return {"get_range": {"distance"}, "get_service_status": {"distance"},
            "get_tyre_pressures": {"pressure"}}.get(call.name, set())


def _followup(question: str, context: Context, unit: str | None) -> Route | None:
    """The previous turn's calls, completed by a turn that has no topic of its own: a wheel
    ("what about the rears?"), a unit asked for ("and in miles?"; a unit after a number is a
    distance given, not a unit asked for), an energy or a bare number after a range or energy
    turn ("and on petrol?", "what about 160?"; "and back again?" doubles the distance), a lamp
    after a warnings turn ("and the battery one?"), a part after a body turn ("and the boot?"),
    the other side after a wheel ("what about the other side?"), or a judgement of the last
    answer ("is that too low?", "how long till it's done?": the same calls again)."""
    last = context.last_calls
    if not last:
        return None
    tyres = [c for c in last if c.name == "get_tyre_pressures"]
    f = matcher.followup(question)
    if (f.other_side or f.other_axle) and tyres:   # "the other side?" after the rear left: the rear right
        before = str(tyres[0].arguments.get("wheel", "all"))
        swap = ("left", "right") if f.other_side else ("front", "rear")
        mirrored = re.sub("|".join(swap), lambda m: swap[1] if m.group() == swap[0] else swap[0], before)
        if mirrored != before:
            return Route([ToolCall("get_tyre_pressures", {"wheel": mirrored})], "followup", unit)
    wheel = matcher.wheel_of(matcher.normalise(question))
    body = _seats_and_doors(last)
    if (wheel or f.seat) and body and not tyres:    # "the passenger's?" after the belts: the belts again
        return Route(body, "followup", unit)
    if wheel and tyres:
        before = str(tyres[0].arguments.get("wheel", "all"))
        if wheel in ("left", "right") and before.startswith(("front", "rear")):
            wheel = before.split("_")[0] + "_" + wheel      # "and the left one?" after the front right or the fronts: that axle
        elif wheel in ("front", "rear") and before in ("left", "right"):
            wheel = wheel + "_" + before                    # "the front one?" after the left side: that wheel
        return Route([ToolCall("get_tyre_pressures", {"wheel": wheel})], "followup", unit)
    levels = [c for c in last if c.name == "get_energy_level"]
    if f.range and levels:          # "and how far is that in miles?" after the charge: the range on it
        return Route([ToolCall("get_range", dict(levels[0].arguments))], "followup", unit)
    if matcher.unit_requested(question):
        return Route(list(last), "followup", unit)
    if f.insight and any(c.name == "get_insights" for c in last):     # "and the 12 volt battery?" after a trend
        return Route([ToolCall("get_insights", {"about": f.insight})], "followup", unit)
    kinds = {units.dimension(s.unit) for c in last if c.name == "read_signal"
             and (s := CATALOG.get(c.arguments.get("name", ""))) and s.unit}
    spec = CATALOG.get(f.signal or "")
    if spec and spec.unit and units.dimension(spec.unit) in kinds:    # "and the engine?" after the outside temperature
        return Route([ToolCall("read_signal", {"name": f.signal})], "followup", unit)
    if f.trend and (about := _trend_of(last)):       # "is it getting worse over time?" after the 12 V battery
        return Route([ToolCall("get_insights", {"about": about})], "followup", unit)
    if f.lamp is not None and any(c.name == "get_warnings" for c in last):
        return Route([f.lamp], "followup", unit)
    if f.service and any(c.name == "get_service_status" or c.arguments.get("name", "").startswith(
            "Vehicle.Powertrain.CombustionEngine.EngineOil.") for c in last):    # "and the level?" after the oil life
        return Route([ToolCall("get_service_status", {"about": f.service})], "followup", unit)
    if f.body and any(c.name == "get_body_status" for c in last):       # "what about the boot?"
        return Route([ToolCall("get_body_status", {"about": a}) for a in f.body], "followup", unit)
    energy = [c for c in last if c.name in ("get_range", "get_energy_level")]
    ranged = any(c.name == "get_range" for c in energy)
    trip = next((c.arguments.get("destination_km") for c in energy if c.name == "get_range"), None)
    if f.round_trip and trip is not None and f.number is None:       # "and back again?"
        return Route([ToolCall("get_range", {**c.arguments, "destination_km": round(2 * float(trip), 1)})
                      for c in energy if c.name == "get_range"], "followup", unit)
    if energy and (f.source or (f.number is not None and ranged)):
        km = f.number      # a bare number is in the unit the driver has been using
        if km is not None and (f.number_unit or context.units.get("distance", "km")) == "mi":
            km = round(km * units.KM_PER_MILE, 1)
        calls = []
        for c in energy:
            args = dict(c.arguments)
            if f.source:
                args["source"] = f.source
            if km is not None and c.name == "get_range":
                args["destination_km"] = km
            calls.append(ToolCall(c.name, args))
        return Route(calls, "followup", unit)
    if f.judgement:
        return Route(list(last), "followup", unit)
    return None


ADBLUE = "Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid."

# The trend in the history (get_insights' about) of what a reading call reads.
TREND_OF_READING = {"get_tyre_pressures": "tyres", "get_energy_level": "fuel", "get_service_status": "service",
                    "Vehicle.LowVoltageBattery.CurrentVoltage": "battery",
                    "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature": "engine",
                    "Vehicle.Powertrain.FuelSystem.AverageConsumption": "consumption"}


def _seats_and_doors(calls: list[ToolCall]) -> list[ToolCall]:
    """The previous turn's calls about the doors or the belts: what a seat or side named alone
    next ("and the passenger's?") asks again."""
    return [c for c in calls if c.name == "get_body_status" and c.arguments.get("about") in ("doors", "belts")]


def _range_of_last_reading(calls: list[ToolCall], last: list[ToolCall]) -> list[ToolCall] | None:
    """A short range question with nothing of its own right after a reading it refers to: after
    the AdBlue ("and how far will that last me?") the AdBlue's range; after a fuel or charge level
    ("and how far does that get me?") the range on that energy. None otherwise."""
    if [c.name for c in calls] != ["get_range"] or "destination_km" in calls[0].arguments:
        return None
    if any(c.arguments.get("name", "").startswith(ADBLUE) for c in last):
        return [ToolCall("read_signal", {"name": ADBLUE + "Range"})]
    level = next((c for c in last if c.name == "get_energy_level" and c.arguments.get("source")), None)
    if level is not None and "source" not in calls[0].arguments:
        return [ToolCall("get_range", {"source": level.arguments["source"]})]
    return None


def _trend_of(calls: list[ToolCall]) -> str | None:
    """The trend a follow-up asks about after these calls: a trend turn's own subject, else the
    subject of the first reading that has one; None when none has."""
    for c in calls:
        if c.name == "get_insights":
            return str(c.arguments.get("about", "all"))
        key = c.arguments.get("name", c.name) if c.name == "read_signal" else c.name
        if key in TREND_OF_READING:
            return TREND_OF_READING[key]
    return None


def route(question: str, context: Context, model_router: ModelRouter | None = None) -> Route:
    """The tool calls for ``question`` (see the module docstring for the order of the rules).
    ``model_router`` is asked only when the matcher is not certain and the previous turn does
    not settle the question."""
    unit = matcher.unit_change(question)
    if unit and context.last_calls and matcher.is_unit_only(question):
        # Same question in other units: the calls whose answer has a value of that kind.
        dim = units.dimension(unit)
        calls = [c for c in context.last_calls if dim in _dimensions_of(c)] or list(context.last_calls)
        return Route(calls, "followup", unit)
    if context.last_calls and matcher.is_energy_only(question):
        # "and on petrol?" after a range turn: the range on that energy (not the fuel level).
        followup = _followup(question, context, unit)
        if followup is not None:
            return followup
    if context.last_calls and matcher.asks_again(question):       # "and now?", "how much longer then?"
        return Route(list(context.last_calls), "followup", unit)
    a = matcher.analyse(question)
    calls = list(a.calls)
    if any(c.name == "get_insights" for c in context.last_calls) and matcher.is_elliptical(question):
        f = matcher.followup(question)      # "and the 12 volt battery?" after a trend: that subject's trend
        if f.insight:
            return Route([ToolCall("get_insights", {"about": f.insight})], "followup", unit)
    if matcher.is_short(question) and (refined := _range_of_last_reading(calls, context.last_calls)):
        return Route(refined, "followup", unit)
    reason = matcher.uncertainty(question, calls)
    if calls and reason is None:
        return Route(calls, "matcher", unit, set_aside=a.set_aside or "")
    # A position alone ("and the passenger one?") after a turn about the doors or belts: theirs.
    body = _seats_and_doors(context.last_calls)
    if body and a.inferred == "wheel" and matcher.WHEEL_ALONE in a.reasons and matcher.is_short(question):
        return Route(body, "followup", unit)
    # A topic only guessed (a wheel or a distance alone, a shared word's usual sense) right after
    # a turn on that topic ("check the tyres" / "the passenger side one"): a follow-up, certain.
    if calls and a.topic_guess and {c.name for c in calls} <= {c.name for c in context.last_calls}:
        return Route(calls, "followup", unit)
    # A turn with no topic of its own: the previous turn (wheel or unit follow-ups); not one that
    # asks something else ("thanks. who won the world cup in 2018?" is no distance to reach).
    if not calls and not a.off_topic:
        followup = _followup(question, context, unit)
        if followup is not None:
            return followup
    if not calls and a.declined is not None and a.decline_certain:
        return Route([], "off_topic")
    if not calls and a.off_topic and reason is None:
        return Route([], "off_topic")
    if model_router is not None and asks_model(reason if calls or a.declined is not None else
                                               reason or matcher.NO_TOPIC):
        got = model_router(question)
        if got:
            return Route(list(got), "model", unit, reason=f"model: {reason or matcher.NO_TOPIC}")
        if got is not None:                      # [] : the model says it is not about the car
            return Route([], "off_topic", reason=MODEL_DECLINED)
    if calls:
        return Route(calls, "matcher", unit, certain=False, reason=reason or "", set_aside=a.set_aside or "")
    if a.declined is not None or a.off_topic:
        return Route([], "off_topic", certain=False, reason=reason or "")
    return Route([], "unclear", certain=False, reason=reason or matcher.NO_TOPIC)


# Which guesses the capable model is asked about (hybrid policy), from measuring, per class of
# uncertainty, the matcher's guess against Qwen2.5-Coder-1.5B's route on the set written blind for
# this purpose (tests/intents_policy, 158 hard sentences; `bench/routing_accuracy.py --policy M
# --dir tests/intents_policy`). First measured: long question 10 vs 12 of 15, no topic word 4 vs 7
# of 10 — the model won. Re-measured after the matcher learned a long question's context (its
# statements, a story before the request, a distance or a wheel told in them): long question
# 15 vs 11 of 15 — the matcher wins now, so a long question stays on the fast path; no topic
# word 4 vs 5 of 5; instruction-like text 11 vs 12 of 14, another car named 9 vs 6, a wheel named
# alone 7 vs 3, cars in general 6 vs 4 — kept with the matcher. A question the matcher does not
# place at all always goes to the model.
ASK_MODEL_FOR = (matcher.NO_TOPIC, matcher.LANGUAGE_GUESSED)


def asks_model(reason: str | None) -> bool:
    """Whether the hybrid policy asks the capable model about a guess made for ``reason``."""
    return bool(reason) and any(r.strip().startswith(ASK_MODEL_FOR) for r in reason.split(";"))


def tool_grammar() -> str:
    """GBNF: exactly one tool name (or none), as the router prompt expects after 'Tool:'."""
    alts = " | ".join(f'" {n}"' for n in ROUTABLE)
    return f"root ::= ({alts})\n"


# explain_code needs a code, which a tool name alone cannot carry: the word tables read it from
# the question (a native tool-calling model gives it as an argument).
assert set(ROUTABLE) - {"none"} == set(TOOLS) - {"explain_code"}
