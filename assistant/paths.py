"""Where the project's data lives (DBCs, vehicle profiles, scenarios, models).

Everything is resolved from the project root (the folder holding ``assistant/``), which
can be moved with ``ASSISTANT_HOME`` (e.g. ``/usr/share/assistant`` on a head unit).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("ASSISTANT_HOME") or Path(__file__).resolve().parents[1])
DBC_DIR = PROJECT_ROOT / "dbc"
VEHICLES_DIR = PROJECT_ROOT / "vehicles"
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
MODELS_DIR = PROJECT_ROOT / "models"
