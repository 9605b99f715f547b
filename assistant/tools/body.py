"""More of the car: the body (doors, bonnet, tailgate, seat belts, parking brake, brake pads)
and charging (cable, charging, time to complete, charge limit), as typed tools.

Every value is a :class:`~assistant.tools.schemas.Quantity` with its status, like every other
tool's: "is everything closed?" is answered "yes" only when every opening this car reports was
read fresh and closed (:attr:`BodyResult.all_closed`); otherwise the answer names what is open,
what cannot be read and what this car does not report. The tools are registered in
:data:`assistant.tools.vehicle.TOOLS` (its last lines); their renderers are in
:mod:`assistant.answer.dashboard`.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from assistant.state.signals import BELTS, DOORS, WHEELS
from assistant.tools.schemas import Quantity

TT = "Vehicle.Telltale."
DOOR_SIGNALS = [f"Vehicle.Cabin.Door.{row}.{side}.IsOpen" for row, side in DOORS]
BONNET = "Vehicle.Body.Hood.IsOpen"
TAILGATE = "Vehicle.Body.Trunk.Rear.IsOpen"
BELT_SIGNALS = [f"Vehicle.Cabin.Seat.{row}.{side}.IsBelted" for row, side in BELTS]
PARKING_BRAKE = "Vehicle.Chassis.ParkingBrake.IsEngaged"
PAD_SIGNALS = [f"Vehicle.Chassis.Axle.{row}.Wheel.{side}.Brake.IsBrakesWorn" for row, side in WHEELS]
CHARGING = "Vehicle.Powertrain.TractionBattery.Charging."
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed"

# The lamps behind each part of the body: the car's verdict beside the readings.
BODY_LAMPS = ("DoorOpen", "BonnetOpen", "TailgateOpen", "SeatBelt", "ParkingBrake", "BrakePadWear")

BodyAbout = Literal["all", "doors", "bonnet", "tailgate", "openings", "belts", "parking_brake", "brake_pads"]


class BodyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    about: BodyAbout = Field("all", description="what the driver asked about: all, doors, bonnet, tailgate, "
                                                "openings (is everything closed: doors, bonnet and tailgate), "
                                                "belts (seat belts), parking_brake or brake_pads; said first")


class BodyResult(BaseModel):
    about: BodyAbout = "all"
    openings: list[Quantity] = Field(default_factory=list, description="doors, bonnet, tailgate asked about: "
                                                                       "true = open")
    belts: list[Quantity] = Field(default_factory=list, description="seat belts: true = fastened")
    parking_brake: Optional[Quantity] = None
    brake_pads: list[Quantity] = Field(default_factory=list, description="true = worn")
    lamps: list[Quantity] = Field(default_factory=list, description="the body's lamps (door open, seat belt, ...)")

    @property
    def all_closed(self) -> Optional[bool]:
        """True only when every opening asked about that this car reports was read fresh and is
        closed; False when one is read open; None when it cannot be said (unread or none reported)."""
        reported = [q for q in self.openings if q.status != "not_supported"]
        if any(q.ok and q.value is True for q in reported):
            return False
        if reported and all(q.ok for q in reported):
            return True
        return None


class ChargingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChargingResult(BaseModel):
    cable_connected: Quantity
    charging: Quantity
    time_to_complete: Quantity = Field(description="minutes until charging is complete")
    charge_limit: Quantity
    battery_level: Quantity


def _parts(about: str) -> list[str]:
    return {"doors": DOOR_SIGNALS, "bonnet": [BONNET], "tailgate": [TAILGATE]}.get(
        about, DOOR_SIGNALS + [BONNET, TAILGATE] if about in ("all", "openings") else [])


def get_body_status(v, args: BodyArgs) -> BodyResult:
    """Doors, bonnet and tailgate (open or closed), seat belts, the parking brake and the brake
    pads, as asked (``about``), with the body's lamps."""
    a = args.about
    return BodyResult(
        about=a, openings=[v.read(n) for n in _parts(a)],
        belts=[v.read(n) for n in BELT_SIGNALS] if a in ("all", "belts") else [],
        parking_brake=v.read(PARKING_BRAKE) if a in ("all", "parking_brake") else None,
        brake_pads=[v.read(n) for n in PAD_SIGNALS] if a in ("all", "brake_pads") else [],
        lamps=[v.read(TT + n) for n in BODY_LAMPS])


def get_charging_status(v, args: ChargingArgs) -> ChargingResult:
    """Whether the cable is in and the car is charging, how long until it is complete, the charge
    limit and the battery's charge."""
    return ChargingResult(cable_connected=v.read(CHARGING + "IsChargingCableConnected"),
                          charging=v.read(CHARGING + "IsCharging"),
                          time_to_complete=v.read(CHARGING + "TimeToComplete", "min", 0),
                          charge_limit=v.read(CHARGING + "ChargeLimit", digits=0),
                          battery_level=v.read(SOC, digits=0))


def tools(tool_cls) -> list:
    """The tools of this module, as :class:`assistant.tools.vehicle.Tool` s."""
    return [
        tool_cls("get_body_status", "Doors, bonnet (hood) and tailgate (boot, trunk) open or closed, seat belts "
                 "fastened, the parking brake (handbrake) on or off, and worn brake pads.", BodyArgs, get_body_status),
        tool_cls("get_charging_status", "Electric charging: whether the charging cable is plugged in, whether the "
                 "car is charging, how long until it is fully charged, the charge limit.", ChargingArgs,
                 get_charging_status),
    ]
