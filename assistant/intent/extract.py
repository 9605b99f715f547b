"""Extractors that every language's rules share.

Pure functions over a normalised question (:func:`normalise`) and, where the words belong to
a language, the compiled patterns of that language's table (:mod:`assistant.intent.languages`):

- repairing a speech-recogniser transcript before matching: fillers dropped (:func:`blank`,
  then :func:`squeeze`), common mishearings rewritten (:func:`rewrite`), spoken trouble codes
  ("p zero four two zero" -> ``p0420``, :func:`spoken_codes`) and spoken distances ("thirty
  kilometres" -> ``30 kilometres``, :func:`spoken_numbers`) turned into digits;
- hiding the parts of a question that ask for nothing (:func:`blank`,
  :func:`blank_to_clause_end`) so that the rules do not see them;
- a destination distance (``200 km``, ``120 miles``) in km, which tyre, which energy (fuel or
  battery) was asked about, which unit a follow-up asks for, and whether a turn asks for nothing
  but other units.

Unit names and conversions are :mod:`assistant.state.units`'.
"""

from __future__ import annotations

import re

from assistant.state import units

# A pattern list that is empty: matches nothing.
NEVER = re.compile(r"(?!)")

# Distance unit spellings when a table gives none (tables add their own: "chilometri", "miglia").
DEFAULT_KM = r"km|kms|kilomet(?:er|re)s?"
DEFAULT_MI = r"mi|miles?"
# Not a distance: a speed ("120 km/h", "80 km an hour").
_NOT_A_SPEED = r"(?!\s*/\s*h|\s*(?:per|an|a|every) hour|ph\b)"

# Trouble codes are the same in every language: a letter (powertrain, chassis, body, network)
# and four digits.
CODE_LETTERS = {"p": "p", "pee": "p", "c": "c", "b": "b", "u": "u"}

WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def normalise(text: str) -> str:
    """Lower case, one apostrophe, "tire" spelt "tyre", single spaces."""
    t = text.lower().replace("’", "'").replace("‘", "'")
    t = re.sub(r"\btires?\b", lambda m: m.group().replace("tire", "tyre"), t)
    return re.sub(r"\s+", " ", t).strip()


def alternation(patterns: list[str]) -> re.Pattern:
    """One regular expression that matches where any of ``patterns`` does (:data:`NEVER` for none).
    Its leftmost match starts where the earliest of theirs does. Each pattern must compile on its
    own: ValueError names the first that does not."""
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise ValueError(f"pattern {p!r} is not a regular expression: {e}") from None
    if not patterns:
        return NEVER
    try:
        return re.compile("(?:" + "|".join(patterns) + ")")
    except re.error as e:                        # e.g. a global flag such as (?i) in a pattern
        raise ValueError(f"patterns cannot be combined: {e} (use scoped flags, (?i:...))") from None


# ----------------------------------------------------------------------------- transcripts

def squeeze(q: str) -> str:
    """Single spaces, no space before punctuation, trimmed (after words were taken out)."""
    q = re.sub(r"\s+", " ", q)
    q = re.sub(r" ([,.;:?!])", r"\1", q)
    return re.sub(r"^[\s,.;:]+", "", q).strip()


def unclipped(q: str, words: list[str]) -> str:
    """A transcript whose first word lost its first sound or two ("ange left", "ires ok"): that word
    restored when it is the end of one of ``words`` only, and not itself one of them."""
    first, _, rest = q.partition(" ")
    bare = first.rstrip("?.!,")
    if len(bare) < 3 or bare in words:        # two letters left ("il", "ow") are too often words of their own
        return q
    whole = {normalise(w) for w in words for cut in (1, 2) if w[cut:] == bare}
    if len(whole) != 1:
        return q
    return (whole.pop() + first[len(bare):] + (" " + rest if rest else "")).strip()


def rewrite(q: str, pairs: list[tuple[re.Pattern, str]]) -> tuple[str, list[str]]:
    """``q`` with each (pattern, replacement) applied in order (``re.sub`` templates), and the
    words that were rewritten."""
    changed = []
    for rx, repl in pairs:
        if rx.search(q):
            changed += [m.group() for m in rx.finditer(q)]
            q = rx.sub(repl, q)
    return q, changed


def spoken_codes(q: str, digits: dict[str, int], letters: dict[str, str] | None = None) -> str:
    """Trouble codes read out a character at a time ("p zero four two zero", "p 0 4 2 0",
    "p 0420", Italian "pi zero tre zero uno") as one code (``p0420``); ``digits`` maps a
    language's digit words to 0..9, ``letters`` its names of the code letters (besides the
    letters themselves)."""
    letters = {**CODE_LETTERS, **(letters or {})}
    toks = q.split(" ")
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        letter, code = letters.get(tok), ""
        if letter is None and (glued := re.fullmatch(r"([pcbu])(\d{1,3})", tok)):    # "p0 one seven one"
            letter, code = glued.groups()
        if letter is not None:
            j, tail = i + 1, ""
            while j < len(toks) and len(code) < 4:
                word, tail = re.fullmatch(r"(.*?)([?.!,;:]*)", toks[j]).groups()
                if word.isdigit():
                    code += word
                elif word in digits:
                    code += str(digits[word])
                else:
                    tail = ""
                    break
                j += 1
                if tail:
                    break
            if re.fullmatch(r"[0-3]\d{3}", code):
                out.append(letter + code + tail)
                i = j
                continue
        out.append(tok)
        i += 1
    return " ".join(out)


def number_pieces(tok: str, numbers: dict[str, int], scales: dict[str, int]) -> list[str] | None:
    """The number words a token is made of, or None: "thirty-five" (hyphens), French
    "quatre-vingt-dix" (a hyphenated number word of its own, "quatre-vingt"), Italian
    "quattrocentocinquanta" (number words written as one, "trentotto" with the vowel elided)."""
    return _pieces(tok, _NumberWords(numbers, scales))


class _NumberWords:
    """A language's number words and scales, longest first (built once per question, not per token)."""

    def __init__(self, numbers: dict[str, int], scales: dict[str, int]):
        self.vocab = {**numbers, **scales}
        self.longest_first = sorted(self.vocab, key=len, reverse=True)


def _pieces(tok: str, words: _NumberWords) -> list[str] | None:
    vocab = words.vocab
    if tok in vocab:
        return [tok]
    parts = tok.split("-")
    out: list[str] = []
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and f"{parts[i]}-{parts[i + 1]}" in vocab:
            out.append(f"{parts[i]}-{parts[i + 1]}")
            i += 2
            continue
        glued = _glued(parts[i], words)
        if glued is None:
            return None
        out += glued
        i += 1
    return out or None


def _glued(word: str, words: _NumberWords) -> list[str] | None:
    """``word`` as number words written together, longest first; a word whose last vowel is
    dropped before a vowel ("trent" + "otto") counts."""
    if word in words.vocab:
        return [word]
    for w in words.longest_first:
        for stem in (w, w[:-1] if len(w) > 3 and w[-1] in "aeiou" else None):
            if stem and word.startswith(stem) and len(word) > len(stem):
                rest = word[len(stem):]
                if stem != w and rest[0] not in "aeiou":
                    continue
                tail = _glued(rest, words)
                if tail is not None:
                    return [w, *tail]
    return None


def spoken_numbers(q: str, numbers: dict[str, int], scales: dict[str, int], joiners: set[str],
                   before: re.Pattern, approximate: dict[str, int] | None = None,
                   links: set[str] | None = None) -> str:
    """Numbers said in words just before a unit ("one hundred and twenty km", "thirty-five
    miles", "quattrocentocinquanta chilometri") as digits; ``numbers`` are a language's number
    words (one, twenty, ...), ``scales`` its multipliers (hundred, thousand), ``joiners`` the
    words allowed inside a number ("and"), ``before`` what must follow the number (a distance
    unit). ``approximate`` are words for a round number ("une cinquantaine de km", "una
    novantina di chilometri": 50, 90), read with the article before them and one of ``links``
    ("de", "di") between them and the unit."""
    if not numbers:
        return q
    approximate, links = approximate or {}, links or set()
    words = _NumberWords(numbers, scales)
    toks = q.split(" ")
    out: list[str] = []
    i = 0
    while i < len(toks):
        k = i + 1 if i + 1 < len(toks) and numbers.get(toks[i]) == 1 and toks[i + 1] in approximate else i
        if toks[k] in approximate:
            j = k + 1
            if j < len(toks) and toks[j] in links:
                j += 1
            if before.match(" ".join(toks[j:])):
                out.append(str(approximate[toks[k]]))
                i = j
                continue
        j, parts = i, []
        while j < len(toks):
            pieces = _pieces(toks[j], words)
            if pieces is not None or (parts and toks[j] in joiners):
                parts += pieces if toks[j] not in joiners else []
                j += 1
            else:
                break
        while j > i and toks[j - 1] in joiners:          # a joiner at the end is not the number's
            j -= 1
        rest = " ".join(toks[j:])
        if parts and j > i and before.match(rest):
            total = current = 0
            for p in parts:
                if p in scales:
                    current = max(current, 1) * scales[p]
                    if scales[p] >= 1000:
                        total, current = total + current, 0
                else:
                    current += numbers[p]
            out.append(str(total + current))
            i = j
            continue
        out.append(toks[i])
        i += 1
    return " ".join(out)


def word_count(q: str) -> int:
    """Words in a question (numbers count as words)."""
    return len(WORD_RE.findall(q))


# ----------------------------------------------------------------------------- hiding parts

def blank(q: str, rx: re.Pattern) -> str:
    """``q`` with every match of ``rx`` replaced by spaces: what remains keeps its place."""
    return rx.sub(lambda m: " " * len(m.group()), q)


_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3}(?:[,.]\d{3})+)(?![\d]|[.,]\d)")


def thousands(q: str) -> str:
    """Numbers written with a thousands separator ("20,000 km", "2.500 km") without it."""
    return _THOUSANDS.sub(lambda m: re.sub(r"[,.]", "", m.group(1)), q)


_REPEATED = re.compile(r"\b(\w+(?: \w+)?)(?:\s+\1\b)+")


def unrepeated(q: str, keep: set[str]) -> str:
    """A word or two a speaker stumbled on said once ("how is the the battery", "can i can i get
    to work"); a repeated digit or number word is kept (a trouble code spoken "p zero four four
    two zero")."""
    def once(m: re.Match) -> str:
        words = m.group(1).split()
        return m.group() if any(w in keep or w.isdigit() for w in words) else m.group(1)
    return _REPEATED.sub(once, q)


def blank_to_clause_end(q: str, rx: re.Pattern) -> str:
    """``q`` with every match of ``rx`` and the rest of its clause (up to the next , ; : . ? !)
    replaced by spaces."""
    for m in list(rx.finditer(q)):
        end = re.compile(r"[,;:.?!]").search(q, m.end())
        stop = end.start() if end else len(q)
        q = q[:m.start()] + " " * (stop - m.start()) + q[stop:]
    return q


# ----------------------------------------------------------------------------- arguments

def distance_pattern(km: str = DEFAULT_KM, mi: str = DEFAULT_MI) -> re.Pattern:
    """A number followed by a distance unit (group 1 the number, group 2 set for miles); a speed
    is not a distance, nor is a rate ("per 100 km", "/100 km")."""
    not_a_rate = r"(?<![/\d.,])(?<!\bper )(?<!\bevery )(?<!\beach )"
    return re.compile(rf"{not_a_rate}(\d+(?:[.,]\d+)?)\s*(?:(?:{km})|({mi}))\b{_NOT_A_SPEED}")


# A number followed by a distance unit, in the spellings of :data:`DEFAULT_KM` / :data:`DEFAULT_MI`.
DISTANCE_RE = distance_pattern()


def destination_km(q: str, distance: re.Pattern = DISTANCE_RE) -> float | None:
    """The first distance in the question, in km (miles converted, to 0.1 km); None if none.
    ``distance`` is a :func:`distance_pattern` (a language's unit spellings)."""
    m = distance.search(q)
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    return round(value * units.KM_PER_MILE, 1) if m.group(2) else value


def energy_source(q: str, battery_words: re.Pattern, fuel_words: re.Pattern) -> str:
    """``battery`` or ``fuel`` when only that one's words are in the question, else ``any``."""
    battery, fuel = bool(battery_words.search(q)), bool(fuel_words.search(q))
    return "battery" if battery and not fuel else "fuel" if fuel and not battery else "any"


def wheel_of(q: str, wheels: dict[str, re.Pattern], sides: dict[str, re.Pattern] | None = None) -> str | None:
    """The first wheel (in table order, most specific first) whose words are in the question; an
    axle (front, rear) with a clear side phrase said apart (``sides``: "the front one on the
    driver's side") is that one wheel."""
    wheel = next((wheel for wheel, rx in wheels.items() if rx.search(q)), None)
    axles = [rx for w, rx in wheels.items() if w in ("front", "rear")]
    if wheel in ("front", "rear") and len(axles) == 2 and all(rx.search(q) for rx in axles):
        return None                 # "the front and back tyres": both axles, all of them
    if wheel in ("front", "rear") and sides:
        side = next((side for side, rx in sides.items() if rx.search(q)), None)
        if side:
            return f"{wheel}_{side}"
    return wheel


def unit_asked(q: str, unit_words: dict[str, re.Pattern], distance: re.Pattern | None = None) -> str | None:
    """The first unit (in table order) whose words are in the question; with ``distance``, a unit
    after a number ("the next town, 30 km": a distance the driver gives) does not count."""
    if distance is not None:
        q = blank(q, distance)
    return next((unit for unit, rx in unit_words.items() if rx.search(q)), None)


def unit_only_pattern(lead: list[str], unit_words: list[str], tail: list[str]) -> re.Pattern:
    """A whole turn that only asks for other units: lead words, one unit word, tail words,
    then at most punctuation ("can you say that in miles please?"). The lists are regular
    expressions for single words; the result is meant for ``fullmatch``."""
    def words(ws: list[str]) -> str:
        return alternation(ws).pattern
    return re.compile(rf"(?:{words(lead)}\s+)*{words(unit_words)}(?:\s+{words(tail)})*\s*[?.!]*")
