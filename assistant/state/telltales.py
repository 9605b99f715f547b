"""Warning-lamp policy: severity and which lamps are critical (``assistant/data/telltales.yaml``).

Policy lives here, once; the words for each lamp (label, meaning, action, the approved safety
text) live in the locale files, once per language. The file is validated at load with
file:line errors, and must list exactly the lamps of :data:`assistant.state.signals.TELLTALES`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from assistant import paths
from assistant.configfile import load_model
from assistant.state.signals import TELLTALES

TELLTALES_FILE = paths.DATA_DIR / "telltales.yaml"

# What a lamp looks like, language-independent: its colour(s) on the cluster and the parts of
# its symbol. The words a driver uses for them are per language (``lamp_colours`` and
# ``lamp_shapes`` in data/intents/<lang>.yaml), so "the orange one shaped like an engine" finds
# the lamp among those that are on (get_warnings' ``colour`` and ``shape`` arguments).
COLOURS = ("red", "amber", "green", "blue", "white")
SHAPES = ("airbag", "battery", "bonnet", "bulb", "car", "circle", "coil", "dashes", "door", "dots", "droplet",
          "engine", "exclamation", "filter", "fuel_pump", "gear", "headlamp", "key", "letters", "lightning", "off_text",
          "oil_can", "person", "radar", "seat_belt", "snowflake", "spanner", "spray", "steering_wheel", "tailgate",
          "thermometer", "tortoise", "tyre", "wavy_lines", "windscreen")
Colour = Literal[COLOURS]  # type: ignore[valid-type]
Shape = Literal[SHAPES]  # type: ignore[valid-type]


class LampPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    severity: Literal["critical", "warning", "info"]
    critical: bool = Field(False, description="fixed safety wording whenever the lamp is on")
    blink_critical: bool = Field(False, description="fixed safety wording while the lamp is flashing")
    why: str = Field(min_length=1, description="the reason for this severity, for reviewers")
    colour: list[Colour] = Field(min_length=1, description="the colour(s) the cluster shows it in")
    shape: list[Shape] = Field(min_length=1, description="the parts of its symbol")
    indicator: bool = Field(False, description="a function that is on (high beam): explained, never a warning")
    announce: bool | None = Field(None, description="said once, unasked, when it comes on (a persona may turn "
                                                    "that off); default: yes for severity warning, no for info")

    @property
    def announced(self) -> bool:
        return self.severity == "warning" if self.announce is None else self.announce

    @model_validator(mode="after")
    def _consistent(self) -> "LampPolicy":
        if self.critical and self.severity != "critical":
            raise ValueError("a critical lamp must have severity: critical")
        if self.indicator and (self.severity != "info" or self.critical or self.blink_critical):
            raise ValueError("an indicator is severity: info and never critical")
        return self


class LampTable(RootModel[dict[str, LampPolicy]]):
    @model_validator(mode="after")
    def _every_lamp(self) -> "LampTable":
        names = set(self.root)
        missing, unknown = [n for n in TELLTALES if n not in names], sorted(names - set(TELLTALES))
        if missing or unknown:
            raise ValueError(f"lamps must match assistant/state/signals.py: missing {missing}, unknown {unknown}")
        return self


@lru_cache(maxsize=None)
def policy() -> dict[str, LampPolicy]:
    return load_model(LampTable, TELLTALES_FILE).root


def is_critical(lamp: str, value: str) -> bool:
    """Critical lamps get the fixed safety wording: always, or (check engine) while flashing.
    The one place this rule is written (answers and proactive alerts both ask here)."""
    p = policy()[lamp]
    return p.critical or (value == "BLINK" and p.blink_critical)


def is_indicator(lamp: str) -> bool:
    """An indicator (high beam, fog light) says a function is on: not a warning."""
    return policy()[lamp].indicator


def best_fits(lamps, colour: str | None, shapes: list[str] | tuple[str, ...]) -> list[str]:
    """The lamps among ``lamps`` that fit a description best: of the right colour (amber also
    answers "yellow" and "orange"), and with the most of the shape parts named (a stray word in
    a long question, "car person", does not rule the right lamp out), fewest other parts first;
    [] when none has the colour or any part named."""
    scored = []
    for name in lamps:
        p = policy()[name]
        if colour is not None and colour not in p.colour:
            continue
        common = len(set(shapes) & set(p.shape))
        if shapes and not common:
            continue
        scored.append(((common, -len(set(p.shape) - set(shapes))), name))
    best = max((score for score, _ in scored), default=None)
    return [name for score, name in scored if score == best]


def announced_lamps() -> tuple[str, ...]:
    """Lamps that are not critical but said once, unasked, when they come on (alerts.py)."""
    return tuple(n for n, p in policy().items() if not p.critical and p.announced)


def critical_lamps() -> list[str]:
    """Lamps that can be critical (always, or while flashing): each needs safety wording."""
    return [n for n, p in policy().items() if p.critical or p.blink_critical]
