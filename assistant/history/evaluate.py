"""Measuring the detectors on simulated histories: how long after a fault's onset each one
finds it, and how many false alarms a month of normal driving raises. Used by
``tests/test_history_detectors.py`` and ``bench/history.py`` (the figures in docs/history.md).

Each fault is a :class:`~assistant.history.synth.Past` with an onset day and the time within
which its detector must find it (the bound the tests hold it to).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from assistant.history.detectors import DETECTORS, Insight
from assistant.history.store import DAY, HistoryStore
from assistant.history.synth import Past, load_into

# The car every simulation drives: the demo car's values at the end of the history.
CAR = {
    "Vehicle.Speed": 0.0, "Vehicle.TraveledDistance": 42180.5,
    "Vehicle.Powertrain.FuelSystem.RelativeLevel": 62.0, "Vehicle.Powertrain.FuelSystem.Range": 610000.0,
    "Vehicle.Powertrain.FuelSystem.AverageConsumption": 6.4, "Vehicle.Service.DistanceToService": 8200.0,
    "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature": 90.0,
    "Vehicle.LowVoltageBattery.CurrentVoltage": 12.6,
    "Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure": 230.0,
    "Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure": 229.0,
    "Vehicle.Chassis.Axle.Row2.Wheel.Left.Tire.Pressure": 226.0,
    "Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure": 227.0,
}
RR = "Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure"
COOLANT = "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature"
CONS = "Vehicle.Powertrain.FuelSystem.AverageConsumption"


@dataclass(frozen=True)
class Fault:
    kind: str
    about: str
    past: dict
    onset_day: float
    bound_h: float                 # found within this long after onset (tests hold it to it)
    what: str


FAULTS = [
    Fault("tyre_leak", "tyres", {"days": 20, "signals": {RR: {"start": 227, "end": 137, "from_day": 10}}}, 10, 36,
          "rear right losing 9 kPa a day"),
    Fault("battery_weak", "battery", {"days": 30, "battery": {"resting": {"start": 12.72, "end": 11.78, "from_day": 7},
                                                              "dip": {"start": 10.4, "end": 9.0, "from_day": 7}}},
          7, 10 * 24, "resting voltage falling 0.04 V a day, start dip 0.06 V a day"),
    Fault("engine_hot", "engine", {"days": 30, "signals": {COOLANT: {"start": 90, "end": 102, "from_day": 20,
                                                                     "ramp_days": 0.05}}},
          20, 48, "coolant 12 °C above its usual from one day to the next"),
    Fault("consumption_high", "consumption", {"days": 30, "signals": {CONS: {"start": 6.4, "end": 9.0, "from_day": 20,
                                                                             "ramp_days": 0.05}}},
          20, 72, "consumption 40 % above its usual from one day to the next"),
    Fault("fuel_parked", "fuel", {"days": 30, "fuel": {"parked_loss_pct_per_day": 4, "from_day": 20}}, 20, 72,
          "fuel level falling 4 % a day while parked"),
]


def simulate(past: dict | Past, t_end: float, directory: str | Path | None = None, now_values: dict | None = None,
             seed: int | None = None) -> HistoryStore:
    """A store holding ``past`` (ending at ``t_end``) for :data:`CAR` (or ``now_values``)."""
    p = past if isinstance(past, Past) else Past.model_validate({**past, **({"seed": seed} if seed is not None else {})})
    d = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="assistant-sim-"))
    store = HistoryStore(d / "history.sqlite", retention_days=400)
    if directory is None:        # a folder of our own: gone with the store (or at exit)
        weakref.finalize(store, shutil.rmtree, str(d), True)
    load_into(store, p, dict(now_values or CAR), t_end)
    return store


def found_at(store: HistoryStore, about: str, now: float) -> list[Insight]:
    return [i for fn in DETECTORS[about] for i in fn(store, now) if i.notable]


def detection_delay(fault: Fault, seed: int = 0, step_h: float = 3.0, t_end: float | None = None,
                    directory=None) -> tuple[float | None, Insight | None, int]:
    """(hours from onset to the first detection or None, the insight, false alarms before the
    onset), checking every ``step_h`` hours of the history."""
    t_end = time.time() if t_end is None else t_end
    store = simulate(fault.past, t_end, directory, seed=seed)
    try:
        t0 = t_end - fault.past["days"] * DAY
        onset = t0 + fault.onset_day * DAY
        false = 0
        t = t0 + 2 * DAY
        while t < onset:
            false += bool(found_at(store, fault.about, t))
            t += step_h * 3600
        t = onset
        while t <= t_end:
            got = [i for i in found_at(store, fault.about, t) if i.kind == fault.kind]
            if got:
                return (t - onset) / 3600, got[0], false
            t += step_h * 3600
        return None, None, false
    finally:
        store.close()


def false_alarms(days: float = 30, seed: int = 0, step_h: float = 6.0, t_end: float | None = None,
                 past: dict | None = None, directory=None) -> tuple[int, int, list[Insight]]:
    """(evaluations with a notable insight, evaluations, what was found) over ``days`` of normal
    driving, every detector checked every ``step_h`` hours from day 2."""
    t_end = time.time() if t_end is None else t_end
    store = simulate({"days": days, **(past or {})}, t_end, directory, seed=seed)
    try:
        t0 = t_end - days * DAY
        hits, n, found = 0, 0, []
        t = t0 + 2 * DAY
        while t <= t_end:
            got = [i for about in DETECTORS for i in found_at(store, about, t)]
            hits += bool(got)
            found += got
            n += 1
            t += step_h * 3600
        return hits, n, found
    finally:
        store.close()
