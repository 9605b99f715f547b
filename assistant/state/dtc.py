"""Diagnostic trouble codes: the 2-byte SAE J2012 / ISO 15031-6 form, what any well-formed
code says by its structure, and the table of generic codes (``assistant/data/dtc_codes.yaml``).

Bits 15-14 pick the system letter (P, C, B, U), bits 13-12 the first digit (0-3) and the
low 12 bits the remaining three hex digits: ``0x0301 -> 'P0301'``, ``0x4035 -> 'C0035'``.

Structure (SAE J2012), so that a code the table does not list is still explained:

* the letter is the system: P powertrain, C chassis, B body, U network;
* the second character says who defines it: P0 and P2 generic, P1 manufacturer, P3000-P33FF
  manufacturer and P3400-P3FFF generic; C0/B0/U0 generic, C1/C2/B1/B2/U1/U2 manufacturer,
  C3/B3/U3 reserved;
* for generic codes the third character names the subsystem (``groups`` in the table: P03
  ignition system or misfire, P0A-P0C hybrid propulsion, U01 lost communication, ...).

The table is validated when first used (:func:`knowledge`): every code well formed and
generic, no code twice (the YAML reader refuses a duplicated key with both lines), an advice
and a description in every language; a broken file is a :class:`ConfigError` naming
``file:line`` and the code.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

_LETTERS = "PCBU"
DTC_PATTERN = r"^[PCBU][0-3][0-9A-F]{3}$"
DTC_RE = re.compile(DTC_PATTERN)
# A code inside a sentence (questions are lower-cased before routing).
DTC_IN_TEXT = re.compile(r"\b[PCBU][0-3][0-9A-F]{3}\b", re.IGNORECASE)

LANGUAGES = ("en", "fr", "it")
SYSTEMS = {"P": "powertrain", "C": "chassis", "B": "body", "U": "network"}
Advice = Literal["keep_driving", "check_soon", "stop"]
Scope = Literal["generic", "manufacturer", "reserved"]
ADVICE_ORDER = ("keep_driving", "check_soon", "stop")      # least to most serious


def decode(raw: int) -> str:
    raw = int(raw) & 0xFFFF
    return f"{_LETTERS[raw >> 14]}{(raw >> 12) & 0x3}{raw & 0xFFF:03X}"


def encode(code: str) -> int:
    code = code.strip().upper()
    if not DTC_RE.match(code):
        raise ValueError(f"{code!r} is not a DTC like P0301 (letter P/C/B/U, digit 0-3, three hex digits)")
    return (_LETTERS.index(code[0]) << 14) | (int(code[1]) << 12) | int(code[2:], 16)


def scope(code: str) -> Scope:
    """Who defines a well-formed code's meaning (SAE J2012): the standard (generic), its maker
    (manufacturer), or nobody yet (reserved)."""
    letter, digit = code[0], code[1]
    if letter == "P":
        if digit in "02":
            return "generic"
        if digit == "1":
            return "manufacturer"
        return "manufacturer" if code[2] in "0123" else "generic"     # P3000-P33FF / P3400-P3FFF
    return {"0": "generic", "1": "manufacturer", "2": "manufacturer"}.get(digit, "reserved")


# ----------------------------------------------------------------------------- the table's schema

class Texts(BaseModel):
    """One text in every language."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)
    it: str = Field(min_length=1)

    @field_validator("en", "fr", "it")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("is blank")
        return " ".join(v.split())

    def of(self, lang: str) -> str:
        return getattr(self, lang if lang in LANGUAGES else "en")


class CodeEntry(Texts):
    """A generic code: what it means for the driver, and its description in every language."""
    advice: Advice = Field(description="keep_driving | check_soon | stop")


# Placeholders each phrase must use (and the only ones it may use).
PHRASE_FIELDS = {
    "stored": {"code", "meaning"}, "not_stored": {"code", "about"}, "unreadable": {"code", "about"},
    "not_reported": {"code", "about"}, "means": {"meaning"}, "is": {"meaning"},
    "manufacturer": {"system"}, "generic_unknown": {"system", "group"}, "generic_unknown_any": {"system"},
    "reserved": {"system"},
}


class Phrases(BaseModel):
    """The sentences of an answer about one code, in one language."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    stored: str
    not_stored: str
    unreadable: str
    not_reported: str
    means: str
    is_: str = Field(alias="is")
    manufacturer: str
    generic_unknown: str
    generic_unknown_any: str
    reserved: str

    def text(self, key: str) -> str:
        return getattr(self, "is_" if key == "is" else key)


class AdviceTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    keep_driving: str = Field(min_length=1)
    check_soon: str = Field(min_length=1)
    stop: str = Field(min_length=1)


def _every_language(v: dict, what: str) -> dict:
    missing = [lang for lang in LANGUAGES if lang not in v]
    if missing:
        raise ValueError(f"{what} missing for {', '.join(missing)} (every language needs them)")
    return v


class DtcKnowledge(BaseModel):
    """``assistant/data/dtc_codes.yaml``: how codes are named and the generic codes' table."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    systems: dict[Literal["P", "C", "B", "U"], Texts]
    groups: dict[str, Texts] = Field(description="first three characters of a generic code -> its subsystem")
    phrases: dict[str, Phrases]
    advice: dict[str, AdviceTexts]
    codes: dict[str, CodeEntry]

    @field_validator("systems")
    @classmethod
    def _all_systems(cls, v: dict) -> dict:
        missing = [s for s in SYSTEMS if s not in v]
        if missing:
            raise ValueError(f"missing systems {', '.join(missing)}")
        return v

    @field_validator("phrases")
    @classmethod
    def _phrases_languages(cls, v: dict) -> dict:
        return _every_language(v, "phrases")

    @field_validator("advice")
    @classmethod
    def _advice_languages(cls, v: dict) -> dict:
        return _every_language(v, "advice texts")

    def problems(self) -> list[tuple[tuple, str]]:
        """Every bad key, each at its own line: a code that is not a code, or not a generic one
        (a manufacturer's code has no single meaning to put in this table), a group that is not
        a generic code's first three characters, a phrase with wrong placeholders."""
        out: list[tuple[tuple, str]] = []
        for code in self.codes:
            if not DTC_RE.match(str(code)):
                out.append((("codes", code), f"{code!r} is not a trouble code like P0301 (letter P/C/B/U, "
                                             "a digit 0-3, three hex digits, upper case)"))
            elif scope(code) != "generic":
                out.append((("codes", code), f"{code} is a {scope(code)} code: its meaning is not the "
                                             "standard's, so it does not belong in the generic table"))
        for key in self.groups:
            if not re.fullmatch(r"[PCBU][0-3][0-9A-F]", str(key)) or scope(f"{key}00") != "generic":
                out.append((("groups", key), f"{key!r} is not the first three characters of a generic code "
                                             "(like P03)"))
        for lang, ph in self.phrases.items():
            for key, wanted in PHRASE_FIELDS.items():
                used = {f for _, f, _, _ in string.Formatter().parse(ph.text(key)) if f is not None}
                if used != wanted:
                    out.append((("phrases", lang, key), f"placeholders {sorted(used)}; this phrase takes exactly "
                                                        f"{', '.join('{' + w + '}' for w in sorted(wanted))}"))
        return out


# ----------------------------------------------------------------------------- loading

DEFAULT_FILE = "dtc_codes.yaml"


def load_knowledge(path: str | Path) -> DtcKnowledge:
    """Read and validate a trouble-code table. The YAML is parsed with libyaml (the shipped
    table has 465 codes: the pure-Python reader would take half a second of the first answer
    about a code), with the same checks as every user file: duplicated keys with both lines,
    then pydantic with ``file:line: field: problem``."""
    from assistant.configfile import MAX_FILE_BYTES, ConfigError, _duplicate_keys, validate
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(p, [f"{p}: file not found"]) from None
    except OSError as e:
        raise ConfigError(p, [f"{p}: cannot read: {e.strerror}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(p, [f"{p}: file is larger than {MAX_FILE_BYTES // 1024} KiB"])
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        loader = loader_cls(raw.decode("utf-8"))
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError as e:
        raise ConfigError(p, [f"{p}: not UTF-8 text (byte {e.start})"]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(p, [f"{p}:{mark.line + 1 if mark else '?'}: invalid YAML: {e.problem}"]) from None
    except yaml.YAMLError as e:
        raise ConfigError(p, [f"{p}: invalid YAML: {e}"]) from None
    duplicates = _duplicate_keys(node, p)
    if duplicates:
        raise ConfigError(p, duplicates)
    return validate(DtcKnowledge, data, p, node)


@lru_cache(maxsize=None)
def knowledge() -> DtcKnowledge:
    """The shipped table (validated once, on first use)."""
    from assistant import paths
    return load_knowledge(paths.DATA_DIR / DEFAULT_FILE)


# ----------------------------------------------------------------------------- what a code says

@dataclass(frozen=True)
class CodeInfo:
    """What a well-formed code says: by its structure, and from the table when it is listed."""
    code: str
    system: str                      # powertrain | chassis | body | network
    scope: Scope
    group: Optional[str]             # the subsystem (English), generic codes only
    entry: Optional[CodeEntry]       # the table's entry, None when not listed

    @property
    def known(self) -> bool:
        return self.entry is not None

    @property
    def advice(self) -> Optional[str]:
        return self.entry.advice if self.entry else None


def normalise(code: str) -> str:
    """``' p0420 '`` -> ``'P0420'``; ValueError for anything that is not a code."""
    c = str(code).strip().upper()
    if not DTC_RE.match(c):
        raise ValueError(f"{code!r} is not a trouble code like P0301 (letter P/C/B/U, a digit 0-3, three hex digits)")
    return c


def info(code: str, table: DtcKnowledge | None = None) -> CodeInfo:
    k = table or knowledge()
    c = normalise(code)
    sc = scope(c)
    group = k.groups.get(c[:3]) if sc == "generic" else None
    return CodeInfo(c, SYSTEMS[c[0]], sc, group.en if group else None, k.codes.get(c) if sc == "generic" else None)


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def meaning(code: str, lang: str = "en", table: DtcKnowledge | None = None) -> str:
    """What a code means in ``lang``: its description when the table lists it, else what its
    structure says ("a manufacturer-specific powertrain code; its meaning depends on the make
    ...", "a generic powertrain code about the transmission, which I have no description for
    ...", "a chassis code in a range kept for future use ...")."""
    k = table or knowledge()
    lang = _lang(lang)
    i = info(code, k)
    if i.entry is not None:
        return i.entry.of(lang)
    ph = k.phrases[lang]
    system = k.systems[i.code[0]].of(lang)
    if i.scope == "manufacturer":
        return ph.manufacturer.format(system=system)
    if i.scope == "reserved":
        return ph.reserved.format(system=system)
    group = k.groups.get(i.code[:3])
    if group is not None:
        return ph.generic_unknown.format(system=system, group=group.of(lang))
    return ph.generic_unknown_any.format(system=system)


def describe(code: str, lang: str = "en") -> str:
    """A code's meaning as a listing says it ("P0420 (Catalyst not cleaning ...)"): capitalised."""
    text = meaning(code, lang)
    return text[:1].upper() + text[1:]


def advice_text(advice: str, lang: str = "en") -> str:
    return getattr(knowledge().advice[_lang(lang)], advice)


def most_serious(advices) -> Optional[str]:
    """The most serious of some advice values (stop > check_soon > keep_driving); None for none."""
    found = [a for a in advices if a in ADVICE_ORDER]
    return max(found, key=ADVICE_ORDER.index) if found else None
