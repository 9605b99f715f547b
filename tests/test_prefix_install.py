"""The prompt-prefix cache built at install time (issue 15): ``python -m assistant.install --prefix``
and ``serve --check`` leave a session file that a fresh start loads instead of evaluating.
Real default model; each evaluation of a prefix costs a few seconds on 2 cores."""

import os
import subprocess
import sys

import pytest

from .conftest import ROOT

MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
pytestmark = pytest.mark.skipif(not MODEL.is_file(), reason="default model not installed (./setup.sh)")


def _install_prefix(cache, *args):
    env = dict(os.environ, ASSISTANT_CACHE_DIR=str(cache))
    env.pop("ASSISTANT_MODEL", None)
    return subprocess.run([sys.executable, "-m", "assistant.install", "--prefix", *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT, env=env)


def _fresh_source(cache, persona):
    """What a new process's start does: a fresh LocalModel, the persona's dialect sets the prefix."""
    from assistant.llm.dialects import dialect_for
    from assistant.llm.model import LocalModel, ModelConfig
    from assistant.persona import load_persona
    p = load_persona(persona)
    model = LocalModel(ModelConfig(path=str(MODEL), prefix_cache_dir=str(cache)))
    dialect_for(model, p.name, p.tone_text())
    return model.prefix_source, model._cache_file(model.prefix_tokens)


def _sessions(cache):
    return {p.name for p in cache.glob("prefix-*.session")}


def test_install_prefix_then_a_fresh_start_loads_from_disk_and_a_new_tone_gets_its_own_file(tmp_path):
    cache = tmp_path / "cache"
    r = _install_prefix(cache, "--persona", "aurora", "--model", str(MODEL))
    assert r.returncode == 0, r.stderr
    assert "persona aurora:" in r.stderr and "evaluated" in r.stderr
    first = _sessions(cache)
    assert len(first) == 1
    source, file = _fresh_source(cache, "aurora")
    assert source == "disk" and file.name in first

    again = _install_prefix(cache, "--persona", "aurora", "--model", str(MODEL))      # a second run only checks
    assert again.returncode == 0 and "disk" in again.stderr and _sessions(cache) == first

    changed = tmp_path / "aurora-calm.yaml"
    changed.write_text("extends: aurora\ntone: Quiet and formal, never chatty.\n")
    r = _install_prefix(cache, "--persona", str(changed), "--model", str(MODEL))
    assert r.returncode == 0, r.stderr
    now = _sessions(cache)
    assert len(now) == 2 and first < now                  # a new file; the old persona's is still valid
    source, file = _fresh_source(cache, changed)
    assert source == "disk" and file.name in now - first


def test_install_prefix_refuses_a_bad_persona_before_loading_the_model(tmp_path):
    r = _install_prefix(tmp_path / "cache", "--persona", "nobody")
    assert r.returncode == 1 and "error:" in r.stderr and "nobody" in r.stderr
    assert not (tmp_path / "cache").exists()


def test_shipped_personas_are_the_default_set():
    from assistant.install import shipped_personas
    assert shipped_personas() == [None, "aurora", "default", "lumiere", "vento"]


def test_serve_check_builds_the_configs_prefix_cache(tmp_path):
    cache = tmp_path / "cache"
    persona = tmp_path / "p.yaml"
    persona.write_text("extends: vento\ntone: Warm and patient.\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"bus: {{interface: virtual, channel: check-{os.getpid()}}}\npersona: {persona}\n"
                   f"llm: {{path: {MODEL}, prefix_cache_dir: {cache}}}\ninterface: none\n")
    run = lambda: subprocess.run([sys.executable, "-m", "assistant", "serve", "--check", "--config", str(cfg)],
                                 capture_output=True, text=True, timeout=600, cwd=ROOT)
    r = run()
    assert r.returncode == 0, r.stderr
    assert f"{cfg}: OK" in r.stdout and "prompt prefix" in r.stderr and "evaluated" in r.stderr
    built = _sessions(cache)
    assert len(built) == 1
    source, file = _fresh_source(cache, persona)
    assert source == "disk" and file.name in built
    r = run()                                             # the next check finds it
    assert r.returncode == 0 and "disk" in r.stderr and _sessions(cache) == built
