"""The live vehicle state: per canonical signal the latest value, unit, receive time, source
frame, freshness and a short history.

One writer (the bus reader's thread) calls :meth:`VehicleState.update`; any number of readers
on other threads call :meth:`get` / :meth:`snapshot` and get consistent, immutable
:class:`Reading` objects. Freshness is derived at read time from the receive time and the
signal's ``stale_after`` (a few missed cycles of its message): nothing is "fresh forever".

Two times per value, never mixed:

* ``t``, the **receive time on the state's own clock** (``clock``, default ``time.monotonic``):
  the only thing ages and freshness come from. The bus reader stamps each frame with
  ``state.clock()`` as it arrives, whatever timestamp the frame carries, so a sender or
  interface whose clock is an hour ahead, monotonic, or 0.5 cannot make a value fresh for
  an hour or stale on arrival.
* ``stamp``, the frame's **own timestamp** (interface, kernel or log clock; wall clock on
  socketcan and the virtual bus): kept for display (:attr:`Reading.timestamp`) and for the
  short history, which is decimated on it so a recording fed at full speed keeps its
  relative timing. Defaults to ``t`` for values set without a frame.

Replaying a log *into* a state (no bus in between) uses log time for both: a state with
``clock=`` returning the log's "now" and ``FrameDecoder(..., timing="message")``, or
``get``/``snapshot(now=<log time>)``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from assistant.state.signals import CATALOG
from assistant.state.values import NOT_AVAILABLE

OK, STALE, UNAVAILABLE, MISSING = "ok", "stale", "unavailable", "missing"


@dataclass(frozen=True)
class Reading:
    name: str
    value: Any                 # canonical value; None unless status is "ok" or "stale"
    unit: str | None
    status: str                # ok | stale | unavailable (sender says SNA, or out of range) | missing (never received)
    timestamp: float | None    # the frame's own timestamp (display only: never used for age)
    age: float | None          # seconds since received, on the state's clock
    stale_after: float
    source: str | None         # "Message.Signal" the value came from

    @property
    def fresh(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "status": self.status,
                "age_s": None if self.age is None else round(self.age, 3),
                "stale_after_s": self.stale_after, "source": self.source}


class VehicleState:
    """Thread-safe latest-value store keyed by canonical signal name."""

    def __init__(self, stale_after: dict[str, float] | None = None, *, default_stale_after: float = 2.0,
                 history_len: int = 120, history_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, not_available: Any = None):
        self._stale_after = dict(stale_after or {})
        self._default_stale = default_stale_after
        self._history_len = history_len
        self._history_interval = history_interval
        self._clock = clock
        self._na = not_available          # sentinel the decoder uses for "sender says not available"
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[Any, float, str, float]] = {}   # value, t, source, stamp
        self._history: dict[str, deque] = {}
        self._history_t: dict[str, float] = {}
        # name -> (value, t): the last real value of a signal whose latest is "not available",
        # so a lamp last read ON that turns unreadable is still known to have been ON.
        self._last_good: dict[str, tuple[Any, float]] = {}
        self.updates = 0

    @classmethod
    def for_profile(cls, profile, **kw) -> "VehicleState":
        """A state for a vehicle profile (anything with ``mappings`` of ``stale_after`` and
        ``capabilities``), whose decoder writes ``NOT_AVAILABLE`` for "not available"."""
        stale = {name: m.stale_after for name, m in profile.mappings.items()}
        st = cls(stale, not_available=NOT_AVAILABLE, **kw)
        st.capabilities = profile.capabilities
        return st

    capabilities: list[str] = []

    @property
    def clock(self) -> Callable[[], float]:
        """The clock ages are measured on (``time.monotonic`` unless given): writers stamp
        values with it when they receive them."""
        return self._clock

    # -- writer side (hot path) --------------------------------------------------------------

    def update(self, name: str, value: Any, t: float, source: str, stamp: float | None = None) -> None:
        """Set a value received at ``t`` (on :attr:`clock`); ``stamp``: its frame's own timestamp."""
        with self._lock:
            self.put(name, value, t, source, stamp)

    @property
    def lock(self) -> threading.Lock:
        """Writers that set several signals of one frame hold this once and call :meth:`put`
        (or use :meth:`frame_writer`)."""
        return self._lock

    @property
    def history_interval(self) -> float:
        return self._history_interval

    def frame_writer(self) -> tuple[threading.Lock, dict, Callable[[tuple, float], None], dict]:
        """The bus reader's hot path, a frame at a time, without a call per signal:
        ``(lock, latest, record_history)``. Holding ``lock``, set ``latest[name] = (value, t,
        source, stamp)`` for each signal of the frame and add their number to
        :attr:`updates`; when the frame's ``stamp`` is :attr:`history_interval` past the last
        frame of its id that went into the history (or before it: the sender's clock went
        back), call ``record_history(names, stamp)``: the history is decimated per frame
        rather than per signal. The fourth item, ``last_good``, takes ``name -> (value, t)`` of
        the entry being replaced whenever a frame writes "not available" over a real value (see
        :meth:`last_good`)."""
        return self._lock, self._latest, self._record_history, self._last_good

    def _record_history(self, names: tuple, stamp: float) -> None:
        latest, na = self._latest, self._na
        for name in names:
            entry = latest.get(name)
            if entry is None or entry[3] != stamp or entry[0] is na:
                continue                           # not in this frame (mux) / not available
            self._history_t[name] = stamp
            h = self._history.get(name)
            if h is None:
                h = self._history[name] = deque(maxlen=self._history_len)
            h.append((stamp, entry[0]))

    def put(self, name: str, value: Any, t: float, source: str, stamp: float | None = None) -> None:
        """Set a value; the caller holds :attr:`lock`."""
        if stamp is None:
            stamp = t
        if value is self._na:
            prev = self._latest.get(name)
            if prev is not None and prev[0] is not self._na:
                self._last_good[name] = (prev[0], prev[1])
        self._latest[name] = (value, t, source, stamp)
        self.updates += 1
        if value is not self._na:
            dt = stamp - self._history_t.get(name, -1e18)
            if dt >= self._history_interval or dt < 0:     # dt < 0: the sender's clock went back
                self._history_t[name] = stamp
                h = self._history.get(name)
                if h is None:
                    h = self._history[name] = deque(maxlen=self._history_len)
                h.append((stamp, value))

    # -- reader side ---------------------------------------------------------------------------

    def stale_after(self, name: str) -> float:
        return self._stale_after.get(name, self._default_stale)

    def _reading(self, name: str, entry: tuple[Any, float, str, float] | None, now: float) -> Reading:
        spec = CATALOG.get(name)
        unit = spec.unit if spec else None
        limit = self.stale_after(name)
        if entry is None:
            return Reading(name, None, unit, MISSING, None, None, limit, None)
        value, t, source, stamp = entry
        age = max(0.0, now - t)
        if age > limit:
            status = STALE
        elif value is self._na:
            status = UNAVAILABLE
        else:
            status = OK
        if value is self._na:
            value = None
        return Reading(name, value, unit, status, stamp, age, limit, source)

    def get(self, name: str, now: float | None = None) -> Reading:
        now = self._clock() if now is None else now
        with self._lock:
            entry = self._latest.get(name)
        return self._reading(name, entry, now)

    def snapshot(self, names: Iterable[str] | None = None, now: float | None = None) -> dict[str, Reading]:
        """Consistent view of many signals at one instant (default: capabilities + received)."""
        now = self._clock() if now is None else now
        with self._lock:
            latest = dict(self._latest)
        if names is None:
            names = sorted(set(self.capabilities) | set(latest))
        return {n: self._reading(n, latest.get(n), now) for n in names}

    def last_good(self, name: str, now: float | None = None) -> tuple[Any, float | None]:
        """``(value, age)`` of the last real reading of ``name``: the latest value if it is one
        (fresh or stale), else the one a "not available" replaced; ``(None, None)`` if none."""
        now = self._clock() if now is None else now
        with self._lock:
            entry = self._latest.get(name)
            if entry is not None and entry[0] is not self._na:
                return entry[0], max(0.0, now - entry[1])
            good = self._last_good.get(name)
        return (good[0], max(0.0, now - good[1])) if good else (None, None)

    def history(self, name: str) -> list[tuple[float, Any]]:
        """``(frame timestamp, value)`` pairs, at most one per ``history_interval`` of frame time."""
        with self._lock:
            return list(self._history.get(name, ()))

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()
            self._history.clear()
            self._history_t.clear()
            self._last_good.clear()
