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

Everything is checked when the file is loaded, before anything runs: fields and types, tools,
signals and values, units in ``expect.numbers``, the scenario (a named one must exist; an inline
one is validated like a scenario file, and the vehicle must carry its signals) and the persona.
Errors name the file and line, and the step as a suite author counts it: steps are numbered from
1 in file order, turns (the ``say`` steps) from 1, e.g.
``suite.yaml:12: step 3 (turn 2, "how far can I go?"): expect.numbers.0.unit: unknown unit 'furlong'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from assistant.sim.scenario import Scenario, check_against_profile, check_value, resolve_scenario_path
from assistant.configfile import ConfigError, locate, read_yaml, validation_problems
from assistant.state import units as unitconv
from assistant.state.signals import CATALOG
from assistant.tools.vehicle import TOOLS

# Units a number in an answer can carry, as the runner reads them (see assistant/state/units.py;
# ``expect.numbers`` may name these or any spelling that module knows: "kilometers", "degC", ...).
ANSWER_UNITS = unitconv.ANSWER_UNITS


def canonical_unit(unit: str) -> str:
    """One spelling per unit (``days``/``jours``/``giorni`` -> ``d``); UnitError if unknown."""
    return unitconv.spoken(unit)


_SAID_UNITS = {canonical_unit(u) for u in ANSWER_UNITS}


class ExpectedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ExpectedNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float
    unit: str | None = None
    tolerance: float = Field(0.5, ge=0)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            canon = canonical_unit(v)
        except unitconv.UnitError:
            raise ValueError(f"unknown unit {v!r} (answers say: {', '.join(ANSWER_UNITS)})") from None
        if canon not in _SAID_UNITS:
            raise ValueError(f"unit {v!r} never appears in answers (answers say: {', '.join(ANSWER_UNITS)})")
        return v


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

    # Set by load_suite: where the file is, the line of each step, the checked scenario (a
    # Scenario, or the path of a scenario file) and the persona file.
    _path: Path | None = PrivateAttr(None)
    _step_lines: list[int] = PrivateAttr(default_factory=list)
    _scenario: Any = PrivateAttr(None)
    _persona_path: Path | None = PrivateAttr(None)

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

    def turn_of(self, index: int) -> int:
        """1-based turn number of the ``say`` step at ``index``."""
        return sum(s.say is not None for s in self.steps[:index + 1])

    def line_of(self, index: int) -> int | None:
        return self._step_lines[index] if index < len(self._step_lines) else None


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"


def describe_step(steps: list, index: int) -> str:
    """``step 3 (turn 2, "how far can I go?")`` or ``step 4 (set, before turn 3)``: 1-based, in
    the words a suite author counts in the file."""
    label = f"step {index + 1}"
    if not (0 <= index < len(steps)) or not isinstance(steps[index], dict):
        return label
    says = [isinstance(s, dict) and "say" in s for s in steps]
    step = steps[index]
    if "say" in step:
        return f'{label} (turn {sum(says[:index + 1])}, "{_short(step["say"])}")'
    kind = next((k for k in ("set", "clear", "advance", "wait") if k in step), None)
    if kind is None:
        return label
    where = f"before turn {sum(says[:index]) + 1}" if any(says[index:]) else "after the last turn"
    return f"{label} ({kind}, {where})"


def _field(steps: list, loc: tuple) -> str:
    """The field part of an error: ``step 3 (turn 2, "..."): expect.tools.0`` for a step."""
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        rest = ".".join(map(str, loc[2:]))
        return describe_step(steps, loc[1]) + (f": {rest}" if rest else "")
    return ".".join(map(str, loc)) or "(top level)"


def _sub_node(node, key: str):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == key:
                return v
    return None


def load_suite(path: str | Path) -> Suite:
    """Read and check a suite file completely (see the module docstring); ConfigError lists every
    problem as ``file:line: field: problem``."""
    path = Path(path)
    data, node = read_yaml(path)
    steps = data.get("steps") if isinstance(data, dict) else None
    steps = steps if isinstance(steps, list) else []

    def at(loc: tuple, msg: str) -> str:
        return f"{locate(path, node, loc)}: {_field(steps, loc)}: {msg}"

    problems: list[str] = []
    suite = None
    try:
        suite = Suite.model_validate(data)
    except ValidationError as err:
        problems += [at(loc, msg) for loc, msg in validation_problems(err)]
    else:
        problems += [at(loc, msg) for loc, msg in suite.problems()]
    # The scenario and the persona are checked even when the rest is wrong: every problem at once.
    raw = data if isinstance(data, dict) else {}
    scenario = persona = None
    if isinstance(raw.get("scenario"), (str, dict)):
        scenario, found = _check_scenario(raw["scenario"], str(raw.get("name", path.stem)), path, node, at)
        problems += found
    if isinstance(raw.get("persona"), str) and raw["persona"]:
        persona, found = _check_persona(raw["persona"], path, at)
        problems += found
    if problems:
        raise ConfigError(path, problems)
    suite._path, suite._scenario, suite._persona_path = path, scenario, persona
    seq = _sub_node(node, "steps")
    suite._step_lines = [item.start_mark.line + 1 for item in seq.value] if isinstance(seq, yaml.SequenceNode) else []
    return suite


def _check_scenario(sc: str | dict, name: str, path: Path, node, at) -> tuple[Any, list[str]]:
    """(the checked Scenario, or the path of the scenario file; problems)."""
    from assistant.sim.scenario import load_scenario
    from assistant.can.profile import load_profile
    if isinstance(sc, dict):
        try:
            # a relative map-file path in an inline scenario's vehicle: is read from the suite's folder
            scenario = Scenario.model_validate({"name": name, **sc}, context={"base": path.parent})
        except ValidationError as err:
            return None, [at(("scenario",) + loc, msg) for loc, msg in validation_problems(err)]
        found = [at(("scenario",) + loc, msg) for loc, msg in scenario.problems()]
        if found:
            return None, found
        result = scenario
    else:
        candidate = path.parent / sc
        try:
            file = candidate if candidate.suffix in (".yaml", ".yml") and candidate.exists() \
                else resolve_scenario_path(sc)
        except ConfigError as e:
            return None, [at(("scenario",), "; ".join(e.problems))]
        if not file.exists():
            return None, [at(("scenario",), f"scenario file {sc!r} not found")]
        try:
            scenario = load_scenario(file)               # its own errors name its own file and lines
        except ConfigError as e:
            return None, [at(("scenario",), f"scenario {sc!r} has errors:")] + e.problems
        result = file
    try:
        profile = load_profile(scenario.vehicle)
    except ConfigError as e:
        return None, [at(("scenario",), f"vehicle {scenario.vehicle!r}: " + "; ".join(e.problems))]
    try:     # the vehicle must carry every signal the scenario sets, with values its DBC can encode
        check_against_profile(scenario, profile, f"{locate(path, node, ('scenario',))}: scenario")
    except ConfigError as e:
        return None, e.problems
    return result, []


def _check_persona(ref: str, path: Path, at) -> tuple[Path | None, list[str]]:
    from assistant.persona import load_persona, resolve_persona_path
    try:
        file = resolve_persona_path(ref, relative_to=path.parent)
    except ConfigError as e:
        return None, [at(("persona",), "; ".join(e.problems))]
    if not file.exists():
        return None, [at(("persona",), f"persona file {ref!r} not found")]
    try:
        load_persona(file)               # its own errors name the persona file and lines
    except ConfigError as e:
        return None, [at(("persona",), f"persona {ref!r} has errors:")] + e.problems
    return file, []


def suite_files(paths: list[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.rglob("*.yaml"))
        else:
            out.append(p)
    return out
