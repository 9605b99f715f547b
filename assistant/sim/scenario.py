"""Scenario files: the vehicle state a simulator plays (format fixed in the BRIEF).

```yaml
name: low_fuel
vehicle: demo
signals: {Vehicle.Powertrain.FuelSystem.RelativeLevel: 7, Vehicle.Telltale.LowFuel: "ON"}
timeline:
  - at: 10.0
    set: {Vehicle.Telltale.OilPressure: "ON"}
    clear: [Vehicle.Speed]          # project extension: take a signal off the bus
past: {days: 14, seed: 1}           # project extension: days of history (assistant/history/synth.py)
```
Values use the canonical units. A signal left out is not on the bus.

``vehicle:`` names the vehicle profile the scenario is played on (default ``demo``): a bare name
is a shipped profile (``assistant/data/vehicles/NAME.yaml``); a path (ending in ``.yaml``/``.yml``
or containing a ``/``) is a map file, and a relative one is read relative to the scenario file
that names it, as a map file's ``dbc:`` is relative to the map file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import math

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from assistant import paths
from assistant.configfile import ConfigError, load_model, resolve_named, validate
from assistant.history.synth import Past
from assistant.state import dtc
from assistant.state.signals import CATALOG, Kind


def check_value(name: str, value: Any) -> Any:
    """Validate and normalise one canonical value; ValueError says what is wrong."""
    spec = CATALOG.get(name)
    if spec is None:
        raise ValueError(f"unknown signal {name!r} (see docs/signals.md)")
    if spec.kind is Kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name}: expected a number in {spec.unit}, got {value!r}")
        return float(value)
    if spec.kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{name}: expected true or false, got {value!r}")
        return value
    if spec.kind is Kind.ENUM:
        if isinstance(value, bool) and "ON" in spec.values:   # YAML 1.1 reads unquoted ON/OFF as bools
            value = "ON" if value else "OFF"
        if not isinstance(value, str) or value.upper() not in spec.values:
            raise ValueError(f"{name}: expected one of {', '.join(spec.values)}, got {value!r}")
        return value.upper()
    if spec.kind is Kind.DTC_LIST:
        if not isinstance(value, list):
            raise ValueError(f"{name}: expected a list of codes like [P0301], got {value!r}")
        out = []
        for code in value:
            dtc.encode(str(code))   # raises ValueError naming the bad code
            out.append(str(code).upper())
        return out
    raise ValueError(f"{name}: unsupported kind {spec.kind}")  # pragma: no cover


def _check_signals(values: dict[str, Any], loc: tuple) -> list[tuple[tuple, str]]:
    """Normalise values in place; return (location, problem) for each bad one."""
    problems = []
    for k, x in values.items():
        try:
            values[k] = check_value(k, x)
        except ValueError as e:
            problems.append((loc + (k,), str(e).removeprefix(f"{k}: ")))
    return problems


# A timeline step is at most a day after the start: the simulator waits for it on a timer,
# and a bench run is never longer (1e300 or .inf would be a timer no clock can set).
MAX_AT_S = 86400.0


class TimelineStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: float = Field(description="seconds after start (0 to 86400, one day)")
    set: dict[str, Any] = Field(default_factory=dict)
    clear: list[str] = Field(default_factory=list, description="signals taken off the bus")

    @field_validator("at")
    @classmethod
    def _at(cls, v: float) -> float:
        if not math.isfinite(v) or not 0 <= v <= MAX_AT_S:
            shown = f"{v:g}" if math.isfinite(v) else str(v)
            raise ValueError(f"must be a number of seconds from 0 to {MAX_AT_S:g} (one day), got {shown}")
        return v


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    vehicle: str = Field("demo", description="shipped profile name, or map-file path (relative to "
                                             "the scenario file)")
    description: str = ""
    signals: dict[str, Any] = Field(default_factory=dict)
    timeline: list[TimelineStep] = Field(default_factory=list)
    past: Optional[Past] = Field(None, description="days of history ending at the start, loaded into the history "
                                                   "database the assistant reads (docs/history.md)")

    @field_validator("vehicle")
    @classmethod
    def _vehicle_ref(cls, v: str, info: ValidationInfo) -> str:
        return vehicle_ref(v, (info.context or {}).get("base"))

    @model_validator(mode="after")
    def _ordered(self) -> "Scenario":
        ats = [s.at for s in self.timeline]
        if ats != sorted(ats):
            raise ValueError("timeline steps must be in time order")
        return self

    def problems(self) -> list[tuple[tuple, str]]:
        """Unknown signals and wrong values, each with its location (values normalised in place)."""
        found = _check_signals(self.signals, ("signals",))
        for i, step in enumerate(self.timeline):
            found += _check_signals(step.set, ("timeline", i, "set"))
            found += [(("timeline", i, "clear", j), f"unknown signal {n!r}")
                      for j, n in enumerate(step.clear) if n not in CATALOG]
        return found

    def state_at(self, t: float) -> dict[str, Any]:
        """Canonical values on the bus at time ``t`` (timeline applied)."""
        values = dict(self.signals)
        for step in self.timeline:
            if step.at <= t:
                values.update(step.set)
                for n in step.clear:
                    values.pop(n, None)
        return values


def is_vehicle_path(vehicle: str) -> bool:
    """A scenario's ``vehicle:`` is a map-file path (not a shipped profile name) when it ends in
    ``.yaml``/``.yml`` or contains a ``/``."""
    return vehicle.endswith((".yaml", ".yml")) or "/" in vehicle


def vehicle_ref(vehicle: str, base: str | Path | None) -> str:
    """``vehicle:`` as given, or, for a relative map-file path, that path under ``base`` (the
    folder of the scenario file naming it); a bare name stays a shipped profile name."""
    if base is None or not is_vehicle_path(vehicle) or Path(vehicle).is_absolute():
        return vehicle
    return str((Path(base) / vehicle).resolve())


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    return resolve_named(name_or_path, paths.SCENARIOS_DIR, "scenario")


def check_against_profile(scenario: Scenario, profile, path: str | Path) -> None:
    """Refuse a scenario that sets signals the vehicle cannot carry."""
    names = set(scenario.signals)
    for step in scenario.timeline:
        names |= set(step.set)
    missing = sorted(names - set(profile.capabilities))
    if missing:
        raise ConfigError(path, [f"{path}: signals: vehicle {profile.name!r} does not carry "
                                 f"{', '.join(missing)}"])
    # Encode once now so a value the DBC cannot carry is reported up front, with its name.
    try:
        profile.encode(scenario.signals)
        for step in scenario.timeline:
            profile.encode(scenario.state_at(step.at))
    except (ValueError, KeyError) as e:
        raise ConfigError(path, [f"{path}: {e}"]) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario file; a relative map-file path in its ``vehicle:`` is made relative to it."""
    path = resolve_scenario_path(name_or_path)
    return load_model(Scenario, path, context={"base": Path(path).parent})


def scenario_from_dict(data: dict, where: str = "<inline scenario>", node=None,
                       base: str | Path | None = None) -> Scenario:
    """A scenario given inline; ``base`` is the folder a relative ``vehicle:`` path is read from
    (the folder of the file holding it); without one such a path is left as given."""
    return validate(Scenario, data, where, node, context={"base": base} if base is not None else None)
