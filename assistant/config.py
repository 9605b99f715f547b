"""The head unit's configuration: one YAML file (default /etc/assistant/config.yaml),
validated at start with errors that name the file, line and field.

Validation has two layers. The schema (types, unknown fields) comes from the pydantic models.
Then :func:`check_references` makes sure every thing the file names exists and loads: the
vehicle profile (and its DBC), the persona, the GGUF model (llama.cpp reads its header and
vocabulary), the command vocabulary, the vosk model folder, the python-can interface, and
espeak-ng when speech is on. ``assistant serve --check`` and ``assistant serve`` run both, so a
head unit never starts half-configured. A named thing the config does not use (a vosk model when
``interface`` is not ``voice``) is a warning, not an error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from assistant.can.bus import BusConfig
from assistant.configfile import ConfigError, locate, read_yaml, validate
from assistant.llm.model import ModelConfig

DEFAULT_PATH = Path("/etc/assistant/config.yaml")


class VoiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    vosk_model: str = "vosk-model-small-en-us-0.15"
    vocabulary: str | None = Field(None, description="command vocabulary (en, ko or a .yaml)")
    device: str | None = Field(None, description="microphone; default: the system default")
    push_to_talk: bool = Field(False, description="under `serve` (no keyboard) a press is SIGUSR1 to the process")
    barge_in: bool = Field(False, description="the driver speaking stops the answer; needs the microphone "
                                              "behind an echo canceller, or the assistant's own voice stops "
                                              "every answer (off by default: half duplex)")


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

    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """Problems that do not stop the service (named but unused things), with file:line."""
        return self._warnings

    @property
    def speaks(self) -> bool:
        return self.voice.enabled or self.interface == "voice"


def config_path(arg: str | None = None) -> Path:
    return Path(arg or os.environ.get("ASSISTANT_CONFIG") or DEFAULT_PATH)


def load_config(path: str | Path | None = None, load_gguf: bool = True) -> Config:
    """Read and validate the config and every file and model it names (``load_gguf=False``: the
    GGUF's header only, for a caller that loads the model next anyway).
    Raises :class:`ConfigError` listing every problem as ``file:line: field: problem``."""
    p = config_path(str(path) if path else None)
    data, node = read_yaml(p)
    cfg = validate(Config, data, p, node)
    errors, warnings = check_references(cfg, p, node, load_gguf)
    if errors:
        raise ConfigError(p, errors)
    cfg._warnings = warnings
    return cfg


def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text if "\n" not in text else text.replace("\n", "; ")


def check_references(cfg: Config, path: Path, node: Any, load_gguf: bool = True) -> tuple[list[str], list[str]]:
    """(errors, warnings): does every thing the config names exist and load?"""
    from assistant.can.dbc import DbcError
    from assistant.errors import UserError

    errors: list[str] = []
    warnings: list[str] = []

    def problem(loc: tuple, msg: str, warn: bool = False) -> None:
        (warnings if warn else errors).append(f"{locate(path, node, loc)}: {'.'.join(loc)}: {msg}")

    # CAN: the interface must be one python-can has (the channel may come up later: the reader
    # retries with backoff, and the unit does not wait for it).
    import can
    if cfg.bus.interface not in can.interfaces.VALID_INTERFACES:
        problem(("bus", "interface"), f"unknown python-can interface {cfg.bus.interface!r} "
                                      f"(e.g. socketcan, virtual, pcan, slcan, kvaser, vector)")

    from assistant.can.profile import load_profile
    try:
        load_profile(cfg.vehicle)
    except (ConfigError, DbcError, UserError, OSError) as e:
        problem(("vehicle",), _one_line(e))

    if cfg.persona:
        from assistant.persona import load_persona
        try:
            load_persona(cfg.persona)
        except (ConfigError, UserError, OSError) as e:
            problem(("persona",), _one_line(e))

    gguf = cfg.llm.resolved_path()
    from assistant.llm.model import ModelError, _check_file
    try:
        _check_file(gguf)
        complaint = gguf_load_error(gguf) if load_gguf else None
        if complaint:
            problem(("llm", "path"), f"{gguf}: llama.cpp cannot load it ({complaint})")
    except ModelError as e:
        problem(("llm", "path"), str(e))

    if cfg.voice.vocabulary:
        from assistant.speech.stt import VOCAB_DIR, load_vocabulary, vocabulary_files
        try:
            load_vocabulary(cfg.voice.vocabulary)
        except ConfigError as e:
            name = cfg.voice.vocabulary
            if not Path(name).suffix and not (VOCAB_DIR / f"{name}.yaml").exists():
                known = ", ".join(f.stem for f in vocabulary_files())
                problem(("voice", "vocabulary"), f"unknown vocabulary {cfg.voice.vocabulary!r} "
                                                 f"(shipped: {known}; or give a .yaml path)")
            else:
                problem(("voice", "vocabulary"), _one_line(e))

    from assistant.speech.stt import resolve_model_dir
    try:
        resolve_model_dir(cfg.voice.vosk_model)
    except UserError as e:
        if cfg.interface == "voice":
            problem(("voice", "vosk_model"), str(e))
        else:
            problem(("voice", "vosk_model"), f"{e} (unused while interface is {cfg.interface!r})", warn=True)

    if cfg.speaks and not shutil.which("espeak-ng"):
        loc = ("interface",) if cfg.interface == "voice" else ("voice", "enabled")
        problem(loc, "speech is on but espeak-ng is not installed (sudo apt-get install espeak-ng)")
    if cfg.voice.push_to_talk and cfg.interface != "voice":
        problem(("voice", "push_to_talk"), f"has no effect while interface is {cfg.interface!r}", warn=True)
    return errors, warnings


def gguf_load_error(path: Path) -> str | None:
    """None when llama.cpp reads the model's metadata and vocabulary (no weights: fast); else
    what llama.cpp said about it."""
    try:
        import ctypes

        import llama_cpp
    except ImportError as e:
        return f"llama-cpp-python is not installed: {e}"
    said: list[str] = []

    @llama_cpp.llama_log_callback
    def capture(level, text, user_data):   # keep llama.cpp's loader chatter off stderr
        line = text.decode("utf-8", "replace").strip()
        if any(w in line.lower() for w in ("error", "fail", "bad", "invalid", "unknown")):
            said.append(line.split(": ", 1)[-1])     # without the C function name

    llama_cpp.llama_log_set(capture, ctypes.c_void_p(0))
    try:
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if model:
            llama_cpp.llama_model_free(model)
            return None
    finally:
        try:
            from llama_cpp import _logger
            llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        except ImportError:
            pass
    return "; ".join(dict.fromkeys(s for s in said if s)) or "unreadable model file"
