"""The tools the assistant can call: typed reads of the live vehicle state.

Each tool is a pydantic argument model plus a function ``(VehicleView, args) -> result``.
Values are converted to the units a driver hears (km, days) and rounded to what the signal
can resolve; status travels with every value (see :class:`~assistant.tools.schemas.Quantity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel

from assistant.answer.locales import locale_texts
from assistant.state import dtc, units
from assistant.state.signals import CATALOG, TELLTALES, WHEELS
from assistant.state.store import VehicleState
from assistant.state.telltales import best_fits, is_critical, is_indicator, policy
from assistant.tools.schemas import (EnergyArgs, EnergyResult, Quantity, RangeArgs, RangeResult, ServiceArgs,
                                     ServiceResult, SignalArgs, SignalResult, TroubleCode, TyreArgs, TyreResult,
                                     Warning, WarningsArgs, WarningsResult, Wheel)

FUEL_RANGE = "Vehicle.Powertrain.FuelSystem.Range"
FUEL_LEVEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
EV_RANGE = "Vehicle.Powertrain.TractionBattery.Range"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed"
TT = "Vehicle.Telltale."


def describe_dtc(code: str) -> str:
    """A stored code's meaning (English): the generic table's description, or what the code's
    structure says (manufacturer-specific, reserved, a generic code not in the table)."""
    return dtc.describe(code, "en")


def trouble_code(code: str) -> TroubleCode:
    return TroubleCode(code=code, description=describe_dtc(code), advice=dtc.info(code).advice)


@dataclass
class VehicleView:
    """What tools see: the live state and the capability list of this car."""

    state: VehicleState
    capabilities: frozenset[str]

    @classmethod
    def of(cls, state: VehicleState) -> "VehicleView":
        return cls(state, frozenset(state.capabilities))

    def read(self, name: str, unit: str | None = None, digits: int | None = None) -> Quantity:
        spec = CATALOG[name]
        out_unit = unit or spec.unit
        if name not in self.capabilities:
            return Quantity(signal=name, unit=out_unit, status="not_supported")
        r = self.state.get(name)
        value = r.value if r.status == "ok" else None
        if value is not None and spec.unit and out_unit != spec.unit:
            value = units.convert(value, spec.unit, out_unit)
        if isinstance(value, float) and digits is not None:
            value = round(value, digits)
            if digits == 0:
                value = int(value)
        return Quantity(signal=name, value=value, unit=out_unit, status=r.status,
                        age_s=None if r.age is None else round(r.age, 2))


# ----------------------------------------------------------------------------- the tools

def get_range(v: VehicleView, args: RangeArgs) -> RangeResult:
    fuel = v.read(FUEL_RANGE, "km", 0)
    ev = v.read(EV_RANGE, "km", 0)
    res = RangeResult(fuel_range=fuel, fuel_level=v.read(FUEL_LEVEL, digits=0), ev_range=ev,
                      battery_level=v.read(SOC, digits=0), low_fuel_light=v.read(TT + "LowFuel"),
                      destination_km=args.destination_km, source=args.source)
    if args.destination_km is not None and args.source == "battery" and ev.status != "not_supported":
        # "can I do 95 km on the battery?": the electric range alone decides (a hybrid's fuel
        # is there as well when the driver asks about fuel, "enough fuel for 700 km": the total)
        if ev.ok:
            res.can_reach = ev.value >= args.destination_km
    elif args.destination_km is not None:
        readable = [q.value for q in (fuel, ev) if q.ok]
        unknown = any(not q.ok and q.status != "not_supported" for q in (fuel, ev))
        if readable and sum(readable) >= args.destination_km:
            res.can_reach = True
        elif readable and not unknown:
            res.can_reach = False       # a "no" only when every range this car has was read
    return res


def get_energy_level(v: VehicleView, args: EnergyArgs) -> EnergyResult:
    return EnergyResult(fuel_level=v.read(FUEL_LEVEL, digits=0), battery_level=v.read(SOC, digits=0),
                        low_fuel_light=v.read(TT + "LowFuel"), source=args.source)


def _last_reading(v: VehicleView, name: str) -> tuple[str | None, float | None]:
    """A lamp that cannot be read now: its last value read from the bus, and how long ago."""
    return v.state.last_good(name)


# The live readings behind a lamp (its evidence): the lamp is the car's verdict, these are what
# a driver can check it against. The tyre lamp's evidence is the tyres' pressures (see
# _tyre_evidence); the check-engine lamp's is the stored trouble codes (in the result itself).
EVIDENCE = {
    "BatteryCharge": ("Vehicle.LowVoltageBattery.CurrentVoltage",),
    "CoolantTemperature": ("Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature",),
    "OilPressure": ("Vehicle.Powertrain.CombustionEngine.EngineOil.Level",),
    "LowFuel": (FUEL_RANGE, FUEL_LEVEL),
    "ServiceDue": ("Vehicle.Service.DistanceToService",),
    # the catalogue (issue 13)
    "EngineOilLevel": ("Vehicle.Powertrain.CombustionEngine.EngineOil.Level",),
    "AdBlue": ("Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Level",
               "Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Range"),
    "FrostWarning": ("Vehicle.Exterior.AirTemperature",),
}
_EVIDENCE_UNITS = {FUEL_RANGE: ("km", 0), FUEL_LEVEL: (None, 0), "Vehicle.Service.DistanceToService": (None, 0),
                   "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature": (None, 0),
                   "Vehicle.LowVoltageBattery.CurrentVoltage": (None, 1),
                   "Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Level": (None, 0),
                   "Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Range": ("km", 0),
                   "Vehicle.Exterior.AirTemperature": (None, 0)}


def _tyre_evidence(v: VehicleView) -> list[Quantity]:
    """The readings behind the tyre lamp: the tyres the car flags low (each flag, then its
    pressure), else every tyre's pressure."""
    pressures, flagged = [], []
    for row, side in WHEELS:
        base = f"Vehicle.Chassis.Axle.{row}.Wheel.{side}.Tire"
        p, low = v.read(base + ".Pressure", digits=0), v.read(base + ".IsPressureLow")
        pressures.append(p)
        if low.ok and low.value is True:            # the flag, then the pressure when it is read
            flagged += [low] + ([p] if p.ok else [])
    return flagged or [p for p in pressures if p.ok]


def evidence(v: VehicleView, lamp: str) -> list[Quantity]:
    """The live readings behind a lamp that are readable now (an unreadable one is left out:
    the lamp itself is the car's verdict)."""
    if lamp == "TirePressure":
        return _tyre_evidence(v)
    out = []
    for name in EVIDENCE.get(lamp, ()):
        unit, digits = _EVIDENCE_UNITS.get(name, (None, None))
        q = v.read(name, unit, digits)
        if q.ok:
            out.append(q)
    return out


def get_warnings(v: VehicleView, args: WarningsArgs) -> WarningsResult:
    """Lamps that are on (each with its live evidence), lamps that cannot be read, and the
    stored codes; ``args.about`` says what was asked (all, the codes, one lamp).

    A lamp that cannot be read now but was last read ON or BLINK stays in ``active`` (marked
    not fresh, with how long ago it was read): a critical lamp keeps its safety wording until
    it is read OFF, and no answer can call the dash clear while it is unreadable."""
    rules, words = policy(), locale_texts("en").telltales     # the JSON contract's words are English
    active, unreadable, unsupported, indicators = [], [], [], []
    for name in TELLTALES:
        q = v.read(TT + name)
        if q.status == "not_supported":
            unsupported.append(name)
            continue
        value, fresh, ago = q.value, True, None
        if not q.ok:
            unreadable.append(name)
            value, age = _last_reading(v, TT + name)
            fresh, ago = False, None if age is None else int(round(age))
        if value in ("ON", "BLINK"):
            w = words[name]
            critical = is_critical(name, value)
            (indicators if is_indicator(name) else active).append(Warning(name=name, label=w.label, state=value,
                                  severity="critical" if critical else rules[name].severity,
                                  meaning=w.meaning, action=w.action,
                                  safety_wording=" ".join(w.safety.split()) if critical else None,
                                  fresh=fresh, last_read_s_ago=ago, evidence=evidence(v, name)))
    active.sort(key=lambda w: ({"critical": 0, "warning": 1, "info": 2}[w.severity], not w.fresh))
    codes = v.read("Vehicle.Diagnostics.DTCList")
    lamp = v.read(TT + args.about) if args.about in TELLTALES else None
    res = WarningsResult(active=active, unreadable=unreadable, not_supported=unsupported,
                         trouble_codes=[trouble_code(c) for c in codes.value or []],
                         trouble_codes_status=codes.status, lamps_reported=len(TELLTALES) - len(unsupported),
                         about=args.about, lamp=lamp, indicators=indicators, colour=args.colour, shape=args.shape)
    if res.described:       # "the orange one shaped like an engine": among the lamps read on now
        on = {w.name for w in active + indicators if w.fresh}
        res.matches = best_fits([n for n in TELLTALES if n in on], args.colour, args.shape)
        res.unreadable_matches = best_fits([n for n in TELLTALES if n in unreadable], args.colour, args.shape)
    return res


def get_service_status(v: VehicleView, args: ServiceArgs) -> ServiceResult:
    dist = v.read("Vehicle.Service.DistanceToService", digits=0)
    days = v.read("Vehicle.Service.TimeToService", "d", 0)
    res = ServiceResult(distance_to_service=dist, time_to_service=days,
                        service_due=v.read("Vehicle.Service.IsServiceDue"),
                        oil_life=v.read("Vehicle.Powertrain.CombustionEngine.EngineOil.LifeRemainingPercent", digits=0),
                        oil_level=v.read("Vehicle.Powertrain.CombustionEngine.EngineOil.Level"),
                        service_light=v.read(TT + "ServiceDue"), about=args.about)
    known = [q.value < 0 for q in (dist, days) if q.ok]
    if known:
        res.overdue = any(known)
    return res


_POSITIONS = {("Row1", "Left"): "front left", ("Row1", "Right"): "front right",
              ("Row2", "Left"): "rear left", ("Row2", "Right"): "rear right"}


def get_tyre_pressures(v: VehicleView, args: TyreArgs) -> TyreResult:
    wheels = []
    for row, side in WHEELS:
        pos = _POSITIONS[(row, side)]
        if args.wheel != "all" and not all(part in pos.split() for part in args.wheel.split("_")):
            continue
        base = f"Vehicle.Chassis.Axle.{row}.Wheel.{side}.Tire"
        wheels.append(Wheel(position=pos, pressure=v.read(base + ".Pressure", digits=0),
                            low=v.read(base + ".IsPressureLow")))
    return TyreResult(wheel=args.wheel, wheels=wheels, low_wheels=[w.position for w in wheels if w.low.value is True],
                      tyre_light=v.read(TT + "TirePressure"))


def read_signal(v: VehicleView, args: SignalArgs) -> SignalResult:
    if args.name not in CATALOG:
        raise ToolError(f"unknown signal {args.name!r}")
    spec = CATALOG[args.name]
    return SignalResult(name=args.name, description=spec.description, reading=v.read(args.name))


class ToolError(ValueError):
    pass


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[BaseModel]
    fn: Callable[[VehicleView, Any], BaseModel]

    def call(self, view: VehicleView, arguments: dict | None = None) -> BaseModel:
        return self.fn(view, self.args.model_validate(arguments or {}))

    def schema(self) -> dict:
        """OpenAI-style function schema (what native tool-calling chat templates expect)."""
        params = self.args.model_json_schema()
        params.pop("title", None)
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": params}}


TOOLS: dict[str, Tool] = {t.name: t for t in [
    Tool("get_range", "How far the car can still drive (range, distance to empty, km or miles left) on its "
         "fuel and battery; optionally whether a destination distance in km can be reached.", RangeArgs, get_range),
    Tool("get_energy_level", "How much fuel (petrol, diesel, gas) is in the tank and how charged the traction "
         "battery is, in percent (fuel gauge, tank level, state of charge).", EnergyArgs, get_energy_level),
    Tool("get_warnings", "Warning lamps on the dashboard that are on (meaning, severity, what to do), stored "
         "diagnostic trouble codes (P0420, ...) and whether anything is wrong with the car.", WarningsArgs, get_warnings),
    Tool("get_service_status", "Distance and time to the next service, overdue, oil life and oil level.",
         ServiceArgs, get_service_status),
    Tool("get_tyre_pressures", "Tyre pressures per wheel and which tyre is low or flat.", TyreArgs,
         get_tyre_pressures),
    Tool("read_signal", "Read one other vehicle signal by canonical name: speed, odometer (total distance "
         "driven, mileage), average fuel consumption, engine coolant temperature, engine oil level and life, "
         "12 V battery voltage, stored trouble codes, outside temperature, selected gear, washer fluid, AdBlue "
         "level and range.", SignalArgs, read_signal),
]}

# More of the car (doors, belts, parking brake, brake pads; charging): assistant/tools/body.py.
from assistant.tools import body as _body  # noqa: E402  (it builds on Tool and VehicleView above)

TOOLS.update({t.name: t for t in _body.tools(Tool)})

# Trends in the recorded history (assistant/tools/insights.py, docs/history.md).
from assistant.tools.insights import DESCRIPTION as _INSIGHTS, InsightsArgs, get_insights  # noqa: E402
TOOLS["get_insights"] = Tool("get_insights", _INSIGHTS, InsightsArgs, get_insights)
import assistant.answer.insights  # noqa: E402,F401 - registers its renderer in answer.render.RENDERERS

# What one trouble code means, and whether this car has it stored (assistant/tools/codes.py,
# docs/trouble_codes.md).
from assistant.tools.codes import DESCRIPTION as _CODES, CodeArgs, explain_code  # noqa: E402
TOOLS["explain_code"] = Tool("explain_code", _CODES, CodeArgs, explain_code)
