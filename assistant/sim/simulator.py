"""Play a scenario onto a CAN bus: the bench side, and the only code that transmits.

Every message that carries a scenario signal is sent at its DBC cycle time by a python-can
periodic task (``bus.send_periodic``: the kernel's broadcast manager on socketcan, a thread
on other interfaces). Values are encoded with cantools through the vehicle profile.
Timeline steps are applied on time by one timer thread that modifies the tasks' data.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import can

from assistant.sim.scenario import Scenario
from assistant.can.profile import VehicleProfile

log = logging.getLogger(__name__)


class Simulator:
    def __init__(self, bus: can.BusABC, profile: VehicleProfile, scenario: Scenario,
                 on_event: Callable[[str], None] | None = None):
        self.bus = bus
        self.profile = profile
        self.scenario = scenario
        self.values: dict[str, Any] = dict(scenario.signals)
        self._tasks: dict[str, can.broadcastmanager.CyclicSendTaskABC] = {}
        self._frames: dict[str, list[tuple[int, bool, bytes]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timeline: threading.Thread | None = None
        self._on_event = on_event or (lambda s: log.info("%s", s))
        self.started_at: float | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, run_timeline: bool = True) -> "Simulator":
        implied = self.profile.implied_signals(self.values)
        if implied:
            log.warning("%s: left out of the scenario but sharing a frame with it, with no 'not available' "
                        "value in the map, so they go on the bus with the DBC initial value: %s",
                        self.profile.name, ", ".join(implied))
        self.started_at = time.monotonic()
        self._apply(self.values)
        if run_timeline and self.scenario.timeline:
            self._timeline = threading.Thread(target=self._run_timeline, name="sim-timeline", daemon=True)
            self._timeline.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for task in self._tasks.values():
                task.stop()
            self._tasks.clear()
            self._frames.clear()
        if self._timeline and self._timeline is not threading.current_thread():
            self._timeline.join(2.0)

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def messages(self) -> list[str]:
        return sorted(self._tasks)

    # -- changing values -----------------------------------------------------------------------

    def set(self, changes: dict[str, Any], clear: list[str] | tuple[str, ...] = ()) -> None:
        """Change signal values now (and take ``clear`` signals off the bus)."""
        with self._lock:
            values = dict(self.values)
        values.update(changes)
        for n in clear:
            values.pop(n, None)
        self._apply(values)

    def _apply(self, values: dict[str, Any]) -> None:
        frames = self.profile.encode(values)
        with self._lock:
            self.values = values
            for name in list(self._tasks):
                if name not in frames:              # no signal of it left: off the bus
                    self._tasks.pop(name).stop()
                    self._frames.pop(name, None)
            for name, fr in frames.items():
                if self._frames.get(name) == fr:
                    continue
                msgs = [can.Message(arbitration_id=i, is_extended_id=e, data=d) for i, e, d in fr]
                task = self._tasks.get(name)
                if task is not None and len(self._frames[name]) == len(fr) and \
                        isinstance(task, can.broadcastmanager.ModifiableCyclicTaskABC):
                    task.modify_data(msgs if len(msgs) > 1 else msgs[0])
                else:
                    if task is not None:
                        task.stop()
                    period = self.profile.cycle_time(name)
                    # One frame per period; a multiplexed message cycles through its frames.
                    self._tasks[name] = self.bus.send_periodic(msgs if len(msgs) > 1 else msgs[0], period)
                self._frames[name] = fr

    def _run_timeline(self) -> None:
        assert self.started_at is not None
        for step in self.scenario.timeline:
            delay = self.started_at + step.at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            if self._stop.is_set():
                return
            self.set(step.set, step.clear)
            what = ", ".join([f"{k}={v}" for k, v in step.set.items()] + [f"{k} off the bus" for k in step.clear])
            self._on_event(f"t={step.at:g}s: {what}")
