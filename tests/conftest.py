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


@pytest.fixture
def channel():
    """A private python-can virtual channel per test."""
    return f"test-{os.getpid()}-{next(_ids)}"


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


@pytest.fixture(scope="session")
def default_model(tmp_path_factory):
    """The real embedded default model (installed by ./setup.sh), loaded once per test session."""
    from assistant.llm.model import LocalModel, ModelConfig
    cfg = ModelConfig(prefix_cache_dir=str(tmp_path_factory.mktemp("prefix-cache")))
    if not cfg.resolved_path().exists():
        pytest.fail(f"{cfg.resolved_path()} missing: run ./setup.sh (it installs the default model)")
    return LocalModel(cfg)
