"""The canonical signal catalog: every name the assistant understands.

Names are COVESA VSS paths where VSS has one. Project extensions (documented in
docs/signals.md): ``Vehicle.Telltale.<Name>`` warning lamps, ``Vehicle.Diagnostics.DTCList``
and ``...EngineOil.LifeRemainingPercent``. Doors, seat belts, bonnet, tailgate, parking brake,
outside temperature, selected gear, washer fluid, brake pads, AdBlue and charging are VSS 4 names.
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
    # The catalogue issue's lamps (policy in data/telltales.yaml, words in data/locales/<lang>.yaml).
    "StabilityControl": "electronic stability control (ESC/ESP) fault or intervention",
    "StabilityControlOff": "stability control switched off",
    "PowerSteering": "power steering fault",
    "SeatBelt": "seat belt reminder",
    "DoorOpen": "door open warning",
    "BonnetOpen": "bonnet (hood) open warning",
    "TailgateOpen": "tailgate / boot open warning",
    "ParkingBrake": "parking brake applied or faulty",
    "WasherFluid": "washer fluid low",
    "BrakePadWear": "brake pad wear warning",
    "GlowPlug": "diesel glow plug (preheat) indicator",
    "ParticulateFilter": "diesel particulate filter warning",
    "AdBlue": "AdBlue (diesel exhaust fluid) warning",
    "EngineOilLevel": "engine oil level low",
    "Transmission": "transmission / gearbox fault",
    "HighVoltageSystem": "high-voltage system fault (hybrid / electric)",
    "ReducedPower": "reduced engine power (limp mode)",
    "ExteriorLightFault": "exterior light (bulb) fault",
    "FrostWarning": "frost / ice warning (outside temperature near freezing)",
    "KeyBattery": "key fob battery low",
    "DriverAssistance": "driver assistance system fault",
    "HighBeam": "high beam indicator",
    "FogLight": "fog light indicator",
}

WHEELS = [(row, side) for row in ("Row1", "Row2") for side in ("Left", "Right")]
# Doors and seats are named as VSS 4 names them: Row1/Row2, DriverSide/PassengerSide.
DOORS = [(row, side) for row in ("Row1", "Row2") for side in ("DriverSide", "PassengerSide")]
BELTS = [("Row1", "DriverSide"), ("Row1", "PassengerSide")]
# Vehicle.Powertrain.Transmission.SelectedGear: VSS has an int8 (126 park, 127 drive, -1 reverse);
# DBCs send a value table (P/R/N/D), so the project reads it as this enum (docs/signals.md).
GEAR_VALUES = ("PARK", "REVERSE", "NEUTRAL", "DRIVE", "SPORT", "LOW", "1", "2", "3", "4", "5", "6", "7", "8")


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
    for row, side in DOORS:
        where = f"{'front' if row == 'Row1' else 'rear'} {'driver' if side == 'DriverSide' else 'passenger'}"
        specs.append(SignalSpec(f"Vehicle.Cabin.Door.{row}.{side}.IsOpen", b, description=f"{where} door open"))
    for row, side in BELTS:
        who = "driver" if side == "DriverSide" else "front passenger"
        specs.append(SignalSpec(f"Vehicle.Cabin.Seat.{row}.{side}.IsBelted", b, description=f"{who} seat belt fastened"))
    specs += [
        SignalSpec("Vehicle.Body.Hood.IsOpen", b, description="bonnet open"),
        SignalSpec("Vehicle.Body.Trunk.Rear.IsOpen", b, description="tailgate / boot open"),
        SignalSpec("Vehicle.Chassis.ParkingBrake.IsEngaged", b, description="parking brake engaged"),
        SignalSpec("Vehicle.Exterior.AirTemperature", n, "°C", description="outside air temperature"),
        SignalSpec("Vehicle.Powertrain.Transmission.SelectedGear", Kind.ENUM, values=GEAR_VALUES,
                   description="selected gear"),
        SignalSpec("Vehicle.Body.Windshield.Front.WasherFluid.IsLevelLow", b, description="washer fluid low"),
        SignalSpec("Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Level", n, "%",
                   description="AdBlue (diesel exhaust fluid) level"),
        SignalSpec("Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Range", n, "m",
                   description="range on the AdBlue left"),
        SignalSpec("Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.IsLevelLow", b, description="AdBlue low"),
        SignalSpec("Vehicle.Powertrain.TractionBattery.Charging.IsChargingCableConnected", b,
                   description="charging cable connected"),
        SignalSpec("Vehicle.Powertrain.TractionBattery.Charging.IsCharging", b, description="charging now"),
        SignalSpec("Vehicle.Powertrain.TractionBattery.Charging.TimeToComplete", n, "s",
                   description="time until charging is complete"),
        SignalSpec("Vehicle.Powertrain.TractionBattery.Charging.ChargeLimit", n, "%", description="charge limit"),
    ]
    for row, side in WHEELS:
        where = f"{'front' if row == 'Row1' else 'rear'} {side.lower()}"
        specs.append(SignalSpec(f"Vehicle.Chassis.Axle.{row}.Wheel.{side}.Brake.IsBrakesWorn", b,
                                description=f"{where} brake pads worn"))
    for name, desc in TELLTALES.items():
        specs.append(SignalSpec(f"Vehicle.Telltale.{name}", Kind.ENUM, values=TELLTALE_VALUES, description=desc))
    return {s.name: s for s in specs}


CATALOG: dict[str, SignalSpec] = _build()


def spec(name: str) -> SignalSpec:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown canonical signal {name!r}") from None
