"""Diagnostic trouble codes in the 2-byte SAE J2012 / ISO 15031-6 form.

Bits 15-14 pick the system letter (P, C, B, U), bits 13-12 the first digit (0-3) and the
low 12 bits the remaining three hex digits: ``0x0301 -> 'P0301'``, ``0x4035 -> 'C0035'``.
"""

from __future__ import annotations

import re

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
