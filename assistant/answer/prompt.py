"""The prompt: one static prefix (instructions, persona tone, tool list, worked examples)
shared by routing and phrasing, plus a short per-turn suffix.

Because routing (``...Tool:``) and phrasing (``...Reply:``) continue the same prefix, the
model's KV cache for it is computed once and reused by every call of every turn.
"""

from __future__ import annotations

HEADER = """You are {name}, the voice assistant of this car. For each driver question pick a tool, \
then reply in one short sentence that uses only the facts. Copy every number and unit exactly. \
If the facts say a value cannot be read, say so. {tone}

Tools: get_range (how far the car can go, reaching a place), get_energy_level (fuel or battery \
percent), get_warnings (warning lights, trouble codes, faults), get_service_status (next service, \
oil life), get_tyre_pressures (tyres), read_signal (engine temperature, speed, battery voltage, \
odometer, oil level, fuel consumption), none (anything not about this car).
"""

EXAMPLES = [
    ("how far can I drive?", "get_range",
     "You can drive about 610 km on the fuel you have, the tank is 62 % full.",
     "You have about 610 km of range left, with the tank 62 % full."),
    ("are my tyres okay?", "get_tyre_pressures",
     "The rear right tyre is low at 180 kPa; the others are fine.",
     "Your rear right tyre is low at 180 kPa, the others are fine."),
    ("when do I need a service?", "get_service_status",
     "Your next service is due in 8200 km or 96 days. Oil life is 64 %.",
     "Your next service is in 8200 km or 96 days, and oil life is 64 %."),
    ("how much fuel is left?", "get_energy_level",
     "I can't read the fuel level right now.",
     "Sorry, I can't read the fuel level right now."),
    ("what's that light on the dash?", "get_warnings",
     "The ABS warning is on: the anti-lock braking system is not working; the brakes still work without it; "
     "drive carefully and have the ABS checked soon.",
     "That's the ABS warning: the anti-lock system is not working, so drive carefully and have the ABS "
     "checked soon."),
    ("what's the engine temperature?", "read_signal",
     "The engine coolant temperature is 88 °C.",
     "The engine coolant is at 88 °C."),
    ("tell me a joke", "none", "", ""),
    ("is the battery charged?", "get_energy_level",
     "The battery is at 45 %.",
     "The battery is 45 % charged."),
]


def prefix(name: str = "Nova", tone: str = "") -> str:
    parts = [HEADER.format(name=name, tone=tone).rstrip() + "\n"]
    for q, tool, facts, reply in EXAMPLES:
        block = f"\nDriver: {q}\nTool: {tool}\n"
        if facts:
            block += f"Facts: {facts}\nReply: {reply}\n"
        parts.append(block)
    return "".join(parts)


def route_suffix(question: str) -> str:
    return f"\nDriver: {_one_line(question)}\nTool:"


def phrase_suffix(question: str, tools: list[str], facts: str) -> str:
    return f"\nDriver: {_one_line(question)}\nTool: {', '.join(tools)}\nFacts: {facts}\nReply:"


def _one_line(text: str) -> str:
    return " ".join(text.split())
