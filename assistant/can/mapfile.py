"""Vehicle map files: the YAML schema, and reading one with errors that point at file and line.

Supporting a new car means writing a map file, not code::

    name: demo
    description: Demo plug-in hybrid     # optional, free text
    dbc: ../dbc/demo.dbc                 # relative to this file (an absolute path works too)
    stale_cycles: 5                      # optional: stale after this many missed cycles (default 5)
    min_stale_after: 0.5                 # optional: seconds, the floor for fast messages (default 0.5)
    default_cycle_time_ms: 1000          # optional: for messages the DBC gives no cycle time (1000)
    messages:                            # optional: per-message overrides
      FuelStatus: {cycle_time_ms: 500}   #   the period, instead of the DBC's GenMsgCycleTime
    signals:                             # canonical name (docs/signals.md) -> where to read it
      Vehicle.Speed:
        source: VehicleDynamics.VehicleSpeed
        unit: km/h                       # unit of the DBC value (default: the DBC's own unit)
      Vehicle.Powertrain.FuelSystem.RelativeLevel:
        source: Dat_BSI.FuelLitres
        unit: "%"
        scale: 2.0                       # canonical = converted DBC value * scale + offset
        offset: 0.0
        stale_after: 2.0                 # seconds; default from the message cycle time
      Vehicle.Telltale.LowFuel:
        source: Dat_BSI.P012_Com_bFlMin
        values: {0: "OFF", 1: "ON"}      # raw value or DBC value-table name -> canonical value
        invalid: [SNA]                   # raw values / names meaning "not available"
      Vehicle.Diagnostics.DTCList:
        source: DTC_Report.DTC_Count
        items: [DTC_Code_0, DTC_Code_1]  # dtc_list only: the code signals, one per mux slot

Numbers: the DBC value (after the DBC's own factor and offset) is converted from ``unit:`` (or
the DBC signal's unit; the accepted spellings are in docs/vehicles.md, e.g. ``kph``,
``Unit_KiloMeterPerHour``) to the canonical unit, then multiplied by ``scale:`` (default 1, never
0) and ``offset:`` (default 0) is added, both in canonical units. ``scale:`` is how a unit the
loader cannot know is converted, e.g. litres of fuel to % with a known tank capacity C:
``unit: "%"``, ``scale: 100/C`` (as a number). ``values:`` is for bool and enum signals only.

A map with no signals (``signals: {}``) loads, with a warning: the assistant can read nothing
on that vehicle and says so to every question about it.

This module checks the file on its own (fields, types, canonical names in the signal catalog);
:mod:`assistant.can.compiler` checks it against its DBC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant import paths
from assistant.configfile import locate, read_yaml, resolve_named, validate
from assistant.state.signals import CATALOG

log = logging.getLogger("assistant.can.mapfile")

NO_SIGNALS = "maps no signals: the assistant will say it cannot read anything"


class SignalMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="Message.Signal in the DBC")
    unit: str | None = Field(None, description="unit of the DBC value; default: the DBC signal's unit")
    scale: float = Field(1.0, description="extra factor applied after unit conversion")
    offset: float = Field(0.0, description="extra offset applied after unit conversion")
    values: dict[Union[int, str], Union[bool, str]] | None = Field(
        None, description="raw value or DBC value-table name -> canonical value")
    invalid: list[Union[int, str]] = Field(default_factory=list,
                                           description="raw values or value-table names meaning 'not available'")
    items: list[str] | None = Field(None, description="dtc_list only: the code signals, one per mux slot")
    stale_after: float | None = Field(None, gt=0, description="seconds; default from the message cycle time")

    @field_validator("source")
    @classmethod
    def _dotted(cls, v: str) -> str:
        if v.count(".") != 1 or not all(v.split(".")):
            raise ValueError(f"source must be 'Message.Signal', got {v!r}")
        return v


class MessageOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cycle_time_ms: float = Field(gt=0)


class ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    dbc: str = Field(description="DBC path, relative to the map file")
    stale_cycles: float = Field(5.0, gt=0, description="a signal is stale after this many missed cycles")
    min_stale_after: float = Field(0.5, gt=0, description="seconds; floor for fast messages")
    default_cycle_time_ms: float = Field(1000.0, gt=0, description="for messages without a cycle time")
    messages: dict[str, MessageOverride] = Field(default_factory=dict)
    signals: dict[str, SignalMapFile]

    @field_validator("signals")
    @classmethod
    def _known_names(cls, v: dict[str, SignalMapFile]) -> dict[str, SignalMapFile]:
        unknown = [k for k in v if k not in CATALOG]
        if unknown:
            raise ValueError(f"unknown canonical signal(s): {', '.join(unknown)} "
                             "(see docs/signals.md for the catalog)")
        return v


@dataclass(frozen=True)
class MapFile:
    """A map file that passed the schema, with its YAML node tree for line look-ups."""

    path: Path
    spec: ProfileFile
    node: Any

    @property
    def dbc_path(self) -> Path:
        return (self.path.parent / self.spec.dbc).resolve()

    def where(self, loc: tuple) -> str:
        """``file:line`` of the field at ``loc`` (e.g. ``("signals", "Vehicle.Speed", "unit")``)."""
        return locate(self.path, self.node, loc)


def resolve_profile_path(name_or_path: str | Path) -> Path:
    """A profile by name (``vehicles/NAME.yaml``) or path."""
    return resolve_named(name_or_path, paths.VEHICLES_DIR, "vehicle profile")


def read_map_file(path: str | Path) -> MapFile:
    """Read and validate a map file (within the limits on user files); ``ConfigError`` with
    ``file:line: field: problem`` lines if it is wrong."""
    path = Path(path)
    data, node = read_yaml(path)
    mf = MapFile(path, validate(ProfileFile, data, path, node), node)
    if not mf.spec.signals:
        log.warning("%s: signals: %s", mf.where(("signals",)), NO_SIGNALS)
    return mf
