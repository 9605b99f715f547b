"""Units: the one place that knows their names, dimensions and conversions.

Each unit is a linear map onto a base unit of its dimension: ``base = value * factor + offset``
(mpg, the reciprocal of l/100km, is the one non-linear unit and is converted here too). Used by
vehicle profiles (DBC unit -> canonical unit), answers (canonical -> the listener's unit), the
grounding check (every unit a listener may hear a value in), follow-ups ("and in miles?") and
dialogue suites. Unknown units raise ``UnitError`` naming the unit and the accepted spellings.
Spellings are matched ignoring case and a Vector/VW ``Unit_`` prefix (``Unit_KiloMeterPerHour``).
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
    # Vector/VW-style names (``Unit_KiloMeterPerHour``; the ``Unit_`` prefix is dropped before the
    # look-up, and VW cuts each word to five letters: ``Secon``, ``Celsi``, ``Minut``). Only those
    # with one meaning: ``Unit_MinutInver`` (1/min, engine speed) is not a unit here.
    "kilometerperhour": "km/h", "meterpersecon": "m/s", "meterpersecond": "m/s",
    "kilometre": "km", "percent": "%", "millivolt": "mV",
    "degrecelsi": "°C", "degrecelsius": "°C", "degreecelsius": "°C",
    "secon": "s", "minut": "min", "minute": "min", "kilopascal": "kPa",
}
_PREFIX = "unit_"


# l/100km <-> mpg (US): mpg = MPG_L100KM / (l/100km).
MPG_L100KM = 235.214583
KM_PER_MILE = 1.609344

# The units a listener may hear a value of each dimension in (answers, personas, grounding).
SPOKEN: dict[str, tuple[str, ...]] = {
    "distance": ("km", "mi", "m"), "speed": ("km/h", "mph"), "pressure": ("kPa", "bar", "psi"),
    "temperature": ("°C", "°F"), "time": ("s", "min", "h", "d"), "voltage": ("V",), "ratio": ("%",),
    "consumption": ("l/100km", "mpg"),
}


# Units as answers say them, in the order a reader of an answer should try them ("km/h" before
# "km"), and the words for days in each answer language.
ANSWER_UNITS = ("km/h", "km", "mph", "mi", "kPa", "bar", "psi", "°C", "°F", "%", "V", "mpg", "l/100km",
                "days", "day", "jours", "jour", "giorni", "giorno")
DAY_WORDS = {"day": "d", "days": "d", "jour": "d", "jours": "d", "giorno": "d", "giorni": "d"}

# Unit symbols as they follow a number in an answer ("48 km", "14 psi"), longest first, and the
# words that name a unit on their own ("miles", "percent"), both lower-case.
SYMBOLS_AFTER_NUMBER = ("km/h", "mph", "km", "mi", "kpa", "bar", "psi", "°c", "°f", "%", "v", "mpg", "l/100km")
UNIT_WORD_FORMS = ("kilometres", "kilometers", "miles", "mile", "percent", "volts", "degrees", "days", "day",
                   "hours", "weeks", "months")

# Words a listener hears a unit as, lower-case -> dimension (for checking model wording).
WORD_DIMENSIONS = {
    "km": "distance", "kilometres": "distance", "kilometers": "distance", "mi": "distance", "miles": "distance",
    "mile": "distance", "kpa": "pressure", "bar": "pressure", "psi": "pressure", "°c": "temperature",
    "°f": "temperature", "degrees": "temperature", "%": "ratio", "percent": "ratio", "v": "voltage",
    "volts": "voltage", "mpg": "consumption", "l/100km": "consumption", "days": "time", "day": "time",
    "hours": "time", "weeks": "time", "months": "time", "km/h": "speed", "mph": "speed",
}


def spoken(unit: str) -> str:
    """One spelling per unit as answers say it (``days``/``jours``/``giorni`` -> ``d``)."""
    return normalize(DAY_WORDS.get(unit.strip(), unit))


def temperature_unit(unit: str) -> str:
    """``°C`` or ``°F`` for any accepted spelling (C, degC, fahrenheit...); UnitError otherwise."""
    u = normalize(unit)
    if u not in ("°C", "°F"):
        raise UnitError(f"temperature unit must be °C or °F (or C/F), got {unit!r}")
    return u


def dimension(unit: str) -> str:
    """``distance``, ``pressure``, ... of a unit (any accepted spelling); UnitError if unknown."""
    u = normalize(unit)
    return "consumption" if u == "mpg" else _UNITS[u].dimension


def spoken_alternatives(unit: str) -> tuple[str, ...]:
    """The other units a listener may hear a value given in ``unit`` in (km -> mi, m)."""
    try:
        dim = dimension(unit)
    except UnitError:
        return ()
    u = normalize(unit)
    return tuple(x for x in SPOKEN.get(dim, ()) if x != u)


def normalize(unit: str) -> str:
    """Return the canonical spelling of ``unit`` or raise UnitError."""
    u = (unit or "").strip()
    if u in _UNITS or u == "mpg":
        return u
    if u.lower() == "mpg":
        return "mpg"
    key = u.lower()
    if key.startswith(_PREFIX) and len(key) > len(_PREFIX):     # Unit_KiloMeter, unit_percent
        rest = u[len(_PREFIX):]
        if rest in _UNITS:
            return rest
        key = key[len(_PREFIX):]
    if key in _ALIASES:
        return _ALIASES[key]
    if key == "mpg":
        return "mpg"
    raise UnitError(f"unknown unit {unit!r} (accepted: {ACCEPTED}; other spellings: the units table "
                    "in docs/vehicles.md)")


# The canonical spellings, for error messages; every accepted spelling is listed in docs/vehicles.md.
ACCEPTED = ", ".join([*_UNITS, "mpg"])


def accepted_spellings() -> dict[str, list[str]]:
    """Canonical unit -> the other spellings ``normalize`` accepts (lower-case; any case and a
    ``Unit_`` prefix are accepted too). The docs table is checked against this."""
    out: dict[str, list[str]] = {u: [] for u in [*_UNITS, "mpg"]}
    for alias, u in _ALIASES.items():
        if alias != u:
            out[u].append(alias)
    return out


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
    a, b = normalize(from_unit), normalize(to_unit)
    if "mpg" in (a, b) and a != b:               # reciprocal: l/100km <-> mpg
        other = b if a == "mpg" else a
        if dimension(other) != "consumption":
            raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}")
        return MPG_L100KM / value if value else 0.0
    scale, offset = linear(a, b)
    return value * scale + offset
