"""A command's history: the store it opens, the recorder that feeds it, a scenario's past.

* A live bus (``ask``, ``chat``, ``serve``): ``history.sqlite`` in the data dir
  (``--data-dir``, else ``$ASSISTANT_DATA_DIR``, else the user's data dir), recorded into.
* A scenario: a temporary data dir (removed at the end) unless one is given, so a scenario's
  ``past:`` never mixes with a real car's history; the past is written into an empty store
  only, ending now, then the scenario's live values are recorded on top like a real drive.
* A recording (``--log``): the history is read, never written (a replay's frames are not this
  car's present).

Opening never fails the command: a file that is corrupt is set aside by the store (reported
once as a warning), and a data dir that cannot be used at all leaves the assistant without a
history (``get_insights`` says it cannot read it) — it keeps answering from live data.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from assistant import history
from assistant.history.recorder import Recorder
from assistant.history.store import HistoryStore

log = logging.getLogger(__name__)


class HistorySession:
    def __init__(self, state, store: HistoryStore | None, recorder: Recorder | None = None,
                 temp_dir: Path | None = None, loaded: int = 0, problem: str | None = None):
        self.state = state
        self.store = store
        self.recorder = recorder
        self.temp_dir = temp_dir
        self.loaded = loaded                 # rows of a scenario's past written (once first read)
        self.problem = problem or (store.problem if store is not None else None)

    @classmethod
    def open(cls, state, *, directory: str | Path | None = None, scenario=None, record: bool = True,
             profile_capabilities=None) -> "HistorySession":
        temp = None
        if directory is None and scenario is not None:
            temp = Path(tempfile.mkdtemp(prefix="assistant-history-"))
            directory = temp
        path = history.history_path(directory)
        try:
            store = HistoryStore(path)
        except Exception as e:  # noqa: BLE001 - no history is not the end of the assistant
            why = f"cannot open the history {path}: {type(e).__name__}: {e}"
            log.warning("history: %s", why)
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)
            return cls(state, None, problem=why)
        session = cls(state, store, None, temp)
        loader = None
        past = getattr(scenario, "past", None)
        if past is not None:
            first, _ = store.span()
            if first is None:
                from assistant.history.synth import load_into
                caps = set(profile_capabilities or getattr(state, "capabilities", None) or ())
                t_end, values = time.time(), dict(scenario.signals)

                def loader() -> None:           # on first use (history.for_state), ending when opened
                    session.loaded = load_into(store, past, values, t_end, caps or None)
            else:
                log.warning("history: %s already holds a history; the scenario's past is not added", path)
        history.attach(state, store, loader)
        session.recorder = Recorder(state, store).start() if record else None
        return session

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.stop()
        history.detach(self.state)
        if self.store is not None:
            self.store.close()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> "HistorySession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def for_command(args, vehicle) -> HistorySession:
    """The history session a command's flags ask for (see the module docstring)."""
    directory = getattr(args, "data_dir", None)
    scenario = getattr(vehicle, "scenario", None) if getattr(args, "scenario", None) else None
    record = not getattr(args, "log", None)
    if directory is None and scenario is None:
        directory = history.data_dir()
    return HistorySession.open(vehicle.state, directory=directory, scenario=scenario, record=record)
