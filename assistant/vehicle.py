"""The assistant's live view of one car: profile + vehicle state + the bus reader feeding it.

``LiveVehicle.from_bus`` reads a real bus (``can0``/``vcan0``). ``LiveVehicle.from_scenario``
is the bench without vcan: the simulator plays the scenario on python-can's in-process
``virtual`` bus and the very same BusReader reads it back (encode -> frames -> decode).
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import can

from assistant.sim.scenario import Scenario, check_against_profile, load_scenario, resolve_scenario_path
from assistant.sim.simulator import Simulator
from assistant.can.bus import BusConfig, open_bus
from assistant.can.profile import VehicleProfile, load_profile
from assistant.can.reader import BusReader
from assistant.state.store import MISSING, VehicleState

_channel_ids = itertools.count()


def _close(got, want) -> bool:
    if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(got, (int, float)):
        return abs(got - want) <= max(0.02 * abs(want), 1.0)
    return got == want


class LiveVehicle:
    def __init__(self, profile: VehicleProfile, cfg: BusConfig, scenario: Scenario | None = None,
                 on_status=None):
        self.profile = profile
        self.cfg = cfg
        self.scenario = scenario
        self.state = VehicleState.for_profile(profile)
        self.reader = BusReader(cfg, profile, self.state, on_status=on_status)
        self.simulator: Simulator | None = None
        self._sim_bus: can.BusABC | None = None

    @classmethod
    def from_bus(cls, cfg: BusConfig, profile: str | Path = "demo", on_status=None) -> "LiveVehicle":
        return cls(load_profile(profile), cfg, on_status=on_status)

    @classmethod
    def from_scenario(cls, scenario: str | Path | Scenario, cfg: BusConfig | None = None,
                      profile: str | Path | None = None, on_status=None) -> "LiveVehicle":
        if isinstance(scenario, Scenario):
            sc, where = scenario, f"scenario {scenario.name}"
        else:
            where = resolve_scenario_path(scenario)
            sc = load_scenario(where)
        prof = load_profile(profile or sc.vehicle)
        check_against_profile(sc, prof, where)
        if cfg is None:   # a private in-process bus: parallel runs never see each other's frames
            cfg = BusConfig(interface="virtual", channel=f"assistant-{os.getpid()}-{next(_channel_ids)}")
        return cls(prof, cfg, scenario=sc, on_status=on_status)

    def start(self, wait: float = 3.0) -> "LiveVehicle":
        """Start reading (and simulating); wait until the scenario's signals have arrived."""
        self.reader.start()
        self.reader.connected.wait(wait)
        if self.scenario is not None:
            self._sim_bus = open_bus(self.cfg)
            self.simulator = Simulator(self._sim_bus, self.profile, self.scenario).start()
            self.wait_for(self.scenario.signals, wait)
        return self

    def wait_for(self, names, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        names = list(names)
        while time.monotonic() < deadline:
            snap = self.state.snapshot(names)
            if all(r.status != MISSING for r in snap.values()):
                return True
            time.sleep(0.01)
        return False

    def wait_for_values(self, values: dict, timeout: float) -> bool:
        """Wait until the state shows ``values`` (after a change on the bus), within resolution."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.state.snapshot(list(values))
            if all(_close(snap[n].value, v) for n, v in values.items()):
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        if self.simulator:
            self.simulator.stop()
        if self._sim_bus:
            self._sim_bus.shutdown()
        self.reader.stop()

    def __enter__(self) -> "LiveVehicle":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
