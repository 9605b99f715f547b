"""Vehicle profiles: a DBC plus a map file (YAML) from ``Message.Signal`` to canonical names.

Supporting a new car means writing a map file, not code::

    name: demo
    dbc: ../dbc/demo.dbc                 # relative to this file
    signals:
      Vehicle.Speed:
        source: VehicleDynamics.VehicleSpeed
        unit: km/h                       # unit of the DBC value (default: the DBC's own unit)
      Vehicle.Telltale.LowFuel:
        source: Dat_BSI.P012_Com_bFlMin
        values: {0: "OFF", 1: "ON"}      # raw value or DBC value-table name -> canonical value
        invalid: [SNA]                   # raw values / names meaning "not available"

``load_profile`` validates the file against the signal catalog and the DBC and compiles it
into a :class:`VehicleProfile`, which decodes frames into canonical values (``decoder_for``)
and encodes canonical values into frames (``encode``, used only by the simulator).

Ranges: a number is valid only inside its DBC signal's ``[minimum|maximum]`` (when the DBC
gives one; values within half a resolution step of a limit count as at it) and inside
``PHYSICAL_LIMITS`` of its canonical unit (a % is 0..100, a pressure is never negative).
Decoding a value outside gives ``OUT_OF_RANGE`` (the reader counts it and stores "not
available"); encoding one raises ``ValueError`` naming the signal, the allowed range and the
unit. ``values:`` and ``invalid:`` keys must fit the signal's bit width and signedness.
"""

from __future__ import annotations

import logging
import math
from math import inf
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Union

import cantools
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant import paths
from assistant.can.dbc import bit_layout, bit_ranges, load_dbc, signal_bits
from assistant.configfile import ConfigError, locate, read_yaml, resolve_named, validate
from assistant.state import dtc, units
from assistant.state.signals import CATALOG, Kind, SignalSpec

log = logging.getLogger(__name__)

Scalar = Union[bool, int, float, str]

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


# ----------------------------------------------------------------------------- file schema

class SignalMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="Message.Signal in the DBC")
    unit: str | None = Field(None, description="unit of the DBC value; default: the DBC signal's unit")
    scale: float = Field(1.0, description="extra factor applied after unit conversion")
    offset: float = Field(0.0, description="extra offset applied after unit conversion")
    values: dict[Union[int, str], Union[bool, str]] | None = Field(
        None, description="raw value or DBC value-table name -> canonical value")
    invalid: list[Union[int, str]] = Field(default_factory=list,
                                           description="raw values or value-table names meaning 'not available'")
    items: list[str] | None = Field(None, description="dtc_list only: the code signals, one per mux slot")
    stale_after: float | None = Field(None, gt=0, description="seconds; default from the message cycle time")

    @field_validator("source")
    @classmethod
    def _dotted(cls, v: str) -> str:
        if v.count(".") != 1 or not all(v.split(".")):
            raise ValueError(f"source must be 'Message.Signal', got {v!r}")
        return v


class MessageOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cycle_time_ms: float = Field(gt=0)


class ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    dbc: str = Field(description="DBC path, relative to the map file")
    stale_cycles: float = Field(5.0, gt=0, description="a signal is stale after this many missed cycles")
    min_stale_after: float = Field(0.5, gt=0, description="seconds; floor for fast messages")
    default_cycle_time_ms: float = Field(1000.0, gt=0, description="for messages without a cycle time")
    messages: dict[str, MessageOverride] = Field(default_factory=dict)
    signals: dict[str, SignalMapFile]

    @field_validator("signals")
    @classmethod
    def _known_names(cls, v: dict[str, SignalMapFile]) -> dict[str, SignalMapFile]:
        unknown = [k for k in v if k not in CATALOG]
        if unknown:
            raise ValueError(f"unknown canonical signal(s): {', '.join(unknown)} "
                             "(see docs/signals.md for the catalog)")
        return v


# ----------------------------------------------------------------------------- compiled form

@dataclass
class Mapping:
    """One canonical signal compiled against its DBC signal."""

    canonical: str
    spec: SignalSpec
    message: cantools.database.Message
    signal: str
    stale_after: float
    decode: Callable[[Any], Any]          # DBC physical value -> canonical value (or NOT_AVAILABLE)
    encode: Callable[[Any], Any]          # canonical value -> DBC physical value
    invalid_value: float | int | None     # physical value the simulator sends when the signal is absent
    items: list[str] = field(default_factory=list)
    range_note: str = ""                  # what "out of range" means for this signal (for log lines)
    to_canonical: Callable[[Any], Any] | None = None   # numbers: DBC value -> canonical, unchecked

    def describe_out_of_range(self, v: Any) -> str:
        """``FuelStatus.FuelLevel = 125 % -> Vehicle...RelativeLevel 125 %: outside 0..100 % (...)``"""
        sig = self.message.get_signal_by_name(self.signal)
        what = f"{self.message.name}.{self.signal} = {_num(v)}{' ' + sig.unit if sig.unit else ''}"
        if self.to_canonical is not None:
            what += f" -> {self.canonical} {_num(self.to_canonical(v))} {self.spec.unit}"
        else:
            what += f" ({self.canonical})"
        return f"{what}: {self.range_note}"


class _NotAvailable:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_AVAILABLE"


NOT_AVAILABLE = _NotAvailable()


class _OutOfRange:
    __slots__ = ()

    def __repr__(self) -> str:
        return "OUT_OF_RANGE"


OUT_OF_RANGE = _OutOfRange()   # a decoded number outside its signal's range (see _number_range)


class _MapError(ValueError):
    """A map-file problem at ``loc`` below ``signals.<name>`` (for the line number)."""

    def __init__(self, msg: str, loc: tuple = ()):
        super().__init__(msg)
        self.loc = loc


def _num(x: Any) -> str:
    return f"{x:.10g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else repr(x)


def _span(lo: float, hi: float, unit: str | None) -> str:
    u = f" {unit}" if unit else ""
    if lo > -inf and hi < inf:
        return f"{_num(lo)}..{_num(hi)}{u}"
    if lo > -inf:
        return f">= {_num(lo)}{u}"
    if hi < inf:
        return f"<= {_num(hi)}{u}"
    return "any value"


@dataclass
class MessageCodec:
    """Everything the reader needs for one frame id."""

    message: cantools.database.Message
    mappings: list[Mapping]
    dtc: Mapping | None = None


class VehicleProfile:
    def __init__(self, name: str, path: Path, dbc_path: Path, db: cantools.database.Database,
                 mappings: dict[str, Mapping], description: str = ""):
        self.name = name
        self.path = path
        self.dbc_path = dbc_path
        self.db = db
        self.description = description
        self.mappings = mappings
        self.codecs: dict[int, MessageCodec] = {}
        for m in mappings.values():
            codec = self.codecs.setdefault(m.message.frame_id, MessageCodec(m.message, []))
            if m.spec.kind is Kind.DTC_LIST:
                codec.dtc = m
            else:
                codec.mappings.append(m)

    @property
    def capabilities(self) -> list[str]:
        """Canonical signals this car provides at all."""
        return sorted(self.mappings)

    def can_filters(self) -> list[dict]:
        """python-can receive filters matching exactly the mapped frame ids."""
        return [{"can_id": c.message.frame_id,
                 "can_mask": 0x1FFFFFFF if c.message.is_extended_frame else 0x7FF,
                 "extended": c.message.is_extended_frame}
                for c in self.codecs.values()]

    def stale_after(self, canonical: str) -> float:
        return self.mappings[canonical].stale_after

    # -- simulator side -------------------------------------------------------------------

    def encode(self, values: dict[str, Any]) -> dict[str, list[tuple[int, bool, bytes]]]:
        """Encode canonical values into frames, per message name.

        Only messages carrying at least one of ``values`` are returned: a signal left out is
        not on the bus. A left-out signal sharing a frame with a present one is sent as its
        ``invalid`` value (SNA), or as the DBC initial value when the map declares none.
        Each message maps to a list of ``(frame_id, is_extended, data)``; multiplexed DTC
        messages give one frame per stored code.
        """
        out: dict[str, list[tuple[int, bool, bytes]]] = {}
        for codec in self.codecs.values():
            msg = codec.message
            present = [m for m in codec.mappings if m.canonical in values]
            dtc_codes = values.get(codec.dtc.canonical) if codec.dtc else None
            if not present and dtc_codes is None:
                continue
            base: dict[str, Any] = {s.name: _initial(s) for s in msg.signals}
            for m in codec.mappings:
                if m.canonical in values:
                    base[m.signal] = m.encode(values[m.canonical])
                elif m.invalid_value is not None:
                    base[m.signal] = m.invalid_value
            frames = []
            if codec.dtc is not None:
                codes = list(dtc_codes or [])
                d = codec.dtc
                if len(codes) > len(d.items):
                    raise ValueError(f"{d.canonical}: {len(codes)} codes but {msg.name} has {len(d.items)} slots")
                base[d.signal] = len(codes)
                for slot in range(max(1, len(codes))):
                    data = _mux_frame(msg, base, d.items[slot], dtc.encode(codes[slot]) if codes else 0)
                    frames.append((msg.frame_id, msg.is_extended_frame, data))
            else:
                try:
                    data = msg.encode(base, scaling=True, padding=True, strict=False)
                except (OverflowError, cantools.database.EncodeError) as e:
                    raise ValueError(f"message {msg.name}: cannot encode: {_why_not_encodable(msg, base, e)}") from None
                frames.append((msg.frame_id, msg.is_extended_frame, data))
            out[msg.name] = frames
        return out

    def implied_signals(self, values: dict[str, Any]) -> list[str]:
        """Mapped signals left out of ``values`` that would still go on the bus with a made-up
        value: they share a frame with a present signal and the map declares no ``invalid``
        (SNA) value for them. Real DBCs without SNA values cannot do better; callers warn."""
        out = []
        for codec in self.codecs.values():
            if any(m.canonical in values for m in codec.mappings) or (codec.dtc and codec.dtc.canonical in values):
                out += [m.canonical for m in codec.mappings
                        if m.canonical not in values and m.invalid_value is None]
        return sorted(out)

    def cycle_time(self, message_name: str) -> float:
        """Send period in seconds of a message (DBC cycle time, map override or default)."""
        return self._cycle_times[message_name]

    _cycle_times: dict[str, float]


def _why_not_encodable(msg: cantools.database.Message, base: dict[str, Any], exc: Exception) -> str:
    """Cold path: name the signal (its value, range and unit) or the overlapping signals that
    make cantools fail with a bare "int too big to convert"."""
    for sig in msg.signals:
        if sig.name not in base or sig.is_float:
            continue
        try:
            raw = sig.conversion.scaled_to_raw(base[sig.name])
        except Exception:                       # noqa: BLE001 - a value cantools cannot scale
            return f"signal {sig.name} = {base[sig.name]!r}: not a value it can encode"
        r_lo = -(1 << (sig.length - 1)) if sig.is_signed else 0
        r_hi = r_lo + (1 << sig.length) - 1
        if not r_lo <= raw <= r_hi:
            lo, hi = sorted((_phys(sig, r_lo), _phys(sig, r_hi)))
            return (f"signal {sig.name} = {_num(base[sig.name])}{' ' + sig.unit if sig.unit else ''}: "
                    f"outside the {_span(lo, hi, sig.unit)} its {sig.length} bits can hold")
    sigs = msg.signals
    for i, a in enumerate(sigs):
        for b in sigs[i + 1:]:
            shared = set(signal_bits(a)) & set(signal_bits(b))
            if shared and not (a.multiplexer_ids and b.multiplexer_ids):
                return (f"signals {a.name} ({bit_layout(a)}) and {b.name} ({bit_layout(b)}) overlap at bit(s) "
                        f"{bit_ranges(list(shared))} in the DBC ({exc})")
    return str(exc)


def _initial(sig: cantools.database.Signal) -> Any:
    raw = sig.raw_initial if sig.raw_initial is not None else 0
    return sig.conversion.raw_to_scaled(raw, decode_choices=False)


def _mux_frame(msg: cantools.database.Message, base: dict[str, Any], item_signal: str, code: int) -> bytes:
    """Encode one frame of a multiplexed message that carries ``item_signal``."""
    # Which multiplexer value selects item_signal?
    sig = msg.get_signal_by_name(item_signal)
    mux_name = sig.multiplexer_signal
    data = {k: v for k, v in base.items() if msg.get_signal_by_name(k).multiplexer_ids is None}
    data[mux_name] = sig.multiplexer_ids[0]
    data[item_signal] = code
    return msg.encode(data, scaling=True, padding=True, strict=False)


# ----------------------------------------------------------------------------- compiling

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


def _phys(sig: cantools.database.Signal, raw: int) -> float | int:
    return sig.conversion.raw_to_scaled(raw, decode_choices=False)


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
        try:
            us, uo = units.linear(src_unit, spec.unit)
        except units.UnitError as e:
            raise ValueError(f"unit: {e}") from None
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


def resolve_profile_path(name_or_path: str | Path) -> Path:
    return resolve_named(name_or_path, paths.VEHICLES_DIR, "vehicle profile")


_CACHE: dict[Path, VehicleProfile] = {}


def load_profile(name_or_path: str | Path) -> VehicleProfile:
    """Load and compile a vehicle profile by name (vehicles/NAME.yaml) or path. Cached."""
    path = resolve_profile_path(name_or_path).resolve()
    if path in _CACHE:
        return _CACHE[path]
    data, node = read_yaml(path)
    pf = validate(ProfileFile, data, path, node)
    dbc_path = (path.parent / pf.dbc).resolve()
    db = load_dbc(dbc_path)

    problems = []
    for msg_name in pf.messages:
        try:
            db.get_message_by_name(msg_name)
        except KeyError:
            problems.append(f"{locate(path, node, ('messages', msg_name))}: messages.{msg_name}: "
                            f"message is not in {dbc_path.name}")
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
            problems.append(f"{locate(path, node, where)}: signals.{canonical}: {e}")
    if problems:
        raise ConfigError(path, problems)
    prof = VehicleProfile(pf.name, path, dbc_path, db, mappings, pf.description)
    prof._cycle_times = cycle_times
    _CACHE[path] = prof
    return prof
