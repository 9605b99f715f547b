"""Where the assistant's files live. One module decides; nothing else computes these folders.

Two kinds of files:

* **Shipped files** (DBCs, vehicle profiles, scenarios, personas, locales, intents, telltales...)
  are package data under ``assistant/data/`` and travel in the wheel. They are always found
  through the package, whatever the current directory: ``DATA_DIR`` and the ``*_DIR`` names
  below. In a source checkout the top-level ``dbc/ vehicles/ scenarios/ personas/`` are links
  into ``assistant/data/`` so that project-root paths (``personas/aurora.yaml``) keep working.
* **Local files** (models: GGUF, vosk) are not in the wheel. They live in ``HOME/models``,
  where ``HOME`` is ``$ASSISTANT_HOME`` when set (the systemd units set it to the install
  folder), else the source checkout holding this package (an editable install), else the
  current directory (a wheel install: run ``assistant install`` where the models should go).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"

# Shipped files (package data).
DBC_DIR = DATA_DIR / "dbc"
VEHICLES_DIR = DATA_DIR / "vehicles"
SCENARIOS_DIR = DATA_DIR / "scenarios"
PERSONAS_DIR = DATA_DIR / "personas"
LOCALES_DIR = DATA_DIR / "locales"
INTENTS_DIR = DATA_DIR / "intents"
VOICE_DIR = DATA_DIR / "voice"


def _checkout() -> Path | None:
    """The source checkout holding this package (editable install), or None (a wheel install)."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None


def _home() -> Path:
    env = os.environ.get("ASSISTANT_HOME")
    if env:
        return Path(env)
    return _checkout() or Path.cwd()


# Local files (not in the wheel).
HOME = _home()
PROJECT_ROOT = HOME             # older name, kept for callers outside the package
MODELS_DIR = HOME / "models"
