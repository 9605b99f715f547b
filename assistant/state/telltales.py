"""Warning-lamp policy: severity and which lamps are critical (``assistant/data/telltales.yaml``).

Policy lives here, once; the words for each lamp (label, meaning, action, the approved safety
text) live in the locale files, once per language. The file is validated at load with
file:line errors, and must list exactly the lamps of :data:`assistant.state.signals.TELLTALES`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from assistant import paths
from assistant.configfile import load_model
from assistant.state.signals import TELLTALES

TELLTALES_FILE = paths.DATA_DIR / "telltales.yaml"


class LampPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    severity: Literal["critical", "warning", "info"]
    critical: bool = Field(False, description="fixed safety wording whenever the lamp is on")
    blink_critical: bool = Field(False, description="fixed safety wording while the lamp is flashing")
    why: str = Field(min_length=1, description="the reason for this severity, for reviewers")

    @model_validator(mode="after")
    def _consistent(self) -> "LampPolicy":
        if self.critical and self.severity != "critical":
            raise ValueError("a critical lamp must have severity: critical")
        return self


class LampTable(RootModel[dict[str, LampPolicy]]):
    @model_validator(mode="after")
    def _every_lamp(self) -> "LampTable":
        names = set(self.root)
        missing, unknown = [n for n in TELLTALES if n not in names], sorted(names - set(TELLTALES))
        if missing or unknown:
            raise ValueError(f"lamps must match assistant/state/signals.py: missing {missing}, unknown {unknown}")
        return self


@lru_cache(maxsize=None)
def policy() -> dict[str, LampPolicy]:
    return load_model(LampTable, TELLTALES_FILE).root


def is_critical(lamp: str, value: str) -> bool:
    """Critical lamps get the fixed safety wording: always, or (check engine) while flashing.
    The one place this rule is written (answers and proactive alerts both ask here)."""
    p = policy()[lamp]
    return p.critical or (value == "BLINK" and p.blink_critical)


def critical_lamps() -> list[str]:
    """Lamps that can be critical (always, or while flashing): each needs safety wording."""
    return [n for n, p in policy().items() if p.critical or p.blink_critical]
