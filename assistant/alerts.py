"""Proactive alerts: the assistant speaks up when a warning lamp comes on.

* A critical lamp turning on (OFF -> ON/BLINK, or a check-engine lamp starting to blink) is
  announced with the fixed safety wording within one poll (0.2 s; the telltale frame itself
  arrives every 100 ms on the demo car), once; while it stays on, a reminder follows every
  ``persona.proactive.reminder_s`` seconds. A lamp that flickers is not re-announced within
  ``min_repeat_s``.
* Non-critical lamps (low fuel, service due, tyre pressure, ABS, steady check engine) are
  announced at most once per drive (per monitor), and only if the persona allows it.
* At most one alert per lamp per poll; critical alerts come first.
* A trend found in the vehicle history (a tyre slowly losing air, a weakening battery: see
  ``assistant/history/announce.py``) is announced under the same persona policy as non-critical
  lamps, rate-limited, once per finding, never while a critical warning is on or just said.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from assistant.answer.render import Style
from assistant.state.signals import TELLTALES
from assistant.state.store import VehicleState
from assistant.state.telltales import announced_lamps, is_critical


@dataclass(frozen=True)
class Alert:
    lamp: str
    state: str              # ON | BLINK
    critical: bool
    text: str
    reminder: bool = False
    at: float = 0.0         # monotonic time it was raised


class AlertMonitor:
    def __init__(self, state: VehicleState, style: Style | None = None, on_alert: Callable[[Alert], None] | None = None,
                 *, announce_non_critical: bool = True, reminder_s: float = 120.0, min_repeat_s: float = 10.0,
                 poll_s: float = 0.2, clock: Callable[[], float] = time.monotonic):
        self.state = state
        self.style = style or Style()
        self.on_alert = on_alert or (lambda a: None)
        self.announce_non_critical = announce_non_critical
        self._non_critical = announced_lamps()     # data/telltales.yaml: warnings, and announce: true
        self.reminder_s = reminder_s
        self.min_repeat_s = min_repeat_s
        self.poll_s = poll_s
        self.clock = clock
        self.lamps = [n for n in TELLTALES if f"Vehicle.Telltale.{n}" in (state.capabilities or [])] or list(TELLTALES)
        self._last: dict[str, str] = {}             # lamp -> last fresh value
        self._announced_at: dict[str, float] = {}   # critical lamp -> last announcement
        self._once: set[str] = set()                # non-critical lamps announced this drive
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.history: list[Alert] = []
        # Trends found in the vehicle history (assistant/history/announce.py): same persona policy.
        from assistant.history.announce import InsightAnnouncer
        self.insights = InsightAnnouncer(state, self.style) if announce_non_critical else None

    @classmethod
    def for_persona(cls, state: VehicleState, persona, style: Style, on_alert, **kw) -> "AlertMonitor":
        if persona is not None:
            kw.setdefault("announce_non_critical", persona.proactive.announce_non_critical)
            kw.setdefault("reminder_s", persona.proactive.reminder_s)
        return cls(state, style, on_alert, **kw)

    def _text(self, lamp: str, value: str, critical: bool) -> str:
        t = self.style.telltale(lamp)
        if critical:
            return t["safety"]
        return self.style.phrase("alert_on", label=t["label"], action=t["action"])

    def poll(self) -> list[Alert]:
        """Check the lamps once; raise (and return) the alerts due now."""
        now = self.clock()
        snap = self.state.snapshot([f"Vehicle.Telltale.{n}" for n in self.lamps])
        raised: list[Alert] = []
        for lamp in self.lamps:
            r = snap[f"Vehicle.Telltale.{lamp}"]
            if not r.fresh:
                continue                          # unreadable: never guess a change
            value, before = r.value, self._last.get(lamp, "OFF")
            self._last[lamp] = value
            if value not in ("ON", "BLINK"):
                continue
            critical = is_critical(lamp, value)
            if critical:
                turned_on = before not in ("ON", "BLINK") or (value == "BLINK" and before == "ON")
                last = self._announced_at.get(lamp)
                if turned_on and (last is None or now - last >= self.min_repeat_s):
                    raised.append(Alert(lamp, value, True, self._text(lamp, value, True), False, now))
                elif last is not None and now - last >= self.reminder_s:
                    raised.append(Alert(lamp, value, True, self._text(lamp, value, True), True, now))
            elif self.announce_non_critical and lamp in self._non_critical and lamp not in self._once \
                    and before not in ("ON", "BLINK"):
                raised.append(Alert(lamp, value, False, self._text(lamp, value, False), False, now))
        raised.sort(key=lambda a: not a.critical)
        if self.insights is not None and not raised:      # never over a critical warning being spoken
            critical_on = any(is_critical(n, v) for n, v in self._last.items() if v in ("ON", "BLINK"))
            last = max(self._announced_at.values(), default=None)
            found = self.insights.due(now, critical_on, last)
            if found is not None:
                raised.append(Alert("insight", "ON", False, self.insights.text(found), False, now))
        for a in raised:
            if a.critical:
                self._announced_at[a.lamp] = now
            elif a.lamp != "insight":
                self._once.add(a.lamp)
            self.history.append(a)
            self.on_alert(a)
        return raised

    # -- background --------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """Whether the monitor thread is running (started, not yet ended)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "AlertMonitor":
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2.0)
