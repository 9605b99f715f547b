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


# Every key the answer code looks up. English must have them all (a missing one is an error at
# load naming en.yaml, not a KeyError in the middle of an answer); other languages may leave
# some out and English is said instead.
REQUIRED = {
    "phrases": ("alert_on", "and", "cant_read", "codes", "decline", "energy_fuel", "energy_soc", "greeting",
                "lamp_last_on", "lamp_last_on_critical", "lamps_not_reported", "lamps_unreadable_all",
                "lamps_unreadable_others", "lamps_unreadable_some", "lamp_off", "lamp_what", "low_fuel_on", "n_lamps",
                "n_more", "no", "no_codes", "range_split", "range_total", "tyre_one_pressure", "tyre_pressures",
                "warning_on_short",
                "no_warnings", "no_warnings_partial", "not_supported", "nothing_heard", "oil_level", "oil_life",
                "or", "range_both", "range_ev", "range_fuel", "reach_no", "reach_unsure", "reach_yes",
                "service_due_now", "service_in", "service_overdue", "signal_value", "state_BLINK", "state_ON",
                "tank", "tyre_low", "tyre_low_flag", "tyre_low_flag_only", "tyre_low_only", "tyre_one_low",
                "tyre_one_ok", "tyre_one_value", "tyre_pressure_of", "tyre_some_ok", "tyre_values", "tyres_all_ok",
                "tyres_flags_ok", "unclear", "unreadable_lamps", "warning_on", "was_BLINK", "was_ON", "yes"),
    "words": ("day", "days", "minutes", "none", "second", "seconds", "tyre_is", "tyre_pressure", "tyres_are"),
    "oil_levels": ("CRITICALLY_HIGH", "CRITICALLY_LOW", "HIGH", "LOW", "NORMAL"),
    "positions": ("front left", "front right", "rear left", "rear right"),
}
# Trend answers (assistant/answer/insights.py, docs/history.md).
REQUIRED["phrases"] += ("insight_battery", "insight_battery_dip", "insight_consumption", "insight_engine_hot",
                        "insight_fuel_parked", "insight_none", "insight_none_about", "insight_service",
                        "insight_service_unknown", "insight_too_little", "insight_tyre_leak")
REQUIRED["words"] += ("weeks",)
# A request beside the question that cannot be done (controlling the car, calling): said first.
REQUIRED["phrases"] += ("set_aside",)
# "Can I do 95 km on the battery?": the verdict on that energy alone.
REQUIRED["phrases"] += ("reach_yes_ev", "reach_no_ev")

# The dashboard answers (assistant/answer/dashboard.py): the body, charging, a lamp described by
# its colour and shape.
REQUIRED["phrases"] += ("all_closed", "belts_all", "cable_not_charging", "cable_out", "charge_done_in", "charge_limit",
                        "charging_now", "doors_all_closed", "lamp_match", "lamp_match_short", "lamp_matches",
                        "lamp_may_be", "lamp_no_match", "lamp_with_symbol", "lamps_on_now", "no_lamp_on", "pads_ok",
                        "pads_worn", "parts_closed", "parts_open")
REQUIRED["words"] += ("colour_amber", "colour_blue", "colour_green", "colour_red", "colour_white")


class LampWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str = Field(min_length=1)
    symbol: str = Field(min_length=1, description="what the symbol looks like (\"an engine outline\")")
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
    states: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="signal -> value (true/false, an enum value) -> what the reading says")

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
    return load_locale(path, complete=lang == "en")


def load_locale(path, complete: bool = False) -> LocaleTexts:
    """A locale file, validated: with ``complete`` (English) every key the code uses must be
    there; in any file, a phrase English does not have is a typo."""
    from assistant.configfile import ConfigError
    texts = load_model(LocaleTexts, path)
    problems = []
    if complete:
        for section, keys in REQUIRED.items():
            missing = [k for k in keys if k not in getattr(texts, section)]
            if missing:
                problems.append(f"{path}: {section}: missing {', '.join(missing)} (every answer text is needed in "
                                "English, the fallback for every language)")
    extra = sorted(set(texts.phrases) - set(REQUIRED["phrases"]))
    if extra:
        problems.append(f"{path}: phrases: {', '.join(extra)}: no answer uses these (a typo?)")
    if problems:
        raise ConfigError(path, problems)
    return texts


def available_languages() -> list[str]:
    return sorted(p.stem for p in LOCALES_DIR.glob("*.yaml"))
