"""Health claims: words that tell a driver something is fine.

"Fine", "normal", "OK", "safe", "no problem", "all clear" are claims about the car like any
number. The grounding check refuses model text that makes one the facts do not make (and any
while a critical lamp is on), and ``persona check`` refuses brand texts that make one where
the engine cannot know it is true (a ``decline`` or ``unclear`` text, say).
"""

from __future__ import annotations

import re

# English, French and Italian wordings of "nothing is wrong".
HEALTH_RE = re.compile(
    r"\b(?:fine|normal(?:ly)?|o\.?k\.?|okay|alright|all right|safe|healthy|all (?:clear|good|set|well)|"
    r"all is well|no (?:problems?|issues?|faults?|worries)|no need to worry|nothing (?:is )?(?:wrong|to worry)|"
    r"(?:good|great|perfect|excellent|top|tip-top|best) (?:shape|condition|form|health|order)|tip-top|in (?:good|great|perfect) health|"
    r"good to go|(?:is|are|looks?|seems?|sounds?|'s|'re) (?:all )?(?:good|great|perfect|excellent)|great|"
    r"perfect(?:ly)?|excellent|working (?:properly|fine)|"
    r"tout va bien|aucun (?:probl[eè]me|souci)|rien (?:de grave|à signaler)|tutto (?:bene|ok|a posto)|"
    r"nessun problema|va bene|in ordine|sûr|sicuro)\b|\bwell\b(?= (?:within|inside))",
    re.IGNORECASE)

# A claim about the whole car ("everything is fine", "your car is in good shape"): no set of
# readings covers a whole car, so nobody but the deterministic all-clear may say it.
WHOLE_CAR_RE = re.compile(r"\b(?:everything|all systems|the car|your car|the vehicle|tout|tutto|la voiture|"
                          r"l['’]auto|la macchina|good to go|(?:safe|ok|okay|fine) to (?:drive|continue|keep)|"
                          r"keep driving|no need to worry|nothing to worry|all is well)\b", re.IGNORECASE)

# What a health claim can be about, by topic word (for binding a model's claim to the facts').
TOPICS = {
    "tyres": r"tyres?|tires?|wheels?|pneus?|gomme|pneumatic\w*",
    "engine": r"engine|moteur|motore",
    "oil": r"oil|huile|olio",
    "brakes": r"brakes?|braking|freins?|freni",
    "battery": r"battery|batterie|batteria|charge|charging",
    "fuel": r"fuel|tank|carburant|réservoir|carburante|serbatoio",
    "coolant": r"coolant|temperature|overheat\w*|refroidissement|raffreddamento",
    "lamps": r"warning|lights?|lamps?|dash\w*|voyants?|spie|spia",
    "service": r"service|entretien|tagliando",
    "range": r"range|autonomie|autonomia",
}
_TOPIC_RES = {k: re.compile(rf"\b(?:{v})\b", re.IGNORECASE) for k, v in TOPICS.items()}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# "OK, ask me anything": an interjection at the start of a sentence, not a verdict.
_INTERJECTION = re.compile(r"(?:^|[.!?]\s+)(?:o\.?k\.?|okay|great|perfect|alright|all right)\s*[,!]",
                           re.IGNORECASE)


def health_claim(text: str) -> str | None:
    """The first phrase in ``text`` that says something is fine, or None."""
    text = text or ""
    skip = {m.end() for m in _INTERJECTION.finditer(text)}
    for m in HEALTH_RE.finditer(text):
        if not any(m.start() < end <= m.end() + 2 for end in skip):
            return m.group(0)
    return None


def topics(text: str) -> frozenset[str]:
    return frozenset(k for k, r in _TOPIC_RES.items() if r.search(text))


def claims(text: str) -> list[tuple[str, frozenset[str], bool]]:
    """(sentence, topics it is about, whole car?) for each sentence of ``text`` with a health claim."""
    out = []
    for sentence in _SENTENCE.split(text or ""):
        if health_claim(sentence):
            out.append((sentence, topics(sentence), bool(WHOLE_CAR_RE.search(sentence))))
    return out
