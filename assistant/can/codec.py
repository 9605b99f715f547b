"""What runs per frame: each canonical signal's :class:`Mapping` (DBC value <-> canonical value,
built by :mod:`assistant.can.compiler`) and each frame id's :class:`MessageCodec`.

The bus reader decodes with ``MessageCodec.mappings`` / ``.dtc`` (``Mapping.decode``: a DBC
physical value -> canonical value, ``NOT_AVAILABLE`` or ``OUT_OF_RANGE``); the simulator
encodes with :meth:`MessageCodec.encode` (canonical values -> the message's frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import inf
from typing import Any, Callable

import cantools

from assistant.can.dbc import bit_layout, bit_ranges, signal_bits
from assistant.state import dtc
from assistant.state.signals import SignalSpec
from assistant.state.values import NOT_AVAILABLE

__all__ = ["NOT_AVAILABLE", "OUT_OF_RANGE", "Frame", "Mapping", "MessageCodec"]


class _OutOfRange:
    __slots__ = ()

    def __repr__(self) -> str:
        return "OUT_OF_RANGE"

    def __reduce__(self) -> str:
        return "OUT_OF_RANGE"


OUT_OF_RANGE = _OutOfRange()   # a decoded number outside its signal's range (compiler._number_range)

Frame = tuple[int, bool, bytes]   # (frame_id, is_extended, data)


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


@dataclass
class MessageCodec:
    """Everything the reader needs for one frame id, and its encoding for the simulator."""

    message: cantools.database.Message
    mappings: list[Mapping]
    dtc: Mapping | None = None

    def mapped_decoder(self) -> Callable[[bytes], dict] | None:
        """A decoder of only the signals this profile maps, to their **raw** values, for a
        message that is not multiplexed (None otherwise: those go through ``Message.decode``).

        cantools' compiled formats (``create_encode_decode_formats``, what its ``decode_data``
        unpacks) for those signals, unscaled: the same values as ``message.decode(data,
        decode_choices=False, scaling=False)`` gives for them (checked on random payloads of every profile by
        tests/test_ingest_cache.py), without unpacking the signals nobody asked for (rolling
        counters, checksums, ...). The reader turns a raw value into its canonical value through
        a per-signal memo (:class:`assistant.can.reader.FrameDecoder`), calling the signal's
        ``conversion.raw_to_scaled`` and the mapping's ``decode`` only for a raw value it has not
        seen: a real message maps one or two of its signals and their raw values repeat
        (``bench/can_ingest.py``)."""
        msg = self.message
        if msg.is_multiplexed() or self.dtc is not None or msg.is_container:
            return None
        from cantools.database.utils import create_encode_decode_formats
        wanted = {m.signal for m in self.mappings}
        signals = [s for s in msg.signals if s.name in wanted]    # in the message's order, as cantools needs
        formats = create_encode_decode_formats(signals, msg.length)
        length = msg.length
        big = formats.big_endian.unpack
        little = formats.little_endian.unpack
        # decode_data(data, length, signals, formats, decode_choices=False, scaling=False,
        # allow_excess=True) is these unpacks of cantools' compiled formats, its longer frame
        # cut to the DBC length, and a copy of the dict: called directly, a third of the cost.
        has_big = any(s.byte_order == "big_endian" for s in signals)
        has_little = any(s.byte_order == "little_endian" for s in signals)
        if has_big and has_little:
            def decode(data):
                if len(data) != length:
                    data = data[:length]
                return {**big(data), **little(data[::-1])}
        elif has_big:
            def decode(data):
                return big(data[:length] if len(data) != length else data)
        else:
            def decode(data):
                return little((data[:length] if len(data) != length else data)[::-1])
        return decode

    def carries(self, values: dict[str, Any]) -> bool:
        """Whether any of ``values`` is a signal of this message."""
        return any(m.canonical in values for m in self.mappings) or \
            (self.dtc is not None and self.dtc.canonical in values)

    def encode(self, values: dict[str, Any]) -> list[Frame] | None:
        """The frames of this message for canonical ``values``; None if it carries none of them.

        A left-out signal is sent as its ``invalid`` value (SNA), or as the DBC initial value when
        the map declares none. A multiplexed DTC message gives one frame per stored code.
        """
        msg = self.message
        present = [m for m in self.mappings if m.canonical in values]
        dtc_codes = values.get(self.dtc.canonical) if self.dtc else None
        if not present and dtc_codes is None:
            return None
        base: dict[str, Any] = {s.name: _initial(s) for s in msg.signals}
        for m in self.mappings:
            if m.canonical in values:
                base[m.signal] = m.encode(values[m.canonical])
            elif m.invalid_value is not None:
                base[m.signal] = m.invalid_value
        frames = []
        if self.dtc is not None:
            codes = list(dtc_codes or [])
            d = self.dtc
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
        return frames

    def implied(self, values: dict[str, Any]) -> list[str]:
        """Mapped signals left out of ``values`` that :meth:`encode` would still send with a
        made-up value (no ``invalid`` declared), when the message carries any of ``values``."""
        if not self.carries(values):
            return []
        return [m.canonical for m in self.mappings if m.canonical not in values and m.invalid_value is None]


# ----------------------------------------------------------------------------- helpers

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


def _phys(sig: cantools.database.Signal, raw: int) -> float | int:
    return sig.conversion.raw_to_scaled(raw, decode_choices=False)


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
