"""Days of driving from a compact description: a scenario's ``past:`` (and the tests' and the
benchmark's months of simulated driving), expanded into the rows the recorder would have
written.

```yaml
past:
  days: 14                      # how much history, ending now (at most 60)
  seed: 3                       # the noise is seeded: the same past every run
  drives: {per_day: 2, minutes: 30, speed_kmh: 55}
  ambient: {mean_c: 12, swing_c: 8}          # daily temperature swing (tyres, battery, consumption)
  battery: {resting: {start: 12.7, end: 12.25}, dip: {start: 10.4, end: 9.7}}
  fuel: {parked_loss_pct_per_day: 0}
  signals:                      # per canonical signal: start -> end, change from `from_day`, noise
    Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure: {start: 237, end: 219, from_day: 12}
```

A signal the past does not name but the scenario sets keeps the scenario's value (plus its
usual noise) for the whole past: ``past: {days: 30}`` is a month of normal driving for the car
the scenario describes. Tyre pressures are cold pressures at 20 °C; the generator warms them
with the ambient temperature and the drive (gas law), as a real tyre reads. The odometer, the
distance and time to service and the fuel level run backwards from the scenario's values, so
the history ends where the live state begins.
"""

from __future__ import annotations

import math
import random
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.state.signals import CATALOG, TELLTALES, WHEELS, Kind

DAY = 86400.0
MAX_DAYS = 60.0
TANK_L = 50.0

ODO = "Vehicle.TraveledDistance"
SPEED = "Vehicle.Speed"
FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
FUEL_RANGE = "Vehicle.Powertrain.FuelSystem.Range"
CONS = "Vehicle.Powertrain.FuelSystem.AverageConsumption"
COOLANT = "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature"
VOLTAGE = "Vehicle.LowVoltageBattery.CurrentVoltage"
DIST_SERVICE = "Vehicle.Service.DistanceToService"
TIME_SERVICE = "Vehicle.Service.TimeToService"
TYRES = tuple(f"Vehicle.Chassis.Axle.{r}.Wheel.{s}.Tire.Pressure" for r, s in WHEELS)

# The usual noise of a reading when the past does not say (in the signal's unit).
NOISE = {COOLANT: 1.2, CONS: 0.2, VOLTAGE: 0.05, **{t: 0.8 for t in TYRES}}
DERIVED = (ODO, SPEED, FUEL, FUEL_RANGE, DIST_SERVICE, TIME_SERVICE, VOLTAGE)


class Trend(BaseModel):
    """A value over the past: ``start`` until ``from_day``, then linear to ``end``, reached now
    (or after ``ramp_days``, then held)."""

    model_config = ConfigDict(extra="forbid")
    start: float
    end: Optional[float] = Field(None, description="the value now (default: start)")
    from_day: float = Field(0.0, ge=0, description="day of the past the change starts (0: the first)")
    ramp_days: Optional[float] = Field(None, gt=0, description="days the change takes (default: until now)")
    noise: Optional[float] = Field(None, ge=0, description="standard deviation of the reading noise")

    def at(self, day: float, days: float) -> float:
        end = self.start if self.end is None else self.end
        ramp = self.ramp_days if self.ramp_days is not None else days - self.from_day
        if day <= self.from_day or ramp <= 0:
            return self.start
        return self.start + (end - self.start) * min(1.0, (day - self.from_day) / ramp)


class Drives(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_day: int = Field(2, ge=0, le=8)
    minutes: float = Field(30.0, gt=0, le=600)
    speed_kmh: float = Field(55.0, gt=0, le=200, description="average speed")
    skip_days: list[int] = Field(default_factory=list, description="days the car stays parked (0 = the first)")


class Ambient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mean_c: float = Field(12.0, ge=-40, le=50)
    swing_c: float = Field(8.0, ge=0, le=40, description="night-to-afternoon difference")
    drift_c: float = Field(2.0, ge=0, le=20, description="day-to-day random change")


class Battery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resting: Trend = Trend(start=12.7)
    dip: Trend = Trend(start=10.4)
    charging: float = Field(14.1, ge=12, le=16)


class Fuel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parked_loss_pct_per_day: float = Field(0.0, ge=0, le=100)
    from_day: float = Field(0.0, ge=0)


class Past(BaseModel):
    """A scenario's ``past:``: days of history ending at the scenario's start."""

    model_config = ConfigDict(extra="forbid")
    days: float = Field(gt=0, le=MAX_DAYS, description="days of history, ending now")
    seed: int = 0
    drives: Drives = Drives()
    ambient: Ambient = Ambient()
    battery: Battery = Battery()
    fuel: Fuel = Fuel()
    signals: dict[str, Trend] = Field(default_factory=dict)

    @field_validator("signals")
    @classmethod
    def _known(cls, v: dict) -> dict:
        bad = [k for k in v if k not in CATALOG or CATALOG[k].kind is not Kind.NUMBER]
        if bad:
            raise ValueError(f"not a numeric canonical signal: {', '.join(bad)} (see docs/signals.md)")
        derived = [k for k in v if k in DERIVED]
        if derived:
            raise ValueError(f"{', '.join(derived)}: follows from the drives (and battery/fuel), not set here")
        return v


def _ambient(p: Past, rng: random.Random, days: int) -> list[float]:
    """A day-to-day offset per day (a random walk around the mean)."""
    out, x = [], 0.0
    for _ in range(days + 2):
        x = 0.7 * x + rng.gauss(0, p.ambient.drift_c)
        out.append(x)
    return out


def generate(past: Past, now: dict[str, Any], t_end: float,
             capabilities: set[str] | None = None) -> tuple[list[tuple[str, float, float]], list]:
    """``(samples, events)`` for ``past.days`` of driving ending at ``t_end`` (Unix seconds);
    ``now`` holds the values at ``t_end`` (the scenario's signals): the history ends there.
    Only signals in ``now`` (or the past's own) and in ``capabilities`` are written.

    The past is laid out on synthetic days that begin at ``t_end - days`` (drive hours and the
    ambient's daily swing count from there), not on the calendar: the same ``past`` gives the same
    history, shifted in time, whatever the hour of the run, so day counts ("14 days ago") and
    every value are reproducible."""
    from assistant.history.store import Event
    rng = random.Random(past.seed)
    days = past.days
    t0 = t_end - days * DAY
    caps = set(capabilities) if capabilities is not None else set(CATALOG)
    have = lambda n: n in caps and (n in now or n in past.signals)  # noqa: E731
    trends: dict[str, Trend] = {}
    for name, value in now.items():
        spec = CATALOG.get(name)
        if spec is not None and spec.kind is Kind.NUMBER and name not in DERIVED and isinstance(value, (int, float)):
            trends[name] = Trend(start=float(value))
    # A scenario's tyre pressures are read now: warm when the car is moving. The past holds cold
    # pressures (at 20 °C), so the tyres it does not name start from the reading cooled down.
    if float(now.get(SPEED, 0) or 0) > 1.0:
        warm = past.ambient.mean_c + 22
        for tyre in TYRES:
            if tyre in trends:
                trends[tyre] = Trend(start=round((trends[tyre].start + 101.3) * 293.15 / (273.15 + warm) - 101.3, 1))
    trends.update(past.signals)
    n_days = int(math.ceil(days))
    drift = _ambient(past, rng, n_days)
    tyre_offset = {t: rng.gauss(0, 1.5) for t in TYRES}

    def ambient(t: float) -> float:
        d = (t - t0) / DAY
        hour = ((t - t0) % DAY) / 3600.0         # hours of the synthetic day (see generate)
        return past.ambient.mean_c + past.ambient.swing_c / 2 * math.sin(2 * math.pi * (hour - 9) / 24) \
            + drift[min(int(d), len(drift) - 1)]

    def noisy(name: str, value: float) -> float:
        tr = trends.get(name)
        sd = tr.noise if tr is not None and tr.noise is not None else NOISE.get(name, 0.0)
        return value + (rng.gauss(0, sd) if sd else 0.0)

    # The drives: start times, ascending, all before t_end.
    hours = [7.5, 17.5, 12.5, 20.0, 9.5, 15.0, 22.0, 6.0][:past.drives.per_day]
    dur = past.drives.minutes * 60
    starts = []
    for k in range(n_days + 2):
        if k in past.drives.skip_days:
            continue
        for h in sorted(hours):
            s = t0 + k * DAY + h * 3600 + rng.uniform(-1800, 1800)
            if t0 <= s and s + dur < t_end:
                starts.append(s)
    km = [past.drives.speed_kmh * dur / 3600 * rng.uniform(0.8, 1.2) for _ in starts]

    # Backwards from now: odometer, service distance, fuel level before each drive's end.
    odo_end = float(now.get(ODO, 10000.0))
    dist_end = now.get(DIST_SERVICE)
    fuel_after = [0.0] * len(starts)
    fuel_now = float(now.get(FUEL, 60.0))
    level = fuel_now
    for i in range(len(starts) - 1, -1, -1):
        park_end = starts[i + 1] if i + 1 < len(starts) else t_end
        park_h = (park_end - (starts[i] + dur)) / 3600
        day = (starts[i] + dur - t0) / DAY
        if past.fuel.parked_loss_pct_per_day and day >= past.fuel.from_day:
            level += past.fuel.parked_loss_pct_per_day * park_h / 24
        fuel_after[i] = level
        use = km[i] * trends[CONS].at(day, days) / 100 / TANK_L * 100 if CONS in trends else km[i] * 0.12
        level += use
        if level > 95:                          # filled up before this drive
            level = rng.uniform(12, 25)

    samples: list[tuple[str, float, float]] = []
    events: list = []
    odo_before = odo_end - sum(km)
    done = 0.0
    for i, s in enumerate(starts):
        day = (s - t0) / DAY
        amb0 = ambient(s)
        rest = noisy(VOLTAGE, past.battery.resting.at(day, days) + 0.004 * (amb0 - 15))
        dip = past.battery.dip.at(day, days) + 0.02 * (amb0 - 15) + rng.gauss(0, 0.12)
        if have(VOLTAGE):
            events.append(Event(s - 5, "wake", VOLTAGE, round(rest, 3)))
            events.append(Event(s, "engine_start", VOLTAGE, round(dip, 3)))
        else:
            events.append(Event(s - 5, "wake"))
            events.append(Event(s, "engine_start"))
        for lamp in TELLTALES if i == 0 else ():            # the lamps' states, as first read
            name = f"Vehicle.Telltale.{lamp}"
            if name in now and name in caps:
                events.append(Event(s - 4, "lamp", lamp, None, str(now[name])))
        fuel_start = fuel_after[i] + (km[i] * trends[CONS].at(day, days) / 100 / TANK_L * 100 if CONS in trends
                                      else km[i] * 0.12)
        steps = int(dur // 60)
        for j in range(steps + 1):
            t = s + j * 60
            frac = j / steps if steps else 1.0
            minutes = j
            amb = ambient(t)
            row: dict[str, float] = {}
            speed = max(0.0, rng.gauss(past.drives.speed_kmh, 12)) if 0 < j < steps else 0.0
            row[SPEED] = speed
            row[ODO] = odo_before + done + km[i] * frac
            row[FUEL] = max(0.0, fuel_start + (fuel_after[i] - fuel_start) * frac + rng.gauss(0, 0.3))
            cons = noisy(CONS, trends[CONS].at(day, days) + 0.03 * max(0.0, 15 - amb)) if CONS in trends else None
            if cons is not None:
                row[CONS] = max(0.5, cons)
            if cons and FUEL_RANGE in now:
                row[FUEL_RANGE] = row[FUEL] / 100 * TANK_L / cons * 100 * 1000
            if dist_end is not None:
                row[DIST_SERVICE] = float(dist_end) + (odo_end - row[ODO])
            if TIME_SERVICE in now:
                row[TIME_SERVICE] = float(now[TIME_SERVICE]) + (t_end - t)
            row[VOLTAGE] = rng.gauss(past.battery.charging - 0.01 * (amb - 15), 0.05)
            if COOLANT in trends:
                warm = trends[COOLANT].at(day, days) + (2.0 if speed > 90 else 0.0)
                row[COOLANT] = noisy(COOLANT, amb + (warm - amb) * (1 - math.exp(-minutes / 4)))
            for tyre in TYRES:
                if tyre in trends:
                    t_tyre = amb + 22 * (1 - math.exp(-minutes / 8)) + tyre_offset[tyre]
                    p = (trends[tyre].at(day, days) + 101.3) * (273.15 + t_tyre) / 293.15 - 101.3
                    row[tyre] = noisy(tyre, p)
            for name, tr in trends.items():
                if name not in row and name not in DERIVED:
                    row[name] = noisy(name, tr.at(day, days))
            for name, v in row.items():
                if name in caps and (name in now or name in past.signals):
                    samples.append((name, t, round(v, 3)))
        done += km[i]
        events.append(Event(s + dur + 1, "engine_stop"))
    return samples, events


def load_into(store, past: Past, now: dict[str, Any], t_end: float, capabilities=None) -> int:
    """Expand ``past`` and write it into ``store`` (one transaction); returns the rows."""
    samples, events = generate(past, now, t_end, capabilities)
    store.write(samples, events)
    return len(samples) + len(events)
