"""Rendering of ``get_insights`` results: each finding in one sentence, every number from the
history (the insight's evidence) recorded as a fact, so the grounding check holds model
wording to it like any other answer.

* no history or an unreadable one: "I can't read the vehicle history right now" (a can't-read);
* under a day of history: not enough history yet (never "no trend");
* enough history and nothing found: "I see no worrying trend in the last N days of history";
* findings: the tyre and its rate, the battery's resting voltage then and now (and the start
  dip), the engine's recent and usual temperature, consumption recent and usual, the service
  forecast, fuel lost while parked. A finding is never cut by a length cap (``must``).

Registered in :data:`assistant.answer.render.RENDERERS` when this module is imported (by
``assistant.tools.vehicle``, with the tool: render.py itself does not import it, so there is no
import cycle).
"""

from __future__ import annotations

from assistant.answer.render import RENDERERS, Rendering, Style
from assistant.tools.insights import InsightsResult
from assistant.tools.schemas import Quantity

_WHAT = {"tyres": "insight_tyres", "battery": "insight_battery", "engine": "insight_engine",
         "consumption": "insight_consumption", "fuel": "insight_fuel"}


def _q(s: Style, ev, value=None, key: bool = True) -> str:
    """An evidence number as the listener hears it (their units), recorded as a fact of its signal."""
    v = ev.value if value is None else value
    if ev.unit == "d":
        v = max(1, round(v))
    return s.quantity(Quantity(signal=ev.signal or "history", value=v, unit=ev.unit), key=key)


def _days(s: Style, n: float, signal: str = "history") -> str:
    return s.quantity(Quantity(signal=signal, value=max(1, round(n)), unit="d"))


def _when(s: Style, out: Rendering, days_left: float, signal: str) -> str:
    """A forecast in days, or in weeks from two weeks on ("about 3 weeks")."""
    if days_left < 14:
        return _days(s, days_left, signal)
    weeks = round(days_left / 7)
    out.fact("number", float(weeks), said=f"{s.number(weeks)} {s.word('weeks')}")
    out.fact("number", float(round(days_left)), unit="d", key=False)
    return f"{s.number(weeks)} {s.word('weeks')}"


def _insight(i, s: Style, out: Rendering) -> None:
    e = i.ev
    if i.kind == "tyre_leak":
        out.fact("position", i.subject)
        out.losing_air.add(i.subject)             # the tyre answer then says its pressure, not "fine"
        text = s.phrase("insight_tyre_leak", position=s.position(i.subject), drop=_q(s, e("drop")),
                        days=_q(s, e("days")), rate=_q(s, e("rate_per_day")))
    elif i.kind == "battery_weak":
        s.what("insight_battery")                       # its "12 V" is a number the answer says
        parts = dict(then=_q(s, e("resting_then")), now=_q(s, e("resting_now")), days=_q(s, e("days")))
        if any(x.name == "dip_now" for x in i.evidence):
            text = s.phrase("insight_battery_dip", dip_then=_q(s, e("dip_then")), dip_now=_q(s, e("dip_now")), **parts)
        else:
            text = s.phrase("insight_battery", **parts)
    elif i.kind == "engine_hot":
        text = s.phrase("insight_engine_hot", recent=_q(s, e("recent")), usual=_q(s, e("usual")), days=_q(s, e("days")))
    elif i.kind == "consumption_high":
        text = s.phrase("insight_consumption", recent=_q(s, e("recent")), usual=_q(s, e("usual")),
                        days=_q(s, e("days")))
    elif i.kind == "service_forecast":
        text = s.phrase("insight_service", per_day=_q(s, e("km_per_day")),
                        when=_when(s, out, e("days_left").value, e("days_left").signal))
    elif i.kind == "fuel_parked":
        times = int(e("times").value)
        out.fact("number", float(times))
        text = s.phrase("insight_fuel_parked", drop=_q(s, e("drop")), times=s.number(times), days=_q(s, e("days")))
    else:  # pragma: no cover - a kind without words
        return
    out.add(s.text_numbers(text) if i.kind == "battery_weak" else text, keep=i.notable)


def render_insights(r: InsightsResult, s: Style, out: Rendering) -> None:
    """What the history shows about what was asked (``r.about``), then its live reading."""
    if r.status == "unavailable":
        out.add_cant_read(s.phrase("cant_read", what=s.what("history")), primary=True)
    elif r.status == "too_little":
        out.add(s.phrase("insight_too_little"), primary=True)
    elif r.insights:
        for i in r.insights:
            _insight(i, s, out)
    elif r.about == "service":
        out.add(s.phrase("insight_service_unknown"), primary=True)
    else:
        days = _days(s, r.history_days or 1)
        if r.about in _WHAT:
            out.add(s.phrase("insight_none_about", what=s.what(_WHAT[r.about]), days=days), primary=True)
        else:
            out.add(s.phrase("insight_none", days=days), primary=True)
    for q in r.live:
        out.add(s.phrase("signal_value", what=s.what(q.signal), value=s.quantity(q)))


RENDERERS["get_insights"] = render_insights
