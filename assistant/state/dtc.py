"""Diagnostic trouble codes in the 2-byte SAE J2012 / ISO 15031-6 form.

Bits 15-14 pick the system letter (P, C, B, U), bits 13-12 the first digit (0-3) and the
low 12 bits the remaining three hex digits: ``0x0301 -> 'P0301'``, ``0x4035 -> 'C0035'``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import RootModel, field_validator

_LETTERS = "PCBU"
DTC_RE = re.compile(r"^[PCBU][0-3][0-9A-F]{3}$")


def decode(raw: int) -> str:
    raw = int(raw) & 0xFFFF
    return f"{_LETTERS[raw >> 14]}{(raw >> 12) & 0x3}{raw & 0xFFF:03X}"


def encode(code: str) -> int:
    code = code.strip().upper()
    if not DTC_RE.match(code):
        raise ValueError(f"{code!r} is not a DTC like P0301 (letter P/C/B/U, digit 0-3, three hex digits)")
    return (_LETTERS.index(code[0]) << 14) | (int(code[1]) << 12) | int(code[2:], 16)


class DtcTable(RootModel[dict[str, str]]):
    """``assistant/data/dtc_descriptions.yaml``: code -> plain description; codes well formed
    (a duplicated code is refused by the YAML reader with both lines)."""

    @field_validator("root")
    @classmethod
    def _codes(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [c for c in v if not DTC_RE.match(str(c))]
        if bad:
            raise ValueError(f"not trouble codes like P0301: {', '.join(map(str, bad[:5]))}")
        empty = [c for c, d in v.items() if not (d or "").strip()]
        if empty:
            raise ValueError(f"codes without a description: {', '.join(empty[:5])}")
        return v


@lru_cache(maxsize=None)
def descriptions() -> dict[str, str]:
    from assistant import paths
    from assistant.configfile import load_model
    return load_model(DtcTable, paths.DATA_DIR / "dtc_descriptions.yaml").root
