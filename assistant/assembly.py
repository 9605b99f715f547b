"""Building an assistant: which model, which persona, and the :class:`~assistant.pipeline.Assistant`
over a vehicle's state. The one place every command and the dialogue runner do it.

Which GGUF (:func:`model_config`), strongest first:

1. ``--model`` (or ``model=`` here): a path, or a file name in ``models/``;
2. the head-unit config's ``llm.path`` when the file sets it (``assistant serve``);
3. ``$ASSISTANT_MODEL``;
4. the shipped default, ``models/SmolLM2-135M-Instruct.Q4_1.gguf``.

A relative name that is not a file here is looked up in ``models/``, with or without its
``.gguf`` (:meth:`ModelConfig.resolved_path`). The other ``llm.*`` settings come from the config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Union

from assistant.llm.model import ModelConfig

if TYPE_CHECKING:
    from assistant.llm.model import LocalModel
    from assistant.persona import Persona
    from assistant.pipeline import Assistant
    from assistant.state.store import VehicleState

MODEL_ENV = "ASSISTANT_MODEL"

# What build_assistant takes as its model: a loaded one, a path or name to load, None for the
# configured/default one, or False for none at all (deterministic answers only).
ModelRef = Union["LocalModel", str, Path, None, bool]


def model_config(model: str | Path | None = None, config: ModelConfig | None = None) -> ModelConfig:
    """The model settings to load with: ``config`` (default settings if None) with its path
    chosen as above."""
    base = config if config is not None else ModelConfig()
    path = (str(model) if model else None) or \
        (base.path if "path" in base.model_fields_set else None) or os.environ.get(MODEL_ENV) or None
    if path is None or path == base.path:
        return base
    return base.model_copy(update={"path": path})


def load_model(model: str | Path | None = None, config: ModelConfig | None = None) -> "LocalModel":
    """Load the model :func:`model_config` picks (``ModelError`` naming the file if it cannot)."""
    from assistant.llm.model import LocalModel
    return LocalModel(model_config(model, config))


def load_persona(persona: "Persona | str | Path | None") -> "Persona | None":
    """A persona by name (``personas/NAME.yaml``) or file; a loaded one as is; None for the default."""
    if persona is None or persona == "":
        return None
    from assistant.persona import Persona, load_persona as load
    return persona if isinstance(persona, Persona) else load(persona)


def build_assistant(state: "VehicleState", model: ModelRef = None, persona: "Persona | str | Path | None" = None,
                    *, config: ModelConfig | None = None) -> "Assistant":
    """The assistant over ``state``.

    ``model``: a loaded :class:`LocalModel` (shared, e.g. by every suite of a dialogue run), a
    path or name to load, None to load the one ``config`` / ``$ASSISTANT_MODEL`` / the default
    names, or False for none (deterministic rendering only). ``persona``: a loaded persona, a
    name or file, or None for the neutral default.
    """
    from assistant.pipeline import Assistant
    p = load_persona(persona)          # a bad persona fails before the model loads
    if model is False:
        llm = None
    elif model is None or model is True or isinstance(model, (str, Path)):
        llm = load_model(None if model is True else model, config)
    else:
        llm = model
    return Assistant(state, llm, persona=p)
