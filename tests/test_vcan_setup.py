"""Tests for vcan-setup.sh, run as a real subprocess.

Tests that need a real vcan kernel module (and root) skip with a reason when it
is absent. The up/down logic (idempotency, MTU, refusing non-vcan links) is also
exercised against a fake ``ip``/``modprobe`` placed first on PATH, so it is
covered on machines without vcan too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "vcan-setup.sh"
BASH = shutil.which("bash") or "/bin/bash"
IP = shutil.which("ip")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
TEST_IF = "vcantest0"

NO_VCAN_MSG = "has no vcan module"
NEEDS_ROOT_MSG = "needs root: run with sudo"


def run(*args: str, env: dict[str, str] | None = None, cmd_prefix: list[str] | None = None,
        script: Path = SCRIPT, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(cmd_prefix or []), BASH, str(script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=60,
    )


def _link_exists(name: str) -> bool:
    return IP is not None and subprocess.run(
        [IP, "link", "show", "dev", name], capture_output=True).returncode == 0


def _delete_if_vcan(name: str) -> None:
    if IP is None:
        return
    out = subprocess.run([IP, "-o", "link", "show", "dev", name, "type", "vcan"],
                         capture_output=True, text=True).stdout
    if out.strip():
        subprocess.run([IP, "link", "delete", "dev", name], capture_output=True)


def _probe_real_vcan() -> tuple[bool, str]:
    """(available, reason) for real vcan: root, iproute2 and a vcan module."""
    if not IS_ROOT:
        return False, "real vcan tests need root"
    if IP is None:
        return False, "iproute2 'ip' is not installed"
    if _link_exists(TEST_IF):
        _delete_if_vcan(TEST_IF)
        if _link_exists(TEST_IF):
            return False, f"{TEST_IF} exists and is not a vcan link"
    if shutil.which("modprobe"):
        subprocess.run(["modprobe", "vcan"], capture_output=True)
    res = subprocess.run([IP, "link", "add", "dev", TEST_IF, "type", "vcan"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        return False, ("needs a real vcan kernel module, absent here "
                       f"(ip link add ... type vcan: {res.stderr.strip() or 'failed'})")
    subprocess.run([IP, "link", "delete", "dev", TEST_IF], capture_output=True)
    return True, ""


REAL_VCAN, NO_REAL_VCAN_REASON = _probe_real_vcan()


# --------------------------------------------------------------- CLI / usage

def test_script_is_executable():
    assert SCRIPT.is_file()
    assert os.access(SCRIPT, os.X_OK), "vcan-setup.sh must be executable"
    assert SCRIPT.read_text().startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in SCRIPT.read_text()


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(flag):
    res = run(flag)
    assert res.returncode == 0
    assert "Usage:" in res.stdout
    for word in ("up", "down", "status", "--dry-run", "--mtu"):
        assert word in res.stdout
    assert res.stderr == ""


def test_help_after_command():
    res = run("up", "--help")
    assert res.returncode == 0
    assert "Usage:" in res.stdout


@pytest.mark.parametrize("args", [
    ["bogus"],
    [],
    ["up", "--frobnicate"],
    ["--bitrate", "500000", "up"],
    ["up", "vcan0", "extra"],
    ["up", "--mtu"],
    ["up", "--mtu", "99"],
    ["down", "--mtu", "72"],
])
def test_usage_errors_exit_2(args):
    res = run(*args)
    assert res.returncode == 2, res
    assert "Usage:" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize("name", [
    "bad name", "a" * 16, "", "vcan0;reboot", "vcan/0", ".", "..", "vcän0",
])
@pytest.mark.parametrize("cmd", ["up", "down", "status"])
def test_invalid_name_rejected(cmd, name):
    res = run(cmd, name, "--dry-run")
    assert res.returncode == 2, res
    assert "invalid interface name" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize("name", ["a", "a" * 15, "can_fd-1.x", "VCAN9"])
def test_valid_names_accepted(name):
    res = run("up", name, "--dry-run")
    assert res.returncode == 0, res
    assert f"+ ip link add dev {name} type vcan" in res.stdout


# ---------------------------------------------------------------- dry run

def _plus_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("+ ")]


@pytest.mark.parametrize("args", [
    ["up", "--dry-run"],
    ["--dry-run", "up"],
    ["up", "--dry-run", "--", "vcan0"],
])
def test_up_dry_run_default_name(args):
    res = run(*args)
    assert res.returncode == 0, res
    assert _plus_lines(res.stdout) == [
        "+ modprobe vcan",
        "+ ip link add dev vcan0 type vcan",
        "+ ip link set dev vcan0 up",
    ]


def test_up_dry_run_custom_name():
    res = run("--dry-run", "up", "bench1")
    assert res.returncode == 0, res
    assert _plus_lines(res.stdout) == [
        "+ modprobe vcan",
        "+ ip link add dev bench1 type vcan",
        "+ ip link set dev bench1 up",
    ]
    assert "vcan0" not in res.stdout


@pytest.mark.parametrize("mtu_args", [["--mtu", "72"], ["--mtu=72"]])
def test_up_dry_run_mtu(mtu_args):
    res = run("up", "canfd0", *mtu_args, "--dry-run")
    assert res.returncode == 0, res
    assert _plus_lines(res.stdout) == [
        "+ modprobe vcan",
        "+ ip link add dev canfd0 type vcan",
        "+ ip link set dev canfd0 mtu 72",
        "+ ip link set dev canfd0 up",
    ]


@pytest.mark.parametrize("name", [None, "bench1"])
def test_down_dry_run(name):
    args = ["down", "--dry-run"] + ([name] if name else [])
    res = run(*args)
    expected = name or "vcan0"
    assert res.returncode == 0, res
    assert _plus_lines(res.stdout) == [
        f"+ ip link set dev {expected} down",
        f"+ ip link delete dev {expected}",
    ]


def test_dry_run_runs_nothing_and_needs_no_tools(tmp_path):
    # Empty PATH: no ip, no modprobe. Dry run must still print the plan.
    env = {"PATH": str(tmp_path), "LANG": "C"}
    res = run("up", "--dry-run", env=env)
    assert res.returncode == 0, res
    assert "+ ip link add dev vcan0 type vcan" in res.stdout


# ---------------------------------------------------------------- status

@pytest.mark.skipif(IP is None, reason="iproute2 'ip' is not installed")
def test_status_exits_0():
    res = run("status")
    assert res.returncode == 0, res
    assert "vcan module:" in res.stdout
    assert "vcan interfaces" in res.stdout
    if not REAL_VCAN and not Path("/sys/module/vcan").exists():
        assert "linux-modules-extra-$(uname -r)" in res.stdout


@pytest.mark.skipif(IP is None, reason="iproute2 'ip' is not installed")
def test_status_named_absent_interface():
    res = run("status", "nosuchvcan9")
    assert res.returncode == 0, res
    assert "nosuchvcan9: does not exist" in res.stdout


@pytest.mark.skipif(IP is None or not _link_exists("lo"), reason="needs iproute2 and lo")
def test_status_named_non_vcan_interface():
    res = run("status", "lo")
    assert res.returncode == 0, res
    assert "lo: exists but is not a vcan interface" in res.stdout


# ------------------------------------------------------- missing iproute2

@pytest.fixture
def env_without_ip(tmp_path):
    """PATH holding links to every tool on the current PATH except `ip`."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for d in os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(os.pathsep):
        if not d or not os.path.isdir(d):
            continue
        for entry in os.scandir(d):
            target = bindir / entry.name
            if entry.name == "ip" or target.exists() or target.is_symlink():
                continue
            target.symlink_to(entry.path)
    assert shutil.which("ip", path=str(bindir)) is None
    return {"PATH": str(bindir), "LANG": "C"}


@pytest.mark.skipif(not IS_ROOT, reason="as non-root the root check fires before the ip check")
@pytest.mark.parametrize("cmd", ["up", "down"])
def test_missing_ip_says_install_iproute2(cmd, env_without_ip):
    res = run(cmd, TEST_IF, env=env_without_ip)
    assert res.returncode == 1, res
    assert "'ip' not found: install iproute2" in res.stderr
    assert "apt-get install iproute2" in res.stderr


def test_status_missing_ip_says_install_iproute2(env_without_ip):
    res = run("status", env=env_without_ip)
    assert res.returncode == 1, res
    assert "install iproute2" in res.stderr


# ---------------------------------------------------------------- not root

def _non_root_prefix() -> tuple[list[str] | None, str]:
    """Command prefix that runs as a non-root user, or (None, skip reason)."""
    if not IS_ROOT:
        return [], ""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None, "running as root and there is no 'nobody' user to drop to"
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                "--clear-groups", "--"], ""
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"], ""
    return None, "running as root and neither setpriv nor runuser is available"


@pytest.fixture
def world_readable_script():
    """A copy of the script in a directory any user can read (tmp_path is 0700)."""
    d = Path(tempfile.mkdtemp(prefix="vcan-setup-test-"))
    try:
        d.chmod(0o755)
        copy = d / SCRIPT.name
        shutil.copy2(SCRIPT, copy)
        copy.chmod(0o755)
        yield copy
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("cmd", ["up", "down"])
def test_not_root_needs_sudo(cmd, world_readable_script):
    prefix, reason = _non_root_prefix()
    if prefix is None:
        pytest.skip(reason)
    res = run(cmd, TEST_IF, cmd_prefix=prefix, script=world_readable_script,
              cwd=world_readable_script.parent)
    assert res.returncode == 1, res
    assert NEEDS_ROOT_MSG in res.stderr
    assert res.stdout == ""


def test_not_root_dry_run_and_status_work(world_readable_script):
    prefix, reason = _non_root_prefix()
    if prefix is None:
        pytest.skip(reason)
    res = run("up", TEST_IF, "--dry-run", cmd_prefix=prefix, script=world_readable_script,
              cwd=world_readable_script.parent)
    assert res.returncode == 0, res
    assert f"+ ip link add dev {TEST_IF} type vcan" in res.stdout
    if IP is not None:
        res = run("status", cmd_prefix=prefix, script=world_readable_script,
                  cwd=world_readable_script.parent)
        assert res.returncode == 0, res


# ------------------------------------------------------- real kernel vcan

@pytest.mark.skipif(not IS_ROOT, reason="up needs root")
@pytest.mark.skipif(IP is None, reason="iproute2 'ip' is not installed")
@pytest.mark.skipif(REAL_VCAN, reason="vcan is available here: the real cycle test covers up")
def test_up_without_vcan_module_exits_3():
    res = run("up", TEST_IF)
    try:
        assert res.returncode == 3, res
        assert NO_VCAN_MSG in res.stderr
        assert "linux-modules-extra-$(uname -r)" in res.stderr
        assert "CONFIG_CAN_VCAN" in res.stderr
        assert "assistant monitor --scenario" in res.stderr
        assert "virtual" in res.stderr
    finally:
        _delete_if_vcan(TEST_IF)


@pytest.fixture
def real_vcan_if():
    if not REAL_VCAN:
        pytest.skip(NO_REAL_VCAN_REASON)
    _delete_if_vcan(TEST_IF)
    yield TEST_IF
    _delete_if_vcan(TEST_IF)


def _is_up(name: str) -> bool:
    out = subprocess.run([IP, "-o", "link", "show", "dev", name], capture_output=True,
                         text=True).stdout
    flags = out.split("<", 1)[1].split(">", 1)[0].split(",") if "<" in out else []
    return "UP" in flags


def _mtu(name: str) -> int:
    return int(Path(f"/sys/class/net/{name}/mtu").read_text())


def test_real_up_up_status_down_cycle(real_vcan_if):
    name = real_vcan_if
    res = run("up", name)
    assert res.returncode == 0, res
    assert _link_exists(name) and _is_up(name)

    res = run("up", name)
    assert res.returncode == 0, res
    assert "already up" in res.stdout

    res = run("status")
    assert res.returncode == 0, res
    assert "vcan module:" in res.stdout
    assert name in res.stdout

    res = run("status", name)
    assert res.returncode == 0, res
    assert name in res.stdout

    res = run("down", name)
    assert res.returncode == 0, res
    assert not _link_exists(name)

    res = run("down", name)
    assert res.returncode == 0, res
    assert "does not exist" in res.stdout


def test_real_up_mtu_canfd(real_vcan_if):
    name = real_vcan_if
    res = run("up", name, "--mtu", "72")
    assert res.returncode == 0, res
    assert _mtu(name) == 72 and _is_up(name)
    res = run("up", name, "--mtu", "72")
    assert res.returncode == 0 and "already up" in res.stdout, res
    # Changing the MTU of an up vcan link needs down/mtu/up; the script does it.
    res = run("up", name, "--mtu", "16")
    assert res.returncode == 0, res
    assert _mtu(name) == 16 and _is_up(name)


# ------------------------------------------- logic against a fake iproute2

FAKE_IP = r'''#!{python}
"""Minimal stand-in for iproute2's `ip link` used by vcan-setup.sh tests."""
import json, os, sys
state_file = os.environ["FAKE_IP_STATE"]
with open(os.environ["FAKE_IP_LOG"], "a") as log:
    log.write("ip " + " ".join(sys.argv[1:]) + "\n")
try:
    with open(state_file) as f:
        links = json.load(f)
except FileNotFoundError:
    links = {{}}
def save():
    with open(state_file, "w") as f:
        json.dump(links, f)
args = [a for a in sys.argv[1:] if a not in ("-o", "-details", "-d")]
assert args[0] == "link", args
op, rest = args[1], args[2:]
kv = {{}}
words = []
i = 0
while i < len(rest):
    if rest[i] in ("dev", "type", "mtu"):
        kv[rest[i]] = rest[i + 1]
        i += 2
    else:
        words.append(rest[i])
        i += 1
def show(name, l):
    flags = "NOARP,UP,LOWER_UP" if l["up"] else "NOARP"
    print(f"7: {{name}}: <{{flags}}> mtu {{l['mtu']}} qdisc noqueue state UNKNOWN mode DEFAULT"
          f"\\    link/can  promiscuity 0\\    {{l['kind']}} numtxqueues 1")
if op == "show":
    name, kind = kv.get("dev"), kv.get("type")
    if name is not None and name not in links:
        print(f'Device "{{name}}" does not exist.', file=sys.stderr)
        sys.exit(1)
    for n, l in links.items():
        if (name is None or n == name) and (kind is None or l["kind"] == kind):
            show(n, l)
elif op == "add":
    if os.environ.get("FAKE_VCAN") != "1" and kv.get("type") == "vcan":
        print("Error: Unknown device type.", file=sys.stderr)
        sys.exit(2)
    if kv["dev"] in links:
        print("RTNETLINK answers: File exists", file=sys.stderr)
        sys.exit(2)
    links[kv["dev"]] = {{"kind": kv["type"], "up": False, "mtu": 16}}
    save()
elif op == "set":
    l = links[kv["dev"]]
    if "mtu" in kv:
        if l["up"]:
            print("RTNETLINK answers: Device or resource busy", file=sys.stderr)
            sys.exit(2)
        l["mtu"] = int(kv["mtu"])
    if "up" in words:
        l["up"] = True
    if "down" in words:
        l["up"] = False
    save()
elif op in ("delete", "del"):
    del links[kv["dev"]]
    save()
else:
    sys.exit(f"fake ip: unsupported {{sys.argv}}")
'''

FAKE_MODPROBE = """#!/bin/sh
echo "modprobe $*" >> "$FAKE_IP_LOG"
if [ "$FAKE_VCAN" = 1 ]; then exit 0; fi
echo "modprobe: FATAL: Module vcan not found in directory /lib/modules/fake" >&2
exit 1
"""


class FakeNet:
    def __init__(self, root: Path, vcan: bool):
        self.bin = root / "bin"
        self.bin.mkdir()
        self.state = root / "links.json"
        self.log = root / "calls.log"
        self.log.write_text("")
        # The fake ip only needs the stdlib; use an interpreter this user can
        # exec (a venv under /root is not reachable after dropping root).
        python = (sys.executable if os.access(sys.executable, os.X_OK)
                  else shutil.which("python3") or "/usr/bin/python3")
        for name, body in (("ip", FAKE_IP.format(python=python)),
                           ("modprobe", FAKE_MODPROBE)):
            p = self.bin / name
            p.write_text(body)
            p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.env = {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "FAKE_IP_STATE": str(self.state),
            "FAKE_IP_LOG": str(self.log),
            "FAKE_VCAN": "1" if vcan else "0",
            "LANG": "C",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.log.write_text("")
        return run(*args, env=self.env)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def mutations(self) -> list[str]:
        return [c for c in self.calls()
                if c.startswith("modprobe") or " add " in c or " set " in c or " delete " in c]

    def add(self, name: str, kind: str, up: bool = False, mtu: int = 16) -> None:
        import json
        links = json.loads(self.state.read_text()) if self.state.exists() else {}
        links[name] = {"kind": kind, "up": up, "mtu": mtu}
        self.state.write_text(json.dumps(links))


needs_root_for_fake = pytest.mark.skipif(
    not IS_ROOT, reason="up/down refuse to run as non-root (root check is not simulated)")
no_loaded_vcan = pytest.mark.skipif(
    Path("/sys/module/vcan").exists(), reason="vcan module loaded: the script skips modprobe")


@pytest.fixture
def fake_vcan(tmp_path):
    return FakeNet(tmp_path, vcan=True)


@pytest.fixture
def fake_no_vcan(tmp_path):
    return FakeNet(tmp_path, vcan=False)


@needs_root_for_fake
@no_loaded_vcan
def test_fake_up_creates_and_is_idempotent(fake_vcan):
    res = fake_vcan.run("up", "bench0")
    assert res.returncode == 0, res
    assert fake_vcan.mutations() == [
        "modprobe vcan",
        "ip link add dev bench0 type vcan",
        "ip link set dev bench0 up",
    ]
    assert "bench0 is up" in res.stdout
    res = fake_vcan.run("up", "bench0")
    assert res.returncode == 0, res
    assert "already up" in res.stdout
    assert fake_vcan.mutations() == []


@needs_root_for_fake
def test_fake_up_existing_down_link_is_set_up(fake_vcan):
    fake_vcan.add("bench0", "vcan", up=False)
    res = fake_vcan.run("up", "bench0")
    assert res.returncode == 0, res
    assert fake_vcan.mutations() == ["ip link set dev bench0 up"]


@needs_root_for_fake
def test_fake_up_mtu_change_on_up_link(fake_vcan):
    fake_vcan.add("bench0", "vcan", up=True, mtu=16)
    res = fake_vcan.run("up", "bench0", "--mtu", "72")
    assert res.returncode == 0, res
    assert fake_vcan.mutations() == [
        "ip link set dev bench0 down",
        "ip link set dev bench0 mtu 72",
        "ip link set dev bench0 up",
    ]
    res = fake_vcan.run("up", "bench0", "--mtu", "72")
    assert res.returncode == 0 and "already up" in res.stdout, res
    assert fake_vcan.mutations() == []


@needs_root_for_fake
@no_loaded_vcan
def test_fake_up_new_link_with_mtu(fake_vcan):
    res = fake_vcan.run("up", "canfd0", "--mtu=72")
    assert res.returncode == 0, res
    assert fake_vcan.mutations() == [
        "modprobe vcan",
        "ip link add dev canfd0 type vcan",
        "ip link set dev canfd0 mtu 72",
        "ip link set dev canfd0 up",
    ]


@needs_root_for_fake
def test_fake_down_and_idempotent(fake_vcan):
    fake_vcan.add("bench0", "vcan", up=True)
    res = fake_vcan.run("down", "bench0")
    assert res.returncode == 0, res
    assert fake_vcan.mutations() == ["ip link set dev bench0 down", "ip link delete dev bench0"]
    res = fake_vcan.run("down", "bench0")
    assert res.returncode == 0, res
    assert "does not exist" in res.stdout
    assert fake_vcan.mutations() == []


@needs_root_for_fake
@pytest.mark.parametrize("cmd", ["up", "down"])
def test_fake_refuses_non_vcan_link(fake_vcan, cmd):
    fake_vcan.add("br0", "bridge", up=True)
    res = fake_vcan.run(cmd, "br0")
    assert res.returncode == 1, res
    assert "not a vcan interface" in res.stderr
    assert fake_vcan.mutations() == []


@needs_root_for_fake
@no_loaded_vcan
def test_fake_no_vcan_module_exits_3(fake_no_vcan):
    res = fake_no_vcan.run("up")
    assert res.returncode == 3, res
    assert NO_VCAN_MSG in res.stderr
    assert "modprobe vcan failed" in res.stderr
    assert "linux-modules-extra-$(uname -r)" in res.stderr
    assert "CONFIG_CAN_VCAN" in res.stderr
    assert "assistant monitor --scenario NAME" in res.stderr
    assert [c for c in fake_no_vcan.mutations() if " set " in c] == []


def test_fake_status_lists_vcan_links(fake_vcan):
    fake_vcan.add("bench0", "vcan", up=True)
    fake_vcan.add("br0", "bridge", up=True)
    res = fake_vcan.run("status")
    assert res.returncode == 0, res
    assert "bench0" in res.stdout
    assert "br0" not in res.stdout
    assert "ip -details link show type vcan" in "\n".join(fake_vcan.calls())
