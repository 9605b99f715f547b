"""The live vehicle state: per canonical signal the latest value, unit, receive time, source
frame, freshness and a short history.

One writer (the bus reader's thread) calls :meth:`VehicleState.update`; any number of readers
on other threads call :meth:`get` / :meth:`snapshot` and get consistent, immutable
:class:`Reading` objects. Freshness is derived at read time from the receive time and the
signal's ``stale_after`` (a few missed cycles of its message): nothing is "fresh forever".
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from assistant.state.signals import CATALOG

OK, STALE, UNAVAILABLE, MISSING = "ok", "stale", "unavailable", "missing"


@dataclass(frozen=True)
class Reading:
    name: str
    value: Any                 # canonical value; None unless status is "ok" or "stale"
    unit: str | None
    status: str                # ok | stale | unavailable (sender says SNA) | missing (never received)
    timestamp: float | None    # receive time, seconds since the epoch
    age: float | None          # seconds since received
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
                 clock: Callable[[], float] = time.time, not_available: Any = None):
        self._stale_after = dict(stale_after or {})
        self._default_stale = default_stale_after
        self._history_len = history_len
        self._history_interval = history_interval
        self._clock = clock
        self._na = not_available          # sentinel the decoder uses for "sender says not available"
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[Any, float, str]] = {}
        self._history: dict[str, deque] = {}
        self._history_t: dict[str, float] = {}
        self.updates = 0

    @classmethod
    def for_profile(cls, profile, **kw) -> "VehicleState":
        from assistant.can.profile import NOT_AVAILABLE
        stale = {name: m.stale_after for name, m in profile.mappings.items()}
        st = cls(stale, not_available=NOT_AVAILABLE, **kw)
        st.capabilities = profile.capabilities
        return st

    capabilities: list[str] = []

    # -- writer side (hot path) --------------------------------------------------------------

    def update(self, name: str, value: Any, t: float, source: str) -> None:
        with self._lock:
            self.put(name, value, t, source)

    @property
    def lock(self) -> threading.Lock:
        """Writers that set several signals of one frame hold this once and call :meth:`put`."""
        return self._lock

    def put(self, name: str, value: Any, t: float, source: str) -> None:
        """Set a value; the caller holds :attr:`lock`."""
        self._latest[name] = (value, t, source)
        self.updates += 1
        if value is not self._na and t - self._history_t.get(name, -1e18) >= self._history_interval:
            self._history_t[name] = t
            h = self._history.get(name)
            if h is None:
                h = self._history[name] = deque(maxlen=self._history_len)
            h.append((t, value))

    # -- reader side ---------------------------------------------------------------------------

    def stale_after(self, name: str) -> float:
        return self._stale_after.get(name, self._default_stale)

    def _reading(self, name: str, entry: tuple[Any, float, str] | None, now: float) -> Reading:
        spec = CATALOG.get(name)
        unit = spec.unit if spec else None
        limit = self.stale_after(name)
        if entry is None:
            return Reading(name, None, unit, MISSING, None, None, limit, None)
        value, t, source = entry
        age = max(0.0, now - t)
        if age > limit:
            status = STALE
        elif value is self._na:
            status = UNAVAILABLE
        else:
            status = OK
        if value is self._na:
            value = None
        return Reading(name, value, unit, status, t, age, limit, source)

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

    def history(self, name: str) -> list[tuple[float, Any]]:
        with self._lock:
            return list(self._history.get(name, ()))

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()
            self._history.clear()
            self._history_t.clear()
