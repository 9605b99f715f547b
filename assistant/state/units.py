"""Unit names and conversions between them.

Each unit is a linear map onto a base unit of its dimension: ``base = value * factor + offset``.
Used by vehicle profiles (DBC unit -> canonical unit) and later by personas (canonical ->
display unit). Unknown units raise ``UnitError`` naming the unit.
"""

from __future__ import annotations

from typing import NamedTuple


class UnitError(ValueError):
    pass


class _Unit(NamedTuple):
    dimension: str
    factor: float
    offset: float = 0.0


_UNITS: dict[str, _Unit] = {
    # speed (base km/h)
    "km/h": _Unit("speed", 1.0),
    "mph": _Unit("speed", 1.609344),
    "m/s": _Unit("speed", 3.6),
    # distance (base m)
    "m": _Unit("distance", 1.0),
    "km": _Unit("distance", 1000.0),
    "mi": _Unit("distance", 1609.344),
    # time (base s)
    "s": _Unit("time", 1.0),
    "min": _Unit("time", 60.0),
    "h": _Unit("time", 3600.0),
    "d": _Unit("time", 86400.0),
    # temperature (base °C)
    "°C": _Unit("temperature", 1.0),
    "°F": _Unit("temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "K": _Unit("temperature", 1.0, -273.15),
    # pressure (base kPa)
    "kPa": _Unit("pressure", 1.0),
    "bar": _Unit("pressure", 100.0),
    "psi": _Unit("pressure", 6.894757),
    # voltage (base V)
    "V": _Unit("voltage", 1.0),
    "mV": _Unit("voltage", 0.001),
    # ratio (base %)
    "%": _Unit("ratio", 1.0),
    # volume (base l)
    "l": _Unit("volume", 1.0),
    # consumption (base l/100km; mpg is not linear and is handled by personas)
    "l/100km": _Unit("consumption", 1.0),
    "gal": _Unit("volume", 3.785411784),
}

# Spellings found in real DBC files -> the names above.
_ALIASES = {
    "kph": "km/h", "kmh": "km/h", "km/hr": "km/h", "kmph": "km/h",
    "meter": "m", "metre": "m", "meters": "m", "kilometer": "km", "kilometers": "km",
    "mile": "mi", "miles": "mi",
    "sec": "s", "second": "s", "seconds": "s", "minutes": "min", "hours": "h", "hour": "h",
    "day": "d", "days": "d",
    "degc": "°C", "deg c": "°C", "c": "°C", "celsius": "°C", "°c": "°C", "degreec": "°C",
    "degf": "°F", "f": "°F", "°f": "°F", "fahrenheit": "°F",
    "kpa": "kPa", "psi": "psi", "bar": "bar",
    "v": "V", "volt": "V", "volts": "V", "mv": "mV",
    "pct": "%", "percent": "%",
    "liter": "l", "litre": "l", "l": "l", "gallon": "gal",
}


def normalize(unit: str) -> str:
    """Return the canonical spelling of ``unit`` or raise UnitError."""
    u = (unit or "").strip()
    if u in _UNITS:
        return u
    key = u.lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise UnitError(f"unknown unit {unit!r}")


def is_known(unit: str) -> bool:
    try:
        normalize(unit)
    except UnitError:
        return False
    return True


def linear(from_unit: str, to_unit: str) -> tuple[float, float]:
    """``(scale, offset)`` such that ``to = from * scale + offset``."""
    a, b = _UNITS[normalize(from_unit)], _UNITS[normalize(to_unit)]
    if a.dimension != b.dimension:
        raise UnitError(f"cannot convert {from_unit!r} ({a.dimension}) to {to_unit!r} ({b.dimension})")
    scale = a.factor / b.factor
    offset = (a.offset - b.offset) / b.factor
    return scale, offset


def convert(value: float, from_unit: str, to_unit: str) -> float:
    scale, offset = linear(from_unit, to_unit)
    return value * scale + offset
