"""The recorder: the live vehicle state, downsampled into the history store.

It reads the state (never the bus: it adds nothing to the frame path) on its own thread: the
12 V voltage and the speed every ``poll_s`` (0.5 s), the lamps every ``lamps_every_s`` (1 s),
every signal only when a sample is due. It keeps:

* one sample per numeric canonical signal per ``driving_interval_s`` (60 s) while the engine
  runs or the car moves, one per ``parked_interval_s`` (10 min) while the head unit is awake
  and the car is parked, and a sample of every signal at each engine start and stop;
* events: ``wake`` (the first reading after the unit starts, with the resting 12 V voltage
  while the engine is off), ``engine_start`` (with the lowest voltage read in the 10 s before
  it: the dip while cranking, as seen at 2 readings a second), ``engine_stop``, and every lamp
  change (``lamp``, the lamp's name and its state, within a second).

The engine counts as running while the 12 V voltage is at charging level (``ENGINE_ON_V``,
13.2 V: the alternator is charging) or the car moves; a car without a voltage reading records
on speed alone. Only fresh readings are recorded: a stale or unavailable signal is a gap in the
history, never a value.

Writes are batched: the samples and events of ``flush_s`` (2 s) go in one transaction, so a
power cut loses at most those; the cost per received frame is measured by ``bench/history.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable

from assistant.history.store import Event, HistoryStore
from assistant.state.signals import CATALOG, TELLTALES, Kind

log = logging.getLogger(__name__)

VOLTAGE = "Vehicle.LowVoltageBattery.CurrentVoltage"
SPEED = "Vehicle.Speed"
ENGINE_ON_V = 13.2
RECORDED = tuple(n for n, s in CATALOG.items() if s.kind is Kind.NUMBER)
LAMPS = tuple(f"Vehicle.Telltale.{n}" for n in TELLTALES)


def _fresh(r) -> float | None:
    return float(r.value) if r is not None and r.fresh and isinstance(r.value, (int, float)) \
        and not isinstance(r.value, bool) else None


class Recorder:
    def __init__(self, state, store: HistoryStore, *, driving_interval_s: float = 60.0,
                 parked_interval_s: float = 600.0, flush_s: float = 2.0, poll_s: float = 0.5,
                 clock: Callable[[], float] = time.time, limits_every_s: float = 3600.0,
                 lamps_every_s: float = 1.0):
        self.state = state
        self.store = store
        self.driving_interval_s = driving_interval_s
        self.parked_interval_s = parked_interval_s
        self.flush_s = flush_s
        self.poll_s = poll_s
        self.clock = clock
        self.limits_every_s = limits_every_s
        caps = set(getattr(state, "capabilities", None) or CATALOG)
        self.signals = [n for n in RECORDED if n in caps]
        self.lamps = [n for n in LAMPS if n in caps]
        self._quick = [n for n in (VOLTAGE, SPEED) if n in caps]
        self.lamps_every_s = lamps_every_s
        self._last_lamps: float | None = None
        self._samples: list[tuple[str, float, float]] = []
        self._events: list[Event] = []
        self._running: bool | None = None
        self._awake = False
        self._lamp: dict[str, str] = {}
        self._volts: deque = deque()
        self._last_sample = -1e18
        self._last_flush: float | None = None
        self._last_limits: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.polls = 0
        self.rows_written = 0
        self.failed: str | None = None        # the store failed: recording stopped, answers go on

    # -- one look at the state ---------------------------------------------------------------

    def poll(self, now: float | None = None) -> None:
        """One look: the voltage and speed every poll (engine start, stop, the dip), the lamps
        every ``lamps_every_s``, every signal only when a sample is due."""
        now = self.clock() if now is None else now
        self.polls += 1
        quick = self.state.snapshot(self._quick)
        volts = _fresh(quick.get(VOLTAGE))
        speed = _fresh(quick.get(SPEED))
        if volts is not None:
            self._volts.append((now, volts))
            while self._volts and now - self._volts[0][0] > 10.0:
                self._volts.popleft()
        if self._quick and volts is None and speed is None:
            running = self._running if self._running is not None else False
            alive = False
        else:
            running = (volts is not None and volts >= ENGINE_ON_V) or (speed is not None and speed > 1.0)
            alive = bool(self._quick)
        lamps_due = self._last_lamps is None or now - self._last_lamps >= self.lamps_every_s
        force = False
        if self._running is not None and running != self._running:
            if running:
                dip = min((v for _, v in self._volts), default=None)
                self._events.append(Event(now, "engine_start", VOLTAGE if dip is not None else None, dip))
            else:
                self._events.append(Event(now, "engine_stop"))
            force = True
        interval = self.driving_interval_s if running else self.parked_interval_s
        values = None
        if force or not self._awake or now - self._last_sample >= interval or (lamps_due and not self._quick):
            snap = self.state.snapshot(self.signals)
            values = {n: float(r.value) for n, r in snap.items() if r.fresh and r.value is not None
                      and not isinstance(r.value, bool)}
            alive = alive or bool(values)
        if alive and not self._awake:
            self._awake = True
            self._events.append(Event(now, "wake", VOLTAGE if volts is not None else None,
                                      volts if volts is not None and not running else None))
            if running and self._running is None:
                self._events.append(Event(now, "engine_start"))     # woke with the engine already running
            force = True
        self._running = running
        if lamps_due:
            self._last_lamps = now
            lamps = self.state.snapshot(self.lamps)
            for lamp, r in lamps.items():
                if r.fresh and r.value is not None and self._lamp.get(lamp) != r.value:
                    self._lamp[lamp] = r.value
                    self._events.append(Event(now, "lamp", lamp.rsplit(".", 1)[1], None, str(r.value)))
        if values and (force or now - self._last_sample >= interval):
            self._last_sample = now
            self._samples += [(n, now, v) for n, v in values.items()]
        if self._last_flush is None:
            self._last_flush = now
        if now - self._last_flush >= self.flush_s:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        self._last_flush = now
        if not (self._samples or self._events) or self.failed:
            self._samples, self._events = [], []
            return
        samples, events = self._samples, self._events
        self._samples, self._events = [], []
        try:
            self.store.write(samples, events)
            self.rows_written += len(samples) + len(events)
            if self._last_limits is None:
                self._last_limits = now
            elif now - self._last_limits >= self.limits_every_s:
                self._last_limits = now
                self.store.enforce_limits(now)
        except Exception as e:  # noqa: BLE001 - a failing disk costs the history, not the assistant
            self.failed = f"{type(e).__name__}: {e}"
            log.warning("history: recording stopped: %s", self.failed)

    # -- background ----------------------------------------------------------------------------

    def start(self) -> "Recorder":
        self._thread = threading.Thread(target=self._run, name="history", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.poll()
            except Exception as e:  # noqa: BLE001
                self.failed = f"{type(e).__name__}: {e}"
                log.warning("history: recorder failed: %s", self.failed)
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2.0)
        try:
            self.flush()
        except Exception:  # noqa: BLE001
            pass
