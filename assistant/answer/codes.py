"""Rendering of trouble codes: the ``explain_code`` answer, and the words a stored code gets in
the warnings answer, in the answer's language (texts in ``assistant/data/dtc_codes.yaml``).

The renderers here take the rendering's speaker and :class:`~assistant.answer.render.Rendering`
as :mod:`assistant.answer.render` passes them (this module does not import it).

An explanation says first whether this car has the code stored, from a fresh reading of the
stored codes: "P0420 is stored in this car: ...", "P0420 is not stored in this car right now;
it means: ...", or, when the stored codes cannot be read, that it cannot say (never "not
stored"); then, for a listed code that is or may be stored, what to do (keep driving, have it
checked soon, stop).
"""

from __future__ import annotations

from typing import Any, Iterable

from assistant.state import dtc
from assistant.tools.codes import CodeResult


def _lang(s: Any) -> str:
    lang = getattr(s, "locale", "en")
    return lang if lang in dtc.LANGUAGES else "en"


def inline(text: str) -> str:
    """A description said inside a sentence: its first letter lower-cased, unless it starts an
    acronym ("EGR valve ...", "ABS pump ...")."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def listed(code: str, description: str, s: Any) -> str:
    """A stored code's description in a listing, in the answer's language: the tool's own
    (English) words in English, the table's in another language."""
    lang = _lang(s)
    return description if lang == "en" else dtc.describe(code, lang)


def advice_sentence(advices: Iterable[str | None], s: Any) -> tuple[str | None, str | None]:
    """(the most serious advice of some stored codes, its sentence in the answer's language)."""
    worst = dtc.most_serious(advices)
    return worst, (dtc.advice_text(worst, _lang(s)) if worst else None)


def render_code(r: CodeResult, s: Any, out: Any) -> None:
    lang = _lang(s)
    ph = dtc.knowledge().phrases[lang]
    out.fact("code", r.code)
    if not r.known:         # what kind of code it is: a rewording must keep it
        out.fact("verdict", {"manufacturer": "manufacturer-specific", "reserved": "future use"}.get(
            r.scope, "no description"))
    meaning = inline(s.text_numbers(dtc.meaning(r.code, lang)))
    if r.stored is True:
        out.fact("verdict", "stored")
        out.add(ph.stored.format(code=r.code, meaning=meaning), keep=True, primary=True)
    else:
        about = (ph.means if r.known else ph.is_).format(meaning=meaning)
        if r.stored is False:
            out.fact("verdict", "not stored")
            out.add(ph.not_stored.format(code=r.code, about=about), primary=True)
        elif r.stored_codes_status == "not_supported":
            out.add_cant_read(ph.not_reported.format(code=r.code, about=about), primary=True)
        else:
            out.add_cant_read(ph.unreadable.format(code=r.code, about=about), primary=True)
    if r.advice and r.stored is not False:          # what to do: the code is, or may be, stored
        out.add(dtc.advice_text(r.advice, lang), keep=r.advice == "stop")
