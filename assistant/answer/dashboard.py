"""Rendering of the dashboard answers: the body (doors, bonnet, tailgate, seat belts, parking
brake, brake pads), charging, a lamp the driver describes by colour and shape, and what a yes/no
or enum reading says (``states`` in the locale files).

The same rules as :mod:`assistant.answer.render`: what was asked first; what cannot be read is
said as such; "everything is closed" only when every opening asked about that this car reports
was read fresh and closed and no lamp says otherwise; a lamp described by colour and shape is
looked for only among the lamps read on now, and when none fits the answer says so and lists
what is on.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from assistant.answer.locales import locale_texts
from assistant.state.telltales import policy
from assistant.tools.body import BodyResult, ChargingResult
from assistant.tools.schemas import Quantity, WarningsResult


Rendering = Any        # assistant.answer.render.Rendering (which imports this module: no cycle)


def _names(s, labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + s.phrase("and") + labels[-1]


def unreadable(s, q: Quantity, what: str | None = None) -> str:
    key = "not_supported" if q.status == "not_supported" else "cant_read"
    return s.phrase(key, what=what or s.what(q.signal))


def state_sentence(s, q: Quantity, out: Rendering | None = None) -> str | None:
    """What a yes/no or enum reading says ("The bonnet is open"), in the style's language; None
    when the locale has no sentence for it. With ``out``, the state it says is a verdict fact
    ("open", "not fastened", "in park"): a rewording that drops or flips it is refused."""
    key = str(q.value).lower() if isinstance(q.value, bool) else str(q.value)
    en = locale_texts("en").states.get(q.signal, {}).get(key)
    said = s.texts.states.get(q.signal, {}).get(key) or en
    if said and en and out is not None and (m := _STATE.search(en)):
        out.fact("verdict", m.group(1))
    return said


_STATE = re.compile(r"\b(?:is|are) (.+)$")


def _lamp_on(s, out: Rendering, name: str, q: Quantity) -> None:
    """A body lamp read on, said with its meaning and what to do."""
    t = s.telltale(name)
    out.fact("lamp", name, state="on")
    state = s.phrase(f"state_{q.value}")
    out.add(s.phrase("warning_on", label=t["label"], state=state, meaning=t["meaning"], action=t["action"]),
            keep=True, short=s.phrase("warning_on_short", label=t["label"], state=state, action=t["action"]))


def _lamps_on(r: BodyResult) -> dict[str, Quantity]:
    return {q.signal.rsplit(".", 1)[1]: q for q in r.lamps if q.ok and q.value in ("ON", "BLINK")}


def _names_of(s, qs: list[Quantity]) -> str:
    return _names(s, [s.what(q.signal) for q in qs])


def _openings(r: BodyResult, s, out: Rendering, lamps: dict[str, Quantity]) -> None:
    if not r.openings:
        return
    asked = r.about != "all"
    opened = [q for q in r.openings if q.ok and q.value is True]
    closed = [q for q in r.openings if q.ok and q.value is False]
    bad = [q for q in r.openings if not q.ok and q.status != "not_supported"]
    unsupported = [q for q in r.openings if q.status == "not_supported"]
    asked_lamps = {"DoorOpen" if ".Door." in q.signal else "BonnetOpen" if ".Hood." in q.signal else "TailgateOpen"
                   for q in r.openings}
    related = [n for n in ("DoorOpen", "BonnetOpen", "TailgateOpen") if n in lamps and n in asked_lamps]
    if len(opened) == 1:
        out.add(state_sentence(s, opened[0], out), keep=True, primary=True)
    elif opened:
        out.fact("verdict", "open")
        out.add(s.phrase("parts_open", parts=_names_of(s, opened)), keep=True, primary=True)
    if r.all_closed and not unsupported and not related:
        if r.about == "doors":
            out.fact("verdict", "closed")
            out.add(s.phrase("doors_all_closed"), primary=True)
        elif len(closed) == 1:
            out.add(state_sentence(s, closed[0], out), primary=True)
        else:
            out.fact("verdict", "closed")
            out.add(s.phrase("all_closed", parts=_names_of(s, closed)), primary=True)
    elif closed and (asked or not opened):
        if len(closed) == 1:
            out.add(state_sentence(s, closed[0], out), primary=asked)
        else:
            out.fact("verdict", "closed")
            out.add(s.phrase("parts_closed", parts=_names_of(s, closed)), primary=asked)
    if bad:
        out.add_cant_read(s.phrase("cant_read", what=_names_of(s, bad)), primary=asked and not (opened or closed))
    if unsupported and (asked or len(unsupported) < len(r.openings)):
        every = len(unsupported) == len(r.openings) > 1
        what = s.what("doors") if every and r.about == "doors" else s.what("body") if every else \
            _names_of(s, unsupported)
        out.add_cant_read(s.phrase("not_supported", what=what), primary=not (opened or closed or bad))
    for name in related:
        if not opened:                          # the lamp is the car's verdict: an opening it does not name
            _lamp_on(s, out, name, lamps[name])


def _belts(r: BodyResult, s, out: Rendering, lamps: dict[str, Quantity]) -> None:
    if not r.belts:
        return
    asked = r.about == "belts"
    loose = [q for q in r.belts if q.ok and q.value is False]
    fastened = [q for q in r.belts if q.ok and q.value is True]
    bad = [q for q in r.belts if not q.ok and q.status != "not_supported"]
    for q in loose:
        out.add(state_sentence(s, q, out), keep=True, primary=asked)
    if len(fastened) == len(r.belts) == 2:
        out.fact("verdict", "fastened")
        out.add(s.phrase("belts_all"), primary=asked)
    elif asked:
        for q in fastened:
            out.add(state_sentence(s, q, out), primary=True)
    if bad and (asked or not fastened):
        out.add_cant_read(s.phrase("cant_read", what=_names_of(s, bad)), primary=asked)
    if asked and r.belts and all(q.status == "not_supported" for q in r.belts):
        out.add_cant_read(s.phrase("not_supported", what=s.what("belts")), primary=True)
    if "SeatBelt" in lamps and not loose:
        _lamp_on(s, out, "SeatBelt", lamps["SeatBelt"])


def _parking_brake(r: BodyResult, s, out: Rendering, lamps: dict[str, Quantity]) -> None:
    q, asked = r.parking_brake, r.about == "parking_brake"
    if q is None:
        return
    if q.ok:
        out.add(state_sentence(s, q, out), keep=q.value is True, primary=asked)
    elif asked or q.status in ("stale", "unavailable"):
        out.add_cant_read(unreadable(s, q), primary=asked)
    if "ParkingBrake" in lamps and not (q.ok and q.value is True):
        _lamp_on(s, out, "ParkingBrake", lamps["ParkingBrake"])


def _pads(r: BodyResult, s, out: Rendering, lamps: dict[str, Quantity]) -> None:
    if not r.brake_pads:
        return
    asked = r.about == "brake_pads"
    worn = [q for q in r.brake_pads if q.ok and q.value is True]
    bad = [q for q in r.brake_pads if not q.ok and q.status != "not_supported"]
    if worn:
        for q in worn:
            parts = q.signal.split(".")
            out.fact("position", f"{'front' if parts[3] == 'Row1' else 'rear'} {parts[5].lower()}")
        out.fact("verdict", "worn")
        out.add(s.phrase("pads_worn", positions=_names_of(s, worn)), keep=True, primary=asked)
    elif asked and r.brake_pads and not bad and any(q.ok for q in r.brake_pads):
        out.add(s.phrase("pads_ok"), primary=True)
    if asked and bad:
        out.add_cant_read(s.phrase("cant_read", what=s.what("brake_pads") if len(bad) > 1 else s.what(bad[0].signal)),
                          primary=not worn)
    if asked and r.brake_pads and all(q.status == "not_supported" for q in r.brake_pads):
        out.add_cant_read(s.phrase("not_supported", what=s.what("brake_pads")), primary=True)
    if "BrakePadWear" in lamps and not worn and (asked or r.about == "all"):
        _lamp_on(s, out, "BrakePadWear", lamps["BrakePadWear"])


def render_body(r: BodyResult, s, out: Rendering) -> None:
    """What was asked (doors, bonnet, tailgate, belts, parking brake, brake pads) first; for a
    general question, what is open or unfastened, the parking brake, worn pads, then the rest."""
    lamps = _lamps_on(r)
    order = {"belts": (_belts, _openings, _parking_brake, _pads),
             "parking_brake": (_parking_brake, _openings, _belts, _pads),
             "brake_pads": (_pads, _openings, _belts, _parking_brake)}.get(
        r.about, (_openings, _belts, _parking_brake, _pads))
    for part in order:
        part(r, s, out, lamps)


def render_charging(r: ChargingResult, s, out: Rendering) -> None:
    """Charging now (with the charge and the time to complete), or the cable in but not charging,
    or not plugged in; the charge limit; what cannot be read."""
    cable, charging = r.cable_connected, r.charging
    if charging.ok and charging.value is True:
        out.fact("verdict", "charging")
        out.add(s.phrase("charging_now"), primary=True)
        if r.battery_level.ok:
            out.add(s.phrase("energy_soc", pct=s.quantity(r.battery_level)))
        if r.time_to_complete.ok:
            out.add(s.phrase("charge_done_in", time=s.quantity(r.time_to_complete)), primary=True)
        elif r.time_to_complete.status != "not_supported":
            out.add_cant_read(unreadable(s, r.time_to_complete))
    elif cable.ok and cable.value is True:
        if charging.ok:
            out.fact("verdict", "not charging")
            out.add(s.phrase("cable_not_charging"), primary=True)
        else:
            out.add(state_sentence(s, cable, out), primary=True)
            out.add_cant_read(unreadable(s, charging))
    elif cable.ok:
        out.fact("verdict", "not connected")
        out.add(s.phrase("cable_out"), primary=True)
    else:
        for q in (charging, cable):
            if not q.ok and q.status != "not_supported" or q is cable and q.status == "not_supported" \
                    and charging.status == "not_supported":
                out.add_cant_read(unreadable(s, q, s.what("charging") if q.status == "not_supported" else None),
                                  primary=True)
                break
    if r.charge_limit.ok:
        out.add(s.phrase("charge_limit", pct=s.quantity(r.charge_limit)))
    if not (charging.ok and charging.value is True) and r.battery_level.ok and (cable.ok and cable.value is True):
        out.add(s.phrase("energy_soc", pct=s.quantity(r.battery_level)))


def _colour_word(s, r: WarningsResult, name: str) -> str:
    colour = r.colour or policy()[name].colour[0]
    return s.word(f"colour_{colour}")


def render_described(r: WarningsResult, s, out: Rendering, include_critical: bool, lamp_sentence: Callable,
                     evidence: Callable) -> None:
    """A lamp described by colour and shape ("the orange one like an engine"): the lamps read on
    now that fit (each with its meaning, what to do and its evidence); none that fits is said,
    with what is on; a lamp that fits but cannot be read now is named as such. ``lamp_sentence``
    and ``evidence`` are render.py's, for a lamp that is on."""
    lit = [w for w in r.active + r.indicators if w.fresh]
    matches = [w for w in lit if w.name in r.matches]
    if len(matches) == 1:
        w = matches[0]
        t = s.telltale(w.name)
        out.fact("lamp", w.name, state="on")
        if w.state == "BLINK":
            out.fact("verdict", "flashing")
        short = s.phrase("lamp_match_short", colour=_colour_word(s, r, w.name), symbol=t["symbol"], label=t["label"])
        if w.safety_wording and not include_critical:     # the safety wording says the rest
            out.add(short, keep=True, primary=True)
        else:
            out.add(s.phrase("lamp_match", colour=_colour_word(s, r, w.name), symbol=t["symbol"], label=t["label"],
                             state=s.phrase(f"state_{w.state}"), meaning=t["meaning"], action=t["action"]),
                    keep=True, primary=True, short=short)
        evidence(w, s, out, primary=True)
    elif matches:
        for w in matches:
            out.fact("lamp", w.name, state="on")
        out.add(s.phrase("lamp_matches", names=_names(s, [s.telltale(w.name)["label"] for w in matches])),
                keep=True, primary=True)
        for w in matches:
            if not w.safety_wording or include_critical:
                lamp_sentence(w, s, out)
            evidence(w, s, out)
    elif not lit and r.all_clear:             # every lamp read, none on
        out.add(s.phrase("no_lamp_on"), fine="lamps", primary=True)
    else:
        out.add(s.phrase("lamp_no_match"), keep=True, primary=True)
        if lit:
            for w in lit:
                out.fact("lamp", w.name, state="on")
            listing = _names(s, [s.phrase("lamp_with_symbol", label=s.telltale(w.name)["label"],
                                          symbol=s.telltale(w.name)["symbol"]) for w in lit])
            out.add(s.phrase("lamps_on_now", list=listing), keep=True)
    if r.unreadable_matches and not matches:
        for n in r.unreadable_matches:
            out.fact("lamp", n, state="unreadable", key=False)
        out.add_cant_read(s.phrase("lamp_may_be", names=_names(s, [s.telltale(n)["label"]
                                                                    for n in r.unreadable_matches[:3]])))
    for w in r.active:
        if not w.fresh and (not w.safety_wording or include_critical):
            lamp_sentence(w, s, out)
