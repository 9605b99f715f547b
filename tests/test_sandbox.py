"""assistant.service's sandbox: the hardening directives are there and agree with each other,
`systemd-analyze security` scores the unit at 2.0 or below, and, where systemd is PID 1, the real
service command (and a model load + generation, espeak-ng, PortAudio) runs under exactly those
directives via systemd-run."""

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

UNIT = ROOT / "systemd" / "assistant.service"
MAX_EXPOSURE = 2.0


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """{section: {key: [values in order]}}; keys may repeat (SystemCallFilter=, DeviceAllow=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    cur = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        cur.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def service():
    return parse_unit(UNIT.read_text())["Service"]


def one(service, key):
    values = service.get(key)
    assert values, f"{key}= missing from {UNIT.name}"
    return values[-1]


# ----------------------------------------------------------------------------------------- (a)

def test_hardening_directives_present(service):
    expected = {
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateMounts": "yes",
        "PrivateDevices": "yes", "DevicePolicy": "closed", "NoNewPrivileges": "yes",
        "RestrictSUIDSGID": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "ProtectClock": "yes",
        "ProtectHostname": "yes", "ProtectProc": "invisible", "ProcSubset": "pid",
        "RestrictNamespaces": "yes", "RestrictRealtime": "yes", "LockPersonality": "yes",
        "RemoveIPC": "yes", "UMask": "0077", "SystemCallArchitectures": "native",
        "SystemCallErrorNumber": "EPERM", "IPAddressDeny": "any",
        "CapabilityBoundingSet": "", "AmbientCapabilities": "",
    }
    got = {k: one(service, k) for k in expected}
    assert got == expected


def test_address_families_keep_can_and_unix_and_nothing_ip(service):
    families = one(service, "RestrictAddressFamilies").split()
    assert not families[0].startswith("~"), "an allow-list, not a deny-list"
    assert {"AF_UNIX", "AF_CAN"} <= set(families)          # journal + sd_notify; python-can socketcan
    assert not {"AF_INET", "AF_INET6", "AF_PACKET"} & set(families)


def test_system_call_filter(service):
    filters = service["SystemCallFilter"]
    assert filters[0] == "@system-service", "the first filter sets the default: an allow-list"
    denied = set(" ".join(f[1:] for f in filters if f.startswith("~")).split())
    assert {"@privileged", "@resources"} <= denied
    # Nothing re-allows a privileged group after the deny line.
    allowed_later = set(" ".join(f for f in filters[1:] if not f.startswith("~")).split())
    assert not allowed_later & {"@privileged", "@mount", "@module", "@raw-io", "@reboot", "@swap",
                                "@clock", "@debug", "@cpu-emulation", "@obsolete"}, allowed_later


def test_sound_devices_are_reachable_inside_private_dev(service):
    """PrivateDevices=yes gives a /dev without /dev/snd; DeviceAllow= only opens the cgroup ACL,
    so the ALSA nodes must be bind-mounted back (optional: "-", a unit without speech has none)."""
    assert "char-alsa rw" in service["DeviceAllow"]
    assert "-/dev/snd" in " ".join(service.get("BindPaths", [])).split()
    assert "audio" in one(service, "SupplementaryGroups").split()   # /dev/snd/* is root:audio 0660


def test_writable_paths_match_the_environment(service):
    env = dict(kv.split("=", 1) for kv in " ".join(service["Environment"]).split())
    assert env["ASSISTANT_CACHE_DIR"] == "/var/cache/assistant" and one(service, "CacheDirectory") == "assistant"
    assert env["HOME"] == "/var/lib/assistant" and one(service, "StateDirectory") == "assistant"
    # The config folder is optional for the namespace: without it, serve itself says "file not found"
    # (exit 2) instead of systemd failing with status 226/NAMESPACE.
    assert "-/etc/assistant" in one(service, "ReadOnlyPaths").split()


def test_memory_deny_write_execute_decision_is_explained():
    text = UNIT.read_text()
    assert "MemoryDenyWriteExecute=no" in text
    before = text[:text.index("MemoryDenyWriteExecute=no")].rsplit("\n\n", 1)[-1]
    assert "libffi" in before and "ctypes" in before, "the reason it stays off is in the unit"


def test_every_sandbox_directive_has_its_reason():
    """In the sandbox part of [Service], each block of directives starts with a comment."""
    text = UNIT.read_text()
    sandbox = text[text.index("# Sandbox."):text.index("[Install]")]
    for block in sandbox.strip().split("\n\n"):
        lines = block.strip().splitlines()
        assert lines[0].startswith("#"), f"no comment before:\n{block}"


def test_code_needs_nothing_the_sandbox_takes_away():
    """ProcSubset=pid hides /proc/cpuinfo, /proc/meminfo...; ~@resources makes setpriority,
    sched_setaffinity, setrlimit fail; ~@privileged setuid/chown. The package must not rely on them."""
    bad = re.compile(r"/proc/(?!self\b|thread-self\b|\{|\d)|os\.(nice|setpriority|sched_setaffinity|"
                     r"sched_setscheduler|setuid|setgid|setgroups|chown|chroot)\b|resource\.setrlimit")
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in sorted((ROOT / "assistant").rglob("*.py"))
            for n, line in enumerate(p.read_text().splitlines(), 1) if bad.search(line)]
    assert not hits, hits


# ----------------------------------------------------------------------------------------- (b)

def _render(dest: Path, prefix: Path) -> Path:
    r = subprocess.run([str(ROOT / "systemd" / "install.sh"), "--prefix", str(prefix), "--dest", str(dest)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return dest / "assistant.service"


def test_security_exposure_at_most_2(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (Debian package 'systemd')")
    unit = _render(tmp_path, Path("/opt/assistant"))
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
                       capture_output=True, text=True)
    if "--offline" in r.stderr and r.returncode != 0:
        pytest.skip(f"this systemd-analyze has no --offline (systemd >= 250 needed): {r.stderr.strip()}")
    m = re.search(r"Overall exposure level for assistant\.service: (\d+\.\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= MAX_EXPOSURE, r.stdout
    # The system-call groups all count as filtered.
    assert not [l for l in r.stdout.splitlines() if "SystemCallFilter=" in l and l.lstrip().startswith("✗")]


# ----------------------------------------------------------------------------------------- (c)

# Service-manager settings, not sandbox: left out of the transient unit.
NOT_SANDBOX = {"Type", "NotifyAccess", "ExecStart", "WatchdogSec", "TimeoutStartSec", "Restart", "RestartSec",
               "RestartPreventExitStatus", "User", "Group"}


def _systemd_usable() -> str:
    """'' when systemd-run can start a transient system service here, else why not."""
    if not Path("/run/systemd/system").is_dir():
        return "systemd is not PID 1 here (no /run/systemd/system): systemd-run cannot start units"
    if not shutil.which("systemd-run"):
        return "systemd-run is not installed"
    if os.geteuid() != 0:
        return "a transient system service needs root (run the suite as root on a systemd machine)"
    return ""


def _home_paths(paths) -> list[str]:
    return sorted({str(p) for p in paths if str(p).startswith(("/home/", "/root/", "/run/user/"))})


def _sandbox_args(tmp_path: Path) -> list[str]:
    """systemd-run -p arguments: the [Service] sandbox of the unit rendered for this checkout."""
    service = parse_unit(_render(tmp_path, ROOT).read_text())["Service"]
    args = []
    try:
        pwd.getpwnam("assistant")
        args += ["-p", "User=assistant", "-p", "Group=assistant"]
    except KeyError:
        args += ["-p", "DynamicUser=yes"]          # no install.sh here: a throw-away user instead
    try:
        grp.getgrnam("audio")
    except KeyError:
        service.pop("SupplementaryGroups", None)
    # A checkout or interpreter under /home or /root is hidden by ProtectHome=yes: there, and only
    # there, show those folders read-only on an otherwise empty /home, /root.
    needed = _home_paths([ROOT, Path(sys.base_prefix).resolve(), Path(os.path.realpath(sys.executable)).parent])
    for key, values in service.items():
        if key in NOT_SANDBOX:
            continue
        for v in values:
            if key == "ProtectHome" and needed:
                v = "tmpfs"
            args += ["-p", f"{key}={v}"]
    for p in needed:
        args += ["-p", f"BindReadOnlyPaths={p}"]
    return args


def _run_sandboxed(tmp_path, name, command, timeout=300):
    why = _systemd_usable()
    if why:
        pytest.skip(why)
    unit = f"assistant-sandbox-test-{name}-{os.getpid()}"
    cmd = ["systemd-run", "--wait", "--pipe", "--quiet", "--collect", f"--unit={unit}",
           "-p", f"RuntimeMaxSec={timeout}", *_sandbox_args(tmp_path), *command]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30, stdin=subprocess.DEVNULL)
    finally:
        subprocess.run(["systemctl", "reset-failed", unit], capture_output=True)


def _assistant_cmd() -> list[str]:
    exe = Path(sys.prefix) / "bin" / "assistant"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant"]


def test_serve_check_passes_inside_the_sandbox(tmp_path):
    r = _run_sandboxed(tmp_path, "check",
                       [*_assistant_cmd(), "serve", "--check", "--config", str(ROOT / "systemd" / "config.example.yaml")])
    assert r.returncode == 0 and "OK" in r.stdout, (r.stdout, r.stderr)


PROBE = r"""
import json, os, socket, sys
out = {}
from assistant.llm.model import LocalModel, ModelConfig
m = LocalModel(ModelConfig(prefix_cache_dir=os.environ["ASSISTANT_CACHE_DIR"]))   # mmap, threads, ctypes
out["generated"] = m.llm("The capital of France is", max_tokens=4)["choices"][0]["text"]
from assistant.speech.tts import Espeak
out["espeak_bytes"] = len(Espeak().synthesize("Range 48 kilometres.").pcm)     # fork + exec + pipes
try:
    import sounddevice as sd                                                    # PortAudio: ALSA, JACK probe
    out["portaudio"] = "ok %d devices" % len(sd.query_devices())
    # What RawInputStream(callback=...) (the microphone) makes: a cffi callback, W+X memory.
    sd._ffi.callback("PaStreamCallback", lambda *a: 0)
    out["stream_callback"] = "ok"
except OSError as e:
    out["portaudio"] = "no PortAudio: %s" % e
except MemoryError as e:
    out["stream_callback"] = str(e)
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM); out["af_inet"] = "allowed"
except OSError as e:
    out["af_inet"] = e.errno
out["cpuinfo_visible"] = os.path.exists("/proc/cpuinfo")
out["pid1_visible"] = os.path.exists("/proc/1")
out["umask"] = oct(os.umask(0o077))
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
out["status"] = {k: status[k].strip() for k in ("CapBnd", "CapEff", "NoNewPrivs", "Seccomp")}
print(json.dumps(out))
"""


def test_model_speech_and_sound_init_work_inside_the_sandbox(tmp_path):
    model = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not model.exists():
        pytest.skip(f"{model} missing: run ./setup.sh")
    r = _run_sandboxed(tmp_path, "probe", [sys.executable, "-c", PROBE])
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["generated"].strip() and out["espeak_bytes"] > 1000, out
    assert not out["portaudio"].startswith("no PortAudio"), out       # Pa_Initialize survives ~@resources
    assert out["stream_callback"] == "ok", out                        # why MemoryDenyWriteExecute=no
    assert out["af_inet"] == 97, out                                  # EAFNOSUPPORT: RestrictAddressFamilies=
    assert out["cpuinfo_visible"] is False and out["pid1_visible"] is False, out   # ProcSubset=, ProtectProc=
    assert out["umask"] == "0o77", out
    assert out["status"] == {"CapBnd": "0000000000000000", "CapEff": "0000000000000000",
                             "NoNewPrivs": "1", "Seccomp": "2"}, out            # CapabilityBoundingSet=, filters
