"""``get_insights``: trends in this car's history (a slow tyre leak, a weakening 12 V battery, an
engine hotter than its own normal, consumption above usual, the service forecast, fuel lost
while parked), as typed results with their evidence.

The history is the one attached to the vehicle state (:func:`assistant.history.attach`); a
state without one, or a store that cannot be read, answers ``unavailable``; less than a day of
history answers ``too_little`` (never "no trend" from nothing). Registered in
:data:`assistant.tools.vehicle.TOOLS`; rendered by :mod:`assistant.answer.insights`.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from assistant import history
from assistant.history.detectors import MIN_HISTORY_DAYS, About, Insight, detect, history_span
from assistant.tools.schemas import Quantity

log = logging.getLogger(__name__)

DESCRIPTION = ("Trends in this car's recorded history that warn before a failure: a tyre slowly losing air, "
               "a weakening 12 V battery, the engine running hotter than usual, fuel consumption above usual, "
               "when the service falls due at the usual daily distance, fuel lost while parked; 'is anything "
               "about to go wrong?', 'how is the battery doing?'.")

# Live readings said beside a trend question's answer (what the driver can check it against).
LIVE = {"battery": ("Vehicle.LowVoltageBattery.CurrentVoltage", 1),
        "engine": ("Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature", 0),
        "consumption": ("Vehicle.Powertrain.FuelSystem.AverageConsumption", 1),
        "fuel": ("Vehicle.Powertrain.FuelSystem.RelativeLevel", 0),
        "service": ("Vehicle.Service.DistanceToService", 0)}


class InsightsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    about: About = Field("all", description="what the driver asked about: all (anything about to go wrong), "
                                            "tyres, battery (12 V), engine, consumption, service, fuel")


class InsightsResult(BaseModel):
    about: About = "all"
    status: Literal["ok", "too_little", "unavailable"] = Field(
        description="ok: enough history was read; too_little: under a day of history; unavailable: no history")
    history_days: Optional[float] = Field(None, description="days of history read")
    insights: list[Insight] = Field(default_factory=list, description="the findings, warnings first")
    live: list[Quantity] = Field(default_factory=list, description="the live reading of what was asked, when read")
    problem: Optional[str] = Field(None, description="why the history is unavailable or was restarted")

    @property
    def said_last(self) -> bool:
        """Nothing to tell from the history yet: said after the turn's live readings."""
        return self.status != "ok"


def get_insights(view, args: InsightsArgs) -> InsightsResult:
    live = []
    if args.about in LIVE:
        name, digits = LIVE[args.about]
        if name in view.capabilities:
            q = view.read(name, digits=digits)
            if q.ok:
                live.append(q)
    store = history.for_state(view.state)
    if store is None:
        return InsightsResult(about=args.about, status="unavailable", live=live, problem="no history is recorded")
    now = time.time()
    try:
        _, days = history_span(store, now)
        if days < MIN_HISTORY_DAYS:
            return InsightsResult(about=args.about, status="too_little", history_days=round(days, 2), live=live,
                                  problem=store.problem)
        found = detect(store, args.about, now)
    except (sqlite3.Error, OSError) as e:
        log.warning("history: cannot read %s: %s", store.path, e)
        return InsightsResult(about=args.about, status="unavailable", live=live, problem=f"{type(e).__name__}: {e}")
    return InsightsResult(about=args.about, status="ok", history_days=round(days, 1), insights=found, live=live,
                          problem=store.problem)
