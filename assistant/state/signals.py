"""The canonical signal catalog: every name the assistant understands.

Names are COVESA VSS paths where VSS has one. Project extensions (documented in
docs/signals.md): ``Vehicle.Telltale.<Name>`` warning lamps, ``Vehicle.Diagnostics.DTCList``
and ``...EngineOil.LifeRemainingPercent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    NUMBER = "number"
    BOOL = "bool"
    ENUM = "enum"
    DTC_LIST = "dtc_list"


TELLTALE_VALUES = ("OFF", "ON", "BLINK")
OIL_LEVEL_VALUES = ("CRITICALLY_LOW", "LOW", "NORMAL", "HIGH", "CRITICALLY_HIGH")


@dataclass(frozen=True)
class SignalSpec:
    name: str
    kind: Kind
    unit: str | None = None
    values: tuple[str, ...] = ()
    description: str = ""


TELLTALES = {
    "CheckEngine": "check engine / malfunction indicator lamp",
    "OilPressure": "engine oil pressure warning",
    "BatteryCharge": "battery charging system warning",
    "BrakeSystem": "brake system warning",
    "CoolantTemperature": "engine coolant temperature warning",
    "TirePressure": "tyre pressure warning",
    "LowFuel": "low fuel warning",
    "ABS": "anti-lock braking system warning",
    "Airbag": "airbag / restraint system warning",
    "ServiceDue": "service due indicator",
}

WHEELS = [(row, side) for row in ("Row1", "Row2") for side in ("Left", "Right")]


def _build() -> dict[str, SignalSpec]:
    n, b = Kind.NUMBER, Kind.BOOL
    specs = [
        SignalSpec("Vehicle.Speed", n, "km/h", description="vehicle speed"),
        SignalSpec("Vehicle.TraveledDistance", n, "km", description="odometer"),
        SignalSpec("Vehicle.Powertrain.FuelSystem.RelativeLevel", n, "%", description="fuel level"),
        SignalSpec("Vehicle.Powertrain.FuelSystem.Range", n, "m", description="remaining range on fuel"),
        SignalSpec("Vehicle.Powertrain.FuelSystem.AverageConsumption", n, "l/100km",
                   description="average fuel consumption"),
        SignalSpec("Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed", n, "%",
                   description="traction battery state of charge"),
        SignalSpec("Vehicle.Powertrain.TractionBattery.Range", n, "m", description="remaining electric range"),
        SignalSpec("Vehicle.Service.DistanceToService", n, "km", description="distance to next service"),
        SignalSpec("Vehicle.Service.TimeToService", n, "s", description="time to next service"),
        SignalSpec("Vehicle.Service.IsServiceDue", b, description="service is due"),
        SignalSpec("Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature", n, "°C",
                   description="engine coolant temperature"),
        SignalSpec("Vehicle.Powertrain.CombustionEngine.EngineOil.Level", Kind.ENUM,
                   values=OIL_LEVEL_VALUES, description="engine oil level"),
        SignalSpec("Vehicle.Powertrain.CombustionEngine.EngineOil.LifeRemainingPercent", n, "%",
                   description="engine oil life remaining"),
        SignalSpec("Vehicle.LowVoltageBattery.CurrentVoltage", n, "V", description="12 V battery voltage"),
        SignalSpec("Vehicle.Diagnostics.DTCList", Kind.DTC_LIST, description="stored diagnostic trouble codes"),
    ]
    for row, side in WHEELS:
        base = f"Vehicle.Chassis.Axle.{row}.Wheel.{side}.Tire"
        where = f"{'front' if row == 'Row1' else 'rear'} {side.lower()} tyre"
        specs.append(SignalSpec(f"{base}.Pressure", n, "kPa", description=f"{where} pressure"))
        specs.append(SignalSpec(f"{base}.IsPressureLow", b, description=f"{where} pressure low"))
    for name, desc in TELLTALES.items():
        specs.append(SignalSpec(f"Vehicle.Telltale.{name}", Kind.ENUM, values=TELLTALE_VALUES, description=desc))
    return {s.name: s for s in specs}


CATALOG: dict[str, SignalSpec] = _build()


def spec(name: str) -> SignalSpec:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown canonical signal {name!r}") from None
