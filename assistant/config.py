"""The head unit's configuration: one YAML file (default /etc/assistant/config.yaml),
validated at start with errors that name the file, line and field."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.can.bus import BusConfig
from assistant.configfile import load_model
from assistant.llm.model import ModelConfig

DEFAULT_PATH = Path("/etc/assistant/config.yaml")


class VoiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    vosk_model: str = "vosk-model-small-en-us-0.15"
    vocabulary: str | None = Field(None, description="command vocabulary (en, ko or a .yaml)")
    device: str | None = Field(None, description="microphone; default: the system default")
    push_to_talk: bool = False


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bus: BusConfig = BusConfig()
    vehicle: str = Field("demo", description="vehicle profile name or map file")
    persona: str | None = Field(None, description="persona name or .yaml")
    llm: ModelConfig = ModelConfig()
    voice: VoiceConfig = VoiceConfig()
    alerts: bool = Field(True, description="speak/log proactive warnings")
    interface: Literal["voice", "stdin", "none"] = Field(
        "none", description="how questions arrive: microphone, text lines on stdin, or none (alerts only)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def config_path(arg: str | None = None) -> Path:
    return Path(arg or os.environ.get("ASSISTANT_CONFIG") or DEFAULT_PATH)


def load_config(path: str | Path | None = None) -> Config:
    return load_model(Config, config_path(str(path) if path else None))
