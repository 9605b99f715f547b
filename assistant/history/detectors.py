"""Detectors: trends in the vehicle history, each returned as a typed :class:`Insight` with its
evidence (the numbers and the time span they come from) and a confidence.

Each detector reads only the history store and is silent unless the evidence is clear; the
thresholds are chosen so that a month of simulated normal driving (noise, daily temperature
swings, parking) raises nothing (``tests/test_history_detectors.py``, ``bench/history.py``).

=====================  ==========================================================  =========
detector               what it looks for                                           about
=====================  ==========================================================  =========
``tyre_leak``          one tyre losing pressure against the other three (the       tyres
                       difference to their median cancels the temperature, which
                       moves all four together), fitted from the leak's onset
``battery_weak``       the resting 12 V voltage (engine off, at wake-up) falling   battery
                       across days; the dip at engine start with it
``engine_hot``         coolant temperature once warm, per speed band, above the    engine
                       car's own median of the weeks before
``consumption_high``   average consumption of the last days well above the usual   consumption
``service_forecast``   days to the service at the usual daily distance             service
``fuel_parked``        the fuel level lower after parking than before it           fuel
=====================  ==========================================================  =========
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Literal, Optional

from pydantic import BaseModel, Field

from assistant.history.store import DAY, HistoryStore

About = Literal["all", "tyres", "battery", "engine", "consumption", "service", "fuel"]
ABOUTS: tuple[str, ...] = ("all", "tyres", "battery", "engine", "consumption", "service", "fuel")
Kind = Literal["tyre_leak", "battery_weak", "engine_hot", "consumption_high", "service_forecast", "fuel_parked"]

VOLTAGE = "Vehicle.LowVoltageBattery.CurrentVoltage"
SPEED = "Vehicle.Speed"
ODO = "Vehicle.TraveledDistance"
FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
CONS = "Vehicle.Powertrain.FuelSystem.AverageConsumption"
COOLANT = "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature"
DIST_SERVICE = "Vehicle.Service.DistanceToService"
POSITIONS = {"Row1.Wheel.Left": "front left", "Row1.Wheel.Right": "front right",
             "Row2.Wheel.Left": "rear left", "Row2.Wheel.Right": "rear right"}
TYRES = {f"Vehicle.Chassis.Axle.{k}.Tire.Pressure": v for k, v in POSITIONS.items()}

MIN_HISTORY_DAYS = 1.0          # less than this: "not enough history yet"


class Evidence(BaseModel):
    """One number an insight rests on, with what it is of and the time span it comes from."""

    name: str = Field(description="what the number is: drop, rate_per_day, days, resting_then, ...")
    value: float
    unit: Optional[str] = None
    signal: Optional[str] = Field(None, description="the canonical signal it is of")
    since: float = Field(description="Unix time of the first reading it uses")
    until: float = Field(description="Unix time of the last reading it uses")


class Insight(BaseModel):
    kind: Kind
    about: About
    key: str = Field(description="the same finding has the same key (proactive announcements: once)")
    severity: Literal["warning", "info"] = "warning"
    confidence: float = Field(ge=0, le=1)
    subject: Optional[str] = Field(None, description="which tyre, for a tyre")
    since: float
    until: float
    evidence: list[Evidence]
    notable: bool = Field(True, description="False: a forecast with nothing to act on yet (said when asked)")

    def ev(self, name: str) -> Evidence:
        return next(e for e in self.evidence if e.name == name)

    @property
    def span_days(self) -> float:
        return (self.until - self.since) / DAY


# ----------------------------------------------------------------------------- small statistics

def _fit(xs: list[float], ys: list[float]) -> tuple[float, float, float, float]:
    """Least squares ``y = a + b x``: (a, b, residual sd, t statistic of b)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 3 or sxx <= 0:
        return my, 0.0, 0.0, 0.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    sse = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    sd = math.sqrt(sse / (n - 2))
    se = sd / math.sqrt(sxx) if sd > 0 else 1e-12
    return a, b, sd, b / se


def _clamp(x: float, lo: float = 0.5, hi: float = 0.97) -> float:
    return max(lo, min(hi, x))


def history_span(store: HistoryStore, now: float) -> tuple[float | None, float]:
    """(first time in the history, days of history up to ``now``)."""
    first, _ = store.span()
    return first, 0.0 if first is None else max(0.0, (now - first) / DAY)


# ----------------------------------------------------------------------------- the detectors

def tyre_leak(store: HistoryStore, now: float, window_days: float = 7.0) -> list[Insight]:
    """A tyre whose pressure falls against the median of the other three. The fit is a hinge:
    flat, then a straight fall from an onset found by least squares, so "down 18 kPa in 2 days"
    is measured from when the leak began, not averaged over the week."""
    since = now - window_days * DAY
    series = {name: dict(store.samples(name, since, now)) for name in TYRES}
    series = {n: s for n, s in series.items() if s}
    if len(series) < 3:
        return []
    times = sorted(set.intersection(*(set(s) for s in series.values())))
    if len(times) < 30 or (times[-1] - times[0]) < 0.5 * DAY:
        return []
    found = []
    for name, s in series.items():
        others = [o for o in series if o != name]
        d = [s[t] - statistics.median(series[o][t] for o in others) for t in times]
        best = None
        candidates = sorted({times[int(k * (len(times) - 1) / 40)] for k in range(41)})
        for t0 in candidates:
            if times[-1] - t0 < 3 * 3600:
                continue
            xs = [max(0.0, t - t0) / DAY for t in times]
            a, b, sd, tstat = _fit(xs, d)
            sse = sd * sd
            if best is None or sse < best[0]:
                best = (sse, t0, a, b, sd, tstat)
        if best is None:
            continue
        _, t0, a, b, sd, tstat = best
        days = (times[-1] - t0) / DAY
        drop, rate = -b * days, -b
        if drop >= 8.0 and rate >= 2.0 and tstat <= -8.0 and drop >= 4 * sd:
            pos = TYRES[name]
            now_p = s[times[-1]]
            found.append(Insight(
                kind="tyre_leak", about="tyres", key=f"tyre_leak:{pos}", subject=pos,
                confidence=round(_clamp(0.6 + 0.02 * (drop - 8) + 0.01 * min(20, -tstat - 8)), 2),
                since=t0, until=times[-1],
                evidence=[Evidence(name="drop", value=round(drop, 1), unit="kPa", signal=name, since=t0, until=times[-1]),
                          Evidence(name="days", value=round(days, 1), unit="d", signal=name, since=t0, until=times[-1]),
                          Evidence(name="rate_per_day", value=round(rate, 1), unit="kPa", signal=name, since=t0,
                                   until=times[-1]),
                          Evidence(name="pressure_now", value=round(now_p), unit="kPa", signal=name,
                                   since=times[-1], until=times[-1])]))
    found.sort(key=lambda i: -i.ev("drop").value)
    return found


def battery_weak(store: HistoryStore, now: float, window_days: float = 21.0) -> list[Insight]:
    """The resting voltage (read at wake-up, engine off) falling across days; the start dip
    (lowest voltage while cranking) is fitted too and said when it falls with it."""
    since = now - window_days * DAY
    rest = [(e.t, e.value) for e in store.events("wake", since, now) if e.value is not None and 10.0 < e.value < 13.5]
    if len(rest) < 6:
        return []
    t_first, t_last = rest[0][0], rest[-1][0]
    span = (t_last - t_first) / DAY
    if span < 4.0 or len({int(t // DAY) for t, _ in rest}) < 5:
        return []
    xs = [(t - t_first) / DAY for t, _ in rest]
    a, b, sd, tstat = _fit(xs, [v for _, v in rest])
    then_v, now_v = a, a + b * span
    falling = b <= -0.012 and then_v - now_v >= 0.15 and tstat <= -5.0
    low_and_falling = now_v < 12.3 and b < 0 and tstat <= -3.0 and then_v - now_v >= 0.08
    if not (falling or low_and_falling):
        return []
    ev = [Evidence(name="resting_then", value=round(then_v, 2), unit="V", signal=VOLTAGE, since=t_first, until=t_first),
          Evidence(name="resting_now", value=round(now_v, 2), unit="V", signal=VOLTAGE, since=t_last, until=t_last),
          Evidence(name="days", value=round(span, 1), unit="d", signal=VOLTAGE, since=t_first, until=t_last)]
    dips = [(e.t, e.value) for e in store.events("engine_start", since, now) if e.value is not None and 5 < e.value < 13]
    conf = 0.6 + min(0.3, (then_v - now_v) / 2)
    if len(dips) >= 6:
        d0 = dips[0][0]
        dspan = (dips[-1][0] - d0) / DAY
        da, db, _, dt = _fit([(t - d0) / DAY for t, _ in dips], [v for _, v in dips])
        if db < 0 and dt <= -3.0 and dspan >= 4.0 and -db * dspan >= 0.2:
            ev += [Evidence(name="dip_then", value=round(da, 1), unit="V", signal=VOLTAGE, since=d0, until=d0),
                   Evidence(name="dip_now", value=round(da + db * dspan, 1), unit="V", signal=VOLTAGE,
                            since=dips[-1][0], until=dips[-1][0])]
            conf += 0.1
    return [Insight(kind="battery_weak", about="battery", key="battery_weak", confidence=round(_clamp(conf), 2),
                    since=t_first, until=t_last, evidence=ev)]


def _joined(store: HistoryStore, name: str, since: float, now: float) -> list[tuple[float, float, float]]:
    """(t, value of ``name``, speed at t) where both were sampled together."""
    speed = dict(store.samples(SPEED, since, now))
    return [(t, v, speed[t]) for t, v in store.samples(name, since, now) if t in speed]


BANDS = ((5.0, 50.0), (50.0, 90.0), (90.0, 400.0))


def engine_hot(store: HistoryStore, now: float, recent_days: float = 2.0, baseline_days: float = 28.0) -> list[Insight]:
    """Warm coolant temperature of the last days above the car's own median at similar speeds."""
    since = now - (recent_days + baseline_days) * DAY
    cut = now - recent_days * DAY
    rows = [(t, v, sp) for t, v, sp in _joined(store, COOLANT, since, now) if v >= 75.0 and sp >= 5.0]
    deltas, weights, recent_all, base_all = [], [], [], []
    for lo, hi in BANDS:
        base = [v for t, v, sp in rows if t < cut and lo <= sp < hi]
        rec = [v for t, v, sp in rows if t >= cut and lo <= sp < hi]
        if len(base) >= 40 and len(rec) >= 15:
            deltas.append(statistics.median(rec) - statistics.median(base))
            weights.append(len(rec))
            recent_all += rec
            base_all += base
    if not deltas:
        return []
    delta = sum(d * w for d, w in zip(deltas, weights)) / sum(weights)
    base_t = [t for t, v, sp in rows if t < cut]
    rec_t = [t for t, v, sp in rows if t >= cut]
    if delta < 6.0 or (base_t[-1] - base_t[0]) < 5 * DAY:
        return []
    hot, usual = statistics.median(recent_all), statistics.median(base_all)
    return [Insight(kind="engine_hot", about="engine", key="engine_hot", since=rec_t[0], until=rec_t[-1],
                    confidence=round(_clamp(0.55 + 0.04 * (delta - 6)), 2),
                    evidence=[Evidence(name="recent", value=round(hot), unit="°C", signal=COOLANT, since=rec_t[0],
                                       until=rec_t[-1]),
                              Evidence(name="usual", value=round(usual), unit="°C", signal=COOLANT, since=base_t[0],
                                       until=base_t[-1]),
                              Evidence(name="days", value=round((rec_t[-1] - rec_t[0]) / DAY + 0.49), unit="d",
                                       signal=COOLANT, since=rec_t[0], until=rec_t[-1])])]


def consumption_high(store: HistoryStore, now: float, recent_days: float = 3.0,
                     baseline_days: float = 28.0) -> list[Insight]:
    """Average consumption of the last days well above the car's usual (while driving)."""
    since = now - (recent_days + baseline_days) * DAY
    cut = now - recent_days * DAY
    rows = [(t, v) for t, v, sp in _joined(store, CONS, since, now) if sp >= 5.0]
    base = [(t, v) for t, v in rows if t < cut]
    rec = [(t, v) for t, v in rows if t >= cut]
    if len(base) < 60 or len(rec) < 20 or base[-1][0] - base[0][0] < 5 * DAY:
        return []
    usual, recent = statistics.median(v for _, v in base), statistics.median(v for _, v in rec)
    if recent < usual * 1.2 or recent - usual < 1.0:
        return []
    return [Insight(kind="consumption_high", about="consumption", key="consumption_high", since=rec[0][0],
                    until=rec[-1][0], confidence=round(_clamp(0.5 + (recent / usual - 1.2)), 2),
                    evidence=[Evidence(name="recent", value=round(recent, 1), unit="l/100km", signal=CONS,
                                       since=rec[0][0], until=rec[-1][0]),
                              Evidence(name="usual", value=round(usual, 1), unit="l/100km", signal=CONS,
                                       since=base[0][0], until=base[-1][0]),
                              Evidence(name="days", value=round(recent_days), unit="d", signal=CONS,
                                       since=rec[0][0], until=rec[-1][0])])]


def service_forecast(store: HistoryStore, now: float, window_days: float = 14.0,
                     notable_within_days: float = 30.0) -> list[Insight]:
    """When the service falls due at the usual daily distance (odometer over the last weeks)."""
    since = now - window_days * DAY
    odo = store.samples(ODO, since, now)
    dist = store.samples(DIST_SERVICE, now - 2 * DAY, now)
    if len(odo) < 2 or not dist:
        return []
    span = (odo[-1][0] - odo[0][0]) / DAY
    if span < 3.0:
        return []
    per_day = (odo[-1][1] - odo[0][1]) / max(span, (now - odo[0][0]) / DAY)
    left = dist[-1][1]
    if per_day < 1.0 or left <= 0:
        return []
    days_left = left / per_day
    return [Insight(kind="service_forecast", about="service", key="service_forecast", severity="info",
                    confidence=round(_clamp(0.5 + span / 30), 2), since=odo[0][0], until=odo[-1][0],
                    notable=days_left <= notable_within_days,
                    evidence=[Evidence(name="km_per_day", value=round(per_day), unit="km", signal=ODO,
                                       since=odo[0][0], until=odo[-1][0]),
                              Evidence(name="distance_left", value=round(left), unit="km", signal=DIST_SERVICE,
                                       since=dist[-1][0], until=dist[-1][0]),
                              Evidence(name="days_left", value=round(days_left), unit="d", signal=DIST_SERVICE,
                                       since=odo[0][0], until=dist[-1][0])])]


def fuel_parked(store: HistoryStore, now: float, window_days: float = 7.0) -> list[Insight]:
    """The fuel level lower when the engine starts than when it was last stopped."""
    since = now - window_days * DAY
    fuel = store.samples(FUEL, since, now)
    if len(fuel) < 4:
        return []
    stops = [e.t for e in store.events("engine_stop", since, now)]
    starts = [e.t for e in store.events("engine_start", since, now)]
    drops, hours, first, last = [], 0.0, None, None
    for stop in stops:
        start = next((s for s in starts if s > stop), None)
        if start is None or start - stop < 3600:
            continue
        before = [v for t, v in fuel if stop - 180 <= t <= stop + 5]
        after = [v for t, v in fuel if start - 5 <= t <= start + 180]
        if not before or not after:
            continue
        drop = before[-1] - after[0]
        if drop >= 1.5:
            drops.append(drop)
            hours += (start - stop) / 3600
            first = stop if first is None else first
            last = start
    total = sum(drops)
    if not ((len(drops) >= 2 and total >= 3.0) or any(d >= 5.0 for d in drops)):
        return []
    return [Insight(kind="fuel_parked", about="fuel", key="fuel_parked", since=first, until=last,
                    confidence=round(_clamp(0.5 + 0.05 * total), 2),
                    evidence=[Evidence(name="drop", value=round(total), unit="%", signal=FUEL, since=first, until=last),
                              Evidence(name="times", value=len(drops), signal=FUEL, since=first, until=last),
                              Evidence(name="days", value=max(1, round((last - first) / DAY)), unit="d", signal=FUEL,
                                       since=first, until=last)])]


DETECTORS = {"tyres": (tyre_leak,), "battery": (battery_weak,), "engine": (engine_hot,),
             "consumption": (consumption_high,), "service": (service_forecast,), "fuel": (fuel_parked,)}


def detect(store: HistoryStore, about: str = "all", now: float | None = None) -> list[Insight]:
    """Every insight on ``about`` (all topics for ``all``), warnings first. Forecasts with
    nothing to act on yet (``notable`` False) come back only when asked about."""
    now = time.time() if now is None else now
    topics = [a for a in DETECTORS] if about == "all" else [about]
    out: list[Insight] = []
    for topic in topics:
        for fn in DETECTORS[topic]:
            out += [i for i in fn(store, now) if i.notable or about != "all"]
    out.sort(key=lambda i: (i.severity != "warning", -i.confidence))
    return out
