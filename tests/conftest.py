import itertools
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALWORLD = ROOT.parent / "shared" / "realworld"
RAV4_LOG = REALWORLD / "logs" / "toyota_rav4_2017_comma2k19_bus0.log"
SAVVY_LOG = REALWORLD / "logs" / "savvycan_candump.log"

_ids = itertools.count()


def pytest_configure(config):
    """Every command the tests run (in-process or as a subprocess) keeps its vehicle history in a
    folder of this test session, never in the user's ~/.local/share/assistant."""
    if "ASSISTANT_DATA_DIR" not in os.environ:
        import tempfile
        os.environ["ASSISTANT_DATA_DIR"] = _OWN_DATA_DIR[0] = tempfile.mkdtemp(prefix="assistant-test-history-")


_OWN_DATA_DIR = [""]


def pytest_unconfigure(config):
    """The session's history folder goes with the session (only the one it made)."""
    if _OWN_DATA_DIR[0]:
        import shutil
        shutil.rmtree(_OWN_DATA_DIR[0], ignore_errors=True)
        os.environ.pop("ASSISTANT_DATA_DIR", None)
        _OWN_DATA_DIR[0] = ""


@pytest.fixture
def channel():
    """A private python-can virtual channel per test."""
    return f"test-{os.getpid()}-{next(_ids)}"


def telltale_info() -> dict[str, dict]:
    """Each lamp's policy (data/telltales.yaml) with its English words (locales/en.yaml), one dict
    per lamp, as the tests compare answers with them."""
    from assistant.answer.locales import locale_texts
    from assistant.state.telltales import policy
    en = locale_texts("en").telltales
    return {n: {**p.model_dump(), **en[n].model_dump()} for n, p in policy().items()}


def run_cli(*args, timeout=120, input=None):
    import subprocess
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, input=input)


def vcan_available(name="vcan0"):
    """(ok, reason): whether a real socketcan vcan interface can be opened."""
    try:
        import can
        bus = can.Bus(interface="socketcan", channel=name)
        bus.shutdown()
        return True, ""
    except Exception as e:  # noqa: BLE001
        return False, f"needs a real {name} (sudo ./vcan-setup.sh up); here: {e}"


CAPABLE_FILE = "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf"


def capable_config():
    """The capable routing model as setup installs it, with the prompt prefix from the cache setup
    built (``~/.cache/assistant`` or $ASSISTANT_CACHE_DIR; the time bound is not part of its key;
    evaluating it takes ~40 s on 2 cores)."""
    from assistant.llm.model import ModelConfig
    # These tests check what the model routes, not how fast (bench/latency.py --capable does):
    # a generous time bound keeps a loaded CI machine from turning a slow step into a miss.
    return ModelConfig(path=CAPABLE_FILE, max_answer_s=30.0)


def capable_missing(cfg) -> str:
    return (f"{cfg.resolved_path()} missing: ./setup.sh installs it (python -m assistant.install --capable); "
            "ASSISTANT_NO_CAPABLE=1 skips its tests")


@pytest.fixture(scope="session")
def capable_model(pytestconfig):
    """The real capable model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M), loaded once per session and
    shared with the capable dialogue suites. Missing: a failure, unless ASSISTANT_NO_CAPABLE is set."""
    model = getattr(pytestconfig, "_capable_model", None)
    if model is None:
        from assistant.llm.model import LocalModel
        cfg = capable_config()
        if not cfg.resolved_path().exists():
            if os.environ.get("ASSISTANT_NO_CAPABLE"):
                pytest.skip(capable_missing(cfg))
            pytest.fail(capable_missing(cfg))
        model = pytestconfig._capable_model = LocalModel(cfg)
    return model


@pytest.fixture(scope="session")
def default_model(tmp_path_factory):
    """The real embedded default model (installed by ./setup.sh), loaded once per test session."""
    from assistant.llm.model import LocalModel, ModelConfig
    cfg = ModelConfig(prefix_cache_dir=str(tmp_path_factory.mktemp("prefix-cache")))
    if not cfg.resolved_path().exists():
        pytest.fail(f"{cfg.resolved_path()} missing: run ./setup.sh (it installs the default model)")
    return LocalModel(cfg)


# ----------------------------------------------------------------------------- dialogue suites
# tests/dialogues/*.yaml are collected as test items: one item per `say` turn. A suite runs once
# (turns depend on each other), on first use, through the real pipeline and the default model.

class DialogueFile(pytest.File):
    def collect(self):
        from assistant.dialogue.suite import load_suite
        self.suite = load_suite(self.path)
        self._results = None
        for turn, (index, step) in enumerate(self.suite.turns, 1):
            # named as the runner names it: "turn 2 (step 3): how far can I go?"
            yield DialogueTurn.from_parent(self, name=f"turn {turn} (step {index + 1}): {step.say}", index=index)

    def results(self):
        if self._results is None:
            from assistant.dialogue.runner import SuiteRun
            capable = self.path.parent.name == "dialogues_capable"
            attr = "_capable_model" if capable else "_dialogue_model"
            model = getattr(self.config, attr, None)
            if model is None:
                from assistant.llm.model import LocalModel, ModelConfig
                if capable:
                    cfg = capable_config()
                    if not cfg.resolved_path().exists():
                        pytest.skip(capable_missing(cfg)) if os.environ.get("ASSISTANT_NO_CAPABLE") else \
                            pytest.fail(capable_missing(cfg))
                    model = LocalModel(cfg)
                else:
                    model = LocalModel()
                setattr(self.config, attr, model)
            self._results = {r.index: r for r in SuiteRun(self.suite, self.path, model).run()}
        return self._results


class DialogueTurn(pytest.Item):
    def __init__(self, *, index, **kw):
        super().__init__(**kw)
        self.index = index

    def runtest(self):
        r = self.parent.results()[self.index]
        if r.failures:
            raise DialogueFailure(r)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, DialogueFailure):
            r = excinfo.value.result
            return (f"{r.file} {r.name}\n  answer: {r.answer.text if r.answer else '-'}\n  "
                    + "\n  ".join(r.failures))
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


class DialogueFailure(Exception):
    def __init__(self, result):
        super().__init__(result.name)
        self.result = result


def pytest_collect_file(parent, file_path):
    # tests/dialogues: the default model; tests/dialogues_capable: the capable routing model
    if file_path.suffix == ".yaml" and file_path.parent.name in ("dialogues", "dialogues_capable") and \
            file_path.parent.parent.name == "tests":
        return DialogueFile.from_parent(parent, path=file_path)
