"""Answer texts per language (``assistant/data/locales/<lang>.yaml``), validated at load.

One file per language holds every word an answer uses: phrases with ``{placeholders}``, the
names of signals, each warning lamp's label, meaning, action and (critical lamps) the approved
safety wording, oil levels, wheel positions and small words. A broken file is an error naming
file, line and field when it is first used, never a KeyError in the middle of an answer.
English is complete; another language may leave a phrase out and English is said instead.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant import paths
from assistant.configfile import load_model
from assistant.state.signals import TELLTALES

LOCALES_DIR = paths.LOCALES_DIR


class LampWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str = Field(min_length=1)
    meaning: str = Field(min_length=1)
    action: str = Field(min_length=1)
    safety: str | None = Field(None, description="approved wording for a critical lamp: not a persona's to change")
    aliases: list[str] = Field(default_factory=list, description="other names a listener may use for the lamp")

    def __getitem__(self, key: str) -> str:      # style.telltale(name)["label"]
        return getattr(self, key)


class LocaleTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    phrases: dict[str, str]
    what: dict[str, str] = Field(default_factory=dict)
    telltales: dict[str, LampWords]
    oil_levels: dict[str, str]
    positions: dict[str, str]
    words: dict[str, str]

    @model_validator(mode="after")
    def _lamps(self) -> "LocaleTexts":
        from assistant.state.telltales import critical_lamps
        missing = [n for n in TELLTALES if n not in self.telltales]
        if missing:
            raise ValueError(f"telltales: every lamp needs its words; missing {', '.join(missing)}")
        unsafe = [n for n in critical_lamps() if not self.telltales[n].safety]
        if unsafe:
            raise ValueError(f"telltales: critical lamps need their approved safety wording: {', '.join(unsafe)}")
        return self


@lru_cache(maxsize=None)
def locale_texts(lang: str) -> LocaleTexts:
    """The answer texts of a language; ValueError naming the languages there are if none."""
    path = LOCALES_DIR / f"{lang}.yaml"
    if not path.is_file():
        raise ValueError(f"no answer texts for language {lang!r} (have: {', '.join(available_languages())})")
    texts = load_model(LocaleTexts, path)
    if lang != "en":
        en = locale_texts("en")
        extra = sorted(set(texts.phrases) - set(en.phrases))
        if extra:
            from assistant.configfile import ConfigError
            raise ConfigError(path, [f"{path}: phrases: {', '.join(extra)} not in en.yaml (a typo?)"])
    return texts


def available_languages() -> list[str]:
    return sorted(p.stem for p in LOCALES_DIR.glob("*.yaml"))
