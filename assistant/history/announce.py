"""Proactive announcements of insights (a trend found in the history), for the alert monitor.

The policy, on top of the persona's (``proactive.announce_non_critical``: a persona that does
not announce non-critical lamps does not announce trends either):

* never while a critical warning is on or was announced in the last ``quiet_after_critical_s``
  (its approved wording is being spoken);
* rate-limited: at most one announcement per ``min_gap_s`` (30 min), one per poll;
* never twice for the same finding: each insight's ``key`` is remembered in the history
  database itself (``meta``), so a restart does not repeat it either;
* only notable findings (a service forecast with weeks to go is said when asked, not announced);
* the detectors run every ``check_every_s`` (5 min), not every poll.

The words are those of the ``get_insights`` answer (:mod:`assistant.answer.insights`), in the
persona's language and units.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from assistant import history
from assistant.history.detectors import MIN_HISTORY_DAYS, detect, history_span

log = logging.getLogger(__name__)


class InsightAnnouncer:
    def __init__(self, state, style, *, check_every_s: float = 300.0, min_gap_s: float = 1800.0,
                 quiet_after_critical_s: float = 30.0, wall: Callable[[], float] = time.time):
        self.state = state
        self.style = style
        self.check_every_s = check_every_s
        self.min_gap_s = min_gap_s
        self.quiet_after_critical_s = quiet_after_critical_s
        self.wall = wall
        self._checked: float | None = None
        self._said: float | None = None
        self._pending: list = []

    def text(self, insight) -> str:
        import assistant.answer.insights  # noqa: F401 - its renderer
        from assistant.answer.render import render
        from assistant.tools.insights import InsightsResult
        r = InsightsResult(about=insight.about, status="ok", insights=[insight])
        return render([("get_insights", r)], self.style).text

    def due(self, now: float, critical_on: bool, last_critical_at: float | None):
        """The insight to announce now, if any (then remembered as announced)."""
        if critical_on or (last_critical_at is not None and now - last_critical_at < self.quiet_after_critical_s):
            return None
        if self._said is not None and now - self._said < self.min_gap_s:
            return None
        store = history.for_state(self.state)
        if store is None:
            return None
        if self._checked is None or now - self._checked >= self.check_every_s:
            self._checked = now
            try:
                wall = self.wall()
                _, days = history_span(store, wall)
                found = detect(store, "all", wall) if days >= MIN_HISTORY_DAYS else []
                self._pending = [i for i in found if i.notable and not store.announced(i.key)]
            except Exception as e:  # noqa: BLE001 - a history that fails costs the announcement only
                log.warning("history: insights for an announcement failed: %s", e)
                self._pending = []
        while self._pending:
            insight = self._pending.pop(0)
            if store.announced(insight.key):
                continue
            try:
                store.mark_announced(insight.key)
            except Exception as e:  # noqa: BLE001
                log.warning("history: cannot remember an announcement: %s", e)
            self._said = now
            return insight
        return None
