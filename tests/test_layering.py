"""Layering: one tree of user errors, one way to build an assistant, the state layer below CAN,
public liveness for the service watchdog, llama.cpp internals behind one adapter."""

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import assistant
from assistant import paths
from assistant.errors import UserError

from .conftest import ROOT

PKG = ROOT / "assistant"

# Exception classes that are not the user's to fix (handled where they arise).
INTERNAL_ERRORS = {"LimitError", "ToolError", "UnitError"}


def _assistant_modules():
    for info in pkgutil.walk_packages(assistant.__path__, "assistant."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def _exception_classes():
    seen = {}
    for mod in _assistant_modules():
        for name, obj in vars(mod).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == mod.__name__:
                seen[obj.__qualname__, obj.__module__] = obj
    return list(seen.values())


# ----------------------------------------------------------------------------- the error tree

def test_every_user_error_is_a_user_error():
    from assistant.can.bus import BusOpenError
    from assistant.can.dbc import DbcError
    from assistant.configfile import ConfigError
    from assistant.llm.model import ModelError
    from assistant.speech.audio import AudioError
    from assistant.speech.stt import SpeechError
    from assistant.speech.tts import TTSError
    for cls in (ConfigError, DbcError, BusOpenError, ModelError, AudioError, SpeechError, TTSError):
        assert issubclass(cls, UserError), cls
    # what callers caught before stays caught
    assert issubclass(ConfigError, ValueError) and issubclass(BusOpenError, RuntimeError)


def test_no_user_facing_error_outside_the_tree():
    """A new public ``*Error`` either joins the tree or is declared internal here."""
    stray = []
    for cls in _exception_classes():
        if issubclass(cls, UserError) or cls.__name__.startswith("_") or cls.__name__ in INTERNAL_ERRORS:
            continue
        if cls.__module__ == "assistant.pipeline":      # stage failures: the pipeline's own, not the user's
            continue
        stray.append(f"{cls.__module__}.{cls.__qualname__}")
    assert not stray, f"not UserErrors (add to the tree in assistant/errors.py, or to INTERNAL_ERRORS): {stray}"


def test_the_tree_in_errors_docstring_names_every_user_error():
    import assistant.errors
    doc = assistant.errors.__doc__
    for cls in _exception_classes():
        if issubclass(cls, UserError) and cls is not UserError:
            assert cls.__name__ in doc and cls.__module__ in doc, f"{cls.__module__}.{cls.__name__} not drawn"


def test_cli_catches_the_tree_once_exit_2_one_line(capsys):
    from assistant import cli
    rc = cli.main(["ask", "--no-model", "--interface", "virtual", "--channel", "x", "--profile", "no_such_car",
                   "--wait", "0", "q?"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "no_such_car" in err and "Traceback" not in err
    src = (PKG / "cli.py").read_text()
    assert src.count("except UserError") == 1 and "except BrokenPipeError" in src


def test_bus_open_error_is_exit_2(capsys):
    from assistant import cli
    rc = cli.main(["ask", "--no-model", "--interface", "socketcan", "--channel", "nosuchcan9", "q?"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: cannot open CAN bus socketcan:nosuchcan9")


# ----------------------------------------------------------------------------- building an assistant

@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    d = tmp_path / "models"
    d.mkdir()
    (d / "broken.gguf").write_bytes(b"NOTAGGUF" * 8)
    monkeypatch.setattr(paths, "MODELS_DIR", d)
    monkeypatch.delenv("ASSISTANT_MODEL", raising=False)
    return d


def test_model_precedence(monkeypatch, models_dir):
    from assistant.assembly import model_config
    from assistant.llm.model import DEFAULT_MODEL_FILE, ModelConfig
    assert model_config().path == DEFAULT_MODEL_FILE
    monkeypatch.setenv("ASSISTANT_MODEL", "from-env.gguf")
    assert model_config().path == "from-env.gguf"
    assert model_config("flag.gguf").path == "flag.gguf"
    assert model_config(None, ModelConfig(n_ctx=4096)).path == "from-env.gguf"        # config names none
    cfg = model_config(None, ModelConfig(path="config.gguf", n_ctx=4096))
    assert cfg.path == "config.gguf" and cfg.n_ctx == 4096                              # config names one
    assert model_config("flag.gguf", ModelConfig(path="config.gguf", n_ctx=4096)).n_ctx == 4096


def test_a_bare_name_resolves_in_models(models_dir):
    from assistant.llm.model import ModelConfig
    assert ModelConfig(path="broken.gguf").resolved_path() == models_dir / "broken.gguf"
    assert ModelConfig(path="broken").resolved_path() == models_dir / "broken.gguf"


def test_build_assistant_honours_assistant_model_and_bare_names(monkeypatch, models_dir):
    from assistant.assembly import build_assistant
    from assistant.llm.model import ModelError
    from assistant.state.store import VehicleState
    monkeypatch.setenv("ASSISTANT_MODEL", "broken")
    with pytest.raises(ModelError, match=str(models_dir / "broken.gguf")):
        build_assistant(VehicleState())
    monkeypatch.delenv("ASSISTANT_MODEL")
    with pytest.raises(ModelError, match=str(models_dir / "broken.gguf")):
        build_assistant(VehicleState(), "broken")
    a = build_assistant(VehicleState(), False, "aurora")
    assert a.model is None and a.persona.name


@pytest.mark.parametrize("argv", [
    ["demo"],
    ["dialogue", "run", str(ROOT / "tests" / "dialogues" / "aurora.yaml")],
    ["ask", "--scenario", "low_fuel", "q?"],
])
def test_every_command_with_a_model_honours_the_env_and_a_bare_model_name(argv, monkeypatch, models_dir, capsys):
    from assistant import cli
    monkeypatch.setenv("ASSISTANT_MODEL", "broken")
    assert cli.main(argv) == 2
    assert str(models_dir / "broken.gguf") in capsys.readouterr().err
    monkeypatch.delenv("ASSISTANT_MODEL")
    assert cli.main(argv[:1] + ["--model", "broken"] + argv[1:] if argv[0] != "dialogue"
                    else argv[:2] + ["--model", "broken"] + argv[2:]) == 2
    assert str(models_dir / "broken.gguf") in capsys.readouterr().err


def test_serve_check_honours_model_flag_and_env(tmp_path, monkeypatch, models_dir, capsys):
    from assistant import cli
    (models_dir / "SmolLM2-135M-Instruct.Q4_1.gguf").symlink_to(ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("bus: {interface: virtual, channel: layering}\ninterface: none\n")
    assert cli.main(["serve", "--check", "--config", str(cfg)]) == 0
    monkeypatch.setenv("ASSISTANT_MODEL", "broken")
    assert cli.main(["serve", "--check", "--config", str(cfg)]) == 2
    assert str(models_dir / "broken.gguf") in capsys.readouterr().err
    monkeypatch.delenv("ASSISTANT_MODEL")
    assert cli.main(["serve", "--check", "--config", str(cfg), "--model", "broken"]) == 2
    assert str(models_dir / "broken.gguf") in capsys.readouterr().err


def test_one_build_function_everywhere():
    for rel in ("commands/common.py", "commands/serve.py", "commands/demo.py", "commands/dialogue.py",
                "dialogue/runner.py"):
        src = (PKG / rel).read_text()
        assert "Assistant(" not in src and "LocalModel(" not in src, rel
    tree = ast.parse((PKG / "dialogue" / "runner.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "assistant.assembly" in imported and not any(m and m.startswith("assistant.commands") for m in imported)


# ----------------------------------------------------------------------------- state below CAN

def test_state_does_not_import_can():
    for f in (PKG / "state").glob("*.py"):
        tree = ast.parse(f.read_text())
        for n in ast.walk(tree):
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else \
                [n.module or ""] if isinstance(n, ast.ImportFrom) else []
            assert not any(m.startswith("assistant.can") for m in names), f"{f.name} imports {names}"
    r = subprocess.run([sys.executable, "-c", "import sys, assistant.state.store; "
                        "print(sorted(m for m in sys.modules if m.startswith('assistant.can')))"],
                       capture_output=True, text=True, cwd=ROOT, check=True)
    assert r.stdout.strip() == "[]"


def test_the_decoder_and_the_state_share_one_sentinel():
    from assistant.can.profile import (NOT_AVAILABLE, OUT_OF_RANGE, MessageCodec,  # noqa: F401 - re-exported
                                       VehicleProfile, load_profile)
    from assistant.state.store import UNAVAILABLE, VehicleState
    from assistant.state.values import NOT_AVAILABLE as NA
    assert NA is NOT_AVAILABLE
    st = VehicleState.for_profile(load_profile("demo"))
    st.update("Vehicle.Speed", NOT_AVAILABLE, st.clock(), "x.y")
    assert st.get("Vehicle.Speed").status == UNAVAILABLE


# ----------------------------------------------------------------------------- watchdog liveness

def test_reader_and_alert_monitor_say_whether_they_are_alive(channel):
    from assistant.alerts import AlertMonitor
    from assistant.can.bus import BusConfig
    from assistant.can.profile import load_profile
    from assistant.can.reader import BusReader
    from assistant.state.store import VehicleState
    prof = load_profile("demo")
    st = VehicleState.for_profile(prof)
    reader = BusReader(BusConfig(interface="virtual", channel=channel), prof, st, on_status=lambda s: None)
    monitor = AlertMonitor(st, poll_s=0.05)
    assert not reader.alive and not monitor.alive
    reader.start(), monitor.start()
    assert reader.alive and monitor.alive
    # (a stop() before the reader has opened its bus can be lost: BusReader._run clears _failed
    # after opening, so wait for it to connect first)
    assert reader.connected.wait(5)
    reader.stop(), monitor.stop()
    assert not reader.alive and not monitor.alive
    assert "._thread" not in (PKG / "commands" / "serve.py").read_text()


# ----------------------------------------------------------------------------- llama.cpp adapter

def test_model_uses_llama_cpp_only_through_the_adapter():
    src = (PKG / "llm" / "model.py").read_text()
    for needle in ("import llama_cpp", "from llama_cpp", "ctypes", "llama_state_", "._input_ids", "._requires_eval",
                   "._model", "self.llm."):
        assert needle not in src, needle


def test_no_import_cycle_in_the_package():
    """Every import between assistant.* modules, also those inside functions, forms no cycle
    (issue: matcher and languages once imported each other)."""
    import ast
    import graphlib
    from pathlib import Path

    pkg = Path(__file__).resolve().parents[1] / "assistant"
    modules = {}
    for f in pkg.rglob("*.py"):
        rel = f.relative_to(pkg.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        modules[name] = f

    def target(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name if name and name != "assistant" else None

    graph = {}
    for name, f in modules.items():
        is_pkg = f.name == "__init__.py"
        base_pkg = name if is_pkg else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = base_pkg.split(".")[: len(base_pkg.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                names = [f"{base}.{a.name}" for a in node.names] + [base]
            for n in names:
                t = target(n) if n.startswith("assistant") else None
                if t and t != name and not name.startswith(t + "."):   # a package's own children import it
                    deps.add(t)
        graph[name] = deps
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        raise AssertionError(f"import cycle: {' -> '.join(e.args[1])}") from None
