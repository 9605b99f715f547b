"""Dialogue suite files (YAML in tests/dialogues/): a scenario, optionally a persona, and steps.

```yaml
name: low fuel basics
scenario: low_fuel                  # a name, a .yaml path, or inline {vehicle, signals, timeline}
persona: aurora                     # optional: a name in personas/ or a path
steps:
  - say: How far can I go?
    expect:
      tools: [get_range]            # names, or {name, arguments}; order does not matter
      contains: ["48 km"]           # every item must appear (case-insensitive)
      not_contains: ["can't read"]
      numbers: [{value: 48, unit: km, tolerance: 1}]
      grounded: true
      max_words: 30
      latency_ms: 3000
  - set: {Vehicle.Telltale.OilPressure: "ON"}   # change the bus before the next turn
  - advance: 8.0                                # apply the scenario timeline up to t = 8 s
  - wait: 0.6                                   # let real time pass (staleness)
  - clear: [Vehicle.Speed]                      # take signals off the bus
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.bench.scenario import check_value
from assistant.configfile import load_model
from assistant.state.signals import CATALOG
from assistant.tools.vehicle import TOOLS


class ExpectedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ExpectedNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float
    unit: str | None = None
    tolerance: float = Field(0.5, ge=0)


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tools: list[Union[str, ExpectedCall]] | None = None
    contains: list[str] = Field(default_factory=list)
    contains_any: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    numbers: list[ExpectedNumber] = Field(default_factory=list)
    no_numbers: bool = False
    cant_read: bool | None = Field(None, description="the answer says a value cannot be read")
    grounded: bool | None = None
    fallback: bool | None = None
    safety: bool | None = Field(None, description="critical-warning safety wording present (first)")
    alert: list[str] | None = Field(None, description="proactive alerts spoken before this turn, by lamp name")
    route: str | None = None
    max_words: int | None = Field(None, ge=1)
    latency_ms: float | None = Field(None, gt=0)

    def calls(self) -> list[ExpectedCall] | None:
        if self.tools is None:
            return None
        return [c if isinstance(c, ExpectedCall) else ExpectedCall(name=c) for c in self.tools]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    say: str | None = None
    expect: Expect | None = None
    set: dict[str, Any] | None = None
    clear: list[str] | None = None
    advance: float | None = Field(None, ge=0)
    wait: float | None = Field(None, ge=0, le=60)

    @model_validator(mode="after")
    def _one_kind(self) -> "Step":
        kinds = [k for k in ("say", "set", "clear", "advance", "wait") if getattr(self, k) is not None]
        if len(kinds) == 0:
            raise ValueError("a step needs one of: say, set, clear, advance, wait")
        if self.say is None and self.expect is not None:
            raise ValueError("expect: only a `say` step can have expectations")
        if self.say is not None and len(kinds) > 1:
            raise ValueError(f"a `say` step cannot also {', '.join(k for k in kinds if k != 'say')}; "
                             "put those in their own step before it")
        return self


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    scenario: Union[str, dict[str, Any]]
    persona: str | None = None
    steps: list[Step] = Field(min_length=1)

    def problems(self) -> list[tuple[tuple, str]]:
        found = []
        for i, step in enumerate(self.steps):
            for name, value in (step.set or {}).items():
                try:
                    step.set[name] = check_value(name, value)
                except ValueError as e:
                    found.append((("steps", i, "set", name), str(e).removeprefix(f"{name}: ")))
            for j, name in enumerate(step.clear or []):
                if name not in CATALOG:
                    found.append((("steps", i, "clear", j), f"unknown signal {name!r}"))
            calls = step.expect.calls() if step.expect else None
            for j, call in enumerate(calls or []):
                if call.name not in TOOLS:
                    found.append((("steps", i, "expect", "tools", j),
                                  f"unknown tool {call.name!r} (tools: {', '.join(TOOLS)})"))
        return found

    @property
    def turns(self) -> list[tuple[int, Step]]:
        return [(i, s) for i, s in enumerate(self.steps) if s.say is not None]


def load_suite(path: str | Path) -> Suite:
    return load_model(Suite, path)


def suite_files(paths: list[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.rglob("*.yaml"))
        else:
            out.append(p)
    return out
