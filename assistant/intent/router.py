"""Route a question to tool calls: follow-ups that only ask for other units first, then the
deterministic matcher, then the previous turn for other follow-ups ("what about the rear
ones?", "and in miles?"), then off-topic questions are declined; the rest goes to the language
model (constrained to the tool names by a grammar) when one is given, else it is unclear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.intent import matcher
from assistant.state import units
from assistant.state.signals import CATALOG
from assistant.tools.schemas import ToolCall
from assistant.tools.vehicle import TOOLS

ROUTABLE = ["get_range", "get_energy_level", "get_warnings", "get_service_status", "get_tyre_pressures",
            "read_signal", "none"]


@dataclass
class Route:
    calls: list[ToolCall]
    source: str                      # matcher | followup | model | off_topic | unclear
    unit_override: str | None = None


@dataclass
class Context:
    """What a follow-up question can refer to."""

    last_calls: list[ToolCall] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)   # dimension -> unit the driver asked for

    def remember(self, route: Route) -> None:
        if route.calls:
            self.last_calls = list(route.calls)
        if route.unit_override:
            self.units[units.dimension(route.unit_override)] = route.unit_override



def _dimensions_of(call: ToolCall) -> set[str]:
    """Kinds of value a tool call answers with, as unit follow-ups name them (a speed is a
    distance here: "in miles" turns km/h into mph)."""
    if call.name == "read_signal":
        spec = CATALOG.get(call.arguments.get("name", ""))
        dim = units.dimension(spec.unit) if spec and spec.unit else None
        return {"distance"} if dim in ("distance", "speed") else {"temperature"} if dim == "temperature" else set()
    return {"get_range": {"distance"}, "get_service_status": {"distance"},
            "get_tyre_pressures": {"pressure"}}.get(call.name, set())


def route(question: str, context: Context, model_router=None) -> Route:
    unit = matcher.unit_change(question)
    if unit and context.last_calls and matcher.is_unit_only(question):
        # Same question in other units: the calls whose answer has a value of that kind.
        dim = units.dimension(unit)
        calls = [c for c in context.last_calls if dim in _dimensions_of(c)] or list(context.last_calls)
        return Route(calls, "followup", unit)
    calls = matcher.match(question)
    if calls:
        return Route(calls, "matcher", unit)
    q = matcher.normalise(question)
    wheel = matcher.wheel_of(q)
    last = context.last_calls
    if last and (unit or wheel):
        if wheel and any(c.name == "get_tyre_pressures" for c in last):
            return Route([ToolCall("get_tyre_pressures", {"wheel": wheel})], "followup", unit)
        if unit:
            return Route(list(last), "followup", unit)
    if matcher.is_off_topic(question):
        return Route([], "off_topic")
    if model_router is not None:
        calls = model_router(question)          # tool calls, or None: no idea
        if calls:
            return Route(calls, "model", unit)
    return Route([], "unclear")


def tool_grammar() -> str:
    """GBNF: exactly one tool name (or none), as the router prompt expects after 'Tool:'."""
    alts = " | ".join(f'" {n}"' for n in ROUTABLE)
    return f"root ::= ({alts})\n"


assert set(ROUTABLE) - {"none"} == set(TOOLS)
