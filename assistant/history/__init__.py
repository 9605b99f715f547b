"""Persistent vehicle history and the insights read from it (docs/history.md).

One job per module:

* :mod:`~assistant.history.store`: the SQLite file (WAL, bounded, set aside when corrupt);
* :mod:`~assistant.history.recorder`: the live state, downsampled into the store;
* :mod:`~assistant.history.synth`: a compact description of days of driving, expanded into
  samples (a scenario's ``past:``, the tests, the benchmark);
* :mod:`~assistant.history.detectors`: trends in the history, each a typed :class:`Insight`.

A vehicle state is given its history with :func:`attach`; the ``get_insights`` tool finds it
with :func:`for_state` (a state without one answers that it has no history).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from pathlib import Path

FILE_NAME = "history.sqlite"

_attached: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_pending: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()     # state -> loader, run on first use
_lock = threading.Lock()
log = logging.getLogger(__name__)


def data_dir() -> Path:
    """``$ASSISTANT_DATA_DIR``, else ``$XDG_DATA_HOME/assistant``, else ``~/.local/share/assistant``
    (the systemd unit sets ``ASSISTANT_DATA_DIR=/var/lib/assistant``, its StateDirectory)."""
    env = os.environ.get("ASSISTANT_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg if xdg else Path.home() / ".local" / "share") / "assistant"


def history_path(directory: str | Path | None = None) -> Path:
    return Path(directory) / FILE_NAME if directory is not None else data_dir() / FILE_NAME


def attach(state, store, loader=None) -> None:
    """Give a vehicle state its history store (what ``get_insights`` reads); ``loader`` (a
    scenario's past) is written into it the first time it is read, so a question that never
    asks about trends never pays for generating days of history."""
    with _lock:
        _attached[state] = store
        if loader is not None:
            _pending[state] = loader
        else:
            _pending.pop(state, None)


def detach(state) -> None:
    with _lock:
        _attached.pop(state, None)
        _pending.pop(state, None)


def for_state(state):
    """The history store attached to a vehicle state (its pending past written first), or None."""
    try:
        with _lock:
            store = _attached.get(state)
            loader = _pending.pop(state, None)
            if loader is not None:
                try:
                    loader()
                except Exception as e:  # noqa: BLE001 - a past that cannot be written: no history
                    log.warning("history: cannot write the scenario's past: %s", e)
        return store
    except TypeError:
        return None
