"""Compiling a map file against its DBC: one :class:`~assistant.can.codec.Mapping` per
canonical signal (decode and encode functions, valid range, staleness) and the send period of
every message.

Ranges: a number is valid only inside its DBC signal's ``[minimum|maximum]`` (when the DBC
gives one; values within half a resolution step of a limit count as at it) and inside
``PHYSICAL_LIMITS`` of its canonical unit (a % is 0..100, a pressure is never negative).
Decoding a value outside gives ``OUT_OF_RANGE`` (the reader counts it and stores "not
available"); encoding one raises ``ValueError`` naming the signal, the allowed range and the
unit. ``values:`` and ``invalid:`` keys must fit the signal's bit width and signedness.

Every problem is reported at once, as ``file:line: signals.<name>: problem`` lines of one
``ConfigError``.
"""

from __future__ import annotations

import math
from math import inf
from typing import Any

import cantools

from assistant.can.codec import NOT_AVAILABLE, OUT_OF_RANGE, Mapping, _num, _phys, _span
from assistant.can.mapfile import MapFile, ProfileFile, SignalMapFile
from assistant.configfile import ConfigError
from assistant.state import units
from assistant.state.signals import CATALOG, Kind, SignalSpec

# What each canonical unit can physically be, whatever a DBC allows (the catalog has no
# min/max). Units not listed have no limit of their own: km/h (reverse speed may be signed),
# km (distance to service is negative when overdue), s (time to service, likewise).
PHYSICAL_LIMITS: dict[str, tuple[float, float]] = {
    "%": (0.0, 100.0),          # fuel level, state of charge, oil life
    "kPa": (0.0, inf),          # tyre pressure
    "m": (0.0, inf),            # remaining ranges
    "l/100km": (0.0, inf),      # consumption
    "V": (0.0, inf),            # 12 V battery voltage
    "°C": (-273.15, inf),       # temperatures
}


class _MapError(ValueError):
    """A map-file problem at ``loc`` below ``signals.<name>`` (for the line number)."""

    def __init__(self, msg: str, loc: tuple = ()):
        super().__init__(msg)
        self.loc = loc


def compile_map(mf: MapFile, db: cantools.database.Database) -> tuple[dict[str, Mapping], dict[str, float]]:
    """``(mappings by canonical name, cycle time in seconds by message name)``; a
    ``ConfigError`` listing every problem if the map and the DBC do not fit."""
    pf = mf.spec
    problems = []
    for msg_name in pf.messages:
        try:
            db.get_message_by_name(msg_name)
        except KeyError:
            problems.append(f"{mf.where(('messages', msg_name))}: messages.{msg_name}: "
                            f"message is not in {mf.dbc_path.name}")
    cycle_times = {}
    for msg in db.messages:
        if msg.name in pf.messages:
            cycle_times[msg.name] = pf.messages[msg.name].cycle_time_ms / 1000.0
        elif msg.cycle_time:
            cycle_times[msg.name] = msg.cycle_time / 1000.0
        else:
            cycle_times[msg.name] = pf.default_cycle_time_ms / 1000.0

    mappings: dict[str, Mapping] = {}
    for canonical, entry in pf.signals.items():
        try:
            mappings[canonical] = _compile_signal(canonical, entry, db, cycle_times, pf)
        except ValueError as e:
            where = ("signals", canonical) + getattr(e, "loc", ())
            problems.append(f"{mf.where(where)}: signals.{canonical}: {e}")
    if problems:
        raise ConfigError(mf.path, problems)
    return mappings, cycle_times


def _choice_raw(sig: cantools.database.Signal, key: int | str, loc: tuple = (), what: str = "values") -> int:
    """A map key (raw bit pattern or value-table name) -> raw int as cantools decodes it.

    For a signed signal the bit pattern is read as two's complement, so ``1`` on a 1-bit
    signed flag is the ``-1`` cantools returns. A number the signal's bits cannot hold is
    refused (``_MapError`` at ``loc``).
    """
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        key = int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        if not sig.is_float:
            lo = -(1 << (sig.length - 1)) if sig.is_signed else 0
            if not lo <= key < 1 << sig.length:
                kind = "signed" if sig.is_signed else "unsigned"
                holds = f"0..{(1 << sig.length) - 1}" + (f" (or {lo}..-1)" if sig.is_signed else "")
                raise _MapError(f"{what}: {key} does not fit signal {sig.name}: {sig.length}-bit {kind}, "
                                f"raw values {holds}", loc)
        if sig.is_signed and key >= 1 << (sig.length - 1):
            key -= 1 << sig.length
        return key
    for raw, name in (sig.choices or {}).items():
        if str(name) == key:
            return int(raw)
    raise _MapError(f"{what}: {key!r} is neither a number nor a value-table name of {sig.name} "
                    f"(names: {', '.join(str(n) for n in (sig.choices or {}).values()) or 'none'})", loc)


def _compile_signal(canonical: str, entry: SignalMapFile, db: cantools.database.Database,
                    cycle_times: dict[str, float], pf: ProfileFile) -> Mapping:
    spec = CATALOG[canonical]
    msg_name, sig_name = entry.source.split(".")
    try:
        msg = db.get_message_by_name(msg_name)
    except KeyError:
        raise ValueError(f"message {msg_name!r} is not in the DBC") from None
    try:
        sig = msg.get_signal_by_name(sig_name)
    except KeyError:
        raise ValueError(f"signal {sig_name!r} is not in message {msg_name}") from None

    invalid_raw = {_choice_raw(sig, k, ("invalid", i), "invalid") for i, k in enumerate(entry.invalid)}
    if sig.choices and not entry.invalid:   # value-table entries named SNA / invalid / not available
        invalid_raw |= {int(r) for r, n in sig.choices.items()
                        if str(n).strip().upper() in {"SNA", "INVALID", "NOT AVAILABLE", "N/A", "NA"}}
    invalid_phys = {_phys(sig, r) for r in invalid_raw}
    invalid_value = _phys(sig, min(invalid_raw)) if invalid_raw else None
    stale = entry.stale_after or max(pf.stale_cycles * cycle_times[msg.name], pf.min_stale_after)

    if spec.kind is Kind.NUMBER:
        if entry.values:
            raise ValueError("values: only for bool/enum signals")
        src_unit = entry.unit or sig.unit
        if not src_unit:
            raise ValueError(f"the DBC gives {sig_name} no unit; state it with `unit:`")
        if units.is_known(src_unit) and units.normalize(src_unit) == "mpg" and spec.unit == "l/100km":
            return _compile_mpg(canonical, spec, msg, sig, entry, stale, invalid_phys, invalid_value)
        try:
            us, uo = units.linear(src_unit, spec.unit)
        except units.UnitError as e:
            if entry.unit or units.is_known(src_unit):
                raise _MapError(f"unit: {e}", ("unit",) if entry.unit else ()) from None
            raise ValueError(f"the DBC unit {sig.unit!r} of {sig_name} is not a spelling the assistant "
                             f"knows; state the unit with `unit:` ({e})") from None
        a, b = us * entry.scale, uo * entry.scale + entry.offset
        if not a:
            raise _MapError("scale: must not be 0", ("scale",))
        # Round to the signal's resolution in canonical units (0.1 l/100km, not 6.800000000000001).
        digits = max(0, 1 - math.floor(math.log10(abs(sig.scale * a)))) if sig.scale * a else 6
        lo, hi, enc_lo, enc_hi, allowed, note = _number_range(canonical, spec, sig, a, b, digits)

        if any(lo <= x <= hi for x in invalid_phys):     # an SNA value inside the range
            def decode(v, a=a, b=b, inv=invalid_phys, d=digits, lo=lo, hi=hi):
                if v in inv:
                    return NOT_AVAILABLE
                if not lo <= v <= hi:
                    return OUT_OF_RANGE
                return round(v * a + b, d)
        else:                                             # the usual case: one test for valid values
            def decode(v, a=a, b=b, inv=invalid_phys, d=digits, lo=lo, hi=hi):
                if lo <= v <= hi:
                    return round(v * a + b, d)
                return NOT_AVAILABLE if v in inv else OUT_OF_RANGE

        def encode(c, a=a, b=b, lo=enc_lo, hi=enc_hi):
            try:
                x = (float(c) - b) / a
            except (TypeError, ValueError):
                raise ValueError(f"{canonical} = {c!r}: not a number ({spec.unit})") from None
            if not lo <= x <= hi:
                raise ValueError(f"{canonical} = {_num(c)} {spec.unit}: outside {allowed} of DBC signal "
                                 f"{sig_name} (message {msg_name})")
            return x

        return Mapping(canonical, spec, msg, sig_name, stale, decode, encode, invalid_value,
                       range_note=note, to_canonical=lambda v, a=a, b=b, d=digits: round(v * a + b, d))

    if spec.kind is Kind.DTC_LIST:
        if not entry.items:
            raise ValueError("dtc_list signals need `items:` (the code signal of each mux slot)")
        for item in entry.items:
            try:
                s = msg.get_signal_by_name(item)
            except KeyError:
                raise ValueError(f"items: signal {item!r} is not in message {msg_name}") from None
            if s.multiplexer_ids is None:
                raise ValueError(f"items: {item} is not multiplexed")

        def decode_count(v, inv=invalid_phys):
            return NOT_AVAILABLE if v in inv else int(v)

        return Mapping(canonical, spec, msg, sig_name, stale, decode_count, lambda c: len(c),
                       invalid_value, items=list(entry.items))

    # bool / enum: raw value -> canonical value
    if entry.values is not None:
        table = {_choice_raw(sig, k, ("values", k)): v for k, v in entry.values.items()}
    elif spec.kind is Kind.BOOL:   # bit clear / bit set, as cantools decodes them (-1 on a signed 1-bit)
        table = {_choice_raw(sig, 0): False, _choice_raw(sig, 1): True}
    else:  # enum with no table: the DBC's value-table names must be the canonical values
        table = {int(r): str(n) for r, n in (sig.choices or {}).items() if str(n) in spec.values}
        if not table:
            raise ValueError(f"values: needed; the DBC value table of {sig_name} has none of "
                             f"{', '.join(spec.values)}")
    for raw, v in table.items():
        if spec.kind is Kind.BOOL and not isinstance(v, bool):
            raise ValueError(f"values: {raw} -> {v!r}: must be true or false")
        if spec.kind is Kind.ENUM and v not in spec.values:
            raise ValueError(f"values: {raw} -> {v!r}: must be one of {', '.join(spec.values)}")
    phys_table = {_phys(sig, r): v for r, v in table.items()}
    inverse: dict[Any, Any] = {}
    for p, v in phys_table.items():
        inverse.setdefault(v, p)

    def decode_choice(v, t=phys_table, inv=invalid_phys):
        if v in inv:
            return NOT_AVAILABLE
        return t.get(v, NOT_AVAILABLE)

    def encode_choice(c, inv=inverse, name=canonical):
        if isinstance(c, bool) and spec.kind is Kind.ENUM:
            c = "ON" if c else "OFF"
        try:
            return inv[c]
        except KeyError:
            raise ValueError(f"{name}: this vehicle cannot show {c!r} (map values: {sorted(map(str, inv))})") from None

    return Mapping(canonical, spec, msg, sig_name, stale, decode_choice, encode_choice, invalid_value)


def _compile_mpg(canonical: str, spec, msg, sig, entry: SignalMapFile, stale: float, invalid_phys: set,
                 invalid_value) -> Mapping:
    """A consumption the DBC gives in mpg (US): l/100km = 235.21 / mpg, the one non-linear unit,
    so ``scale:``/``offset:`` do not apply. Valid where the DBC range says and above 0 mpg."""
    if entry.scale != 1.0 or entry.offset != 0.0:
        raise _MapError("scale:/offset: do not apply to a signal in mpg (converted as 235.21 / mpg)", ("scale",))
    lo, hi = 0.0, inf
    if sig.minimum is not None and sig.maximum is not None and sig.minimum < sig.maximum:
        lo, hi = max(0.0, float(sig.minimum)), float(sig.maximum)
    step = abs(sig.scale) / 2 if sig.scale else 0.0
    k = units.MPG_L100KM

    def decode(v, inv=invalid_phys, lo=lo, hi=hi):
        if v in inv:
            return NOT_AVAILABLE
        if not (lo - step <= v <= hi + step) or v <= 0:
            return OUT_OF_RANGE
        return round(k / v, 1)

    def encode(c, lo=lo, hi=hi):
        try:
            c = float(c)
        except (TypeError, ValueError):
            raise ValueError(f"{canonical} = {c!r}: not a number ({spec.unit})") from None
        x = k / c if c > 0 else inf
        if not lo - step <= x <= hi + step:
            raise ValueError(f"{canonical} = {_num(c)} {spec.unit}: outside what DBC signal {sig.name} "
                             f"(message {msg.name}, {_span(lo, hi, 'mpg')}) can carry")
        return x

    note = f"DBC {sig.name} {_span(lo, hi, 'mpg')}, converted as 235.21 / mpg"
    return Mapping(canonical, spec, msg, sig.name, stale, decode, encode, invalid_value, range_note=note,
                   to_canonical=lambda v: round(k / v, 1) if v else 0.0)


def _number_range(canonical: str, spec: SignalSpec, sig: cantools.database.Signal, a: float, b: float,
                  digits: int) -> tuple[float, float, float, float, str, str]:
    """Where a number mapped as ``canonical = dbc * a + b`` is valid, in DBC units.

    Returns ``(lo, hi)`` for decoding (the DBC minimum/maximum, half a step of tolerance, and
    the canonical unit's PHYSICAL_LIMITS), ``(enc_lo, enc_hi)`` for encoding (the same and
    what the raw bits can hold), the allowed range in canonical units as text, and the note
    for out-of-range log lines."""
    step = abs(sig.scale) / 2 if sig.scale else 0.0
    dbc_lo, dbc_hi = -inf, inf
    if sig.minimum is not None and sig.maximum is not None and sig.minimum < sig.maximum:
        dbc_lo, dbc_hi = float(sig.minimum), float(sig.maximum)
    p_lo, p_hi = PHYSICAL_LIMITS.get(spec.unit, (-inf, inf))
    v_lo, v_hi = sorted(((p_lo - b) / a, (p_hi - b) / a))     # physical limits in DBC units

    def eps(x: float) -> float:
        return 1e-9 * (1 + abs(x)) if math.isfinite(x) else 0.0

    lo, hi = max(dbc_lo - step, v_lo - eps(v_lo)), min(dbc_hi + step, v_hi + eps(v_hi))
    raw_lo = raw_hi = None
    if not sig.is_float and sig.scale:
        r_lo = -(1 << (sig.length - 1)) if sig.is_signed else 0
        r_hi = r_lo + (1 << sig.length) - 1
        raw_lo, raw_hi = sorted((sig.conversion.raw_to_scaled(r_lo, decode_choices=False),
                                 sig.conversion.raw_to_scaled(r_hi, decode_choices=False)))
    enc_lo = lo if raw_lo is None else max(lo, raw_lo - step)
    enc_hi = hi if raw_hi is None else min(hi, raw_hi + step)
    # The same, exact (no tolerance), in canonical units for people.
    x_lo = max(dbc_lo, v_lo, raw_lo if raw_lo is not None else -inf)
    x_hi = min(dbc_hi, v_hi, raw_hi if raw_hi is not None else inf)
    if x_lo > x_hi + 2 * step:
        raise ValueError(f"the DBC range of {sig.name} ({_span(dbc_lo, dbc_hi, sig.unit)}) lies outside "
                         f"what {spec.unit} allows ({_span(p_lo, p_hi, spec.unit)})")
    c_lo, c_hi = sorted((x_lo * a + b, x_hi * a + b))
    allowed = _span(round(c_lo, digits) if math.isfinite(c_lo) else c_lo,
                    round(c_hi, digits) if math.isfinite(c_hi) else c_hi, spec.unit)
    why = []
    if dbc_lo > -inf:
        why.append(f"DBC {sig.name} [{_num(sig.minimum)}|{_num(sig.maximum)}]{' ' + sig.unit if sig.unit else ''}")
    if p_lo > -inf or p_hi < inf:
        why.append(f"physical limit {_span(p_lo, p_hi, spec.unit)}")
    d_lo, d_hi = sorted((max(dbc_lo, v_lo) * a + b, min(dbc_hi, v_hi) * a + b))
    note = f"outside {_span(d_lo, d_hi, spec.unit)}" + (f" ({'; '.join(why)})" if why else "")
    return lo, hi, enc_lo, enc_hi, allowed, note
