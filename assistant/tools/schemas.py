"""Typed tool arguments and results (pydantic).

Every value a tool returns is a :class:`Quantity` that carries its own status: a signal the
car does not provide, one that never arrived, one whose sender says "not available" and one
that is stale are all reported as such, never as a default number.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from assistant.state.signals import TELLTALES
from assistant.state.telltales import Colour, Shape

Status = Literal["ok", "stale", "unavailable", "missing", "not_supported"]


class Quantity(BaseModel):
    model_config = ConfigDict(frozen=True)

    signal: str = Field(description="canonical signal name")
    value: Any = Field(None, description="None unless status is ok")
    unit: Optional[str] = None
    status: Status = "ok"
    age_s: Optional[float] = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None


# ----------------------------------------------------------------------------- arguments

class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


EnergySource = Literal["any", "fuel", "battery"]
SOURCE_DESCRIPTION = ("which energy the driver asked about: fuel, battery (traction battery), or any; "
                      "the one asked about is said first, and said to be unreadable when it is")


class RangeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    destination_km: Optional[float] = Field(None, ge=0, le=100000,
                                            description="distance to a destination, to check it can be reached")
    source: EnergySource = Field("any", description=SOURCE_DESCRIPTION)


class EnergyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: EnergySource = Field("any", description=SOURCE_DESCRIPTION)


WheelChoice = Literal["all", "front", "rear", "left", "right", "front_left", "front_right", "rear_left", "rear_right"]


class TyreArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wheel: WheelChoice = Field("all", description="which tyre(s)")


# What a warnings question is about: everything (lamps and codes, today's answer), the stored
# trouble codes, or one lamp by its telltale name (Vehicle.Telltale.<Name>).
WARNING_TOPICS = ("all", "codes") + tuple(TELLTALES)
WarningsAbout = Literal[WARNING_TOPICS]  # type: ignore[valid-type]


class WarningsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    about: WarningsAbout = Field("all", description="what the driver asked about: all (lamps and codes), codes "
                                                    "(stored trouble codes), or one lamp by name; it is said first")
    colour: Optional[Colour] = Field(None, description="the colour of a light the driver describes (yellow and "
                                                       "orange are amber), to find it among the lamps that are on")
    shape: list[Shape] = Field(default_factory=list, max_length=3,
                               description="what the symbol of a light the driver describes shows (engine, "
                                           "thermometer, car, wavy_lines, ...)")


ServiceAbout = Literal["all", "distance", "oil_life", "oil_level", "oil"]


class ServiceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    about: ServiceAbout = Field("all", description="what the driver asked about: all, distance (when the next "
                                                   "service is due), oil_life, oil_level or oil (both); said first")


class SignalArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="canonical signal name from the vehicle's capability list")


# ----------------------------------------------------------------------------- results

class RangeResult(BaseModel):
    fuel_range: Quantity
    fuel_level: Quantity
    ev_range: Quantity
    battery_level: Quantity
    low_fuel_light: Quantity
    destination_km: Optional[float] = None
    can_reach: Optional[bool] = Field(None, description="None when no destination, or when the readable range "
                                                        "falls short while a range the car has cannot be read; "
                                                        "asked about the battery, the electric range alone")
    source: EnergySource = "any"


class EnergyResult(BaseModel):
    fuel_level: Quantity
    battery_level: Quantity
    low_fuel_light: Quantity
    source: EnergySource = "any"


class Warning(BaseModel):
    name: str = Field(description="telltale name, e.g. OilPressure")
    label: str
    state: Literal["ON", "BLINK"]
    severity: Literal["critical", "warning", "info"]
    meaning: str
    action: str
    safety_wording: Optional[str] = Field(None, description="fixed approved wording for critical lamps")
    fresh: bool = Field(True, description="False: the lamp cannot be read now; this is its last reading")
    last_read_s_ago: Optional[int] = Field(None, description="when not fresh: seconds since it was last read")
    evidence: list[Quantity] = Field(default_factory=list,
                                     description="the live readings behind the lamp (12 V voltage for the battery "
                                                 "lamp, coolant temperature, range, the tyres' pressures, ...)")


class TroubleCode(BaseModel):
    code: str
    description: str
    advice: Optional[Literal["keep_driving", "check_soon", "stop"]] = Field(
        None, description="what the code means for the driver (codes in the generic table)")


class WarningsResult(BaseModel):
    active: list[Warning]
    unreadable: list[str] = Field(description="telltales the car has but that cannot be read now")
    not_supported: list[str] = Field(default_factory=list, description="telltales this car does not report")
    trouble_codes: list[TroubleCode] = Field(default_factory=list)
    trouble_codes_status: Status = "ok"
    lamps_reported: int = Field(0, description="how many telltales this car reports at all")
    about: WarningsAbout = "all"
    lamp: Optional[Quantity] = Field(None, description="about one lamp: its reading (ON, BLINK, OFF or its status)")
    indicators: list[Warning] = Field(default_factory=list,
                                      description="indicators that are on (high beam, fog light): not warnings")
    colour: Optional[Colour] = None
    shape: list[Shape] = Field(default_factory=list)
    matches: list[str] = Field(default_factory=list, description="described by colour/shape: the lamps read on "
                                                                 "now (fresh) that fit the description")
    unreadable_matches: list[str] = Field(default_factory=list,
                                          description="lamps that fit the description but cannot be read now")

    @property
    def described(self) -> bool:
        return self.colour is not None or bool(self.shape)

    @property
    def critical(self) -> list[Warning]:
        return [w for w in self.active if w.safety_wording]

    @property
    def all_clear(self) -> bool:
        """Every lamp the car reports was read fresh, and none is on: the only case in which
        "no warning lights are on" may be said."""
        return self.lamps_reported > 0 and not self.active and not self.unreadable


class ServiceResult(BaseModel):
    distance_to_service: Quantity
    time_to_service: Quantity
    service_due: Quantity
    oil_life: Quantity
    oil_level: Quantity
    service_light: Quantity
    overdue: Optional[bool] = None
    about: ServiceAbout = "all"


class Wheel(BaseModel):
    position: str = Field(description="front left, front right, rear left, rear right")
    pressure: Quantity
    low: Quantity


class TyreResult(BaseModel):
    wheel: str
    wheels: list[Wheel]
    low_wheels: list[str]
    tyre_light: Quantity


class SignalResult(BaseModel):
    name: str
    description: str
    reading: Quantity


# ----------------------------------------------------------------------------- calls

@dataclasses.dataclass(frozen=True)
class ToolCall:
    """One call of a tool by name with its arguments, as routing (the matcher, follow-ups) and
    the model's tool-call dialects produce it; the arguments are checked when the tool runs."""

    name: str
    arguments: dict[str, Any] = dataclasses.field(default_factory=dict)

    def key(self) -> tuple:
        """Name and sorted arguments: equal for the same call, whatever the argument order."""
        def frozen(v):
            if isinstance(v, (list, tuple)):
                return tuple(frozen(x) for x in v)
            if isinstance(v, dict):
                return tuple(sorted((k, frozen(x)) for k, x in v.items()))
            return v
        return (self.name, frozen(self.arguments))
