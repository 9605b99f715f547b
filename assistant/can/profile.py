"""Vehicle profiles: a DBC plus a map file (YAML) from ``Message.Signal`` to canonical names.

``load_profile`` reads a map file, loads its DBC, compiles the two into a
:class:`VehicleProfile` (cached per file), which the reader decodes frames with (``codecs``:
one :class:`MessageCodec` per frame id) and the simulator encodes canonical values with
(:meth:`VehicleProfile.encode`). One job per module:

* :mod:`assistant.can.mapfile`  the map-file format (documented there), reading it with
  ``file:line`` errors;
* :mod:`assistant.can.compiler` map file + DBC -> per-signal mappings (ranges, ``PHYSICAL_LIMITS``,
  value tables, SNA values, staleness), every problem at once;
* :mod:`assistant.can.codec`    the per-message decode/encode plan (``Mapping``,
  ``MessageCodec``, ``OUT_OF_RANGE``; ``NOT_AVAILABLE`` is the state layer's sentinel);
* this module                   the compiled profile and the cache.

The names above stay importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cantools

from assistant import paths
from assistant.can.codec import NOT_AVAILABLE, OUT_OF_RANGE, Frame, Mapping, MessageCodec
from assistant.can.compiler import PHYSICAL_LIMITS, compile_map
from assistant.can.dbc import load_dbc
from assistant.can.mapfile import (MapFile, MessageOverride, ProfileFile, SignalMapFile, read_map_file,
                                   resolve_profile_path)
from assistant.configfile import ConfigError
from assistant.state.signals import Kind

__all__ = ["NOT_AVAILABLE", "OUT_OF_RANGE", "PHYSICAL_LIMITS", "Mapping", "MapFile", "MessageCodec",
           "MessageOverride", "ProfileFile", "SignalMapFile", "VehicleProfile", "load_profile",
           "resolve_profile_path"]


class VehicleProfile:
    def __init__(self, name: str, path: Path, dbc_path: Path, db: cantools.database.Database,
                 mappings: dict[str, Mapping], description: str = "",
                 cycle_times: dict[str, float] | None = None):
        self.name = name
        self.path = path
        self.dbc_path = dbc_path
        self.db = db
        self.description = description
        self.mappings = mappings
        self._cycle_times = dict(cycle_times or {})
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

    def cycle_time(self, message_name: str) -> float:
        """Send period in seconds of a message (DBC cycle time, map override or default)."""
        return self._cycle_times[message_name]

    # -- simulator side -------------------------------------------------------------------

    def encode(self, values: dict[str, Any]) -> dict[str, list[Frame]]:
        """Encode canonical values into frames, per message name.

        Only messages carrying at least one of ``values`` are returned: a signal left out is
        not on the bus. A left-out signal sharing a frame with a present one is sent as its
        ``invalid`` value (SNA), or as the DBC initial value when the map declares none.
        Each message maps to a list of ``(frame_id, is_extended, data)``; multiplexed DTC
        messages give one frame per stored code.
        """
        out: dict[str, list[Frame]] = {}
        for codec in self.codecs.values():
            frames = codec.encode(values)
            if frames is not None:
                out[codec.message.name] = frames
        return out

    def implied_signals(self, values: dict[str, Any]) -> list[str]:
        """Mapped signals left out of ``values`` that would still go on the bus with a made-up
        value: they share a frame with a present signal and the map declares no ``invalid``
        (SNA) value for them. Real DBCs without SNA values cannot do better; callers warn."""
        return sorted(name for codec in self.codecs.values() for name in codec.implied(values))


_CACHE: dict[Path, VehicleProfile] = {}


def load_profile(name_or_path: str | Path) -> VehicleProfile:
    """Load and compile a vehicle profile by name (vehicles/NAME.yaml) or path. Cached."""
    path = resolve_profile_path(name_or_path).resolve()
    if path in _CACHE:
        return _CACHE[path]
    mf = read_map_file(path)
    if not mf.dbc_path.exists() and path.is_relative_to(paths.VEHICLES_DIR):   # a shipped map, its DBC not
        raise ConfigError(path, [f"{mf.where(('dbc',))}: dbc: {mf.spec.dbc}: {mf.dbc_path.name} is not "
                                 "shipped with this install (the real-world DBCs stay in shared/realworld/dbc "
                                 "beside a source checkout); copy this map file and point its dbc: at your DBC"])
    db = load_dbc(mf.dbc_path)
    mappings, cycle_times = compile_map(mf, db)
    prof = VehicleProfile(mf.spec.name, path, mf.dbc_path, db, mappings, mf.spec.description, cycle_times)
    _CACHE[path] = prof
    return prof
