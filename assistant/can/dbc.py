"""Load DBC files as suppliers really ship them.

Policy
------
A head unit gets DBC files from suppliers and has to live with what they wrote. Real
files (see ``../shared/realworld/dbc``) carry quirks that make
``cantools.database.load_file(..., strict=False)`` fail or load them wrongly. ``load_dbc``
therefore does one of exactly two things with every file:

* **load it**: the text goes through a small normalisation pass (one function per known
  quirk, listed in ``_FIXERS``) and is then handed to
  ``cantools.database.load_string(text, database_format="dbc", strict=False)``. Every single
  change the pass makes is logged as exactly ONE warning on the ``assistant.can.dbc``
  logger, naming the file, the line and what was changed, e.g.
  ``psa_aee2010_r3.dbc:165: signal name '0_COUNTER' starts with a digit; renamed to
  'S_0_COUNTER'``. Nothing is changed silently.
* **refuse it** with :class:`DbcError` naming the file, the line (when one is known) and the
  problem: file missing or unreadable, not a text file, empty, no messages, or anything
  cantools still cannot parse after normalisation (its ``Invalid syntax at line N``
  becomes ``DbcError.line == N``), or a ``BO_``/``SG_`` statement that cantools skipped
  without a word (non-strict cantools drops an incomplete last statement: a file cut short
  mid-``SG_`` or mid-``BO_`` would otherwise load with fewer signals or messages, and the
  error would surface later, blaming the map file).

Files that load but are wrong get one warning per finding, after the fixes: two signals of
one message that share bits (and are not in different multiplexer branches), naming the
message, both signals and the shared bits (cantools would decode garbage and fail to
encode, e.g. "int too big to convert"); a signal reaching past its message's length; a file
that ends without a newline inside a ``BO_``/``SG_`` statement (it may have been cut short).

The pass never adds or removes lines (a dropped statement becomes an empty line), so line
numbers in warnings and errors are always those of the file on disk.

Quirks normalised (all seen in real opendbc files):

* numbers without a leading zero, ``(.25,-500)`` -> ``(0.25,-500)``;
* ``CM_`` / ``VAL_`` / ``BA_...`` statements missing their closing ``;`` (only when the
  statement really ends before the next statement starts: ``CM_`` strings may legitimately
  span several lines);
* 29-bit frame ids written without the 0x80000000 "extended" flag: the ``BO_`` id and every
  ``CM_``/``BA_``/``VAL_``/``SG_MUL_VAL_``/... reference to it are rewritten together;
* message or signal names starting with a digit (``0_COUNTER``): renamed ``M_``/``S_`` +
  name, together with every reference to them;
* ``VAL_`` tables for signals that do not exist: the statement is dropped;
* a ``VFrameFormat`` default ending in ``CAN_FD`` that would turn every message without an
  explicit ``BA_ "VFrameFormat"`` into CAN-FD: the default becomes ``StandardCAN``
  (classic CAN; standard/extended still follows the id), explicit settings are kept.

Text is decoded as UTF-8; files that are not valid UTF-8 are decoded as cp1252 (latin-1
if even that fails), with one warning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cantools

from assistant.errors import UserError

log = logging.getLogger("assistant.can.dbc")

__all__ = ["DbcError", "bit_layout", "bit_ranges", "load_dbc", "signal_bits"]


class DbcError(UserError):
    """A DBC file that is refused: ``str(e) == "<path>:<line>: <problem>"``."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")


# --------------------------------------------------------------------------- text model

# Statement keywords of the DBC grammar (as cantools knows them).
_KEYWORDS = frozenset(
    "BA_ BA_DEF_ BA_DEF_DEF_ BA_DEF_DEF_REL_ BA_DEF_REL_ BA_DEF_SGTYPE_ BA_REL_ BA_SGTYPE_ "
    "BO_ BO_TX_BU_ BS_ BU_ BU_BO_REL_ BU_EV_REL_ BU_SG_REL_ CAT_ CAT_DEF_ CM_ ENVVAR_DATA_ "
    "EV_ EV_DATA_ FILTER NS_ NS_DESC_ SG_ SG_MUL_VAL_ SGTYPE_ SGTYPE_VAL_ SIG_GROUP_ "
    "SIG_TYPE_REF_ SIG_VALTYPE_ SIGTYPE_VALTYPE_ VAL_ VAL_TABLE_ VERSION".split()
)
# Statements the grammar ends with ';' (the ones the terminator fix may complete).
_TERMINATED = frozenset(
    "CM_ VAL_ VAL_TABLE_ BA_ BA_DEF_ BA_DEF_DEF_ BA_REL_ BA_DEF_REL_ BA_DEF_DEF_REL_ "
    "SIG_VALTYPE_ SG_MUL_VAL_ BO_TX_BU_ SIG_GROUP_".split()
)

_FIRST_WORD = re.compile(r"\s*([A-Za-z_]\w*)")
_STRING = re.compile(r'"(?:\\"|[^"])*"', re.DOTALL)
_BO = re.compile(r"^(\s*BO_\s+)(\d+)(\s+)(\w+)(\s*:)")
_SG = re.compile(r"^(\s*SG_\s+)(\w+)")

# Statements that refer to a message by frame id: group 1 = everything before the id.
_ID_REF = re.compile(
    r"""^(\s*(?:
          CM_\s+(?:BO_|SG_)
        | BA_\s+"[^"]*"\s+(?:BO_|SG_)
        | BA_REL_\s+"[^"]*"\s+(?:BU_SG_REL_\s+\w+\s+SG_|BU_BO_REL_\s+\w+)
        | VAL_ | SG_MUL_VAL_ | SIG_VALTYPE_ | BO_TX_BU_ | SIG_GROUP_
        )\s+)(\d+)""",
    re.VERBOSE,
)
# Statements that refer to a signal as "<frame id> <signal name>".
_SIG_REF = re.compile(
    r"""^(\s*(?:
          CM_\s+SG_
        | BA_\s+"[^"]*"\s+SG_
        | BA_REL_\s+"[^"]*"\s+BU_SG_REL_\s+\w+\s+SG_
        | VAL_ | SG_MUL_VAL_ | SIG_VALTYPE_
        )\s+)(\d+)(\s+)(\w+)""",
    re.VERBOSE,
)
_SG_MUL_VAL_SWITCH = re.compile(r"^(\s*SG_MUL_VAL_\s+\d+\s+\w+\s+)(\w+)")
_SIG_GROUP = re.compile(r"^(\s*SIG_GROUP_\s+(\d+)\s+\w+\s+\d+\s*:)([^;]*)")


_QUOTE = re.compile(r'(?<!\\)"')  # a string delimiter (not an escaped \" inside a string)


def _quotes(line: str) -> int:
    """Number of string delimiters on a line (``\\"`` is an escaped quote, not one)."""
    return line.count('"') - line.count('\\"')


@dataclass
class _Dbc:
    """The file being normalised: its lines (never added or removed) and a warning sink."""

    name: str
    lines: list[str]
    warnings: list[tuple[int, str]] = field(default_factory=list)
    _cache: tuple[list[tuple[int, str]], list[bool]] | None = field(default=None, repr=False)

    def warn(self, index: int, what: str) -> None:
        """Record one fix at 0-based line ``index`` (logged by ``flush_warnings``)."""
        self.warnings.append((index + 1, what))

    def flush_warnings(self) -> None:
        """Log the recorded fixes, one warning each, in line order."""
        for line, what in sorted(self.warnings, key=lambda w: w[0]):
            log.warning("%s:%d: %s", self.name, line, what)
        self.warnings.clear()

    def set_line(self, index: int, text: str) -> None:
        self.lines[index] = text
        self._cache = None

    def scan(self) -> tuple[list[tuple[int, str]], list[bool]]:
        """(statements, quoted): every ``(line index, keyword)`` that starts a statement, and
        per line whether it starts inside a (multi-line) string."""
        if self._cache is None:
            self._cache = _scan(self.name, self.lines)
        return self._cache

    def statements(self, *keywords: str) -> Iterator[int]:
        """Indexes of the lines that start a statement with one of ``keywords``."""
        for index, keyword in self.scan()[0]:
            if keyword in keywords:
                yield index

    def spans(self) -> Iterator[tuple[int, int, str]]:
        """``(first line, end line (exclusive), keyword)`` of every statement."""
        stmts = self.scan()[0]
        for n, (index, keyword) in enumerate(stmts):
            end = stmts[n + 1][0] if n + 1 < len(stmts) else len(self.lines)
            yield index, end, keyword

    def messages(self) -> dict[int, dict[str, int]]:
        """frame id -> {signal name: line index} as currently written."""
        result: dict[int, dict[str, int]] = {}
        current: dict[str, int] | None = None
        for index in self.statements("BO_", "SG_"):
            line = self.lines[index]
            if m := _BO.match(line):
                current = result.setdefault(int(m[2]), {})
            elif (m := _SG.match(line)) and current is not None:
                current[m[2]] = index
        return result


def _scan(name: str, lines: list[str]) -> tuple[list[tuple[int, str]], list[bool]]:
    statements: list[tuple[int, str]] = []
    quoted = [False] * len(lines)
    in_string = False
    opened = 0
    in_ns = False
    for index, line in enumerate(lines):
        quoted[index] = in_string
        if not in_string:
            if line.lstrip().startswith("//"):
                continue
            m = _FIRST_WORD.match(line)
            keyword = m[1] if m and m[1] in _KEYWORDS else None
            if in_ns:  # "NS_ :" is followed by a list of bare keywords
                if not line.strip() or (keyword and not line[m.end():].strip()):
                    continue
                in_ns = False
            if keyword:
                statements.append((index, keyword))
                in_ns = keyword == "NS_"
        if '"' in line and _quotes(line) % 2:
            in_string = not in_string
            opened = index
    if in_string:
        raise DbcError(name, opened + 1, "string opened here is never closed")
    return statements, quoted


def _is_comment(line: str, starts_quoted: bool) -> bool:
    """A ``// comment`` line (outside any string)."""
    return not starts_quoted and line.lstrip().startswith("//")


def _outside_strings(line: str, starts_quoted: bool, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the parts of ``line`` that are not inside a string."""
    parts = _QUOTE.split(line)
    first_outside = 1 if starts_quoted else 0
    for i in range(first_outside, len(parts), 2):
        parts[i] = fn(parts[i])
    return '"'.join(parts)


# --------------------------------------------------------------------------- fixers


def fix_unterminated_statements(dbc: _Dbc) -> None:
    """``VAL_ 320 ACC_OFF_REQ 2 "PERMANENT" 0 "NONE"`` (no ``;``) -> append ``;``.

    A statement counts as unterminated only when the next statement starts (outside any
    string) before a ``;`` is seen, so multi-line ``CM_`` strings are left alone.
    """
    _, quoted = dbc.scan()
    for start, end, keyword in list(dbc.spans()):
        if keyword not in _TERMINATED:
            continue
        code = [i for i in range(start, end) if dbc.lines[i].strip() and not _is_comment(dbc.lines[i], quoted[i])]
        if ";" in _STRING.sub("", "\n".join(dbc.lines[i] for i in code)):
            continue
        last = code[-1] if code else start
        dbc.set_line(last, dbc.lines[last].rstrip() + " ;")
        dbc.warn(start, f"{keyword} statement is missing its closing ';'; added")


_LEADING_DOT = re.compile(r"(?<![\w.])([-+]?)\.(\d+(?:[eE][-+]?\d+)?)")


def fix_leading_dot_numbers(dbc: _Dbc) -> None:
    """``(.25,-500)`` -> ``(0.25,-500)``: cantools needs a digit before the point."""
    _, quoted = dbc.scan()
    for index, line in enumerate(dbc.lines):
        if "." not in line or _is_comment(line, quoted[index]):
            continue
        found: list[re.Match[str]] = []

        def add_zero(m: re.Match[str]) -> str:
            found.append(m)
            return f"{m[1]}0.{m[2]}"

        new = _outside_strings(line, quoted[index], lambda part: _LEADING_DOT.sub(add_zero, part))
        if found:
            dbc.set_line(index, new)
            for m in found:
                dbc.warn(index, f"number '{m[0]}' has no leading zero; rewritten as '{m[1]}0.{m[2]}'")


def fix_unflagged_extended_ids(dbc: _Dbc) -> None:
    """``BO_ 103596083 BSM_LEFT`` (29-bit id, no 0x80000000 flag) -> flag it, everywhere."""
    defined = {int(m[2]) for i in dbc.statements("BO_") if (m := _BO.match(dbc.lines[i]))}
    renumber: dict[str, tuple[str, int]] = {}
    for index in dbc.statements("BO_"):
        m = _BO.match(dbc.lines[index])
        if not m or int(m[2]) <= 0x7FF or int(m[2]) & 0x80000000:
            continue
        frame_id = int(m[2])
        if frame_id > 0x1FFFFFFF:
            raise DbcError(dbc.name, index + 1,
                           f"frame id {frame_id} (0x{frame_id:x}) of message {m[4]} does not fit 29 bits")
        flagged = frame_id | 0x80000000
        if flagged in defined:
            raise DbcError(dbc.name, index + 1,
                           f"frame id {frame_id} (0x{frame_id:x}) of message {m[4]} is a 29-bit id "
                           f"without the extended flag, but {flagged} is defined too")
        renumber[m[2]] = (str(flagged), index)
        dbc.set_line(index, dbc.lines[index][: m.start(2)] + str(flagged) + dbc.lines[index][m.end(2):])
    if not renumber:
        return
    references = dict.fromkeys(renumber, 0)
    for index, keyword in list(dbc.scan()[0]):
        if keyword == "BO_" or not (m := _ID_REF.match(dbc.lines[index])) or m[2] not in renumber:
            continue
        references[m[2]] += 1
        line = dbc.lines[index]
        dbc.set_line(index, line[: m.start(2)] + renumber[m[2]][0] + line[m.end(2):])
    for old, (new, index) in renumber.items():
        dbc.warn(
            index,
            f"frame id {old} (0x{int(old):x}) is more than 11 bits but lacks the extended flag; "
            f"rewritten as {new} (0x{int(new):x}, extended){_and_references(references[old])}",
        )


def fix_names_starting_with_digit(dbc: _Dbc) -> None:
    """``SG_ 0_COUNTER`` -> ``SG_ S_0_COUNTER`` (``BO_ .. 2017_5:`` -> ``M_2017_5``), and
    every ``<frame id> <signal>`` reference to a renamed signal."""
    messages = dbc.messages()
    renamed: dict[tuple[str, str], tuple[str, int]] = {}
    message_names = {m[4] for i in dbc.statements("BO_") if (m := _BO.match(dbc.lines[i]))}
    frame_id = ""
    for index in list(dbc.statements("BO_", "SG_")):
        line = dbc.lines[index]
        if m := _BO.match(line):
            frame_id = m[2]
            if m[4][0].isdigit():
                new = _unique("M_" + m[4], message_names)
                dbc.set_line(index, line[: m.start(4)] + new + line[m.end(4):])
                dbc.warn(index, f"message name '{m[4]}' starts with a digit; renamed to '{new}'")
        elif (m := _SG.match(line)) and m[2][0].isdigit():
            new = _unique("S_" + m[2], messages.get(int(frame_id or -1), {}))
            renamed[(frame_id, m[2])] = (new, index)
            dbc.set_line(index, line[: m.start(2)] + new + line[m.end(2):])
    if not renamed:
        return
    references = dict.fromkeys(renamed, 0)

    def rename(frame: str, name: str) -> str:
        if (frame, name) in renamed:
            references[(frame, name)] += 1
            return renamed[(frame, name)][0]
        return name

    for index, keyword in list(dbc.scan()[0]):
        line = dbc.lines[index]
        if keyword == "SIG_GROUP_" and (m := _SIG_GROUP.match(line)):
            names = re.sub(r"\w+", lambda s: rename(m[2], s[0]), m[3])
            dbc.set_line(index, line[: m.start(3)] + names + line[m.end(3):])
            continue
        if not (m := _SIG_REF.match(line)):
            continue
        new = rename(m[2], m[4])
        line = line[: m.start(4)] + new + line[m.end(4):]
        if keyword == "SG_MUL_VAL_" and (s := _SG_MUL_VAL_SWITCH.match(line)):
            line = line[: s.start(2)] + rename(m[2], s[2]) + line[s.end(2):]
        if line != dbc.lines[index]:
            dbc.set_line(index, line)
    for key, (new, index) in renamed.items():
        dbc.warn(
            index,
            f"signal name '{key[1]}' starts with a digit; renamed to '{new}'"
            f"{_and_references(references[key])}",
        )


def _and_references(count: int) -> str:
    return "" if not count else f" (and {count} reference{'s' if count > 1 else ''} to it)"


def _unique(name: str, taken: dict[str, int] | set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def fix_val_for_unknown_signals(dbc: _Dbc) -> None:
    """``VAL_ 501 CRUISE_STATE ...;`` where message 501 has no such signal -> drop it."""
    messages = dbc.messages()
    for start, end, keyword in list(dbc.spans()):
        if keyword != "VAL_" or not (m := re.match(r"\s*VAL_\s+(\d+)\s+(\w+)", dbc.lines[start])):
            continue  # VAL_ <env var name> ... has no frame id
        frame_id, signal = int(m[1]), m[2]
        if signal in messages.get(frame_id, {}):
            continue
        where = "message" if frame_id in messages else "unknown message"
        last = start
        for i in range(start, end):  # the statement ends at its ';' (blank lines may follow)
            last = i
            if ";" in _STRING.sub("", dbc.lines[i]):
                break
        for i in range(start, last + 1):
            dbc.set_line(i, "")
        dbc.warn(start, f"VAL_ for signal '{signal}' that does not exist in {where} {frame_id}; "
                        f"statement dropped")


_VFRAME_DEFAULT = re.compile(r'^(\s*BA_DEF_DEF_\s+"VFrameFormat"\s+")(\w*CAN_FD)(")')
_VFRAME_EXPLICIT = re.compile(r'^\s*BA_\s+"VFrameFormat"\s+BO_\s+(\d+)')


def fix_fd_frame_format_default(dbc: _Dbc) -> None:
    """``BA_DEF_DEF_ "VFrameFormat" "ExtendedCAN_FD"`` -> ``"StandardCAN"`` so messages
    without their own ``BA_ "VFrameFormat"`` load as classic CAN (explicit ones are kept)."""
    for index in dbc.statements("BA_DEF_DEF_"):
        if not (m := _VFRAME_DEFAULT.match(dbc.lines[index])):
            continue
        explicit = {int(e[1]) for i in dbc.statements("BA_") if (e := _VFRAME_EXPLICIT.match(dbc.lines[i]))}
        implicit = [f for f in dbc.messages() if f not in explicit]
        if not implicit:
            return  # the default applies to nothing: leave the file as it is
        line = dbc.lines[index]
        dbc.set_line(index, line[: m.start(2)] + "StandardCAN" + line[m.end(2):])
        dbc.warn(
            index,
            f"VFrameFormat default '{m[2]}' would make {len(implicit)} message(s) without an "
            f"explicit VFrameFormat CAN-FD; default set to 'StandardCAN' (classic CAN, "
            f"standard/extended by id)",
        )
        return


# Order matters: statements must be terminated before they are inspected, ids fixed before
# names are matched by "<id> <name>", names fixed before VAL_ entries are checked.
_FIXERS: tuple[Callable[[_Dbc], None], ...] = (
    fix_unterminated_statements,
    fix_leading_dot_numbers,
    fix_unflagged_extended_ids,
    fix_names_starting_with_digit,
    fix_val_for_unknown_signals,
    fix_fd_frame_format_default,
)


# --------------------------------------------------------------------------- loading


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DbcError(path, None, "file not found") from None
    except IsADirectoryError:
        raise DbcError(path, None, "is a directory, not a DBC file") from None
    except OSError as exc:
        raise DbcError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise DbcError(path, line, "not a text file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        for encoding in ("cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            log.warning("%s:%d: not valid UTF-8 (byte 0x%02x); decoded as %s",
                        path.name, line, data[exc.start], encoding)
            return text
        raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


_SYNTAX = re.compile(r"Invalid syntax at line (\d+), column (\d+)")
_IN_MESSAGE = re.compile(r"in message '?(\w+)'?")


def _refusal(path: Path, lines: list[str], exc: Exception) -> DbcError:
    """Turn a cantools failure into a DbcError with the line number when there is one."""
    cause = getattr(exc, "e_dbc", None) or exc
    text = str(cause)
    if m := _SYNTAX.search(text):
        line, column = int(m[1]), int(m[2])
        source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        return DbcError(path, line, f"invalid syntax at column {column}: {source[:120]}")
    if m := _IN_MESSAGE.search(text):
        for index, source in enumerate(lines):
            if (b := _BO.match(source)) and b[4] == m[1]:
                return DbcError(path, index + 1, text)
    return DbcError(path, None, f"cannot be loaded: {text}")


def load_dbc(path: str | Path) -> cantools.database.Database:
    """Load a DBC file, normalising known supplier quirks (one warning each), or raise
    :class:`DbcError` naming the file, the line and the problem."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise DbcError(path, None, "no messages (file is empty)")
    dbc = _Dbc(path.name, [line.rstrip("\r") for line in text.split("\n")])
    try:
        for fixer in _FIXERS:
            fixer(dbc)
    except DbcError as exc:  # raised with the bare file name: report the path given
        raise DbcError(path, exc.line, exc.problem) from None
    finally:
        dbc.flush_warnings()
    try:
        db = cantools.database.load_string("\n".join(dbc.lines), database_format="dbc", strict=False)
    except Exception as exc:  # cantools raises several types; all mean "refused"
        raise _refusal(path, dbc.lines, exc) from exc
    if not db.messages:
        raise DbcError(path, None, "no messages")
    for line, what in _check_loaded(path, dbc, db, text):
        log.warning("%s:%d: %s", dbc.name, line, what)
    return db


_PSEUDO_MESSAGE = "VECTOR__INDEPENDENT_SIG_MSG"   # Vector's holder of unused signals; cantools skips it


def _check_loaded(path: Path, dbc: _Dbc, db: cantools.database.Database, text: str) -> list[tuple[int, str]]:
    """Refuse ``BO_``/``SG_`` statements cantools dropped silently; return the findings about
    a file that loaded but is wrong, as ``(line, text)``."""
    loaded = {m.name: {s.name for s in m.signals} for m in db.messages}
    statements = dbc.scan()[0]
    last = statements[-1][0] if statements else -1
    sig_lines: dict[str, dict[str, int]] = {}
    current: str | None = None
    for index, keyword in statements:
        if keyword not in ("BO_", "SG_"):
            current = None
            continue
        line = dbc.lines[index]
        if keyword == "BO_":
            m = _BO.match(line)
            current = m[4] if m else None
            if current == _PSEUDO_MESSAGE:
                current = None
                continue
            if current in loaded:
                sig_lines[current] = {}
                continue
        elif current is None:                  # a signal of the pseudo message (or of a dropped one)
            continue
        else:
            m = _SG.match(line)
            if m and m[2] in loaded[current]:
                sig_lines[current][m[2]] = index
                continue
        cut = index == last and not text.endswith("\n")
        why = ("the file ends in the middle of it: cut short?" if cut else
               "incomplete or malformed, and cantools skipped it" + (" (it is the last statement: file cut short?)"
                                                                      if index == last else ""))
        raise DbcError(path, index + 1, f"{keyword} statement not loaded, {why}: {line.strip()[:120]!r}")
    findings: list[tuple[int, str]] = []
    if last >= 0 and not text.endswith("\n") and statements[-1][1] in ("BO_", "SG_"):
        findings.append((last + 1, f"file ends without a newline inside this {statements[-1][1]} statement: "
                                   "it may have been cut short"))
    for message in db.messages:
        findings += _check_bits(message, sig_lines.get(message.name, {}))
    return sorted(findings, key=lambda f: f[0])


def signal_bits(signal: cantools.database.Signal) -> list[int]:
    """Bit positions of a signal (bit b of byte n is 8n + b), whatever its byte order."""
    if signal.byte_order == "little_endian":
        return list(range(signal.start, signal.start + signal.length))
    bits, pos = [], signal.start                 # Motorola: MSB first, "sawtooth" numbering
    for _ in range(signal.length):
        bits.append(pos)
        pos = pos + 15 if pos % 8 == 0 else pos - 1
    return bits


def bit_ranges(bits: list[int]) -> str:
    out: list[str] = []
    for b in sorted(bits):
        if out and isinstance(out[-1], list) and out[-1][1] == b - 1:
            out[-1][1] = b
        else:
            out.append([b, b])
    return ",".join(f"{a}" if a == z else f"{a}..{z}" for a, z in out)


def bit_layout(signal: cantools.database.Signal) -> str:
    return f"{signal.start}|{signal.length}@{1 if signal.byte_order == 'little_endian' else 0}"


def _check_bits(message: cantools.database.Message, lines: dict[str, int]) -> list[tuple[int, str]]:
    """Signals that share bits (when both can be in one frame) or reach past the message."""
    found: list[tuple[int, str]] = []
    first_line = min(lines.values(), default=0)
    masks = []
    for signal in message.signals:
        bits = signal_bits(signal)
        line = lines.get(signal.name, first_line) + 1
        if bits and (max(bits) >= 8 * message.length or min(bits) < 0):
            found.append((line, f"message {message.name}: signal {signal.name} ({bit_layout(signal)}) reaches past "
                                f"the {message.length}-byte message (bits {bit_ranges(bits)})"))
        mux = (signal.multiplexer_signal, frozenset(signal.multiplexer_ids)) if signal.multiplexer_ids else None
        masks.append((signal, sum(1 << b for b in bits if b >= 0), mux, line))
    for i, (a, mask_a, mux_a, _) in enumerate(masks):
        for b, mask_b, mux_b, line_b in masks[i + 1:]:
            shared = mask_a & mask_b
            if not shared:
                continue
            if mux_a and mux_b and (mux_a[0] != mux_b[0] or not mux_a[1] & mux_b[1]):
                continue                         # never in the same frame
            bits = [k for k in range(shared.bit_length()) if shared >> k & 1]
            found.append((line_b, f"message {message.name}: signals {a.name} ({bit_layout(a)}) and "
                                  f"{b.name} ({bit_layout(b)}) overlap at bit(s) {bit_ranges(bits)}: one frame "
                                  f"cannot carry both, decoded values are wrong and encoding the message fails"))
    return found
