"""A wheel that works: `pip wheel .` ships the data, and a clean venv with only the wheel (and its
required dependencies, not the `llm` extra) answers from any directory.

About 20 s: the wheel is built from a copy of the package (no build/ in the checkout), a fresh
venv without system site-packages gets it by `pip install`, dependencies from the configured
index. Skipped only when pip cannot reach an index.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistant import paths

from .conftest import ROOT


SHIPPED = ["assistant/data/locales/en.yaml", "assistant/data/locales/fr.yaml", "assistant/data/intents/en.yaml",
           "assistant/data/telltales.yaml", "assistant/data/dtc_codes.yaml", "assistant/data/voice/en.yaml",
           "assistant/data/dbc/demo.dbc", "assistant/data/vehicles/demo.yaml", "assistant/data/vehicles/ford.yaml",
           "assistant/data/scenarios/low_fuel.yaml", "assistant/data/personas/aurora.yaml",
           "assistant/data/personas/default.yaml"]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "ASSISTANT_HOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")}
    env.update(extra)
    return env


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copytree(ROOT / "assistant", src / "assistant", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=240, cwd=src, env=_clean_env())
    if r.returncode != 0 and not _pypi_reachable():
        pytest.skip(f"pip wheel needs setuptools from an index, and PyPI is unreachable: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr
    (whl,) = out.glob("assistant-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    v = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(v)], check=True, timeout=120)   # no system site-packages
    r = subprocess.run([str(v / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                       capture_output=True, text=True, timeout=240, env=_clean_env())
    if r.returncode != 0 and not _pypi_reachable():
        pytest.skip(f"installing the wheel's dependencies needs PyPI, unreachable here: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr
    return v


def test_wheel_ships_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in SHIPPED if n not in names]
    assert not missing, missing
    # Everything under assistant/data in the checkout is in the wheel; no models, no tests.
    data = {str(p.relative_to(ROOT)) for p in (ROOT / "assistant" / "data").rglob("*")
            if p.is_file() and p.suffix in (".yaml", ".dbc")}
    assert data <= names, sorted(data - names)
    assert not any(n.endswith(".gguf") or n.startswith(("tests/", "models/", "bench/")) for n in names)


def test_wheel_install_answers_from_any_directory(venv, tmp_path):
    run = tmp_path / "elsewhere"
    run.mkdir()
    python = venv / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import assistant, sys; print(assistant.__file__)"],
                           capture_output=True, text=True, cwd=run, env=_clean_env(), timeout=60)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout   # not the checkout
    llm = subprocess.run([str(python), "-c", "import llama_cpp"], capture_output=True, cwd=run, env=_clean_env())
    assert llm.returncode != 0                                 # the `llm` extra is not installed, not needed

    r = subprocess.run([str(venv / "bin" / "assistant"), "ask", "--no-model", "--scenario", "low_fuel",
                        "how far can I go?"], capture_output=True, text=True, cwd=run, env=_clean_env(), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "48 km" in r.stdout, r.stdout


def test_wheel_install_paths(venv, tmp_path):
    """Shipped files come from the package; models from $ASSISTANT_HOME, else the current directory;
    a shipped profile whose DBC is not shipped (the real-world ones) is a clear error."""
    python = str(venv / "bin" / "python")
    code = ("from assistant import paths; print(paths.VEHICLES_DIR); print(paths.MODELS_DIR)\n"
            "from assistant.configfile import ConfigError\n"
            "from assistant.can.profile import load_profile\n"
            "print(len(load_profile('demo').mappings))\n"
            "try:\n    load_profile('ford')\nexcept ConfigError as e:\n    print('ConfigError', e)\n")
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    vehicles, models, n, err = r.stdout.splitlines()[:4]
    assert Path(vehicles).resolve().is_relative_to(venv.resolve()) and Path(vehicles).name == "vehicles"
    assert Path(models) == tmp_path / "models"
    assert int(n) > 0
    assert err.startswith("ConfigError") and "ford.yaml" in err and "not shipped" in err, err

    home = tmp_path / "home"
    r = subprocess.run([python, "-c", "from assistant import paths; print(paths.MODELS_DIR)"], capture_output=True,
                       text=True, cwd=tmp_path, env=_clean_env(ASSISTANT_HOME=str(home)), timeout=60)
    assert r.returncode == 0 and Path(r.stdout.strip()) == home / "models", r.stderr


def test_checkout_paths():
    """In the source checkout (editable install) the top-level folders are links into the package
    data, and models stay in the checkout's models/."""
    for name, folder in [("vehicles", paths.VEHICLES_DIR), ("personas", paths.PERSONAS_DIR),
                         ("scenarios", paths.SCENARIOS_DIR), ("dbc", paths.DBC_DIR)]:
        assert (ROOT / name).resolve() == folder.resolve(), name
        assert folder.is_relative_to(Path(__file__).resolve().parents[1] / "assistant" / "data")
    assert (ROOT / "vehicles" / "demo.yaml").is_file() and (ROOT / "dbc" / "demo.dbc").is_file()
    if not os.environ.get("ASSISTANT_HOME"):
        assert paths.MODELS_DIR == ROOT / "models"
